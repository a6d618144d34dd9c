/**
 * Dataframes as Flyte structured datasets, written the way flytekit writes a pandas DataFrame:
 * a folder `<rawDataPrefix>/<random>` holding one parquet file named `00000`, and a literal
 * carrying the folder's uri with `structured_dataset_type {columns, format: "parquet"}`. The
 * LiteralType lists the declared columns and the declared format (empty: any format).
 *
 * Column types map to parquet as pyarrow expects them: `t.int()`/`t.bigint()` INT64,
 * `t.float()` DOUBLE, `t.string()` and enums UTF8 strings, `t.bool()` BOOLEAN, `t.datetime()`
 * a UTC timestamp (milliseconds), `t.bytes()` BYTE_ARRAY. `t.optional(x)` allows nulls.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { ColumnData, Compressors, FileMetaData, SchemaElement } from "hyparquet";
import type { BasicType, ColumnSource } from "hyparquet-writer";
import { describeValue } from "../errors.js";
import type {
  StructuredDatasetType,
  StructuredDatasetType_DatasetColumn,
} from "../proto/gen/flyteidl/core/types_pb.js";
import { joinUri, localPath, schemeOf, storage } from "../storage/index.js";
import { randomSegment } from "./blobs.js";
import { EnumType } from "./enums.js";
import {
  FlyteType,
  literalKind,
  registerTransformer,
  type TypeContext,
  typeError,
  type ValueOf,
} from "./flyte-type.js";
import { type Literal, type LiteralType, structuredDatasetLiteral } from "./literals.js";
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

/** The values a dataframe column may hold. */
export type ColumnValue = number | bigint | string | boolean | Date | Uint8Array | null;

/** A dataframe's columns: names to column types (`t.int()`, `t.string()`, `t.optional(t.float())`, ...). */
export type ColumnTypes = Record<string, FlyteType<ColumnValue>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The row object of a dataframe with columns `C`; a dataframe without declared columns has untyped rows. */
export type RowOf<C extends ColumnTypes> = [keyof C] extends [never]
  ? Record<string, unknown>
  : Simplify<{ -readonly [K in keyof C]: ValueOf<C[K]> }>;

/** The default (and only written) storage format. */
export const PARQUET = "parquet";

type Kind = "int" | "bigint" | "float" | "string" | "enum" | "bool" | "datetime" | "bytes";

interface ColumnSpec {
  readonly name: string;
  readonly kind: Kind;
  readonly nullable: boolean;
  readonly type: FlyteType<unknown>;
  readonly enumValues?: ReadonlySet<string>;
}

const PARQUET_TYPE: Record<Kind, BasicType> = {
  int: "INT64",
  bigint: "INT64",
  float: "DOUBLE",
  string: "STRING",
  enum: "STRING",
  bool: "BOOLEAN",
  datetime: "TIMESTAMP",
  bytes: "BYTE_ARRAY",
};

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

/** The column kind of an undeclared column, from a sample value (numbers are floats). */
function kindOfValue(v: unknown): Kind {
  if (typeof v === "bigint") return "bigint";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (v instanceof Date) return "datetime";
  if (v instanceof Uint8Array) return "bytes";
  return "float";
}

