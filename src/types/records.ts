/**
 * Records: objects with a fixed set of typed fields. Written the way flytekit >= 1.14 writes
 * dataclasses, so a Python task reads them as the matching dataclass and the reverse:
 * LiteralType STRUCT with the fields' JSON schema in `metadata` and their LiteralTypes in
 * `structure.dataclass_type`; the value a Binary literal of MessagePack, tagged `msgpack`.
 */

import type { JsonObject } from "@bufbuild/protobuf";
import { Decoder, Encoder } from "@msgpack/msgpack";
import { describeValue } from "../errors.js";
import type { TypeAnnotation } from "../proto/gen/flyteidl/core/types_pb.js";
import { ListType, MapType, prefixPath } from "./collections.js";
import { EnumType } from "./enums.js";
import { FlyteType, literalKind, registerTransformer, typeError, type ValueOf } from "./flyte-type.js";
import {
  binaryLiteral,
  type Literal,
  type LiteralType,
  SimpleType,
  simpleType,
  typeStructure,
} from "./literals.js";
import { encodeMsgpack, Float64 } from "./msgpack.js";
import {
  BigIntType,
  BoolType,
  BytesType,
  DatetimeType,
  DurationType,
  FloatType,
  IntType,
  NoneType,
  StringType,
} from "./primitives.js";
import { UnionType } from "./unions.js";
import type { LiteralCodec } from "./wire.js";
import { BinaryCodec } from "./wire-codecs.js";

/** The annotation flytekit puts on STRUCT types whose values are MessagePack (dataclasses, dicts). */
export const MSGPACK_ANNOTATION: JsonObject = { "cache-key-metadata": { "serialization-format": "msgpack" } };

/** The name of flytekit's dataclass transformer: the union tag of record variants. */
export const DATACLASS_TAG = "Object-Dataclass-Transformer";

function withMsgpackAnnotation(lt: LiteralType): LiteralType {
  lt.annotation = {
    $typeName: "flyteidl.core.TypeAnnotation",
    annotations: MSGPACK_ANNOTATION,
  } as TypeAnnotation;
  return lt;
}

/** Whether a type can be a record field: no files, directories or dataframes at any depth (bytes are fine). */
function recordable(t: FlyteType<unknown>): boolean {
  if (t instanceof ListType) return recordable(t.element);
  if (t instanceof MapType) return recordable(t.value);
  if (t instanceof UnionType) return t.variants.every(recordable);
  if (t instanceof BytesType) return true;
  return !t.io;
}

/** Python's `datetime.isoformat()` of a UTC instant, as mashumaro writes datetimes. */
function pythonIsoformat(d: Date): string {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const ms = d.getUTCMilliseconds();
  return `${iso.slice(0, 19)}${ms === 0 ? "" : `.${String(ms).padStart(3, "0")}000`}+00:00`;
}

/** Parses an ISO datetime; one without an offset (a naive Python datetime) is taken as UTC. */
function parseIsoDatetime(v: unknown): unknown {
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(v)) return `${v}Z`;
  return v;
}

/** A record's field types. */
export type Fields = Record<string, FlyteType<unknown>>;

