/**
 * The files of a dataframe: rows encoded as one parquet file, and a stored dataset (a folder of
 * parquet files, or one file, local or remote) read into column arrays, then row objects on
 * demand. Declared columns go through `parquet-writer.ts` and `parquet-reader.ts`, with
 * hyparquet's general reader for files (and undeclared columns) that reader does not decode.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { ColumnData, Compressors, FileMetaData, SchemaElement } from "hyparquet";
import { localPath, schemeOf, storage } from "../storage/index.js";
import { randomSegment } from "./blobs.js";
import {
  accepts,
  type ColumnSpec,
  checkRowKeys,
  columnArray,
  columnError,
  convertColumn,
  describeParquet,
  flatColumn,
} from "./dataframe-columns.js";
import { typeError } from "./flyte-type.js";
import type { ColumnValues } from "./parquet-reader.js";

// ---- writing ----

/** Encodes rows as one parquet file, columns in declaration order. */
export async function writeParquet(
  rows: readonly object[],
  specs: readonly ColumnSpec[],
): Promise<Uint8Array> {
  checkRowKeys(rows, specs);
  const columns = specs.map((s) => flatColumn(s, rows));
  // Loaded on first use: the parquet code costs startup time every other command would pay.
  const { writeFlatParquet } = await import("./parquet-writer.js");
  return writeFlatParquet(columns, rows.length, "flytekit-ts");
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

/** Codecs beyond hyparquet's built-in snappy that Node's zlib decodes (zstd and lz4 are not supported). */
const DECOMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
};

/** The root's direct children, skipping nested groups' descendants. */
function topLevel(metadata: FileMetaData): SchemaElement[] {
  const schema = metadata.schema;
  const top: SchemaElement[] = [];
  for (let i = 1, left = schema[0]?.num_children ?? 0; i < schema.length && left > 0; left--) {
    const el = schema[i]!;
    top.push(el);
    let skip = el.num_children ?? 0;
    i++;
    while (skip > 0 && i < schema.length) {
      skip += (schema[i]!.num_children ?? 0) - 1;
      i++;
    }
  }
  return top;
}