function columnSpec(name: string, type: FlyteType<unknown>): ColumnSpec {
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
function inferSpecs(rows: readonly object[]): ColumnSpec[] {
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

function columnError(code: string, message: string, value: unknown, fix: string, path: string) {
  const err = typeError(code, message, value, fix);
  (err as { path?: string }).path = path;
  return err;
}

// ---- writing ----

function columnData(spec: ColumnSpec, rows: readonly object[]): unknown[] {
  const out = new Array<unknown>(rows.length);
  const { name, kind, nullable } = spec;
  for (let i = 0; i < rows.length; i++) {
    const v = (rows[i] as Record<string, unknown>)[name];
    if (v === null || v === undefined) {
      if (!nullable) {
        throw columnError(
          "TYPE_INVALID_VALUE",
          `row ${i} has no value for column "${name}"`,
          v,
          `set "${name}" in every row, or declare the column as t.optional(...)`,
          `[${i}].${name}`,
        );
      }
      out[i] = null;
      continue;
    }
    let ok: boolean;
    switch (kind) {
      case "int":
        ok = typeof v === "number" && Number.isSafeInteger(v);
        if (ok) out[i] = BigInt(v as number);
        break;
      case "bigint":
        ok = typeof v === "bigint" && v >= -(2n ** 63n) && v < 2n ** 63n;
        out[i] = v;
        break;
      case "float":
        ok = typeof v === "number";
        out[i] = v;
        break;
      case "string":
        ok = typeof v === "string";
        out[i] = v;
        break;
      case "enum":
        ok = typeof v === "string" && spec.enumValues!.has(v);
        out[i] = v;
        break;
      case "bool":
        ok = typeof v === "boolean";
        out[i] = v;
        break;
      case "datetime":
        ok = v instanceof Date && !Number.isNaN(v.getTime());
        out[i] = v;
        break;
      case "bytes":
        ok = v instanceof Uint8Array;
        out[i] = v;
        break;
    }
    if (!ok) {
      throw columnError(
        "TYPE_INVALID_VALUE",
        `row ${i}, column "${name}": ${describeValue(v)} is not a ${spec.type.name}`,
        v,
        `give column "${name}" values of type ${spec.type.name}`,
        `[${i}].${name}`,
      );
    }
  }
  return out;
}

function checkRowKeys(rows: readonly object[], specs: readonly ColumnSpec[]): void {
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

/** Encodes rows as one parquet file (snappy), columns in declaration order. */
async function writeParquet(rows: readonly object[], specs: readonly ColumnSpec[]): Promise<Uint8Array> {
  checkRowKeys(rows, specs);
  const columns: ColumnSource[] = specs.map((s) => ({
    name: s.name,
    data: columnData(s, rows) as ColumnSource["data"],
    type: PARQUET_TYPE[s.kind],
    nullable: true,
  }));
  // Loaded on first use: the parquet libraries cost startup time every other command would pay.
  const { parquetWriteBuffer } = await import("hyparquet-writer");
  return new Uint8Array(parquetWriteBuffer({ columnData: columns, createdBy: "flytekit-ts" }));
}

// ---- reading ----

async function datasetFiles(root: string): Promise<string[]> {
  const st = await stat(root).catch(() => undefined);
  if (!st) {
    throw typeError(
      "TYPE_DATAFRAME_NOT_FOUND",
      `no dataframe at ${JSON.stringify(root)}`,
      root,
      "check that the producer wrote the dataframe, or the uri",
    );
  }
  if (!st.isDirectory()) return [root];
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      if (e.name.startsWith(".") || e.name.startsWith("_")) continue; // as pyarrow: hidden and _SUCCESS-like files
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(p);
    }
  };
  await walk(root);
  return out;
}

const decoder = new TextDecoder();

/** Codecs beyond hyparquet's built-in snappy that Node's zlib decodes (zstd and lz4 are not supported). */
const DECOMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
};

