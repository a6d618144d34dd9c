/**
 * Type compatibility between an upstream output and a downstream input, by the rules of
 * flytepropeller's compiler (`pkg/compiler/validators/typing.go`, Flyte v1.16). A binding that
 * `isAssignable` rejects is one that `flytectl compile` and FlyteAdmin reject too, so workflows
 * fail at definition time instead of at registration.
 *
 * The rules, in short:
 * - simple types and enums match exactly (metadata, structure and annotations ignored), except
 *   that an enum goes to a string and a string to an enum;
 * - a type tagged as a union variant only goes to a type with the same tag;
 * - STRUCTs: either side without a JSON schema matches; otherwise the schemas must be equal, or
 *   the downstream schema a "subset" of the upstream one (propeller uses json-schema-compare);
 * - NONE goes only to NONE, to a union containing NONE, and to structured datasets;
 * - lists and maps recurse into their element type; a list (map) of NONE goes to any list (map);
 * - blobs match by format, an empty format on either side matching any (dimensionality is not
 *   compared by propeller);
 * - structured datasets match by format (case-insensitive, empty matches any) and columns: the
 *   downstream columns must be a subset of the upstream ones, each castable;
 * - a value goes to a union when exactly one variant accepts it; a union goes to a union when
 *   each upstream variant has a castable downstream variant; a one-variant union unwraps.
 */
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { SchemaType, StructuredDatasetType } from "../proto/gen/flyteidl/core/types_pb.js";
import {
  BlobType_BlobDimensionality,
  SchemaType_SchemaColumn_SchemaColumnType as ColumnType,
} from "../proto/gen/flyteidl/core/types_pb.js";
import { type LiteralType, SimpleType } from "./literals.js";

/** Whether a value of type `upstream` may be bound to an input of type `downstream` (propeller's rules). */
export function isAssignable(upstream: LiteralType, downstream: LiteralType): boolean {
  return explainMismatch(upstream, downstream) === undefined;
}

/**
 * Why `upstream` cannot be bound to `downstream`, in one sentence naming both types, or
 * `undefined` when it can.
 */
export function explainMismatch(upstream: LiteralType, downstream: LiteralType): string | undefined {
  return areTypesCastable(upstream, downstream);
}

/** A short human rendering of a LiteralType, e.g. `list<integer>`, `union<integer | string>`. */
export function describeLiteralType(lt: LiteralType | undefined): string {
  if (!lt) return "(no type)";
  const t = lt.type;
  switch (t.case) {
    case "simple": {
      if (t.value === SimpleType.STRUCT) {
        const title = (lt.metadata as { title?: unknown } | undefined)?.title;
        return typeof title === "string" ? `struct ${title}` : "struct";
      }
      return (SimpleType[t.value] ?? String(t.value)).toLowerCase();
    }
    case "collectionType":
      return `list<${describeLiteralType(t.value)}>`;
    case "mapValueType":
      return `map<string, ${describeLiteralType(t.value)}>`;
    case "blob": {
      const dim = t.value.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "directory" : "file";
      return t.value.format ? `${dim}(format ${JSON.stringify(t.value.format)})` : dim;
    }
    case "enumType":
      return `enum(${t.value.values.map((v) => JSON.stringify(v)).join(" | ")})`;
    case "unionType":
      return `union<${t.value.variants.map((v) => describeLiteralType(v)).join(" | ")}>`;
    case "structuredDatasetType": {
      const cols = t.value.columns.map((c) => `${c.name}: ${describeLiteralType(c.literalType)}`).join(", ");
      const fmt = t.value.format ? ` format ${JSON.stringify(t.value.format)}` : "";
      return `dataframe(${cols}${cols && fmt ? ";" : ""}${fmt})`;
    }
    case "schema":
      return `schema(${t.value.columns.map((c) => `${c.name}: ${(ColumnType[c.type] ?? "?").toLowerCase()}`).join(", ")})`;
    default:
      return "(unset type)";
  }
}

const OK = undefined;

function mismatch(up: LiteralType, down: LiteralType, why?: string): string {
  const base = `${describeLiteralType(up)} cannot be bound to ${describeLiteralType(down)}`;
  return why ? `${base}: ${why}` : base;
}

