/**
 * The protobuf wire format of flyteidl `Literal`s, written and read directly (no protobuf-es
 * messages in between) for the types where that is simple: ints, bigints, floats, strings,
 * booleans, records (MessagePack binaries), and lists and maps of them. protobuf-es's reflective
 * codec allocates several objects per list element; these codecs allocate none when writing
 * primitives and only the values when reading.
 *
 * Writing is two passes: `size()` validates the value (throwing exactly what `toLiteral`
 * throws) and returns the size of its Literal, recording the sizes of nested messages in a
 * log; `write()` then fills a buffer of that size, reading the log in the same order. The bytes
 * are those protobuf-es's `toBinary` writes for the same Literal.
 *
 * Reading accepts only the exact shapes these codecs write (which is also what flytekit
 * writes); on anything else (another field order, unknown fields, `hash` or `metadata` set, a
 * value the type would reject) `read()` returns {@link MISMATCH} and the caller decodes the
 * Literal with protobuf-es, so errors and edge cases stay those of `fromLiteral`.
 *
 * This file holds the byte-level reader and writer and the LiteralMap level; the codecs of each
 * type are in `wire-codecs.ts`.
 */

// Both are registered symbols so that they are the same in every copy of flytekit-ts loaded in
// one process (a task module importing the SDK's sources next to the compiled entrypoint).

/** Returned by {@link LiteralCodec.read} when the bytes are not a shape it reads. */
export const MISMATCH: unique symbol = Symbol.for("flytekit-ts.wire.mismatch");

/** Thrown by {@link LiteralCodec.size} when a value must take protobuf-es's path (e.g. a `__proto__` map key). */
export const WIRE_FALLBACK: unique symbol = Symbol.for("flytekit-ts.wire.fallback");

/** What `size()` records for `write()`: sizes of nested messages, and bytes made while sizing. */
export type SizeLog = (number | Uint8Array)[];

/** A type's direct codec of Literal messages (see the module comment). */
export interface LiteralCodec<T> {
  /**
   * Validates `value` as `toLiteral` does (same errors) and returns the size in bytes of its
   * Literal message; appends the sizes (or bytes) `write` needs to `log`.
   */
  size(value: T, log: SizeLog): number;
  /** Writes the Literal message of `value`, preceded by its length (a varint), into `w`. */
  write(value: T, w: WireWriter): void;
  /** Reads the Literal message in `r.buf[r.pos..end)`, leaving `r.pos` at `end`, or returns MISMATCH. */
  read(r: WireReader, end: number): T | typeof MISMATCH;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Bytes of `n` (0 <= n < 2^53) as a varint. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  if (n < 2 ** 35) return 5;
  if (n < 2 ** 42) return 6;
  if (n < 2 ** 49) return 7;
  return 8;
}

/** Bytes of an int64 (as two's-complement words) as a varint: negative numbers take 10. */
export function varint64Size(lo: number, hi: number): number {
  if (hi < 0) return 10;
  const bits = hi === 0 ? 32 - Math.clz32(lo) : 64 - Math.clz32(hi);
  return bits === 0 ? 1 : Math.ceil(bits / 7);
}

/** UTF-8 length of a string, as TextEncoder encodes it (a lone surrogate becomes U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, "utf8");
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 2; // a pair: 4 bytes for 2 code units
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** A fixed-size output buffer, and the log of sizes recorded by `size()`. */
export class WireWriter {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos = 0;
  /** The next entry of `log` to read. */
  li = 0;
  constructor(
    size: number,
    readonly log: SizeLog,
  ) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  /** The next recorded size. */
  next(): number {
    return this.log[this.li++] as number;
  }
  /** The next recorded bytes. */
  nextBytes(): Uint8Array {
    return this.log[this.li++] as Uint8Array;
  }
  /** Copies bytes. */
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** One byte. */
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }
  /** A varint of 0 <= n < 2^53. */
  varint(n: number): void {
    const b = this.buf;
    let p = this.pos;
    if (n < 0x80000000) {
      while (n > 0x7f) {
        b[p++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
    } else {
      while (n > 0x7f) {
        b[p++] = (n % 128) | 0x80;
        n = Math.floor(n / 128);
      }
    }
    b[p++] = n;
    this.pos = p;
  }
  /** An int64 given as two's-complement 32-bit words (protobuf-es's algorithm). */
  varint64(lo: number, hi: number): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < 28; i += 7) {
      const shift = lo >>> i;
      const more = !(shift >>> 7 === 0 && hi === 0);
      b[p++] = (more ? shift | 0x80 : shift) & 0xff;
      if (!more) {
        this.pos = p;
        return;
      }
    }
    const split = ((lo >>> 28) & 0x0f) | ((hi & 0x07) << 4);
    const moreHi = hi >> 3 !== 0;
    b[p++] = (moreHi ? split | 0x80 : split) & 0xff;
    if (moreHi) {
      let i = 3;
      for (; i < 31; i += 7) {
        const shift = hi >>> i;
        const more = shift >>> 7 !== 0;
        b[p++] = (more ? shift | 0x80 : shift) & 0xff;
        if (!more) break;
      }
      if (i >= 31) b[p++] = (hi >>> 31) & 0x01;
    }
    this.pos = p;
  }
  /** A string of `bytes` UTF-8 bytes (without its length). */
  utf8(s: string, bytes: number): void {
    if (bytes === s.length && bytes < 32) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < bytes; i++) b[p++] = s.charCodeAt(i);
      this.pos = p;
      return;
    }
    encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + bytes));
    this.pos += bytes;
  }
}

