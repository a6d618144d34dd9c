/**
 * Query rows -> the `results` output: a structured dataset (parquet, written by the type
 * engine) typed by the columns of the template's output type. flytekit's legacy `FlyteSchema`
 * output (LiteralType `schema`) is written the same way, as a Schema literal, so templates of
 * flytekit's default `SQLite3Task` run too.
 *
 * Each value must fit its declared column: INTEGER columns take SQLite integers, FLOAT columns
 * numbers, STRING columns text, BOOLEAN columns 0/1, DATETIME columns SQLite date text
 * (`YYYY-MM-DD[ HH:MM[:SS[.SSS]]]`, UTC unless it has a zone), BINARY-like columns blobs;
 * NULL only in optional columns. Without declared columns, column types follow the values.
 */
import { create } from "@bufbuild/protobuf";
import { FlyteExecutionError } from "../../errors.js";
import { LiteralSchema } from "../../proto/gen/flyteidl/core/literals_pb.js";
import {
  SchemaType_SchemaColumn_SchemaColumnType as SchemaColumnType,
  type SchemaType,
  SimpleType,
} from "../../proto/gen/flyteidl/core/types_pb.js";
import type { FlyteType, TypeContext } from "../../types/flyte-type.js";
import { t } from "../../types/index.js";
import type { Literal, LiteralType } from "../../types/literals.js";
import { type ColumnTypes, DataFrameType, StructuredDataset } from "../../types/structured-dataset.js";
import type { SqlValue } from "./query.js";

type Kind = "int" | "float" | "string" | "bool" | "datetime" | "bytes" | "enum";

interface Column {
  readonly name: string;
  readonly kind: Kind;
  readonly nullable: boolean;
  readonly values?: ReadonlySet<string>;
}

const PICKLE_FORMAT = "PythonPickle";

function resultError(code: string, message: string, entity: string, fix: string) {
  return new FlyteExecutionError(code, message, { entity, origin: "USER", fix });
}

/** The column of a structured dataset's column LiteralType. */
function columnOf(name: string, lt: LiteralType | undefined, entity: string): Column {
  const unsupported = () =>
    resultError(
      "SQLITE_OUTPUT_COLUMN_TYPE",
      `output column "${name}" has a type a query result cannot fill (${lt?.type.case ?? "none"})`,
      entity,
      "declare columns as t.int(), t.bigint(), t.float(), t.string(), t.bool(), t.datetime(), t.bytes() or t.enum([...]), optionally t.optional(...)",
    );
  if (!lt) throw unsupported();
  const ty = lt.type;
  if (ty.case === "unionType") {
    const rest = ty.value.variants.filter(
      (v) => !(v.type.case === "simple" && v.type.value === SimpleType.NONE),
    );
    if (rest.length === 1 && rest.length < ty.value.variants.length) {
      return { ...columnOf(name, rest[0], entity), nullable: true };
    }
    throw unsupported();
  }
  if (ty.case === "enumType")
    return { name, kind: "enum", nullable: false, values: new Set(ty.value.values) };
  if (ty.case === "blob" && ty.value.format === PICKLE_FORMAT)
    return { name, kind: "bytes", nullable: false };
  if (ty.case !== "simple") throw unsupported();
  const kinds: Partial<Record<SimpleType, Kind>> = {
    [SimpleType.INTEGER]: "int",
    [SimpleType.FLOAT]: "float",
    [SimpleType.STRING]: "string",
    [SimpleType.BOOLEAN]: "bool",
    [SimpleType.DATETIME]: "datetime",
  };
  const kind = kinds[ty.value];
  if (!kind) throw unsupported();
  return { name, kind, nullable: false };
}

