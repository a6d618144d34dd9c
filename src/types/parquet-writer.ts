/**
 * A parquet writer for flat tables, the shape a dataframe has: top-level columns of INT64
 * (numbers, bigints, UTC millisecond timestamps), DOUBLE, BOOLEAN and BYTE_ARRAY (UTF-8 strings
 * or raw bytes), each REQUIRED or OPTIONAL. Values are PLAIN-encoded into version-1 data pages
 * of about 1 MiB, uncompressed, in row groups of up to 1,048,576 rows; no dictionary, no
 * statistics. The Thrift footer and page headers are hyparquet-writer's.
 *
 * It exists for speed: encoding straight from typed arrays and strings is several times faster
 * than a general-purpose writer (see docs/benchmarks.md, "Dataframes"). The price is size:
 * uncompressed PLAIN pages are larger than pyarrow's dictionary + snappy ones.
 */
import type { ColumnChunk, FileMetaData, LogicalType, SchemaElement } from "hyparquet";
import { ByteWriter } from "hyparquet-writer";
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";

/** How a column's values are given and stored. */
export type FlatColumn = {
  /** The column name. */
  readonly name: string;
  /** `nulls[i]` is 1 where row `i` is null; absent for a column without nulls. */
  readonly nulls?: Uint8Array | undefined;
  /** Whether the column is OPTIONAL (may hold nulls) rather than REQUIRED. */
  readonly nullable: boolean;
} & (
  | {
      /** INT64 from exact integers (numbers within ±2^53 or bigints), or UTC timestamps in milliseconds. */
      readonly kind: "int64" | "timestamp-millis";
      readonly values: Float64Array | BigInt64Array;
    }
  | { readonly kind: "double"; readonly values: Float64Array }
  | {
      /** BOOLEAN, one byte per row: 0 false, anything else true. */
      readonly kind: "boolean";
      readonly values: Uint8Array;
    }
  | { readonly kind: "utf8"; readonly values: ArrayLike<string> }
  | { readonly kind: "binary"; readonly values: ArrayLike<Uint8Array> }
);

/** Rows per row group (pyarrow's default). */
const ROW_GROUP_ROWS = 1 << 20;
/** Target size of a data page, as pyarrow's. */
const PAGE_BYTES = 1 << 20;
const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"
const TWO_32 = 4294967296;

function schemaElement(c: FlatColumn): SchemaElement {
  const repetition_type = c.nullable ? "OPTIONAL" : "REQUIRED";
  const name = c.name;
  switch (c.kind) {
    case "int64":
      return { name, repetition_type, type: "INT64" };
    case "timestamp-millis": {
      const logical_type: LogicalType = { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" };
      return { name, repetition_type, type: "INT64", converted_type: "TIMESTAMP_MILLIS", logical_type };
    }
    case "double":
      return { name, repetition_type, type: "DOUBLE" };
    case "boolean":
      return { name, repetition_type, type: "BOOLEAN" };
    case "utf8":
      return {
        name,
        repetition_type,
        type: "BYTE_ARRAY",
        converted_type: "UTF8",
        logical_type: { type: "STRING" },
      };
    case "binary":
      return { name, repetition_type, type: "BYTE_ARRAY" };
  }
}

/** Bytes of one value of a fixed-width column (booleans: 1, for page sizing only). */
function fixedWidth(c: FlatColumn): number {
  return c.kind === "boolean" ? 1 : c.kind === "utf8" || c.kind === "binary" ? 0 : 8;
}

function writeVarInt(out: number[], n: number): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/** Definition levels of rows [from, to) (bit width 1, RLE/bit-packed hybrid), with the v1 length prefix. */
function definitionLevels(nulls: Uint8Array | undefined, from: number, to: number): Uint8Array {
  const count = to - from;
  let anyNull = false;
  if (nulls) {
    for (let i = from; i < to; i++) {
      if (nulls[i]) {
        anyNull = true;
        break;
      }
    }
  }
  const head: number[] = [0, 0, 0, 0];
  let out: Uint8Array;
  if (!anyNull) {
    writeVarInt(head, count * 2); // one RLE run of 1s
    head.push(1);
    out = Uint8Array.from(head);
  } else {
    const groups = Math.ceil(count / 8);
    writeVarInt(head, groups * 2 + 1); // one bit-packed run
    out = new Uint8Array(head.length + groups);
    out.set(head);
    let p = head.length;
    for (let i = 0; i < count; i += 8) {
      let byte = 0;
      for (let j = 0; j < 8 && i + j < count; j++) if (!nulls![from + i + j]) byte |= 1 << j;
      out[p++] = byte;
    }
  }
  new DataView(out.buffer).setUint32(0, out.length - 4, true);
  return out;
}

/** The rows of [from, to) that hold a value. */
function presentRows(nulls: Uint8Array | undefined, from: number, to: number): Int32Array | undefined {
  if (!nulls) return undefined;
  let n = 0;
  for (let i = from; i < to; i++) if (!nulls[i]) n++;
  if (n === to - from) return undefined;
  const rows = new Int32Array(n);
  for (let i = from, k = 0; i < to; i++) if (!nulls[i]) rows[k++] = i;
  return rows;
}

/** Whether typed arrays are little-endian here, as parquet is (every platform Node ships for but s390x). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The little-endian bytes of a typed array's elements. */
function bytesOf(a: Float64Array | BigInt64Array | Int32Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const width = a.BYTES_PER_ELEMENT;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width)
    for (let b = 0; b < width; b++) out[i + b] = bytes[i + width - 1 - b]!;
  return out;
}

