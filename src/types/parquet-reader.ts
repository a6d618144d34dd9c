/**
 * Reads top-level columns of a parquet file straight into column arrays, one element per row:
 * numbers into a `Float64Array` (with a mask of the null rows), anything else into an array of
 * JavaScript values (`null` where the row is null). It decodes what pyarrow, pandas and
 * flytekit-ts write: REQUIRED or OPTIONAL leaves directly under the root, data pages v1 and v2,
 * PLAIN and dictionary encodings (and RLE booleans), any codec hyparquet decompresses. Anything
 * else (nested columns, DELTA_* or BYTE_STREAM_SPLIT pages) throws `UnsupportedParquet`, and the
 * caller reads the file with hyparquet's general reader instead.
 *
 * Page headers, decompression and the RLE/bit-packed hybrid are hyparquet's; the value decoding
 * is here because it is where the time goes: numbers copied in bulk, no per-value `Uint8Array`
 * views, and ASCII strings cut from one Latin-1 decoding of the page.
 */
import { isAscii } from "node:buffer";
import type { ColumnChunk, Compressors, DataReader, FileMetaData, SchemaElement } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { decompressPage } from "hyparquet/src/datapage.js";
import { readRleBitPackedHybrid } from "hyparquet/src/encoding.js";

/** A file (or part of one) this reader does not decode; read it with hyparquet instead. */
export class UnsupportedParquet extends Error {}

/** One column to read, and how to hand over its values. */
export interface ColumnRequest {
  /** The column's schema element (a leaf directly under the root). */
  readonly element: SchemaElement;
  /** Numbers into a `Float64Array`, for INT32, INT64 (all within ±2^53), FLOAT and DOUBLE columns. */
  readonly numbers: boolean;
  /** BYTE_ARRAY values as strings (UTF-8) rather than `Uint8Array`s. */
  readonly text: boolean;
  /** INT64 values as bigints rather than numbers (numbers beyond 2^53 come as bigints either way). */
  readonly bigint: boolean;
}

/** What every non-null value of a column decoded into an array is, when they are all of one kind. */
export type Produced = "string" | "bytes" | "bigint" | "boolean" | "date" | "mixed";

/**
 * A decoded column: numbers (`nulls[i]` is 1 where row `i` is null) or any values (nulls as
 * `null`; `produced` and `nullCount` tell what they are, when the column reader decoded them).
 */
export type ColumnValues =
  | { readonly kind: "numbers"; readonly values: Float64Array; readonly nulls: Uint8Array | undefined }
  | {
      readonly kind: "values";
      readonly values: unknown[];
      readonly produced?: Produced;
      readonly nullCount?: number;
    };

/** Where decoded values go: a Float64Array for numbers, an array otherwise. */
type Sink = { [i: number]: unknown; length: number };

/** Decodes `count` PLAIN values at `pos` of `page` into `out[at...]`; returns the position after them. */
type Decode = (page: Uint8Array, view: DataView, pos: number, count: number, out: Sink, at: number) => number;

/** An INT64 column meant for a Float64Array holds a value beyond ±2^53. */
class Inexact extends Error {}

const TWO_32 = 4294967296;
const MS_PER_DAY = 86400000;
const JULIAN_UNIX_EPOCH = 2440588;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder();

/** The time unit of a timestamp column, if it is one. */
function timestampUnit(el: SchemaElement): "MILLIS" | "MICROS" | "NANOS" | undefined {
  const l = el.logical_type;
  if (l?.type === "TIMESTAMP") return l.unit;
  if (el.converted_type === "TIMESTAMP_MILLIS") return "MILLIS";
  if (el.converted_type === "TIMESTAMP_MICROS") return "MICROS";
  return undefined;
}

function isUnsigned(el: SchemaElement, converted: string): boolean {
  return (
    el.converted_type === converted || (el.logical_type?.type === "INTEGER" && !el.logical_type.isSigned)
  );
}

/** A copy of `bytes` as elements of `T` (a fresh, aligned buffer). */
function aligned<T>(bytes: Uint8Array, make: (buffer: ArrayBuffer) => T): T {
  return make(bytes.slice().buffer);
}