function isNone(lt: LiteralType | undefined): boolean {
  return lt?.type.case === "simple" && lt.type.value === SimpleType.NONE;
}

function tagOf(lt: LiteralType): string {
  return lt.structure?.tag ?? "";
}

/** propeller's AreTypesCastable: a one-variant upstream union may stand for its variant. */
function areTypesCastable(up: LiteralType, down: LiteralType): string | undefined {
  if (up.type.case === "unionType" && up.type.value.variants.length === 1) {
    if (castsFrom(down, up.type.value.variants[0]!) === OK) return OK;
  }
  return castsFrom(down, up);
}

/** propeller's `getTypeChecker(down).CastsFrom(up)`. */
function castsFrom(down: LiteralType, up: LiteralType): string | undefined {
  const d = down.type;
  switch (d.case) {
    case "collectionType": {
      if (up.type.case !== "collectionType") return mismatch(up, down, "a list takes only a list");
      if (isNone(up.type.value)) return OK;
      const why = castsFrom(d.value, up.type.value);
      return why === OK ? OK : mismatch(up, down, `element: ${why}`);
    }
    case "mapValueType": {
      if (up.type.case !== "mapValueType") return mismatch(up, down, "a map takes only a map");
      if (isNone(up.type.value)) return OK;
      const why = castsFrom(d.value, up.type.value);
      return why === OK ? OK : mismatch(up, down, `value: ${why}`);
    }
    case "blob": {
      if (up.type.case !== "blob")
        return mismatch(up, down, "a file or directory takes only a file or directory");
      const uf = up.type.value.format;
      const df = d.value.format;
      if (uf === "" || df === "" || uf === df) return OK;
      return mismatch(up, down, `formats ${JSON.stringify(uf)} and ${JSON.stringify(df)} differ`);
    }
    case "schema":
      return schemaCastsFrom(d.value, up, down);
    case "unionType":
      return unionCastsFrom(d.value.variants, up, down);
    case "structuredDatasetType":
      return datasetCastsFrom(d.value, up, down);
    default:
      if (isNone(down)) return isNone(up) ? OK : mismatch(up, down, "only none goes to none");
      return trivialCastsFrom(down, up);
  }
}

function trivialCastsFrom(down: LiteralType, up: LiteralType): string | undefined {
  // Enums are constrained strings: an enum goes to a string, and a string to an enum.
  if (up.type.case === "enumType" && down.type.case === "simple" && down.type.value === SimpleType.STRING)
    return OK;
  if (down.type.case === "enumType" && up.type.case === "simple" && up.type.value === SimpleType.STRING)
    return OK;

  const upTag = tagOf(up);
  if (upTag !== "" && tagOf(down) !== upTag) {
    return mismatch(
      up,
      down,
      `union variant tags ${JSON.stringify(upTag)} and ${JSON.stringify(tagOf(down))} differ`,
    );
  }

  if (isStruct(up) && isStruct(down)) {
    // Records (flytekit dataclasses) carry their JSON schema in metadata; a STRUCT without one matches any.
    if (up.metadata === undefined || down.metadata === undefined) return OK;
    if (jsonEqual(up.metadata, down.metadata)) return OK;
    const errs = compareSchemas(down.metadata, up.metadata);
    const real = errs.filter((e) => !e.notImplemented);
    if (real.length === 0) return OK;
    return mismatch(
      up,
      down,
      `record schemas differ (${real
        .slice(0, 3)
        .map((e) => e.message)
        .join("; ")})`,
    );
  }

  if (sameBareType(up, down)) return OK;
  return mismatch(up, down);
}

function isStruct(lt: LiteralType): boolean {
  return lt.type.case === "simple" && lt.type.value === SimpleType.STRUCT;
}

/** Equality of two types' `type` field, ignoring metadata, structure and annotation at the top level. */
function sameBareType(a: LiteralType, b: LiteralType): boolean {
  if (a.type.case !== b.type.case) return false;
  switch (a.type.case) {
    case "simple":
      return a.type.value === b.type.value;
    case "enumType": {
      const av = a.type.value.values;
      const bv = (b.type.value as typeof a.type.value).values;
      return av.length === bv.length && av.every((v, i) => v === bv[i]);
    }
    case undefined:
      return true;
    default:
      // Reached only when propeller would compare whole nested messages (never for the
      // types that reach the trivial checker in practice): compare them structurally.
      return jsonEqual(stripTypeName(a.type.value), stripTypeName(b.type.value));
  }
}

