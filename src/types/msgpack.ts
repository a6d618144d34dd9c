/**
 * The MessagePack writer of records, writing what Python's `msgpack` (flytekit's dataclass
 * serializer) writes for the same data, so a record's bytes are flytekit's byte for byte:
 * integers in the smallest format (a number or a bigint alike, uint64/int64 beyond 32 bits),
 * and a float field as float64 even when its value is integral ({@link Float64} marks those,
 * since JavaScript has one number type). Values it does not know (a Date or a class instance in
 * untyped JSON data) are written by `@msgpack/msgpack`, as before.
 */
import { Encoder } from "@msgpack/msgpack";

/** A number written as a MessagePack float64, whatever its value (a Python `float`). */
export class Float64 {
  constructor(readonly value: number) {}
}

const fallback = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const textEncoder = new TextEncoder();

class Writer {
  buf = new Uint8Array(4096);
  view = new DataView(this.buf.buffer);
  pos = 0;

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }
  /** A type byte followed by an unsigned big-endian value of `size` bytes (1, 2 or 4). */
  head(type: number, size: number, n: number): void {
    this.reserve(1 + size);
    this.buf[this.pos++] = type;
    if (size === 1) this.buf[this.pos] = n;
    else if (size === 2) this.view.setUint16(this.pos, n);
    else this.view.setUint32(this.pos, n);
    this.pos += size;
  }
  /** A header of a length-prefixed family: fix (when given and n < fixMax), then 8/16/32-bit lengths. */
  length(n: number, fix: number, fixMax: number, t8: number, t16: number, t32: number, what: string): void {
    if (fix >= 0 && n < fixMax) this.u8(fix + n);
    else if (t8 >= 0 && n < 0x100) this.head(t8, 1, n);
    else if (n < 0x10000) this.head(t16, 2, n);
    else if (n < 0x100000000) this.head(t32, 4, n);
    else throw new Error(`msgpack: ${what} of ${n} is too large`);
  }
  int(n: number): void {
    if (n >= 0) {
      if (n < 0x80) this.u8(n);
      else if (n < 0x100) this.head(0xcc, 1, n);
      else if (n < 0x10000) this.head(0xcd, 2, n);
      else if (n < 0x100000000) this.head(0xce, 4, n);
      else this.big(BigInt(n));
    } else if (n >= -0x20) this.u8(n & 0xff);
    else if (n >= -0x80) {
      this.reserve(2);
      this.buf[this.pos++] = 0xd0;
      this.view.setInt8(this.pos++, n);
    } else if (n >= -0x8000) {
      this.reserve(3);
      this.buf[this.pos++] = 0xd1;
      this.view.setInt16(this.pos, n);
      this.pos += 2;
    } else if (n >= -0x80000000) {
      this.reserve(5);
      this.buf[this.pos++] = 0xd2;
      this.view.setInt32(this.pos, n);
      this.pos += 4;
    } else this.big(BigInt(n));
  }
  big(n: bigint): void {
    if (n >= -0x80000000n && n < 0x100000000n) {
      this.int(Number(n));
      return;
    }
    this.reserve(9);
    this.buf[this.pos++] = n >= 0n ? 0xcf : 0xd3;
    if (n >= 0n) this.view.setBigUint64(this.pos, n);
    else this.view.setBigInt64(this.pos, n);
    this.pos += 8;
  }
  float(x: number): void {
    this.reserve(9);
    this.buf[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, x);
    this.pos += 8;
  }
  str(s: string): void {
    // Short ASCII strings (most keys and values) are copied directly.
    const n = s.length;
    if (n < 32) {
      this.reserve(1 + n);
      const start = this.pos;
      let p = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        this.buf[p++] = c;
      }
      if (i === n) {
        this.buf[start] = 0xa0 + n;
        this.pos = p;
        return;
      }
    }
    const bytes = textEncoder.encode(s);
    this.length(bytes.length, 0xa0, 32, 0xd9, 0xda, 0xdb, "string");
    this.raw(bytes);
  }
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
  value(v: unknown): void {
    if (typeof v === "number") {
      if (Number.isSafeInteger(v)) this.int(v);
      else this.float(v);
    } else if (typeof v === "string") this.str(v);
    else if (typeof v === "boolean") this.u8(v ? 0xc3 : 0xc2);
    else if (typeof v === "bigint") this.big(v);
    else if (v === null || v === undefined) this.u8(0xc0);
    else if (v instanceof Float64) this.float(v.value);
    else if (Array.isArray(v)) {
      this.length(v.length, 0x90, 16, -1, 0xdc, 0xdd, "array");
      for (const e of v) this.value(e);
    } else if (v instanceof Uint8Array) {
      this.length(v.length, -1, 0, 0xc4, 0xc5, 0xc6, "binary");
      this.raw(v);
    } else if (isPlainObject(v)) {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined);
      this.length(keys.length, 0x80, 16, -1, 0xde, 0xdf, "map");
      for (const k of keys) {
        this.str(k);
        this.value(v[k]);
      }
    } else this.raw(fallback.encode(v));
  }
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const writer = new Writer();

/** MessagePack bytes of plain data (records' `toPlain`), as Python's msgpack writes them. */
export function encodeMsgpack(value: unknown): Uint8Array {
  writer.pos = 0;
  writer.value(value);
  const out = writer.buf.slice(0, writer.pos);
  if (writer.buf.length > 1 << 20) writer.buf = new Uint8Array(4096); // do not hold on to a large buffer
  writer.view = new DataView(writer.buf.buffer);
  return out;
}
