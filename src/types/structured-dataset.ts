/**
 * Dataframes as Flyte structured datasets, written the way flytekit writes a pandas DataFrame:
 * a folder `<rawDataPrefix>/<random>` holding one parquet file named `00000`, and a literal
 * carrying the folder's uri with `structured_dataset_type {columns, format: "parquet"}`. The
 * LiteralType lists the declared columns and the declared format (empty: any format).
 *
 * Column types map to parquet as pyarrow expects them: `t.int()`/`t.bigint()` INT64,
 * `t.float()` DOUBLE, `t.string()` and enums UTF8 strings, `t.bool()` BOOLEAN, `t.datetime()`
 * a UTC timestamp (milliseconds), `t.bytes()` BYTE_ARRAY. `t.optional(x)` allows nulls. The
 * files are written and read by `dataframe-files.ts`.
 */
import { describeValue } from "../errors.js";
import type {
  StructuredDatasetType,
  StructuredDatasetType_DatasetColumn,
} from "../proto/gen/flyteidl/core/types_pb.js";
import { joinUri, storage } from "../storage/index.js";
import { randomSegment } from "./blobs.js";
import { type ColumnSpec, columnArray, columnError, columnSpec, inferSpecs } from "./dataframe-columns.js";
import { type Columns, readDataset, rowsOf, writeParquet } from "./dataframe-files.js";
import {
  FlyteType,
  literalKind,
  registerTransformer,
  type TypeContext,
  typeError,
  type ValueOf,
} from "./flyte-type.js";
import { type Literal, type LiteralType, structuredDatasetLiteral } from "./literals.js";

/** The values a dataframe column may hold. */
export type ColumnValue = number | bigint | string | boolean | Date | Uint8Array | null;

/** A dataframe's columns: names to column types (`t.int()`, `t.string()`, `t.optional(t.float())`, ...). */
export type ColumnTypes = Record<string, FlyteType<ColumnValue>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The row object of a dataframe with columns `C`; a dataframe without declared columns has untyped rows. */
export type RowOf<C extends ColumnTypes> = [keyof C] extends [never]
  ? Record<string, unknown>
  : Simplify<{ -readonly [K in keyof C]: ValueOf<C[K]> }>;

/** A dataframe's data column by column: each column name to its values, one per row. */
export type ColumnsOf<Row> = { [K in keyof Row]: Row[K][] };

/** The default (and only written) storage format. */
export const PARQUET = "parquet";

// ---- the value ----

interface Source {
  readonly specs: readonly ColumnSpec[] | undefined;
  readonly workDir: string | undefined;
}

/**
 * A dataframe: rows in memory (`StructuredDataset.fromRows(rows)`) or a stored dataset at a
 * `uri` (read lazily with `await ds.rows()` or `await ds.columns()`). `format` is its storage
 * format, `parquet`.
 */
export class StructuredDataset<Row extends object = Record<string, unknown>> {
  #rows: Row[] | undefined;
  #uri: string | undefined;
  readonly #format: string;
  #source: Source | undefined;
  #stored: Promise<Columns> | undefined;
  #columns: ColumnsOf<Row> | undefined;

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

  /** Reads the stored dataset's columns (once). */
  #read(): Promise<Columns> {
    this.#stored ??= (async () => {
      if (this.#format.toLowerCase() !== PARQUET) {
        throw typeError(
          "TYPE_DATAFRAME_FORMAT",
          `dataframe ${JSON.stringify(this.#uri)} is stored as ${JSON.stringify(this.#format)}; only parquet can be read`,
          this.#format,
          "have the producer write parquet",
        );
      }
      return readDataset(this.#uri!, this.#source?.specs, this.#source?.workDir);
    })();
    return this.#stored;
  }

  /**
   * The rows, typed by the declared columns. A stored dataframe is read and checked once, on the
   * first call to `rows()` or `columns()`; later calls return the same array.
   */
  async rows(): Promise<Row[]> {
    if (this.#rows) return this.#rows;
    const columns = await this.#read();
    this.#rows ??= rowsOf(columns) as Row[];
    return this.#rows;
  }

  /**
   * The data column by column, `{ a: [...], b: [...] }`, each array one value per row. A stored
   * dataframe is read straight into these arrays, without building a row object per row: the
   * faster way to a large dataframe. The arrays of a stored dataframe are read once and shared
   * between calls (treat them as read-only); those of in-memory rows are built on each call.
   */
  async columns(): Promise<ColumnsOf<Row>> {
    if (this.#source) {
      if (!this.#columns) {
        const { names, values } = await this.#read();
        const out: Record<string, unknown[]> = {};
        for (const [c, n] of names.entries()) out[n] = columnArray(values[c]!);
        this.#columns ??= out as ColumnsOf<Row>;
      }
      return this.#columns;
    }
    const rows = this.#rows ?? [];
    const out: Record<string, unknown[]> = {};
    for (const n of Object.keys(rows[0] ?? {})) {
      const col = new Array<unknown>(rows.length);
      for (let i = 0; i < rows.length; i++) col[i] = (rows[i] as Record<string, unknown>)[n];
      out[n] = col;
    }
    return out as ColumnsOf<Row>;
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