function stripTypeName(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripTypeName);
  if (v instanceof Uint8Array) return Array.from(v);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      if (k !== "$typeName" && x !== undefined) out[k] = stripTypeName(x);
    return out;
  }
  return typeof v === "bigint" ? v.toString() : v;
}

function unionCastsFrom(variants: LiteralType[], up: LiteralType, down: LiteralType): string | undefined {
  if (up.type.case === "unionType") {
    for (const u of up.type.value.variants) {
      if (!variants.some((d) => areTypesCastable(u, d) === OK)) {
        return mismatch(up, down, `no variant of the downstream union accepts ${describeLiteralType(u)}`);
      }
    }
    return OK;
  }
  let found = 0;
  for (const v of variants) if (areTypesCastable(up, v) === OK) found++;
  if (found === 1) return OK;
  if (found === 0) return mismatch(up, down, "no variant accepts it");
  return mismatch(up, down, `${found} variants accept it, so the variant is ambiguous`);
}

function datasetCastsFrom(d: StructuredDatasetType, up: LiteralType, down: LiteralType): string | undefined {
  if (isNone(up)) return OK; // structured datasets are nullable
  if (up.type.case === "schema") {
    if (d.format !== "" && d.format.toLowerCase() !== "parquet")
      return mismatch(up, down, "a schema is stored as parquet");
    const why = schemaColumnsToDataset(up.type.value, d);
    return why === OK ? OK : mismatch(up, down, why);
  }
  if (up.type.case !== "structuredDatasetType")
    return mismatch(up, down, "a dataframe takes only a dataframe");
  const u = up.type.value;
  if (u.format !== "" && d.format !== "" && u.format.toLowerCase() !== d.format.toLowerCase()) {
    return mismatch(up, down, `formats ${JSON.stringify(u.format)} and ${JSON.stringify(d.format)} differ`);
  }
  if (u.columns.length === 0 || d.columns.length === 0) return OK;
  const byName = new Map<string, LiteralType | undefined>();
  for (const c of u.columns) byName.set(c.name, c.literalType);
  for (const c of d.columns) {
    if (!byName.has(c.name))
      return mismatch(up, down, `column ${JSON.stringify(c.name)} is missing upstream`);
    const ut = byName.get(c.name);
    if (!c.literalType || !ut) {
      if (c.literalType === ut) continue;
      return mismatch(up, down, `column ${JSON.stringify(c.name)} has no type on one side`);
    }
    const why = castsFrom(c.literalType, ut);
    if (why !== OK) return mismatch(up, down, `column ${JSON.stringify(c.name)}: ${why}`);
  }
  return OK;
}

const SCHEMA_COLUMN_SIMPLE: Partial<Record<ColumnType, SimpleType>> = {
  [ColumnType.INTEGER]: SimpleType.INTEGER,
  [ColumnType.FLOAT]: SimpleType.FLOAT,
  [ColumnType.STRING]: SimpleType.STRING,
  [ColumnType.BOOLEAN]: SimpleType.BOOLEAN,
  [ColumnType.DATETIME]: SimpleType.DATETIME,
  [ColumnType.DURATION]: SimpleType.DURATION,
};

function simpleOf(lt: LiteralType | undefined): SimpleType | undefined {
  return lt?.type.case === "simple" ? lt.type.value : undefined;
}

function schemaColumnsToDataset(u: SchemaType, d: StructuredDatasetType): string | undefined {
  if (u.columns.length === 0 || d.columns.length === 0) return OK;
  const byName = new Map(u.columns.map((c) => [c.name, c.type] as const));
  for (const c of d.columns) {
    const t = byName.get(c.name);
    if (t === undefined) return `column ${JSON.stringify(c.name)} is missing upstream`;
    if (SCHEMA_COLUMN_SIMPLE[t] === undefined || SCHEMA_COLUMN_SIMPLE[t] !== simpleOf(c.literalType)) {
      return `column ${JSON.stringify(c.name)} types differ`;
    }
  }
  return OK;
}

