/**
 * The columns of a dataframe: what each declared column type means in parquet, and the checked
 * conversion of column values both ways. Writing turns rows into typed column arrays for
 * `parquet-writer.ts`; reading checks and converts, in place, the column arrays that
 * `parquet-reader.ts` (or hyparquet) decoded.
 */
import type { SchemaElement } from "hyparquet";
import { describeValue } from "../errors.js";
import { EnumType } from "./enums.js";
import { type FlyteType, typeError } from "./flyte-type.js";
import type { ColumnValues, Produced } from "./parquet-reader.js";
import type { FlatColumn } from "./parquet-writer.js";
import {
  BigIntType,
  BoolType,
  BytesType,
  DatetimeType,
  FloatType,
  IntType,
  NoneType,
  primitives,
  StringType,
} from "./primitives.js";
import { UnionType } from "./unions.js";

/** What a column holds, from its declared type. */
export type Kind = "int" | "bigint" | "float" | "string" | "enum" | "bool" | "datetime" | "bytes";

/** One column of a dataframe: its name, kind, whether it admits nulls, and its declared type. */
export interface ColumnSpec {
  readonly name: string;
  readonly kind: Kind;
  readonly nullable: boolean;
  readonly type: FlyteType<unknown>;
  readonly enumValues?: ReadonlySet<string>;
}

/** The column kinds, by the class of the declared type. */
const COLUMN_KINDS: [abstract new (...args: never[]) => FlyteType<unknown>, Kind][] = [
  [IntType, "int"],
  [BigIntType, "bigint"],
  [FloatType, "float"],
  [StringType, "string"],
  [EnumType, "enum"],
  [BoolType, "bool"],
  [DatetimeType, "datetime"],
  [BytesType, "bytes"],
];

/** The spec of a declared column; throws for a type a dataframe cannot hold. */
export function columnSpec(name: string, type: FlyteType<unknown>): ColumnSpec {
  let inner = type;
  let nullable = false;
  if (type instanceof UnionType && type.optional) {
    const rest = type.variants.filter((v) => !(v instanceof NoneType));
    if (rest.length === 1) {
      inner = rest[0]!;
      nullable = true;
    }
  }
  const kind = COLUMN_KINDS.find(([cls]) => inner instanceof cls)?.[1];
  if (!kind) {
    throw typeError(
      "TYPE_DATAFRAME_COLUMN_UNSUPPORTED",
      `column "${name}" has type ${type.name}, which a dataframe cannot hold`,
      type.name,
      "use t.int(), t.bigint(), t.float(), t.string(), t.enum([...]), t.bool(), t.datetime() or t.bytes(), optionally wrapped in t.optional()",
    );
  }
  const spec: ColumnSpec = { name, kind, nullable, type };
  return kind === "enum" ? { ...spec, enumValues: new Set((inner as EnumType<string>).values) } : spec;
}

/** The column kind of an undeclared column, from a sample value (numbers are floats). */
function kindOfValue(v: unknown): Kind {
  if (typeof v === "bigint") return "bigint";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (v instanceof Date) return "datetime";
  if (v instanceof Uint8Array) return "bytes";
  return "float";
}

const INFERRED: Record<Kind, FlyteType<unknown>> = {
  int: primitives.int,
  bigint: primitives.bigint,
  float: primitives.float,
  string: primitives.string,
  enum: primitives.string,
  bool: primitives.bool,
  datetime: primitives.datetime,
  bytes: primitives.bytes,
};

/** Columns of rows written without declared columns: typed from the first non-null value (numbers as floats). */
export function inferSpecs(rows: readonly object[]): ColumnSpec[] {
  const first = rows[0] as Record<string, unknown> | undefined;
  if (!first) return [];
  return Object.keys(first).map((name) => {
    let sample: unknown = null;
    for (const r of rows) {
      sample = (r as Record<string, unknown>)[name];
      if (sample !== null && sample !== undefined) break;
    }
    const kind = kindOfValue(sample);
    return { name, kind, nullable: true, type: INFERRED[kind] };
  });
}

/** A FlyteTypeError with the path of the offending value (`[row].column`). */
export function columnError(code: string, message: string, value: unknown, fix: string, path: string) {
  const err = typeError(code, message, value, fix);
  (err as { path?: string }).path = path;
  return err;
}

// ---- writing ----

/** Fails unless every row is an object whose keys are declared columns. */
export function checkRowKeys(rows: readonly object[], specs: readonly ColumnSpec[]): void {
  const names = new Set(specs.map((s) => s.name));
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row === null || typeof row !== "object") {
      throw columnError(
        "TYPE_INVALID_VALUE",
        `row ${i} is ${describeValue(row)}, not an object`,
        row,
        "pass rows as objects keyed by column name",
        `[${i}]`,
      );
    }
    for (const k in row) {
      if (!names.has(k) && (row as Record<string, unknown>)[k] !== undefined) {
        throw columnError(
          "TYPE_UNKNOWN_FIELD",
          `row ${i} has column "${k}", which the dataframe does not declare`,
          row,
          `remove "${k}" or declare it among the columns (${[...names].join(", ")})`,
          `[${i}].${k}`,
        );
      }
    }
  }
}