/** INT64 values as numbers (throws `Inexact` beyond ±2^53) for a Float64Array. */
function int64Numbers(el: SchemaElement): Decode {
  const unsigned = isUnsigned(el, "UINT_64");
  return (page, view, pos, count, out, at) => {
    if (!LITTLE_ENDIAN) return int64Values(el, false)(page, view, pos, count, out, at);
    const words = aligned(page.subarray(pos, pos + count * 8), (b) => new Int32Array(b));
    const f = out as Float64Array;
    for (let k = 0; k < count; k++) {
      const hi = unsigned ? words[2 * k + 1]! >>> 0 : words[2 * k + 1]!;
      if (hi < -0x200000 || hi >= 0x200000) throw new Inexact();
      f[at + k] = hi * TWO_32 + (words[2 * k]! >>> 0);
    }
    return pos + count * 8;
  };
}

/** INT64 values as JavaScript values: Dates for timestamps, else numbers within ±2^53 or bigints. */
function int64Values(el: SchemaElement, bigint: boolean): Decode {
  const unit = timestampUnit(el);
  const unsigned = isUnsigned(el, "UINT_64");
  return (_page, view, pos, count, out, at) => {
    for (let k = 0; k < count; k++, pos += 8) {
      const lo = view.getUint32(pos, true);
      const hi = unsigned ? view.getUint32(pos + 4, true) : view.getInt32(pos + 4, true);
      const exact = hi >= -0x200000 && hi < 0x200000; // |value| < 2^53
      if (unit === "MILLIS" && exact) out[at + k] = new Date(hi * TWO_32 + lo);
      else if (unit === "MICROS" && exact) out[at + k] = new Date(Math.floor((hi * TWO_32 + lo) / 1000));
      else if (unit !== undefined) {
        const v = unsigned ? view.getBigUint64(pos, true) : view.getBigInt64(pos, true);
        const per = unit === "NANOS" ? 1000000n : unit === "MICROS" ? 1000n : 1n;
        const r = v % per;
        out[at + k] = new Date(Number((v - (r < 0n ? r + per : r)) / per));
      } else if (exact && !bigint) out[at + k] = hi * TWO_32 + lo;
      else out[at + k] = unsigned ? view.getBigUint64(pos, true) : view.getBigInt64(pos, true);
    }
    return pos;
  };
}

function int32Decoder(el: SchemaElement): Decode {
  const date = el.converted_type === "DATE" || el.logical_type?.type === "DATE";
  const unsigned = isUnsigned(el, "UINT_32");
  return (_page, view, pos, count, out, at) => {
    for (let k = 0; k < count; k++, pos += 4) {
      const v = unsigned ? view.getUint32(pos, true) : view.getInt32(pos, true);
      out[at + k] = date ? new Date(v * MS_PER_DAY) : v;
    }
    return pos;
  };
}

const decodeDoubles: Decode = (page, view, pos, count, out, at) => {
  if (LITTLE_ENDIAN && out instanceof Float64Array) {
    out.set(
      aligned(page.subarray(pos, pos + count * 8), (b) => new Float64Array(b)),
      at,
    );
  } else for (let k = 0; k < count; k++) out[at + k] = view.getFloat64(pos + k * 8, true);
  return pos + count * 8;
};

const decodeFloats: Decode = (_page, view, pos, count, out, at) => {
  for (let k = 0; k < count; k++) out[at + k] = view.getFloat32(pos + k * 4, true);
  return pos + count * 4;
};

const decodeBooleans: Decode = (page, _view, pos, count, out, at) => {
  for (let k = 0; k < count; k++) out[at + k] = (page[pos + (k >> 3)]! & (1 << (k & 7))) !== 0;
  return pos + Math.ceil(count / 8);
};

/**
 * Strings of a BYTE_ARRAY page: ASCII values are cut from one Latin-1 string of the page. V8
 * shares the page string with the cuts of 13 characters or more, so such a string keeps its
 * page's text (about 1 MiB at most) in memory while it lives.
 */