function schemaCastsFrom(d: SchemaType, up: LiteralType, down: LiteralType): string | undefined {
  if (up.type.case === "schema") {
    const u = up.type.value;
    if (u.columns.length === 0 || d.columns.length === 0) return OK;
    const byName = new Map(u.columns.map((c) => [c.name, c.type] as const));
    for (const c of d.columns) {
      const t = byName.get(c.name);
      if (t === undefined) return mismatch(up, down, `column ${JSON.stringify(c.name)} is missing upstream`);
      if (t !== c.type) return mismatch(up, down, `column ${JSON.stringify(c.name)} types differ`);
    }
    return OK;
  }
  if (up.type.case !== "structuredDatasetType")
    return mismatch(up, down, "a schema takes only a schema or a dataframe");
  const u = up.type.value;
  if (u.format !== "" && u.format.toLowerCase() !== "parquet")
    return mismatch(up, down, "a schema is stored as parquet");
  if (u.columns.length === 0 || d.columns.length === 0) return OK;
  const byName = new Map(u.columns.map((c) => [c.name, simpleOf(c.literalType)] as const));
  for (const c of d.columns) {
    if (!byName.has(c.name))
      return mismatch(up, down, `column ${JSON.stringify(c.name)} is missing upstream`);
    const want = SCHEMA_COLUMN_SIMPLE[c.type];
    if (want === undefined || want !== byName.get(c.name))
      return mismatch(up, down, `column ${JSON.stringify(c.name)} types differ`);
  }
  return OK;
}

// ---- JSON values and JSON schemas ----

/** Deep equality of JSON values (object key order ignored, array order kept), as jsondiff compares. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (!(k in bo) || !jsonEqual(ao[k], bo[k])) return false;
  return true;
}

interface SchemaError {
  message: string;
  /** Differences json-schema-compare does not judge; propeller ignores them. */
  notImplemented: boolean;
}

/** A JSON schema as json-schema-compare sees it (after `$ref` resolution). */
interface Schema {
  types: string[];
  obj: Record<string, JsonValue>;
}

type Resolver = (s: JsonValue | undefined) => Schema | undefined;

function makeResolver(root: JsonObject): Resolver {
  const resolve = (s: JsonValue | undefined, depth = 0): Schema | undefined => {
    if (s === undefined) return undefined;
    if (s === null || typeof s !== "object" || Array.isArray(s)) return { types: [], obj: {} };
    const ref = s.$ref;
    if (typeof ref === "string" && ref.startsWith("#/") && depth < 32) {
      let target: JsonValue | undefined = root;
      for (const part of ref.slice(2).split("/")) {
        const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
        target = target && typeof target === "object" && !Array.isArray(target) ? target[key] : undefined;
      }
      if (target !== undefined) return resolve(target, depth + 1);
    }
    const t = s.type;
    const types =
      typeof t === "string"
        ? [t]
        : Array.isArray(t)
          ? t.filter((x): x is string => typeof x === "string")
          : [];
    return { types: [...types].sort(), obj: s };
  };
  return resolve;
}

/**
 * json-schema-compare's `Compare(subset, superset)` as propeller calls it: subset = downstream
 * schema, superset = upstream schema. Returns the differences found.
 */
function compareSchemas(downstream: JsonObject, upstream: JsonObject): SchemaError[] {
  const rd = makeResolver(downstream);
  const ru = makeResolver(upstream);
  const errs: SchemaError[] = [];
  compare3(rd(downstream)!, ru(upstream)!, "", errs, rd, ru);
  return errs;
}

function err(errs: SchemaError[], path: string, message: string, notImplemented = false): void {
  errs.push({ message: `${path || "/"}: ${message}`, notImplemented });
}

function num(v: JsonValue | undefined): number | undefined {
  return typeof v === "number" ? v : undefined;
}

function schemaList(v: JsonValue | undefined): JsonValue[] {
  return Array.isArray(v) ? v : [];
}