/** A cursor over bytes being read. */
export class WireReader {
  pos = 0;
  readonly view: DataView;
  /** The words of the last `varint64()`. */
  lo = 0;
  hi = 0;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  /** A length (varint < 2^31) that fits before `end`, or -1. */
  len(end: number): number {
    const b = this.buf;
    let p = this.pos;
    let x = 0;
    for (let shift = 0; shift < 31; shift += 7) {
      if (p >= end) return -1;
      const c = b[p++]!;
      x |= (c & 0x7f) << shift;
      if (c < 0x80) {
        if (x < 0 || p + x > end) return -1;
        this.pos = p;
        return x;
      }
    }
    return -1;
  }
  /** Reads an int64 varint into `lo`/`hi` (hi signed); false when malformed. */
  varint64(end: number): boolean {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let c = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= end) return false;
      c = b[p++]!;
      lo |= (c & 0x7f) << shift;
      if (c < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        this.pos = p;
        return true;
      }
    }
    if (p >= end) return false;
    c = b[p++]!;
    lo |= (c & 0x0f) << 28;
    hi = (c & 0x70) >> 4;
    if (c >= 0x80) {
      let shift = 3;
      for (; shift <= 31; shift += 7) {
        if (p >= end) return false;
        c = b[p++]!;
        if (shift === 31 && c > 1) return false;
        hi |= (c & 0x7f) << shift;
        if (c < 0x80) break;
      }
      if (shift > 31) return false;
    }
    this.lo = lo >>> 0;
    this.hi = hi | 0;
    this.pos = p;
    return true;
  }
  /** A safe integer varint ending exactly at `end`, or NaN. */
  safeInt(end: number): number {
    const b = this.buf;
    const p = this.pos;
    const c = b[p]!;
    if (c < 0x80 && p + 1 === end) {
      this.pos = end;
      return c;
    }
    if (!this.varint64(end) || this.pos !== end) return Number.NaN;
    const hi = this.hi;
    if (hi < -0x200000 || hi >= 0x200000) return Number.NaN;
    const n = hi * 4294967296 + this.lo;
    return Number.isSafeInteger(n) ? n : Number.NaN;
  }
  /** The key of the last `entry()`. */
  key = "";
  /** Where the value (a Literal) of the last `entry()` is. */
  valueStart = 0;
  valueEnd = 0;
  /**
   * Reads a map entry (`key` = field 1, `value` = field 2, in either order) ending at `end` into
   * `key`, `valueStart` and `valueEnd`; false when it has anything else, a field twice, no value,
   * or a key that is not valid UTF-8.
   */
  entry(end: number): boolean {
    const b = this.buf;
    let keySeen = false;
    let valueSeen = false;
    this.key = ""; // protobuf's default when the entry has no key
    while (this.pos < end) {
      const tag = b[this.pos++];
      const n = this.len(end);
      if (n < 0) return false;
      if (tag === 0x0a && !keySeen) {
        keySeen = true;
        const k = readUtf8(b, this.pos, this.pos + n);
        if (k === MISMATCH) return false;
        this.key = k;
      } else if (tag === 0x12 && !valueSeen) {
        valueSeen = true;
        this.valueStart = this.pos;
        this.valueEnd = this.pos + n;
      } else return false;
      this.pos += n;
    }
    return valueSeen;
  }
  /**
   * Steps into the Primitive of a scalar Literal occupying `[pos, end)`: checks the
   * `scalar { primitive { ... } }` nesting fills it exactly and returns true, `pos` at the
   * Primitive's first field.
   */
  openPrimitive(end: number): boolean {
    const b = this.buf;
    if (b[this.pos] !== 0x0a) return false; // Literal.scalar
    this.pos++;
    const s = this.len(end);
    if (s < 0 || this.pos + s !== end || b[this.pos] !== 0x0a) return false; // Scalar.primitive
    this.pos++;
    const p = this.len(end);
    return p > 0 && this.pos + p === end;
  }
}

/** Decodes UTF-8 strictly, as protobuf-es does for proto3 strings; MISMATCH when invalid. */
export function readUtf8(b: Uint8Array, start: number, end: number): string | typeof MISMATCH {
  const n = end - start;
  if (n <= 24) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (b[i]! > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  }
  try {
    return strictDecoder.decode(b.subarray(start, end));
  } catch {
    return MISMATCH;
  }
}

/**
 * Where each entry of a LiteralMap's bytes is: key -> [start, end) of its Literal (a later
 * entry with the same key replaces an earlier one, as in protobuf). Undefined when the bytes
 * hold anything but well-formed entries (unknown fields, an entry without a value, ...): the
 * caller then decodes them with protobuf-es.
 */
export function indexLiteralMap(bytes: Uint8Array): Map<string, [number, number]> | undefined {
  const r = new WireReader(bytes);
  const end = bytes.length;
  const index = new Map<string, [number, number]>();
  while (r.pos < end) {
    if (bytes[r.pos] !== 0x0a) return undefined;
    r.pos++;
    const len = r.len(end);
    if (len < 0 || !r.entry(r.pos + len)) return undefined;
    index.set(r.key, [r.valueStart, r.valueEnd]);
  }
  return index;
}

/**
 * The length-delimited Literal of `value` (a varint length, then the message), or undefined when
 * the value must take protobuf-es's path. Throws the errors `toLiteral` throws.
 */
export function encodeLiteral<T>(codec: LiteralCodec<T>, value: T): Uint8Array | undefined {
  const log: SizeLog = [];
  let size: number;
  try {
    size = codec.size(value, log);
  } catch (err) {
    if (err === WIRE_FALLBACK) return undefined;
    throw err;
  }
  const w = new WireWriter(varintSize(size) + size, log);
  codec.write(value, w);
  // A value changed between the passes (a getter, a proxy): use protobuf-es's path instead.
  if (w.pos !== w.buf.length || w.li !== log.length) return undefined;
  return w.buf;
}