const decodeStrings: Decode = (page, view, pos, count, out, at) => {
  let latin1: string | undefined;
  // One check of the whole page (length prefixes included) usually spares checking each value.
  const allAscii = isAscii(page.subarray(pos));
  for (let k = 0; k < count; k++) {
    const len = view.getUint32(pos, true);
    const start = pos + 4;
    pos = start + len;
    if (pos > page.length) throw new UnsupportedParquet("byte array runs past the page");
    let ascii = allAscii;
    if (!ascii) {
      ascii = true;
      for (let i = start; i < pos; i++) {
        if (page[i]! > 0x7f) {
          ascii = false;
          break;
        }
      }
    }
    if (ascii) {
      latin1 ??= Buffer.from(page.buffer, page.byteOffset, page.length).toString("latin1");
      out[at + k] = latin1.substring(start, pos);
    } else out[at + k] = utf8.decode(page.subarray(start, pos));
  }
  return pos;
};

const decodeBytes: Decode = (page, view, pos, count, out, at) => {
  for (let k = 0; k < count; k++) {
    const len = view.getUint32(pos, true);
    if (pos + 4 + len > page.length) throw new UnsupportedParquet("byte array runs past the page");
    out[at + k] = page.slice(pos + 4, pos + 4 + len);
    pos += 4 + len;
  }
  return pos;
};

function fixedDecoder(width: number, text: boolean): Decode {
  return (page, _view, pos, count, out, at) => {
    for (let k = 0; k < count; k++, pos += width) {
      const b = page.subarray(pos, pos + width);
      out[at + k] = text ? utf8.decode(b) : b.slice();
    }
    return pos;
  };
}

const decodeInt96: Decode = (_page, view, pos, count, out, at) => {
  for (let k = 0; k < count; k++, pos += 12) {
    const nanos = view.getBigInt64(pos, true);
    const days = view.getInt32(pos + 8, true) - JULIAN_UNIX_EPOCH;
    out[at + k] = new Date(days * MS_PER_DAY + Number(nanos / 1000000n));
  }
  return pos;
};

/** Whether a column can be read into a Float64Array. */
function numeric(req: ColumnRequest): boolean {
  const el = req.element;
  if (!req.numbers || el.converted_type === "DECIMAL" || el.logical_type?.type === "DECIMAL") return false;
  if (el.type === "INT64") return timestampUnit(el) === undefined && !req.bigint;
  if (el.type === "INT32") {
    const plainInt = el.converted_type === undefined || el.converted_type.startsWith("INT_");
    return plainInt && (el.logical_type === undefined || el.logical_type.type === "INTEGER");
  }
  return el.type === "DOUBLE" || el.type === "FLOAT";
}

/** The PLAIN decoder of a column, for a Float64Array (`numbers`) or an array. */
function plainDecoder(req: ColumnRequest, numbers: boolean): Decode {
  const el = req.element;
  switch (el.type) {
    case "INT64":
      return numbers ? int64Numbers(el) : int64Values(el, req.bigint);
    case "INT32":
      return int32Decoder(el);
    case "DOUBLE":
      return decodeDoubles;
    case "FLOAT":
      return decodeFloats;
    case "BOOLEAN":
      return decodeBooleans;
    case "BYTE_ARRAY":
      return req.text ? decodeStrings : decodeBytes;
    case "FIXED_LEN_BYTE_ARRAY":
      return fixedDecoder(el.type_length ?? 0, req.text);
    case "INT96":
      return decodeInt96;
    default:
      throw new UnsupportedParquet(`parquet type ${el.type}`);
  }
}

/** Reads `count` RLE/bit-packed hybrid values of `width` bits (`length` bytes, or an int32 prefix). */
function hybrid(reader: DataReader, width: number, count: number, length?: number): Uint8Array | Int32Array {
  const out = width <= 8 ? new Uint8Array(count) : new Int32Array(count);
  readRleBitPackedHybrid(reader, width, out, length);
  return out;
}