function compare3(
  sub: Schema,
  sup: Schema,
  path: string,
  errs: SchemaError[],
  rs: Resolver,
  rp: Resolver,
): void {
  for (const t of sub.types)
    if (!sup.types.includes(t)) err(errs, path, `type ${JSON.stringify(t)} is not upstream`);
  for (const t of sup.types) {
    if (sub.types.includes(t)) continue;
    if (t === "object" && sub.types.length === 0) continue;
    err(errs, path, `upstream type ${JSON.stringify(t)} is not downstream`);
  }
  if (sub.types.includes("string")) compareString(sub.obj, sup.obj, path, errs);
  if (sub.types.includes("number")) compareNumber(sub.obj, sup.obj, path, errs);
  if (sub.types.includes("array")) compareArray(sub.obj, sup.obj, path, errs, rs, rp);
  if (sub.types.includes("object") || sub.types.length === 0)
    compareObject(sub.obj, sup.obj, path, errs, rs, rp);

  for (const key of ["allOf", "anyOf", "oneOf"] as const) {
    const a = schemaList(sub.obj[key]);
    const b = schemaList(sup.obj[key]);
    if (a.length > 0 && b.length > 0) {
      b.forEach((supMember, i) => {
        const match = a.some(
          (subMember) => deepCompare(subMember, supMember, `${path}/${key}`, rs, rp).length === 0,
        );
        if (!match) err(errs, `${path}/${key}`, `upstream ${key}[${i}] has no counterpart downstream`);
      });
    } else if (a.length > 0 || b.length > 0) {
      err(errs, `${path}/${key}`, `${key} must appear on both sides`);
    }
  }

  if ("const" in sub.obj) {
    if (!("const" in sup.obj)) err(errs, `${path}/const`, "const downstream but not upstream");
    else if (!jsonEqual(sub.obj.const, sup.obj.const)) err(errs, `${path}/const`, "different const values");
  }
}

function deepCompare(
  a: JsonValue | undefined,
  b: JsonValue | undefined,
  path: string,
  rs: Resolver,
  rp: Resolver,
): SchemaError[] {
  const errs: SchemaError[] = [];
  if ((a === undefined) !== (b === undefined)) {
    err(errs, path, "one schema is defined and the other is not");
    return errs;
  }
  if (typeof a === "boolean" || typeof b === "boolean") {
    if (typeof a !== typeof b || a !== b) err(errs, path, "boolean schemas differ");
    return errs;
  }
  compare3(rs(a)!, rp(b)!, path, errs, rs, rp);
  return errs;
}

/** A downstream bound (`key`) must be met by an upstream bound that is as tight: `le` for maxima, `ge` for minima. */
function limit(
  errs: SchemaError[],
  path: string,
  sub: Record<string, JsonValue>,
  sup: Record<string, JsonValue>,
  key: string,
  tight: "le" | "ge",
): void {
  const d = num(sub[key]);
  if (d === undefined) return;
  const u = num(sup[key]);
  if (u === undefined || (tight === "le" ? u > d : u < d))
    err(errs, `${path}/${key}`, `${key} is looser upstream`);
}

function compareString(
  sub: Record<string, JsonValue>,
  sup: Record<string, JsonValue>,
  path: string,
  errs: SchemaError[],
): void {
  const f1 = typeof sub.format === "string" ? sub.format : "";
  const f2 = typeof sup.format === "string" ? sup.format : "";
  if (f1 !== f2)
    err(errs, `${path}/format`, `format ${JSON.stringify(f1)} differs from upstream ${JSON.stringify(f2)}`);
  if (Array.isArray(sub.enum)) {
    const have = new Set(sub.enum);
    for (const v of schemaList(sup.enum))
      if (!have.has(v))
        err(errs, `${path}/enum`, `upstream enum value ${JSON.stringify(v)} is not downstream`);
  }
  if (typeof sub.pattern === "string" && sub.pattern !== sup.pattern)
    err(errs, `${path}/pattern`, "patterns differ");
  limit(errs, path, sub, sup, "maxLength", "le");
  limit(errs, path, sub, sup, "minLength", "ge");
}