/** Whether `v` is a value of a column of kind `kind` (`spec` for the enum's values). */
function valid(spec: ColumnSpec, v: unknown): boolean {
  switch (spec.kind) {
    case "int":
      return typeof v === "number" && Number.isSafeInteger(v);
    case "bigint":
      return typeof v === "bigint" && v >= -(2n ** 63n) && v < 2n ** 63n;
    case "float":
      return typeof v === "number";
    case "string":
      return typeof v === "string";
    case "enum":
      return typeof v === "string" && spec.enumValues!.has(v);
    case "bool":
      return typeof v === "boolean";
    case "datetime":
      return v instanceof Date && !Number.isNaN(v.getTime());
    case "bytes":
      return v instanceof Uint8Array;
  }
}

/** Collects the null rows of a column being written; fails for a column that admits none. */
class Nulls {
  mask: Uint8Array | undefined;
  constructor(
    readonly spec: ColumnSpec,
    readonly rows: number,
  ) {}
  /** Records that row `i` holds `v`, which is not a value of the column: null, or a type error. */
  add(i: number, v: unknown): void {
    const { name, type, nullable } = this.spec;
    if (v !== null && v !== undefined) {
      throw columnError(
        "TYPE_INVALID_VALUE",
        `row ${i}, column "${name}": ${describeValue(v)} is not a ${type.name}`,
        v,
        `give column "${name}" values of type ${type.name}`,
        `[${i}].${name}`,
      );
    }
    if (!nullable) {
      throw columnError(
        "TYPE_INVALID_VALUE",
        `row ${i} has no value for column "${name}"`,
        v,
        `set "${name}" in every row, or declare the column as t.optional(...)`,
        `[${i}].${name}`,
      );
    }
    this.mask ??= new Uint8Array(this.rows);
    this.mask[i] = 1;
  }
}

type Row = Record<string, unknown>;

/** The column arrays for the parquet writer, each value checked against the spec. */
export function flatColumn(spec: ColumnSpec, rows: readonly object[]): FlatColumn {
  const { name, kind, nullable } = spec;
  const n = rows.length;
  const nulls = new Nulls(spec, n);
  const column = { name, nullable };
  // One loop per kind: these run once per value of large frames.
  if (kind === "int" || kind === "float") {
    const values = new Float64Array(n);
    const int = kind === "int";
    for (let i = 0; i < n; i++) {
      const v = (rows[i] as Row)[name];
      if (typeof v === "number" && (!int || Number.isSafeInteger(v))) values[i] = v;
      else nulls.add(i, v);
    }
    return { ...column, nulls: nulls.mask, kind: int ? "int64" : "double", values };
  }
  if (kind === "string") {
    const values = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const v = (rows[i] as Row)[name];
      if (typeof v === "string") values[i] = v;
      else nulls.add(i, v);
    }
    return { ...column, nulls: nulls.mask, kind: "utf8", values };
  }
  if (kind === "bigint") {
    const values = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const v = (rows[i] as Row)[name];
      if (valid(spec, v)) values[i] = v as bigint;
      else nulls.add(i, v);
    }
    return { ...column, nulls: nulls.mask, kind: "int64", values };
  }
  if (kind === "datetime") {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = (rows[i] as Row)[name];
      if (valid(spec, v)) values[i] = (v as Date).getTime();
      else nulls.add(i, v);
    }
    return { ...column, nulls: nulls.mask, kind: "timestamp-millis", values };
  }
  if (kind === "bool") {
    const values = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = (rows[i] as Row)[name];
      if (typeof v === "boolean") values[i] = v ? 1 : 0;
      else nulls.add(i, v);
    }
    return { ...column, nulls: nulls.mask, kind: "boolean", values };
  }
  const values = new Array<string | Uint8Array>(n);
  for (let i = 0; i < n; i++) {
    const v = (rows[i] as Row)[name];
    if (valid(spec, v)) values[i] = v as string | Uint8Array;
    else nulls.add(i, v);
  }
  return kind === "bytes"
    ? { ...column, nulls: nulls.mask, kind: "binary", values: values as Uint8Array[] }
    : { ...column, nulls: nulls.mask, kind: "utf8", values: values as string[] };
}

// ---- reading ----

/** The parquet type of a schema element, for messages. */
export function describeParquet(el: SchemaElement): string {
  const ann = el.logical_type?.type ?? el.converted_type;
  return `parquet ${el.num_children ? "group" : el.type}${ann ? ` (${ann})` : ""}`;
}