/** Where one data page's values are and how they are encoded. */
interface DataPage {
  readonly page: Uint8Array;
  readonly pos: number;
  readonly rows: number;
  readonly defs: Uint8Array | Int32Array | undefined;
  readonly encoding: string;
}

/** A column being decoded: its values, null mask (for numbers) and decoders. */
interface Target {
  readonly out: Sink;
  nulls: Uint8Array | undefined;
  nullCount: number;
  readonly decode: Decode;
  readonly boolean: boolean;
  dictionary: Sink | undefined;
}

/** Decodes a data page's values into `out[row...]`, nulls where the definition level is 0. */
function decodeValues(p: DataPage, t: Target, row: number): void {
  let present = p.rows;
  if (p.defs) {
    present = 0;
    for (let i = 0; i < p.rows; i++) present += p.defs[i]!;
  }
  const direct = present === p.rows;
  const dense: Sink = direct
    ? t.out
    : t.out instanceof Float64Array
      ? new Float64Array(present)
      : new Array(present);
  const at = direct ? row : 0;
  const view = new DataView(p.page.buffer, p.page.byteOffset, p.page.length);
  if (p.encoding === "PLAIN") {
    t.decode(p.page, view, p.pos, present, dense, at);
  } else if (p.encoding === "PLAIN_DICTIONARY" || p.encoding === "RLE_DICTIONARY") {
    const dictionary = t.dictionary;
    if (!dictionary) throw new UnsupportedParquet("dictionary-encoded page without a dictionary");
    const width = p.page[p.pos] ?? 0;
    const reader = { view, offset: p.pos + 1 };
    const idx = present === 0 ? new Uint8Array(0) : hybrid(reader, width, present, p.page.length - p.pos - 1);
    for (let k = 0; k < present; k++) {
      const i = idx[k]!;
      if (i >= dictionary.length) throw new UnsupportedParquet(`dictionary index ${i} out of range`);
      dense[at + k] = dictionary[i];
    }
  } else if (p.encoding === "RLE" && t.boolean) {
    const bits = hybrid({ view, offset: p.pos }, 1, present);
    for (let k = 0; k < present; k++) dense[at + k] = bits[k] === 1;
  } else {
    throw new UnsupportedParquet(`encoding ${p.encoding}`);
  }
  if (direct) return;
  t.nullCount += p.rows - present;
  const numbers = t.out instanceof Float64Array;
  for (let i = 0, k = 0; i < p.rows; i++) {
    if (p.defs![i]) t.out[row + i] = dense[k++];
    else if (numbers) {
      t.nulls ??= new Uint8Array(t.out.length);
      t.nulls[row + i] = 1;
    } else t.out[row + i] = null;
  }
}

/** Reads one column chunk's pages into `t.out[base...]`. */
function readChunk(
  file: Uint8Array,
  chunk: ColumnChunk,
  req: ColumnRequest,
  t: Target,
  base: number,
  compressors: Compressors,
) {
  const meta = chunk.meta_data;
  if (!meta || chunk.file_path) throw new UnsupportedParquet("column chunk elsewhere than in this file");
  const optional = req.element.repetition_type === "OPTIONAL";
  const dataStart = Number(meta.data_page_offset);
  const dictStart =
    meta.dictionary_page_offset === undefined ? dataStart : Number(meta.dictionary_page_offset);
  const reader: DataReader = {
    view: new DataView(file.buffer, file.byteOffset, file.length),
    offset: dictStart > 0 && dictStart < dataStart ? dictStart : dataStart,
  };
  const end = base + Number(meta.num_values);
  t.dictionary = undefined;
  let row = base;
  while (row < end) {
    const header = parquetHeader(reader);
    const raw = file.subarray(reader.offset, reader.offset + header.compressed_page_size);
    reader.offset += header.compressed_page_size;
    const size = header.uncompressed_page_size;
    if (header.type === "DICTIONARY_PAGE") {
      const page = decompressPage(raw, size, meta.codec, compressors);
      const n = header.dictionary_page_header?.num_values ?? 0;
      t.dictionary = t.out instanceof Float64Array ? new Float64Array(n) : new Array<unknown>(n);
      t.decode(page, new DataView(page.buffer, page.byteOffset, page.length), 0, n, t.dictionary, 0);
    } else if (header.type === "DATA_PAGE") {
      const h = header.data_page_header!;
      const page = decompressPage(raw, size, meta.codec, compressors);
      const levels = { view: new DataView(page.buffer, page.byteOffset, page.length), offset: 0 };
      const defs = optional ? hybrid(levels, 1, h.num_values) : undefined;
      decodeValues({ page, pos: levels.offset, rows: h.num_values, defs, encoding: h.encoding }, t, row);
      row += h.num_values;
    } else if (header.type === "DATA_PAGE_V2") {
      const h = header.data_page_header_v2!;
      if (h.repetition_levels_byte_length) throw new UnsupportedParquet("repeated column");
      const defLength = h.definition_levels_byte_length;
      const levels = { view: new DataView(raw.buffer, raw.byteOffset, raw.length), offset: 0 };
      const defs = optional ? hybrid(levels, 1, h.num_values, defLength) : undefined;
      const body = raw.subarray(defLength);
      const page =
        h.is_compressed === false ? body : decompressPage(body, size - defLength, meta.codec, compressors);
      decodeValues({ page, pos: 0, rows: h.num_values, defs, encoding: h.encoding }, t, row);
      row += h.num_values;
    }
    // Index pages and unknown page types are skipped.
  }
}