function compareNumber(
  sub: Record<string, JsonValue>,
  sup: Record<string, JsonValue>,
  path: string,
  errs: SchemaError[],
): void {
  limit(errs, path, sub, sup, "maximum", "le");
  limit(errs, path, sub, sup, "minimum", "ge");
  if ("exclusiveMinimum" in sub || "exclusiveMinimum" in sup)
    err(errs, path, "exclusiveMinimum not implemented", true);
  if ("exclusiveMaximum" in sub || "exclusiveMaximum" in sup)
    err(errs, path, "exclusiveMaximum not implemented", true);
  if ("multipleOf" in sub || "multipleOf" in sup) {
    const a = num(sub.multipleOf);
    const b = num(sup.multipleOf);
    if (a === undefined || b === undefined || !Number.isInteger(a) || !Number.isInteger(b))
      err(errs, path, "multipleOf for non integer not implemented", true);
    else if (b % a !== 0) err(errs, `${path}/multipleOf`, `${a} does not divide ${b}`);
  }
}

function compareArray(
  sub: Record<string, JsonValue>,
  sup: Record<string, JsonValue>,
  path: string,
  errs: SchemaError[],
  rs: Resolver,
  rp: Resolver,
): void {
  limit(errs, path, sub, sup, "minItems", "ge");
  limit(errs, path, sub, sup, "maxItems", "le");
  if (sub.items !== undefined) {
    if (sup.items === undefined) err(errs, `${path}/items`, "items only defined downstream");
    else if (Array.isArray(sub.items) && Array.isArray(sup.items)) {
      if (sub.items.length !== sup.items.length) {
        err(errs, `${path}/items`, "item lists have different lengths");
      } else {
        for (const [i, s] of sub.items.entries()) {
          compare3(rs(s)!, rp((sup.items as JsonValue[])[i])!, `${path}/item[${i}]`, errs, rs, rp);
        }
      }
    } else if (!Array.isArray(sub.items) && !Array.isArray(sup.items)) {
      compare3(rs(sub.items)!, rp(sup.items)!, `${path}/items`, errs, rs, rp);
    } else err(errs, `${path}/items`, "cannot match item lists");
  }
  if ("additionalItems" in sub || "additionalItems" in sup)
    err(errs, path, "additionalItems not implemented", true);
  if (sub.uniqueItems === true && sup.uniqueItems !== true)
    err(errs, `${path}/uniqueItems`, "uniqueItems downstream only");
}

function compareObject(
  sub: Record<string, JsonValue>,
  sup: Record<string, JsonValue>,
  path: string,
  errs: SchemaError[],
  rs: Resolver,
  rp: Resolver,
): void {
  if ("additionalProperties" in sub || "additionalProperties" in sup)
    err(errs, `${path}/additionalProperties`, "additionalProperties not implemented", true);
  const supRequired = new Set(schemaList(sup.required));
  for (const f of schemaList(sub.required)) {
    if (!supRequired.has(f))
      err(errs, `${path}/required`, `field ${JSON.stringify(f)} is required downstream but not upstream`);
  }
  limit(errs, path, sub, sup, "minProperties", "ge");
  limit(errs, path, sub, sup, "maxProperties", "le");
  for (const k of ["dependencies", "patternProperties", "not"]) {
    if (k in sub || k in sup) err(errs, path, `${k} not implemented`, true);
  }
  for (const k of ["if", "then", "else"]) {
    if (!(k in sub) && !(k in sup)) continue;
    if (!(k in sub) || !(k in sup)) err(errs, `${path}/${k}`, `"${k}" on one side only`);
    else {
      const deep = deepCompare(sub[k], sup[k], `${path}/${k}`, rs, rp);
      if (deep.length > 0)
        errs.push({ message: `${path}/${k}: "${k}" is not equal`, notImplemented: false }, ...deep);
    }
  }
  const subProps = sub.properties;
  const supProps = sup.properties;
  if (subProps && typeof subProps === "object" && !Array.isArray(subProps)) {
    const sp = supProps && typeof supProps === "object" && !Array.isArray(supProps) ? supProps : {};
    for (const [k, v] of Object.entries(subProps)) {
      if (!(k in sp)) err(errs, `${path}/${k}`, `field ${JSON.stringify(k)} is downstream but not upstream`);
      else compare3(rs(v)!, rp(sp[k])!, `${path}/${k}`, errs, rs, rp);
    }
  }
}