function describeParquet(el: SchemaElement): string {
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

function accepts(kind: Kind, el: SchemaElement): boolean {
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

function convertColumn(
  spec: ColumnSpec,
  data: ArrayLike<unknown>,
  out: Record<string, unknown>[],
  offset: number,
  where: string,
): void {
  const { name, kind, nullable } = spec;
  for (let i = 0; i < data.length; i++) {
    let v = data[i];
    const row = offset + i;
    if (v === null || v === undefined) {
      if (!nullable) {
        throw columnError(
          "TYPE_DATAFRAME_NULL",
          `column "${name}" of ${where} is null in row ${row}`,
          null,
          `declare the column as t.optional(${spec.type.name}) to accept nulls`,
          `[${row}].${name}`,
        );
      }
      out[row]![name] = null;
      continue;
    }
    switch (kind) {
      case "int": {
        const n = Number(v);
        if (!Number.isSafeInteger(n)) {
          throw columnError(
            "TYPE_INT_RANGE",
            `column "${name}" of ${where}, row ${row}: ${describeValue(v)} does not fit a JS number`,
            v,
            `declare column "${name}" as t.bigint()`,
            `[${row}].${name}`,
          );
        }
        v = n;
        break;
      }
      case "bigint":
        v = typeof v === "bigint" ? v : BigInt(v as number);
        break;
      case "string":
      case "enum":
        if (v instanceof Uint8Array) v = decoder.decode(v);
        if (kind === "enum" && !spec.enumValues!.has(v as string)) {
          throw columnError(
            "TYPE_INVALID_VALUE",
            `column "${name}" of ${where}, row ${row}: ${describeValue(v)} is not one of ${spec.type.name}`,
            v,
            `fix the producer or add the value to column "${name}"'s enum`,
            `[${row}].${name}`,
          );
        }
        break;
      case "bytes":
        if (typeof v === "string") v = new TextEncoder().encode(v);
        break;
      case "datetime":
        if (!(v instanceof Date)) v = new Date(Number(v));
        break;
      default:
        break;
    }
    out[row]![name] = v;
  }
}

/** Reads parquet file(s) of a dataset; `specs` undefined reads every column as hyparquet decodes it. */
async function readDataset(
  uri: string,
  specs: readonly ColumnSpec[] | undefined,
  workDir: string | undefined,
): Promise<Record<string, unknown>[]> {
  let root: string;
  if (schemeOf(uri) === "file") root = localPath(uri);
  else {
    root = join(workDir ?? tmpdir(), "dataframes", randomSegment());
    await storage.download(uri, root);
  }
  const { parquetMetadata, parquetRead } = await import("hyparquet");
  const rows: Record<string, unknown>[] = [];
  for (const file of await datasetFiles(root)) {
    const buf = await readFile(file);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    const where = JSON.stringify(uri);
    let metadata: FileMetaData;
    try {
      metadata = parquetMetadata(ab);
    } catch (err) {
      throw typeError(
        "TYPE_DATAFRAME_FORMAT",
        `${file} in dataframe ${where} is not a parquet file: ${(err as Error).message}`,
        file,
        "only parquet dataframes can be read",
      );
    }
    const root0 = metadata.schema[0];
    const top: SchemaElement[] = [];
    // The root's direct children, skipping nested groups' descendants.
    for (let i = 1, left = root0?.num_children ?? 0; i < metadata.schema.length && left > 0; left--) {
      const el = metadata.schema[i]!;
      top.push(el);
      let skip = el.num_children ?? 0;
      i++;
      while (skip > 0 && i < metadata.schema.length) {
        skip += (metadata.schema[i]!.num_children ?? 0) - 1;
        i++;
      }
    }
    const byName = new Map(top.map((el) => [el.name, el]));
    const want = specs ?? top.map((el) => ({ name: el.name }) as ColumnSpec);
    if (specs) {
      for (const s of specs) {
        const el = byName.get(s.name);
        if (!el) {
          throw columnError(
            "TYPE_DATAFRAME_COLUMN_MISSING",
            `dataframe ${where} has no column "${s.name}" (it has ${top.map((e) => e.name).join(", ") || "none"})`,
            s.name,
            `fix the producer, or remove "${s.name}" from the declared columns`,
            `.${s.name}`,
          );
        }
        if (!accepts(s.kind, el)) {
          throw columnError(
            "TYPE_DATAFRAME_COLUMN_TYPE",
            `column "${s.name}" of dataframe ${where} is ${describeParquet(el)}, not ${s.type.name}`,
            s.name,
            `declare column "${s.name}" with the type the producer writes, or fix the producer`,
            `.${s.name}`,
          );
        }
      }
    }
    const n = Number(metadata.num_rows);
    const base = rows.length;
    for (let i = 0; i < n; i++) rows.push({});
    if (want.length === 0 || n === 0) continue;
    const chunks = new Map<string, ColumnData[]>();
    try {
      await parquetRead({
        file: ab,
        metadata,
        columns: want.map((s) => s.name),
        utf8: false,
        compressors: DECOMPRESSORS,
        onChunk: (c) => {
          const list = chunks.get(c.columnName);
          if (list) list.push(c);
          else chunks.set(c.columnName, [c]);
        },
      });
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      throw typeError(
        "TYPE_DATAFRAME_FORMAT",
        `cannot read ${file} of dataframe ${where}: ${msg}`,
        file,
        /compression codec/.test(msg)
          ? "write the parquet with snappy (pandas' and flytekit's default), gzip, brotli or no compression"
          : "check that the file is valid parquet",
      );
    }
    for (const s of want) {
      for (const c of chunks.get(s.name) ?? []) {
        const end = Math.min(c.rowEnd, n);
        const data =
          c.rowEnd > end
            ? Array.prototype.slice.call(c.columnData, 0, end - c.rowStart)
            : (c.columnData as ArrayLike<unknown>);
        if (specs) convertColumn(s, data, rows, base + c.rowStart, where);
        else for (let i = 0; i < data.length; i++) rows[base + c.rowStart + i]![s.name] = data[i];
      }
    }
  }
  return rows;
}

// ---- the value ----

interface Source {
  readonly specs: readonly ColumnSpec[] | undefined;
  readonly workDir: string | undefined;
}

/**
 * A dataframe: rows in memory (`StructuredDataset.fromRows(rows)`) or a stored dataset at a
 * `uri` (read lazily with `await ds.rows()`). `format` is its storage format, `parquet`.
 */
export class StructuredDataset<Row extends object = Record<string, unknown>> {
  #rows: Row[] | undefined;
  #uri: string | undefined;
  readonly #format: string;
  #source: Source | undefined;
  #loading: Promise<Row[]> | undefined;

  private constructor(rows: Row[] | undefined, uri: string | undefined, format: string, source?: Source) {
    this.#rows = rows;
    this.#uri = uri;
    this.#format = format;
    this.#source = source;
  }

  /** A dataframe of the given rows (objects keyed by column name). The array is not copied. */
  static fromRows<R extends object>(rows: readonly R[]): StructuredDataset<R> {
    if (!Array.isArray(rows)) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(rows)} is not an array of rows`,
        rows,
        "pass an array of row objects",
      );
    }
    return new StructuredDataset<R>(rows as R[], undefined, PARQUET);
  }

  /** A stored dataframe: a folder of parquet files (as flytekit writes) or one parquet file. */
  static fromUri<R extends object = Record<string, unknown>>(
    uri: string,
    options: { format?: string; workDir?: string } = {},
  ): StructuredDataset<R> {
    if (typeof uri !== "string" || uri === "") {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(uri)} is not a dataframe uri`,
        uri,
        "pass a folder or file path, or a URI such as s3://bucket/prefix",
      );
    }
    return new StructuredDataset<R>(undefined, uri, options.format || PARQUET, {
      specs: undefined,
      workDir: options.workDir,
    });
  }

  /** @internal A stored dataframe read with the declared columns. */
  static bound<R extends object>(
    uri: string,
    format: string,
    specs: readonly ColumnSpec[] | undefined,
    workDir: string,
  ): StructuredDataset<R> {
    return new StructuredDataset<R>(undefined, uri, format || PARQUET, { specs, workDir });
  }

  /** Where the dataframe is stored, once it is (after being passed between tasks). */
  get uri(): string | undefined {
    return this.#uri;
  }

  /** The storage format: `parquet`. */
  get format(): string {
    return this.#format;
  }

  /** @internal The in-memory rows, if any. */
  get memoryRows(): Row[] | undefined {
    return this.#rows;
  }

  /** @internal Records where the rows were written. */
  storedAt(uri: string): void {
    this.#uri = uri;
  }

  /** The rows, typed by the declared columns (read and checked once, on first call). */
  rows(): Promise<Row[]> {
    if (this.#rows) return Promise.resolve(this.#rows);
    this.#loading ??= (async () => {
      if (this.#format.toLowerCase() !== PARQUET) {
        throw typeError(
          "TYPE_DATAFRAME_FORMAT",
          `dataframe ${JSON.stringify(this.#uri)} is stored as ${JSON.stringify(this.#format)}; only parquet can be read`,
          this.#format,
          "have the producer write parquet",
        );
      }
      const rows = (await readDataset(this.#uri!, this.#source?.specs, this.#source?.workDir)) as Row[];
      this.#rows = rows;
      return rows;
    })();
    return this.#loading;
  }

  /** The data column by column: `{a: [...], b: [...]}`. */
  async columns(): Promise<{ [K in keyof Row]: Row[K][] }> {
    const rows = await this.rows();
    const names = this.#source?.specs?.map((s) => s.name) ?? Object.keys(rows[0] ?? {});
    const out: Record<string, unknown[]> = {};
    for (const n of names) {
      const col = new Array<unknown>(rows.length);
      for (let i = 0; i < rows.length; i++) col[i] = (rows[i] as Record<string, unknown>)[n];
      out[n] = col;
    }
    return out as { [K in keyof Row]: Row[K][] };
  }
}