/** Reads one column of every row group, into a Float64Array if asked and possible. */
function readColumn(
  file: Uint8Array,
  metadata: FileMetaData,
  req: ColumnRequest,
  numbers: boolean,
  compressors: Compressors,
): ColumnValues {
  const el = req.element;
  if (el.repetition_type === "REPEATED" || el.num_children) {
    throw new UnsupportedParquet(`column ${el.name} is not a flat column`);
  }
  const n = Number(metadata.num_rows);
  const t: Target = {
    out: numbers ? new Float64Array(n) : new Array<unknown>(n),
    nulls: undefined,
    nullCount: 0,
    decode: plainDecoder(req, numbers),
    boolean: el.type === "BOOLEAN",
    dictionary: undefined,
  };
  let base = 0;
  for (const rg of metadata.row_groups) {
    const chunk = rg.columns.find(
      (ch) => ch.meta_data?.path_in_schema.length === 1 && ch.meta_data.path_in_schema[0] === el.name,
    );
    if (!chunk) throw new UnsupportedParquet(`no column chunk for ${el.name}`);
    readChunk(file, chunk, req, t, base, compressors);
    base += Number(rg.num_rows);
  }
  return t.out instanceof Float64Array
    ? { kind: "numbers", values: t.out, nulls: t.nulls }
    : { kind: "values", values: t.out as unknown[], produced: produced(req), nullCount: t.nullCount };
}

/** What the decoders of a column (into an array) produce. */
function produced(req: ColumnRequest): Produced {
  const el = req.element;
  switch (el.type) {
    case "BYTE_ARRAY":
    case "FIXED_LEN_BYTE_ARRAY":
      return req.text ? "string" : "bytes";
    case "BOOLEAN":
      return "boolean";
    case "INT96":
      return "date";
    case "INT64":
      return timestampUnit(el) ? "date" : req.bigint ? "bigint" : "mixed";
    case "INT32":
      return el.converted_type === "DATE" || el.logical_type?.type === "DATE" ? "date" : "mixed";
    default:
      return "mixed";
  }
}

/**
 * Reads the requested columns of a parquet file, each `num_rows` long. Throws
 * `UnsupportedParquet` for what it does not decode.
 */
export function readFlatColumns(
  file: Uint8Array,
  metadata: FileMetaData,
  requests: readonly ColumnRequest[],
  compressors: Compressors,
): ColumnValues[] {
  return requests.map((req) => {
    if (numeric(req)) {
      try {
        return readColumn(file, metadata, req, true, compressors);
      } catch (err) {
        if (!(err instanceof Inexact)) throw err;
      }
    }
    return readColumn(file, metadata, req, false, compressors);
  });
}