type NullableKeys<S extends Fields> = { [K in keyof S]: null extends ValueOf<S[K]> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The object type of a record: fields whose type admits null may be omitted. */
export type RecordValue<S extends Fields> = Simplify<
  { [K in Exclude<keyof S, NullableKeys<S>>]: ValueOf<S[K]> } & { [K in NullableKeys<S>]?: ValueOf<S[K]> }
>;

const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const decoder = new Decoder({ useBigInt64: true });

/** An object with typed fields, interoperable with flytekit dataclasses. */
export class RecordType<S extends Fields> extends FlyteType<RecordValue<S>> {
  readonly name: string;
  /** The union tag flytekit gives dataclass variants (its dataclass transformer's name). */
  readonly pythonTag: string = DATACLASS_TAG;
  readonly #keys: string[];
  /** Per field, the function that validates a value and returns its plain data (compiled once). */
  #plain: ((v: unknown) => unknown)[] | undefined;
  /** Per field, the function that reads its plain data (compiled once). */
  #read: ((v: unknown) => unknown)[] | undefined;
  constructor(
    readonly fields: S,
    readonly recordName = "Record",
  ) {
    super();
    this.name = `record ${recordName}`;
    this.#keys = Object.keys(fields);
    for (const [k, f] of Object.entries(fields)) {
      if (!recordable(f)) {
        throw typeError(
          "TYPE_RECORD_FIELD",
          `field "${k}" of record ${recordName} is a ${f.name}; files, directories and dataframes cannot be record fields yet`,
          f.name,
          "pass it as a separate task input or output",
        );
      }
    }
  }
  protected makeLiteralType(): LiteralType {
    const dataclassType: Record<string, LiteralType> = {};
    for (const k of this.#keys) dataclassType[k] = this.fields[k]!.literalType;
    return withMsgpackAnnotation(
      simpleType(SimpleType.STRUCT, {
        metadata: jsonSchemaOf(this) as JsonObject,
        structure: typeStructure("", dataclassType),
      }),
    );
  }
  #wire: BinaryCodec<RecordValue<S>> | undefined;
  /** Writes and reads the MessagePack binary literal directly (so lists of records skip protobuf-es). */
  override get wire(): LiteralCodec<RecordValue<S>> {
    this.#wire ??= new BinaryCodec(
      (v) => encodeMsgpack(this.toPlain(v)),
      (bytes) => this.fromPlain(decoder.decode(bytes)),
      "msgpack",
    );
    return this.#wire;
  }
  toLiteral(value: RecordValue<S>): Literal {
    return binaryLiteral(encodeMsgpack(this.toPlain(value)), "msgpack");
  }
  fromLiteral(literal: Literal): RecordValue<S> {
    if (literal.value.case === "scalar") {
      const s = literal.value.value.value;
      if (s.case === "binary" && s.value.tag === "msgpack")
        return this.fromPlain(decoder.decode(s.value.value));
      if (s.case === "generic") return this.fromJson(s.value);
      if (s.case === "union" && s.value.value) return this.fromLiteral(s.value.value);
    }
    throw typeError(
      "TYPE_LITERAL_MISMATCH",
      `expected a msgpack binary or struct literal for ${this.name}, got ${literalKind(literal)}`,
      literal,
      "check the producer's output type",
    );
  }
  /** Converts a record value to plain data for MessagePack (validating it). */
  toPlain(value: RecordValue<S>): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not an object`,
        value,
        `pass an object with fields ${this.#keys.join(", ")}`,
      );
    }
    const v = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const keys = this.#keys;
    this.#plain ??= keys.map((k) => plainOf(this.fields[k]!));
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const f = this.fields[k]!;
      const fv = v[k];
      if (fv === undefined && !f.optional) {
        throw typeError(
          "TYPE_MISSING_FIELD",
          `field "${k}" of ${this.name} is missing`,
          value,
          `set "${k}" (${f.name})`,
        );
      }
      try {
        out[k] = this.#plain[i]!(fv ?? null);
      } catch (err) {
        throw prefixPath(err, `.${k}`);
      }
    }
    for (const k of Object.keys(v)) {
      if (!(k in this.fields)) {
        throw typeError(
          "TYPE_UNKNOWN_FIELD",
          `${this.name} has no field "${k}"`,
          value,
          `remove "${k}" or add it to the record's fields`,
        );
      }
    }
    return out;
  }
  /** Reads plain (MessagePack or JSON) data as a record value. */
  fromPlain(plain: unknown): RecordValue<S> {
    if (plain === null || typeof plain !== "object" || Array.isArray(plain)) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(plain)} is not an object`,
        plain,
        `give an object with fields ${this.#keys.join(", ")}`,
      );
    }
    const p = plain as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const keys = this.#keys;
    this.#read ??= keys.map((k) => readerOf(this.fields[k]!));
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const f = this.fields[k]!;
      if (p[k] === undefined && !f.optional) {
        throw typeError(
          "TYPE_MISSING_FIELD",
          `field "${k}" of ${this.name} is missing`,
          plain,
          `set "${k}" (${f.name})`,
        );
      }
      try {
        out[k] = this.#read[i]!(p[k] ?? null);
      } catch (err) {
        throw prefixPath(err, `.${k}`);
      }
    }
    return out as RecordValue<S>;
  }
  fromJson(json: unknown): RecordValue<S> {
    return this.fromPlain(json);
  }
  toJson(value: RecordValue<S>): unknown {
    const out: Record<string, unknown> = {};
    const v = value as Record<string, unknown>;
    for (const k of this.#keys) out[k] = v[k] === undefined ? null : this.fields[k]!.toJson(v[k]);
    return out;
  }
}