/** PLAIN INT64 or DOUBLE values of rows [from, to) (all rows, or just `rows`). */
function plain64(
  values: Float64Array | BigInt64Array,
  asInt: boolean,
  from: number,
  to: number,
  rows: Int32Array | undefined,
): Uint8Array {
  if (values instanceof BigInt64Array) {
    if (!rows) return bytesOf(values.subarray(from, to));
    const out = new BigInt64Array(rows.length);
    for (let k = 0; k < rows.length; k++) out[k] = values[rows[k]!]!;
    return bytesOf(out);
  }
  if (asInt) {
    // Exact integers within ±2^53: the low word is v mod 2^32 (v >>> 0), the high word the rest.
    const n = rows ? rows.length : to - from;
    const out = new Int32Array(n * 2);
    for (let k = 0; k < n; k++) {
      const v = values[rows ? rows[k]! : from + k]!;
      const lo = v >>> 0;
      out[2 * k] = lo;
      out[2 * k + 1] = (v - lo) / TWO_32;
    }
    return bytesOf(out);
  }
  if (!rows) return bytesOf(values.subarray(from, to));
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = values[rows[k]!]!;
  return bytesOf(out);
}

/** PLAIN BOOLEAN values (bit-packed, least significant bit first). */
function plainBooleans(
  values: Uint8Array,
  from: number,
  to: number,
  rows: Int32Array | undefined,
): Uint8Array {
  const n = rows ? rows.length : to - from;
  const out = new Uint8Array(Math.ceil(n / 8));
  for (let k = 0; k < n; k++) if (values[rows ? rows[k]! : from + k]) out[k >> 3]! |= 1 << (k & 7);
  return out;
}

/** UTF-8 of `s` into `out` at `p`, returning the new position (lone surrogates become U+FFFD). */
function utf8Into(s: string, out: Uint8Array, p: number): number {
  for (let j = 0; j < s.length; j++) {
    let c = s.charCodeAt(j);
    if (c < 0x80) out[p++] = c;
    else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c < 0xe000) {
        const d = c < 0xdc00 && j + 1 < s.length ? s.charCodeAt(j + 1) : 0;
        if (d >= 0xdc00 && d < 0xe000) {
          j++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          out[p++] = 0xf0 | (c >> 18);
          out[p++] = 0x80 | ((c >> 12) & 63);
          out[p++] = 0x80 | ((c >> 6) & 63);
          out[p++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd;
      }
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 63);
      out[p++] = 0x80 | (c & 63);
    }
  }
  return p;
}

/** Writes the 4-byte little-endian length `len` at `out[at]`. */
function writeLength(out: Uint8Array, at: number, len: number): void {
  out[at] = len;
  out[at + 1] = len >> 8;
  out[at + 2] = len >> 16;
  out[at + 3] = len >>> 24;
}

/**
 * PLAIN strings of rows [from, end) into `out`; returns the size they take, which is larger
 * than `out` when a string is not ASCII (the bytes past its end are dropped).
 */
function plainStrings(
  values: ArrayLike<string>,
  nulls: Uint8Array | undefined,
  from: number,
  end: number,
  out: Uint8Array,
) {
  let p = 0;
  for (let i = from; i < end; i++) {
    if (nulls?.[i]) continue;
    const start = p;
    p = utf8Into(values[i]!, out, p + 4);
    writeLength(out, start, p - start - 4);
  }
  return p;
}

/**
 * PLAIN BYTE_ARRAY values (4-byte length, then the bytes) from row `from` on, stopping after the
 * page reaches PAGE_BYTES or at row `to`; returns the bytes and the row after the last one taken.
 */