/** The columns of a legacy flytekit schema type. */
function schemaColumns(st: SchemaType, entity: string): Column[] {
  const kinds: Partial<Record<SchemaColumnType, Kind>> = {
    [SchemaColumnType.INTEGER]: "int",
    [SchemaColumnType.FLOAT]: "float",
    [SchemaColumnType.STRING]: "string",
    [SchemaColumnType.BOOLEAN]: "bool",
    [SchemaColumnType.DATETIME]: "datetime",
  };
  return st.columns.map((c) => {
    const kind = kinds[c.type];
    if (!kind) {
      throw resultError(
        "SQLITE_OUTPUT_COLUMN_TYPE",
        `output column "${c.name}" is a ${SchemaColumnType[c.type]} schema column, which a query result cannot fill`,
        entity,
        "declare the column as an int, float, string, bool or datetime",
      );
    }
    // flytekit's schema columns cannot say "optional"; pandas writes missing values as nulls.
    return { name: c.name, kind, nullable: true };
  });
}

/** Column types from the values (no declared columns): integers, numbers, text, blobs. */
function inferColumns(rows: readonly Record<string, SqlValue>[], entity: string): Column[] {
  const first = rows[0];
  if (!first) return [];
  return Object.keys(first).map((name) => {
    let kind: Kind | undefined;
    for (const r of rows) {
      const v = r[name];
      if (v === null || v === undefined) continue;
      const k: Kind =
        typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v))
          ? "int"
          : typeof v === "number"
            ? "float"
            : typeof v === "string"
              ? "string"
              : "bytes";
      if (kind === undefined || kind === k) kind = k;
      else if ((kind === "int" && k === "float") || (kind === "float" && k === "int")) kind = "float";
      else {
        throw resultError(
          "SQLITE_RESULT_MIXED_TYPES",
          `column "${name}" holds both ${kind} and ${k} values`,
          entity,
          `CAST the column to one type in the query, or declare the output columns (outputSchema: t.dataframe({ ${name}: t.string() }))`,
        );
      }
    }
    return { name, kind: kind ?? "string", nullable: true };
  });
}

const SQLITE_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

function parseDate(text: string): Date | undefined {
  const m = SQLITE_DATE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone] = m;
  const ms = Number((frac + "000").slice(0, 3));
  let time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (zone && zone.toUpperCase() !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    time -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function describe(v: SqlValue): string {
  if (typeof v === "string") return `text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  if (typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v))) return `integer ${v}`;
  if (typeof v === "number") return `real ${v}`;
  if (v instanceof Uint8Array) return `blob of ${v.length} bytes`;
  return String(v);
}

const KIND_NAME: Record<Kind, string> = {
  int: "int",
  float: "float",
  string: "string",
  bool: "bool",
  datetime: "datetime",
  bytes: "bytes",
  enum: "enum",
};

const KIND_FIX: Record<Kind, string> = {
  int: "CAST(<column> AS INTEGER)",
  float: "CAST(<column> AS REAL)",
  string: "CAST(<column> AS TEXT)",
  bool: "a 0/1 expression such as (<column> != 0)",
  datetime: "datetime(<column>) (for unix seconds: datetime(<column>, 'unixepoch'))",
  bytes: "CAST(<column> AS BLOB)",
  enum: "a CASE expression that yields one of the enum's values",
};

function convert(col: Column, v: SqlValue, row: number, entity: string): unknown {
  if (v === null || v === undefined) {
    if (col.nullable) return null;
    throw resultError(
      "SQLITE_RESULT_NULL",
      `row ${row}, column "${col.name}" is NULL, but the column is not optional`,
      entity,
      `declare it as t.optional(t.${KIND_NAME[col.kind]}(...)), or use IFNULL/COALESCE in the query`,
    );
  }
  let out: unknown;
  switch (col.kind) {
    case "int":
      if (typeof v === "bigint") out = v;
      else if (typeof v === "number" && Number.isInteger(v)) out = BigInt(v);
      break;
    case "float":
      if (typeof v === "number") out = v;
      else if (typeof v === "bigint") out = Number(v);
      break;
    case "string":
      if (typeof v === "string") out = v;
      break;
    case "enum":
      if (typeof v === "string" && col.values?.has(v)) out = v;
      break;
    case "bool":
      if (v === 0 || v === 1 || v === 0n || v === 1n) out = v === 1 || v === 1n;
      break;
    case "datetime":
      if (typeof v === "string") out = parseDate(v);
      break;
    case "bytes":
      if (v instanceof Uint8Array) out = v;
      break;
  }
  if (out === undefined) {
    throw resultError(
      "SQLITE_RESULT_TYPE",
      `row ${row}, column "${col.name}": ${describe(v)} does not fit a ${col.kind === "enum" ? `enum of ${[...(col.values ?? [])].join(", ")}` : KIND_NAME[col.kind]} column`,
      entity,
      `select ${KIND_FIX[col.kind].replace("<column>", col.name)} in the query, or declare the column's type to match`,
    );
  }
  return out;
}