/** A float as Python writes it: float64 even when integral (2.0), which a JS number cannot say. */
function asFloat(x: number): number | Float64 {
  return Number.isInteger(x) ? new Float64(x) : x;
}

/**
 * A converter for a union's value: the first of its non-none variants (converted by `of`) that
 * accepts it; none accepting is TYPE_INVALID_VALUE, whose fix says to `verb` one of the union.
 */
function firstVariant(
  t: UnionType<unknown>,
  of: (t: FlyteType<unknown>) => (v: unknown) => unknown,
  verb: string,
): (v: unknown) => unknown {
  const variants = (t.variants as FlyteType<unknown>[]).filter((x) => !(x instanceof NoneType)).map(of);
  return (v) => {
    for (const variant of variants) {
      try {
        return variant(v);
      } catch {
        // next
      }
    }
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(v)} matches no variant of ${t.name}`,
      v,
      `${verb} one of ${t.name}`,
    );
  };
}

/**
 * The function that validates a value of `t` (throwing what `toLiteral` throws) and returns its
 * plain data for MessagePack, chosen once per type rather than per value.
 */
function plainOf(t: FlyteType<unknown>): (v: unknown) => unknown {
  if (t instanceof RecordType) return (v) => t.toPlain(v as never);
  if (t instanceof ListType) {
    const el = plainOf(t.element);
    return (v) => {
      if (!Array.isArray(v))
        throw typeError(
          "TYPE_INVALID_VALUE",
          `${describeValue(v)} is not an array`,
          v,
          `pass an array of ${t.element.name}`,
        );
      return mapList(v, el);
    };
  }
  if (t instanceof MapType) {
    const el = plainOf(t.value);
    return (v) => mapObject(v as object, el);
  }
  if (t instanceof UnionType) {
    const convert = firstVariant(t, plainOf, "pass");
    return (v) => (v === null || v === undefined ? null : convert(v));
  }
  if (t instanceof BigIntType || t instanceof IntType || t instanceof StringType || t instanceof BoolType)
    return (v) => t.validate(v);
  if (t instanceof FloatType) return (v) => asFloat(t.validate(v));
  if (t instanceof BytesType) return (v) => t.validate(v);
  if (t instanceof DatetimeType) return (v) => pythonIsoformat(t.validate(v));
  // Python timedelta: seconds, a float.
  if (t instanceof DurationType) return (v) => asFloat(t.validate(v) / 1000);
  if (t instanceof EnumType)
    return (v) => {
      t.toLiteral(v as never); // validates
      return t.toJson(v as never);
    };
  return (v) => t.toJson(v);
}

/** `f` of each element; an error names the element's index. */
function mapList(v: unknown[], f: (e: unknown) => unknown): unknown[] {
  const out = new Array<unknown>(v.length);
  let i = 0;
  try {
    for (; i < v.length; i++) out[i] = f(v[i]);
  } catch (err) {
    throw prefixPath(err, `[${i}]`);
  }
  return out;
}

/** `f` of each value; an error names the key. */
function mapObject(v: object, f: (e: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, e] of Object.entries(v)) {
    try {
      out[k] = f(e);
    } catch (err) {
      throw prefixPath(err, `.${k}`);
    }
  }
  return out;
}

/** The function that reads plain (MessagePack or JSON) data as a value of `t`, chosen once per type. */
function readerOf(t: FlyteType<unknown>): (v: unknown) => unknown {
  if (t instanceof RecordType) return (v) => t.fromPlain(v);
  if (t instanceof ListType) {
    const el = readerOf(t.element);
    return (v) => {
      if (!Array.isArray(v))
        throw typeError(
          "TYPE_INVALID_VALUE",
          `${describeValue(v)} is not a list`,
          v,
          `give a list of ${t.element.name}`,
        );
      return mapList(v, el);
    };
  }
  if (t instanceof MapType) {
    const el = readerOf(t.value);
    return (v) => mapObject(v as object, el);
  }
  if (t instanceof UnionType) {
    const convert = firstVariant(t, readerOf, "give");
    return (v) => (v === null ? null : convert(v));
  }
  if (t instanceof IntType) return (v) => t.fromJson(typeof v === "bigint" ? Number(v) : v);
  if (t instanceof DatetimeType) return (v) => t.fromJson(parseIsoDatetime(v));
  if (t instanceof DurationType)
    return (v) => {
      if (typeof v !== "number" && typeof v !== "bigint")
        throw typeError(
          "TYPE_INVALID_VALUE",
          `${describeValue(v)} is not a duration in seconds`,
          v,
          "give a number of seconds",
        );
      return Math.round(Number(v) * 1e6) / 1e3;
    };
  if (t instanceof FloatType) return (v) => (typeof v === "bigint" ? Number(v) : t.fromJson(v));
  return (v) => t.fromJson(v);
}

/** The JSON schema of a type (for record metadata, the CLI and docs). */
export function jsonSchemaOf(t: FlyteType<unknown>): Record<string, unknown> {
  if (t instanceof RecordType) {
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    for (const [k, f] of Object.entries(t.fields as Fields)) {
      properties[k] = jsonSchemaOf(f);
      // Every field: records always write every key, as a dataclass without defaults.
      required.push(k);
    }
    return { type: "object", title: t.recordName, properties, additionalProperties: false, required };
  }
  if (t instanceof ListType) return { type: "array", items: jsonSchemaOf(t.element) };
  if (t instanceof MapType)
    return { type: "object", additionalProperties: jsonSchemaOf(t.value), propertyNames: { type: "string" } };
  if (t instanceof UnionType) return { anyOf: t.variants.map((v) => jsonSchemaOf(v)) };
  if (t instanceof EnumType) return { enum: [...t.values] };
  if (t instanceof IntType || t instanceof BigIntType) return { type: "integer" };
  if (t instanceof FloatType) return { type: "number" };
  if (t instanceof StringType) return { type: "string" };
  if (t instanceof BoolType) return { type: "boolean" };
  if (t instanceof DatetimeType) return { type: "string", format: "date-time" };
  if (t instanceof DurationType) return { type: "number", format: "time-delta" };
  if (t instanceof BytesType) return { type: "string", format: "base64" };
  if (t instanceof JsonType) return { type: "object" };
  if (t instanceof NoneType) return { type: "null" };
  return {};
}

/** Untyped JSON-like data (a STRUCT with no declared fields): Python `dict`. */
export class JsonType extends FlyteType<Record<string, unknown>> {
  readonly name = "json";
  protected makeLiteralType(): LiteralType {
    return withMsgpackAnnotation(simpleType(SimpleType.STRUCT));
  }
  toLiteral(value: Record<string, unknown>): Literal {
    if (value === null || typeof value !== "object") {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not an object`,
        value,
        "pass a plain object",
      );
    }
    return binaryLiteral(encoder.encode(value), "msgpack");
  }
  fromLiteral(literal: Literal): Record<string, unknown> {
    if (literal.value.case === "scalar") {
      const s = literal.value.value.value;
      if (s.case === "binary") return decoder.decode(s.value.value) as Record<string, unknown>;
      if (s.case === "generic") return s.value as Record<string, unknown>;
    }
    throw typeError(
      "TYPE_LITERAL_MISMATCH",
      `expected a struct literal, got ${literalKind(literal)}`,
      literal,
      "check the producer's output type",
    );
  }
  fromJson(json: unknown): Record<string, unknown> {
    if (json !== null && typeof json === "object" && !Array.isArray(json))
      return json as Record<string, unknown>;
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not a JSON object`,
      json,
      "give a JSON object",
    );
  }
  toJson(value: Record<string, unknown>): unknown {
    return value;
  }
}

/**
 * The type a JSON schema (as mashumaro writes it for dataclass fields) describes, or undefined
 * when it uses anything else.
 */
function typeFromJsonSchema(s: unknown): FlyteType<unknown> | undefined {
  if (s === null || typeof s !== "object" || Array.isArray(s)) return undefined;
  const o = s as Record<string, unknown>;
  if (Array.isArray(o.anyOf)) {
    const variants = o.anyOf.map(typeFromJsonSchema);
    if (variants.some((v) => v === undefined)) return undefined;
    return new UnionType(variants as FlyteType<unknown>[]) as FlyteType<unknown>;
  }
  if (Array.isArray(o.enum))
    return o.enum.every((v) => typeof v === "string")
      ? (new EnumType(o.enum as string[]) as FlyteType<unknown>)
      : undefined;
  switch (o.type) {
    case "integer":
      return new BigIntType() as FlyteType<unknown>;
    case "number":
      return (o.format === "time-delta" ? new DurationType() : new FloatType()) as FlyteType<unknown>;
    case "string":
      if (o.format === "date-time") return new DatetimeType() as FlyteType<unknown>;
      if (o.format === "base64") return new BytesType() as FlyteType<unknown>;
      return new StringType() as FlyteType<unknown>;
    case "boolean":
      return new BoolType() as FlyteType<unknown>;
    case "null":
      return new NoneType() as FlyteType<unknown>;
    case "array": {
      const el = typeFromJsonSchema(o.items);
      return el ? (new ListType(el) as FlyteType<unknown>) : undefined;
    }
    case "object": {
      if (o.properties && typeof o.properties === "object") {
        const fields: Fields = {};
        for (const [k, v] of Object.entries(o.properties as Record<string, unknown>)) {
          const f = typeFromJsonSchema(v);
          if (!f) return undefined;
          fields[k] = f;
        }
        return new RecordType(fields, typeof o.title === "string" ? o.title : "Record") as FlyteType<unknown>;
      }
      if (o.additionalProperties && typeof o.additionalProperties === "object") {
        const v = typeFromJsonSchema(o.additionalProperties);
        return v ? (new MapType(v) as FlyteType<unknown>) : undefined;
      }
      return new JsonType() as FlyteType<unknown>;
    }
    default:
      return undefined;
  }
}

registerTransformer((lt, typeFor) => {
  if (lt.type.case !== "simple" || lt.type.value !== SimpleType.STRUCT) return undefined;
  const dc = lt.structure?.dataclassType ?? {};
  if (Object.keys(dc).length === 0) {
    // flytekit drops dataclass_type from union variants: rebuild the record from its JSON schema.
    const fromSchema = lt.metadata ? typeFromJsonSchema(lt.metadata) : undefined;
    return (fromSchema instanceof RecordType ? fromSchema : new JsonType()) as FlyteType<unknown>;
  }
  const fields: Fields = {};
  for (const [k, v] of Object.entries(dc)) fields[k] = typeFor(v);
  const title = (lt.metadata as { title?: unknown } | undefined)?.title;
  return new RecordType(fields, typeof title === "string" ? title : "Record") as FlyteType<unknown>;
});