// ---- the type ----

/** A dataframe with typed columns, as a Flyte structured dataset (flytekit: `Annotated[StructuredDataset, kwtypes(...)]`). */
export class DataFrameType<C extends ColumnTypes> extends FlyteType<StructuredDataset<RowOf<C>>> {
  readonly name: string;
  override readonly io = true;
  readonly #specs: readonly ColumnSpec[];
  #literalMeta: StructuredDatasetType | undefined;

  constructor(
    readonly columns: C,
    readonly format = "",
  ) {
    super();
    this.#specs = Object.entries(columns).map(([k, v]) => columnSpec(k, v as FlyteType<unknown>));
    this.name = `dataframe(${this.#specs.map((s) => `${s.name}: ${s.type.name}`).join(", ")})`;
  }

  #datasetType(format: string): StructuredDatasetType {
    const columns = this.#specs.map(
      (s) =>
        ({
          $typeName: "flyteidl.core.StructuredDatasetType.DatasetColumn",
          name: s.name,
          literalType: s.type.literalType,
        }) as StructuredDatasetType_DatasetColumn,
    );
    return {
      $typeName: "flyteidl.core.StructuredDatasetType",
      columns,
      format,
      externalSchemaType: "",
      externalSchemaBytes: new Uint8Array(0),
    } as StructuredDatasetType;
  }

  protected makeLiteralType(): LiteralType {
    return {
      $typeName: "flyteidl.core.LiteralType",
      type: { case: "structuredDatasetType", value: this.#datasetType(this.format) },
    } as LiteralType;
  }

  async toLiteral(value: StructuredDataset<RowOf<C>>, ctx: TypeContext): Promise<Literal> {
    const ds = this.#coerce(value);
    const rows = ds.memoryRows;
    if (ds.uri !== undefined || !rows) {
      return structuredDatasetLiteral(ds.uri!, this.#datasetType(ds.format));
    }
    if (this.format !== "" && this.format.toLowerCase() !== PARQUET) {
      throw typeError(
        "TYPE_DATAFRAME_FORMAT",
        `${this.name} is declared with format ${JSON.stringify(this.format)}, but only parquet can be written`,
        this.format,
        "declare the dataframe without a format (or with 'parquet')",
      );
    }
    const specs = this.#specs.length > 0 ? this.#specs : inferSpecs(rows);
    const data = await writeParquet(rows, specs);
    const uri = joinUri(ctx.rawDataPrefix, randomSegment());
    await storage.put(joinUri(uri, "00000"), data);
    ds.storedAt(uri);
    this.#literalMeta ??= this.#datasetType(PARQUET);
    return structuredDatasetLiteral(uri, this.#literalMeta);
  }

  #coerce(value: unknown): StructuredDataset<RowOf<C>> {
    if (value instanceof StructuredDataset) return value as StructuredDataset<RowOf<C>>;
    if (Array.isArray(value)) return StructuredDataset.fromRows(value as RowOf<C>[]);
    if (typeof value === "string") return StructuredDataset.fromUri(value);
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(value)} is not a StructuredDataset`,
      value,
      "pass StructuredDataset.fromRows(rows) or StructuredDataset.fromUri(uri)",
    );
  }

  fromLiteral(literal: Literal, ctx: TypeContext): StructuredDataset<RowOf<C>> {
    let l = literal;
    if (l.value.case === "scalar" && l.value.value.value.case === "union" && l.value.value.value.value.value)
      l = l.value.value.value.value.value;
    if (l.value.case === "scalar" && l.value.value.value.case === "structuredDataset") {
      const sd = l.value.value.value.value;
      const format = sd.metadata?.structuredDatasetType?.format || PARQUET;
      return StructuredDataset.bound(
        sd.uri,
        format,
        this.#specs.length > 0 ? this.#specs : undefined,
        ctx.workDir,
      );
    }
    throw typeError(
      "TYPE_LITERAL_MISMATCH",
      `expected a structured dataset literal for ${this.name}, got ${literalKind(literal)}`,
      literal,
      "check that the producer's output type is a dataframe",
    );
  }

  fromJson(json: unknown): StructuredDataset<RowOf<C>> {
    if (json instanceof StructuredDataset) return json as StructuredDataset<RowOf<C>>;
    if (typeof json === "string" && json !== "") return StructuredDataset.fromUri(json);
    if (Array.isArray(json)) {
      if (this.#specs.length === 0) return StructuredDataset.fromRows(json as RowOf<C>[]);
      const rows = json.map((r, i) => {
        if (r === null || typeof r !== "object" || Array.isArray(r)) {
          throw columnError(
            "TYPE_INVALID_VALUE",
            `row ${i} is ${describeValue(r)}, not an object`,
            r,
            "give rows as JSON objects keyed by column name",
            `[${i}]`,
          );
        }
        const out: Record<string, unknown> = {};
        for (const s of this.#specs) {
          const v = (r as Record<string, unknown>)[s.name];
          try {
            out[s.name] = v === undefined && s.nullable ? null : s.type.fromJson(v);
          } catch (err) {
            (err as { path?: string }).path = `[${i}].${s.name}`;
            throw err;
          }
        }
        return out as RowOf<C>;
      });
      return StructuredDataset.fromRows(rows);
    }
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not a dataframe`,
      json,
      "give a folder, file or URI of parquet data, or a JSON array of rows",
    );
  }

  toJson(value: StructuredDataset<RowOf<C>>): unknown {
    const ds = this.#coerce(value);
    if (ds.uri !== undefined) return ds.uri;
    const rows = ds.memoryRows ?? [];
    const specs = this.#specs.length > 0 ? this.#specs : inferSpecs(rows);
    return rows.map((r) => {
      const out: Record<string, unknown> = {};
      for (const s of specs) {
        const v = (r as Record<string, unknown>)[s.name];
        out[s.name] = v === null || v === undefined ? null : s.type.toJson(v);
      }
      return out;
    });
  }

  override parseText(text: string): StructuredDataset<RowOf<C>> {
    const s = text.trim();
    return s.startsWith("[") ? super.parseText(s) : this.fromJson(s);
  }
}

registerTransformer((lt, typeFor) => {
  if (lt.type.case !== "structuredDatasetType") return undefined;
  const columns: Record<string, FlyteType<ColumnValue>> = {};
  for (const c of lt.type.value.columns) {
    if (!c.literalType) return undefined;
    columns[c.name] = typeFor(c.literalType) as FlyteType<ColumnValue>;
  }
  try {
    return new DataFrameType(columns, lt.type.value.format) as unknown as FlyteType<unknown>;
  } catch {
    // Columns we cannot type (lists, structs...): read the dataset untyped.
    return new DataFrameType({}, lt.type.value.format) as unknown as FlyteType<unknown>;
  }
});