function plainByteArrays(
  c: FlatColumn & { kind: "utf8" | "binary" },
  from: number,
  to: number,
): { bytes: Uint8Array; end: number } {
  const { values, nulls } = c;
  let size = 0;
  let end = from;
  // Size the page as if strings were ASCII (one byte per UTF-16 unit), and stop near PAGE_BYTES.
  for (; end < to && size < PAGE_BYTES; end++) if (!nulls?.[end]) size += 4 + values[end]!.length;
  let out = new Uint8Array(size);
  if (c.kind === "utf8") {
    const used = plainStrings(c.values, nulls, from, end, out);
    // Not all ASCII: `used` is the exact size, so once more into a buffer that fits.
    if (used > size) out = new Uint8Array(used);
    if (used > size) plainStrings(c.values, nulls, from, end, out);
  } else {
    let p = 0;
    for (let i = from; i < end; i++) {
      if (nulls?.[i]) continue;
      const b = c.values[i]!;
      writeLength(out, p, b.length);
      out.set(b, p + 4);
      p += 4 + b.length;
    }
  }
  return { bytes: out, end };
}

/** One page of rows [from, ...): its body (levels and values) and the row after it. */
function page(c: FlatColumn, from: number, to: number): { body: Uint8Array[]; end: number } {
  let end: number;
  let values: Uint8Array;
  if (c.kind === "utf8" || c.kind === "binary") {
    ({ bytes: values, end } = plainByteArrays(c, from, to));
  } else {
    end = Math.min(to, from + Math.floor(PAGE_BYTES / fixedWidth(c)));
    const rows = presentRows(c.nulls, from, end);
    values =
      c.kind === "boolean"
        ? plainBooleans(c.values, from, end, rows)
        : plain64(c.values, c.kind !== "double", from, end, rows);
  }
  const body = c.nullable ? [definitionLevels(c.nulls, from, end), values] : [values];
  return { body, end };
}

/** Writes one column chunk of rows [from, to) at `offset`; returns its chunks of bytes and metadata. */
function columnChunk(c: FlatColumn, element: SchemaElement, from: number, to: number, offset: number) {
  const parts: Uint8Array[] = [];
  let size = 0;
  let row = from;
  do {
    const { body, end } = page(c, row, to);
    const bodySize = body.reduce((n, b) => n + b.length, 0);
    const header = new ByteWriter(64);
    writePageHeader(header, {
      type: "DATA_PAGE",
      uncompressed_page_size: bodySize,
      compressed_page_size: bodySize,
      data_page_header: {
        num_values: end - row,
        encoding: "PLAIN",
        definition_level_encoding: "RLE",
        repetition_level_encoding: "RLE",
      },
    });
    parts.push(header.getBytes(), ...body);
    size += header.offset + bodySize;
    row = end;
  } while (row < to);
  const chunk: ColumnChunk = {
    file_offset: BigInt(offset),
    meta_data: {
      type: element.type!,
      encodings: c.nullable ? ["PLAIN", "RLE"] : ["PLAIN"],
      path_in_schema: [c.name],
      codec: "UNCOMPRESSED",
      num_values: BigInt(to - from),
      total_uncompressed_size: BigInt(size),
      total_compressed_size: BigInt(size),
      data_page_offset: BigInt(offset),
    },
  };
  return { parts, size, chunk };
}

/**
 * Encodes `numRows` rows of `columns` as one parquet file. Every column's `values` (and `nulls`)
 * must cover the rows; values of null rows are ignored.
 */
export function writeFlatParquet(
  columns: readonly FlatColumn[],
  numRows: number,
  createdBy: string,
): Uint8Array {
  const elements = columns.map(schemaElement);
  const parts: Uint8Array[] = [MAGIC];
  let offset = MAGIC.length;
  const metadata: FileMetaData = {
    version: 2,
    schema: [{ name: "schema", num_children: columns.length }, ...elements],
    num_rows: BigInt(numRows),
    row_groups: [],
    created_by: createdBy,
    metadata_length: 0,
  };
  for (let from = 0; from < numRows; from += ROW_GROUP_ROWS) {
    const to = Math.min(numRows, from + ROW_GROUP_ROWS);
    const start = offset;
    const chunks = columns.map((c, i) => {
      const written = columnChunk(c, elements[i]!, from, to, offset);
      parts.push(...written.parts);
      offset += written.size;
      return written.chunk;
    });
    metadata.row_groups.push({
      columns: chunks,
      total_byte_size: BigInt(offset - start),
      num_rows: BigInt(to - from),
      file_offset: BigInt(start),
      total_compressed_size: BigInt(offset - start),
    });
  }
  const footer = new ByteWriter(1024);
  writeMetadata(footer, metadata);
  parts.push(footer.getBytes(), MAGIC);
  const out = new Uint8Array(offset + footer.offset + MAGIC.length);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