function isTemporal(el: SchemaElement): boolean {
  const c = el.converted_type;
  const l = el.logical_type?.type;
  return (
    (c !== undefined && /^(TIMESTAMP|DATE|TIME)/.test(c)) || l === "TIMESTAMP" || l === "DATE" || l === "TIME"
  );
}

/** Whether a column of kind `kind` reads the parquet column `el`. */
export function accepts(kind: Kind, el: SchemaElement): boolean {
  if (el.num_children) return false;
  switch (kind) {
    case "int":
    case "bigint":
      return (
        (el.type === "INT64" || el.type === "INT32") &&
        !isTemporal(el) &&
        el.converted_type !== "DECIMAL" &&
        el.logical_type?.type !== "DECIMAL"
      );
    case "float":
      return el.type === "DOUBLE" || el.type === "FLOAT";
    case "string":
    case "enum":
      return el.type === "BYTE_ARRAY";
    case "bool":
      return el.type === "BOOLEAN";
    case "datetime":
      return el.type === "INT96" || ((el.type === "INT64" || el.type === "INT32") && isTemporal(el));
    case "bytes":
      return el.type === "BYTE_ARRAY" || el.type === "FIXED_LEN_BYTE_ARRAY";
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** What the column reader's values must be to need no conversion, by column kind (enums always need checking). */
const PRODUCED: Partial<Record<Kind, Produced>> = {
  string: "string",
  bytes: "bytes",
  bool: "boolean",
  bigint: "bigint",
  datetime: "date",
};

/** A column's values as an array, nulls as `null`. */
export function columnArray(col: ColumnValues): unknown[] {
  if (col.kind === "values") return col.values;
  const { values, nulls } = col;
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = nulls?.[i] ? null : values[i];
  return out;
}

/**
 * Checks and converts a decoded column to the values of `spec`: nulls only where the column is
 * nullable, ints that fit a JS number, strings of the enum. Arrays are converted in place.
 * `first` is the dataset row of the column's first value and `where` names the dataset, both
 * for messages.
 */
export function convertColumn(
  spec: ColumnSpec,
  col: ColumnValues,
  first: number,
  where: string,
): ColumnValues {
  if (col.kind === "numbers" && (spec.kind === "int" || spec.kind === "float")) {
    // Decoded as numbers: ints are exact (the reader falls back to values beyond 2^53); only nulls to check.
    const i = spec.nullable || !col.nulls ? -1 : col.nulls.indexOf(1);
    if (i >= 0) throw nullError(spec, first + i, where);
    return col;
  }
  const ready = col.kind === "values" && col.produced !== undefined && col.produced === PRODUCED[spec.kind];
  if (ready && (spec.nullable || col.nullCount === 0)) {
    return col; // already the values of the column, nulls allowed or absent
  }
  const values = columnArray(col);
  convertValues(spec, values, first, where);
  return { kind: "values", values };
}

function nullError(spec: ColumnSpec, row: number, where: string) {
  return columnError(
    "TYPE_DATAFRAME_NULL",
    `column "${spec.name}" of ${where} is null in row ${row}`,
    null,
    `declare the column as t.optional(${spec.type.name}) to accept nulls`,
    `[${row}].${spec.name}`,
  );
}

/** `convertColumn` of an array, in place. */
function convertValues(spec: ColumnSpec, values: unknown[], first: number, where: string): void {
  const { name, kind, nullable } = spec;
  for (let i = 0; i < values.length; i++) {
    let v = values[i];
    if (v === null || v === undefined) {
      if (!nullable) throw nullError(spec, first + i, where);
      values[i] = null;
      continue;
    }
    switch (kind) {
      case "int": {
        if (typeof v === "number") continue;
        const n = Number(v);
        if (!Number.isSafeInteger(n)) {
          throw columnError(
            "TYPE_INT_RANGE",
            `column "${name}" of ${where}, row ${first + i}: ${describeValue(v)} does not fit a JS number`,
            v,
            `declare column "${name}" as t.bigint()`,
            `[${first + i}].${name}`,
          );
        }
        v = n;
        break;
      }
      case "bigint":
        if (typeof v === "bigint") continue;
        v = BigInt(v as number);
        break;
      case "string":
      case "enum":
        if (v instanceof Uint8Array) v = decoder.decode(v);
        if (kind === "enum" && !spec.enumValues!.has(v as string)) {
          throw columnError(
            "TYPE_INVALID_VALUE",
            `column "${name}" of ${where}, row ${first + i}: ${describeValue(v)} is not one of ${spec.type.name}`,
            v,
            `fix the producer or add the value to column "${name}"'s enum`,
            `[${first + i}].${name}`,
          );
        }
        break;
      case "bytes":
        if (typeof v === "string") v = encoder.encode(v);
        break;
      case "datetime":
        if (!(v instanceof Date)) v = new Date(Number(v));
        break;
      default:
        continue;
    }
    values[i] = v;
  }
}