function columnType(col: Column): FlyteType<unknown> {
  const base: FlyteType<unknown> =
    col.kind === "int"
      ? t.bigint()
      : col.kind === "float"
        ? t.float()
        : col.kind === "string"
          ? t.string()
          : col.kind === "bool"
            ? t.bool()
            : col.kind === "datetime"
              ? t.datetime()
              : col.kind === "bytes"
                ? t.bytes()
                : (t.enum([...(col.values ?? [])]) as FlyteType<unknown>);
  return col.nullable ? (t.optional(base) as FlyteType<unknown>) : base;
}

/** Rows of a query as the literal of the output `results`, whose LiteralType is `outputType`. */
export async function resultsLiteral(
  outputType: LiteralType,
  rows: readonly Record<string, SqlValue>[],
  ctx: TypeContext,
  entity: string,
): Promise<Literal> {
  const ty = outputType.type;
  let columns: Column[];
  if (ty.case === "structuredDatasetType") {
    columns = ty.value.columns.map((c) => columnOf(c.name, c.literalType, entity));
  } else if (ty.case === "schema") {
    columns = schemaColumns(ty.value, entity);
  } else {
    throw new FlyteExecutionError(
      "SQLITE_OUTPUT_TYPE",
      `output "results" is a ${ty.case ?? "untyped"} output, not a dataframe`,
      { entity, origin: "SYSTEM", fix: "declare the output with outputSchema: t.dataframe({...})" },
    );
  }
  if (columns.length === 0) columns = inferColumns(rows, entity);
  else if (rows.length > 0) {
    const declared = new Set(columns.map((c) => c.name));
    const got = Object.keys(rows[0]!);
    const missing = columns.filter((c) => !(c.name in rows[0]!)).map((c) => c.name);
    const extra = got.filter((k) => !declared.has(k));
    if (missing.length > 0 || extra.length > 0) {
      throw resultError(
        "SQLITE_RESULT_COLUMNS",
        `the query returns columns [${got.join(", ")}] but the output declares [${[...declared].join(", ")}]${missing.length ? `; missing: ${missing.join(", ")}` : ""}${extra.length ? `; not declared: ${extra.join(", ")}` : ""}`,
        entity,
        "select exactly the declared columns (use AS to rename), or change outputSchema",
      );
    }
  }
  const converted = rows.map((r, i) => {
    const out: Record<string, unknown> = {};
    for (const c of columns) out[c.name] = convert(c, r[c.name] ?? null, i, entity);
    return out;
  });
  const df = new DataFrameType(
    Object.fromEntries(columns.map((c) => [c.name, columnType(c)])) as ColumnTypes,
  );
  const literal = await df.toLiteral(StructuredDataset.fromRows(converted as never[]), ctx);
  if (ty.case !== "schema") return literal;
  const sd =
    literal.value.case === "scalar" && literal.value.value.value.case === "structuredDataset"
      ? literal.value.value.value.value
      : undefined;
  return create(LiteralSchema, {
    value: {
      case: "scalar",
      value: { value: { case: "schema", value: { uri: sd?.uri ?? "", type: ty.value } } },
    },
  });
}