/** Fails unless the file has every declared column, with a parquet type the column reads. */
function checkColumns(specs: readonly ColumnSpec[], top: readonly SchemaElement[], where: string): void {
  const byName = new Map(top.map((el) => [el.name, el]));
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

/** Columns of a file as hyparquet's general reader decodes them (nested columns, any encoding). */
async function readWithHyparquet(
  file: ArrayBuffer,
  metadata: FileMetaData,
  names: string[],
): Promise<ColumnValues[]> {
  const n = Number(metadata.num_rows);
  const columns = names.map(() => new Array<unknown>(n));
  const result = columns.map((values): ColumnValues => ({ kind: "values", values }));
  if (n === 0 || names.length === 0) return result;
  const { parquetRead } = await import("hyparquet");
  const index = new Map(names.map((name, i) => [name, i]));
  await parquetRead({
    file,
    metadata,
    columns: names,
    utf8: false,
    compressors: DECOMPRESSORS,
    onChunk: (c: ColumnData) => {
      const col = columns[index.get(c.columnName)!]!;
      const end = Math.min(c.rowEnd, n);
      for (let i = c.rowStart; i < end; i++) col[i] = c.columnData[i - c.rowStart];
    },
  });
  return result;
}

/** A dataset read into memory: column names, one array per column, and the row count. */
export interface Columns {
  readonly names: string[];
  readonly values: ColumnValues[];
  readonly length: number;
}

/** Reads one parquet file: the declared columns (checked and converted), or every top-level one. */
async function readParquetFile(
  file: string,
  specs: readonly ColumnSpec[] | undefined,
  where: string,
  first: number,
): Promise<Columns> {
  const { parquetMetadata } = await import("hyparquet");
  const buf = await readFile(file);
  // hyparquet reads an ArrayBuffer: the file's own when it has one (large files), else a copy.
  const whole = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
  const ab = (
    whole ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  ) as ArrayBuffer;
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
  const top = topLevel(metadata);
  if (specs) checkColumns(specs, top, where);
  const names = specs ? specs.map((s) => s.name) : top.map((el) => el.name);
  let values: ColumnValues[] | undefined;
  if (specs) {
    const { readFlatColumns } = await import("./parquet-reader.js");
    const byName = new Map(top.map((el) => [el.name, el]));
    const requests = specs.map((s) => ({
      element: byName.get(s.name)!,
      numbers: s.kind === "int" || s.kind === "float",
      text: s.kind === "string" || s.kind === "enum",
      bigint: s.kind === "bigint",
    }));
    try {
      values = readFlatColumns(new Uint8Array(ab), metadata, requests, DECOMPRESSORS);
    } catch {
      // An encoding, layout or codec the column reader does not decode: hyparquet reads it, or says why not.
    }
  }
  try {
    values ??= await readWithHyparquet(ab, metadata, names);
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
  const read = values;
  if (specs) values = specs.map((s, c) => convertColumn(s, read[c]!, first, where));
  return { names, values, length: Number(metadata.num_rows) };
}

/**
 * Reads the parquet file(s) of a dataset column by column; `specs` undefined reads every
 * top-level column as hyparquet decodes it.
 */
export async function readDataset(
  uri: string,
  specs: readonly ColumnSpec[] | undefined,
  workDir: string | undefined,
): Promise<Columns> {
  let root: string;
  if (schemeOf(uri) === "file") root = localPath(uri);
  else {
    root = join(workDir ?? tmpdir(), "dataframes", randomSegment());
    await storage.download(uri, root);
  }
  const where = JSON.stringify(uri);
  const parts: Columns[] = [];
  let length = 0;
  for (const file of await datasetFiles(root)) {
    const part = await readParquetFile(file, specs, where, length);
    parts.push(part);
    length += part.length;
  }
  if (parts.length === 1) return parts[0]!;
  // Several files: the columns of each, one after the other (a file without a column leaves it undefined).
  const names = specs ? specs.map((s) => s.name) : [...new Set(parts.flatMap((p) => p.names))];
  const values = names.map((name): ColumnValues => {
    const col: unknown[] = [];
    for (const p of parts) {
      const c = p.names.indexOf(name);
      if (c >= 0) for (const v of columnArray(p.values[c]!)) col.push(v);
      else col.length += p.length;
    }
    return { kind: "values", values: col };
  });
  return { names, values, length };
}

type RowBuilder = (values: ArrayLike<unknown>[], nulls: (Uint8Array | undefined)[], n: number) => object[];
const rowBuilders = new Map<string, RowBuilder>();

/**
 * A function building the row objects of columns with these names, compiled once per set of
 * names (and of columns with a null mask): one object literal per row is two to three times
 * faster than assigning the properties one by one, and the objects share one shape.
 */
function rowBuilder(names: readonly string[], masked: readonly boolean[]): RowBuilder {
  const key = JSON.stringify([names, masked]);
  let build = rowBuilders.get(key);
  if (!build) {
    const fields = names.map((name, c) => {
      // A computed key, so that a column named __proto__ is a property, not the prototype.
      const k = name === "__proto__" ? `[${JSON.stringify(name)}]` : JSON.stringify(name);
      return `${k}: ${masked[c] ? `m${c}[i] === 1 ? null : ` : ""}v${c}[i]`;
    });
    const body = [
      '"use strict";',
      ...names.map((_, c) => `const v${c} = values[${c}], m${c} = nulls[${c}];`),
      "const rows = new Array(n);",
      `for (let i = 0; i < n; i++) rows[i] = { ${fields.join(", ")} };`,
      "return rows;",
    ].join("\n");
    build = new Function("values", "nulls", "n", body) as RowBuilder;
    rowBuilders.set(key, build);
  }
  return build;
}

/** Row objects from columns. */
export function rowsOf(columns: Columns): Record<string, unknown>[] {
  const { names, values, length } = columns;
  const nulls = values.map((c) => (c.kind === "numbers" ? c.nulls : undefined));
  const build = rowBuilder(
    names,
    nulls.map((m) => m !== undefined),
  );
  return build(
    values.map((c) => c.values),
    nulls,
    length,
  ) as Record<string, unknown>[];
}
