/**
 * The direct codecs of Literals (see `wire.ts`): `Primitive` ints, bigints, floats, strings and
 * booleans, and `LiteralCollection`s and `LiteralMap`s of anything that has a codec. Each one
 * writes exactly the bytes protobuf-es's `toBinary` writes for the Literal `toLiteral` builds,
 * and reads only the shapes it is sure of, returning MISMATCH for anything else.
 */
import { prefixPath } from "./flyte-type.js";
import {
  type LiteralCodec,
  MISMATCH,
  readUtf8,
  type SizeLog,
  utf8Length,
  varint64Size,
  varintSize,
  WIRE_FALLBACK,
  type WireReader,
  type WireWriter,
} from "./wire.js";

// ---- primitives: Literal { scalar (1) { primitive (1) { <field> } } } ----

/** Size of a scalar Literal whose Primitive is `p` bytes. */
function primitiveLiteralSize(p: number): number {
  const s = 1 + varintSize(p) + p;
  return 1 + varintSize(s) + s;
}

/** Writes the length and the Literal/Scalar headers of a Primitive of `p` bytes. */
function primitiveHeader(w: WireWriter, p: number): void {
  const s = 1 + varintSize(p) + p;
  w.varint(1 + varintSize(s) + s);
  w.byte(0x0a);
  w.varint(s);
  w.byte(0x0a);
  w.varint(p);
}

/** Something that validates values of a type as its `toLiteral` does. */
export interface Validator<T> {
  validate(value: unknown): T;
}

function intSize(n: number): number {
  return n >= 0 ? varintSize(n) : 10;
}

function writeInt(w: WireWriter, n: number): void {
  if (n >= 0) w.varint(n);
  else {
    const hi = Math.floor(n / 4294967296);
    w.varint64((n - hi * 4294967296) >>> 0, hi | 0);
  }
}

/** `Primitive.integer` (field 1, varint) from a safe-integer number. */
export class IntCodec implements LiteralCodec<number> {
  constructor(readonly type: Validator<number>) {}
  size(value: number): number {
    return primitiveLiteralSize(1 + intSize(this.type.validate(value)));
  }
  write(value: number, w: WireWriter): void {
    primitiveHeader(w, 1 + intSize(value));
    w.byte(0x08);
    writeInt(w, value);
  }
  read(r: WireReader, end: number): number | typeof MISMATCH {
    if (!r.openPrimitive(end) || r.buf[r.pos] !== 0x08) return MISMATCH;
    r.pos++;
    const n = r.safeInt(end);
    return Number.isNaN(n) ? MISMATCH : n; // NaN: not a safe integer, or not exactly one varint
  }
}

function bigWords(v: bigint): [number, number] {
  return [Number(BigInt.asUintN(32, v)), Number(BigInt.asIntN(32, v >> 32n))];
}

/** `Primitive.integer` from a bigint (full int64 range). */
export class BigIntCodec implements LiteralCodec<bigint> {
  constructor(readonly type: Validator<bigint>) {}
  size(value: bigint): number {
    const [lo, hi] = bigWords(this.type.validate(value));
    return primitiveLiteralSize(1 + varint64Size(lo, hi));
  }
  write(value: bigint, w: WireWriter): void {
    const [lo, hi] = bigWords(value);
    primitiveHeader(w, 1 + varint64Size(lo, hi));
    w.byte(0x08);
    w.varint64(lo, hi);
  }
  read(r: WireReader, end: number): bigint | typeof MISMATCH {
    if (!r.openPrimitive(end) || r.buf[r.pos] !== 0x08) return MISMATCH;
    r.pos++;
    if (!r.varint64(end) || r.pos !== end) return MISMATCH;
    return BigInt.asIntN(64, (BigInt(r.hi >>> 0) << 32n) | BigInt(r.lo));
  }
}

/** `Primitive.float_value` (field 2, double). Reading also takes an integer, as FloatType does. */
export class FloatCodec implements LiteralCodec<number> {
  constructor(readonly type: Validator<number>) {}
  size(value: number): number {
    this.type.validate(value);
    return primitiveLiteralSize(9);
  }
  write(value: number, w: WireWriter): void {
    primitiveHeader(w, 9);
    w.byte(0x11);
    w.view.setFloat64(w.pos, value, true);
    w.pos += 8;
  }
  read(r: WireReader, end: number): number | typeof MISMATCH {
    if (!r.openPrimitive(end)) return MISMATCH;
    const tag = r.buf[r.pos];
    r.pos++;
    if (tag === 0x11 && r.pos + 8 === end) {
      const v = r.view.getFloat64(r.pos, true);
      r.pos = end;
      return v;
    }
    if (tag !== 0x08) return MISMATCH;
    const n = r.safeInt(end);
    return Number.isNaN(n) ? MISMATCH : n;
  }
}

/** `Primitive.string_value` (field 3). */
export class StringCodec implements LiteralCodec<string> {
  constructor(readonly type: Validator<string>) {}
  size(value: string, log: SizeLog): number {
    const n = utf8Length(this.type.validate(value));
    log.push(n);
    return primitiveLiteralSize(1 + varintSize(n) + n);
  }
  write(value: string, w: WireWriter): void {
    const n = w.next();
    primitiveHeader(w, 1 + varintSize(n) + n);
    w.byte(0x1a);
    w.varint(n);
    w.utf8(value, n);
  }
  read(r: WireReader, end: number): string | typeof MISMATCH {
    if (!r.openPrimitive(end) || r.buf[r.pos] !== 0x1a) return MISMATCH;
    r.pos++;
    const n = r.len(end);
    if (n < 0 || r.pos + n !== end) return MISMATCH;
    const s = readUtf8(r.buf, r.pos, end);
    r.pos = end;
    return s;
  }
}

/** `Primitive.boolean` (field 4). */
export class BoolCodec implements LiteralCodec<boolean> {
  constructor(readonly type: Validator<boolean>) {}
  size(value: boolean): number {
    this.type.validate(value);
    return primitiveLiteralSize(2);
  }
  write(value: boolean, w: WireWriter): void {
    primitiveHeader(w, 2);
    w.byte(0x20);
    w.byte(value ? 1 : 0);
  }
  read(r: WireReader, end: number): boolean | typeof MISMATCH {
    if (!r.openPrimitive(end) || r.buf[r.pos] !== 0x20 || r.pos + 2 !== end) return MISMATCH;
    const v = r.buf[r.pos + 1];
    r.pos = end;
    return v === 1 ? true : v === 0 ? false : MISMATCH;
  }
}

// ---- collections: Literal { collection (2) { literals (1)... } } and Literal { map (3) { ... } } ----

/** Lists: `Literal.collection`. `check` throws what `ListType.toLiteral` throws for a non-array. */
export class ListCodec<T> implements LiteralCodec<T[]> {
  constructor(
    readonly element: LiteralCodec<T>,
    readonly check: (value: unknown) => void,
  ) {}
  size(value: T[], log: SizeLog): number {
    this.check(value);
    const slot = log.length;
    log.push(0);
    const el = this.element;
    let body = 0;
    let i = 0;
    try {
      for (; i < value.length; i++) {
        const s = el.size(value[i] as T, log);
        body += 1 + varintSize(s) + s;
      }
    } catch (err) {
      throw prefixPath(err, `[${i}]`);
    }
    log[slot] = body;
    return 1 + varintSize(body) + body;
  }
  write(value: T[], w: WireWriter): void {
    const body = w.next();
    w.varint(1 + varintSize(body) + body);
    w.byte(0x12);
    w.varint(body);
    const el = this.element;
    for (let i = 0; i < value.length; i++) {
      w.byte(0x0a);
      el.write(value[i] as T, w);
    }
  }
  read(r: WireReader, end: number): T[] | typeof MISMATCH {
    const b = r.buf;
    if (r.pos >= end || b[r.pos] !== 0x12) return MISMATCH;
    r.pos++;
    const n = r.len(end);
    if (n < 0 || r.pos + n !== end) return MISMATCH;
    const el = this.element;
    const out: T[] = [];
    while (r.pos < end) {
      if (b[r.pos] !== 0x0a) return MISMATCH;
      r.pos++;
      const len = r.len(end);
      if (len < 0) return MISMATCH;
      const v = el.read(r, r.pos + len);
      if (v === MISMATCH) return MISMATCH;
      out.push(v);
    }
    return out;
  }
}

/** Maps with string keys: `Literal.map`. `check` throws what `MapType.toLiteral` throws for a non-object. */
export class MapCodec<T> implements LiteralCodec<Record<string, T>> {
  constructor(
    readonly value: LiteralCodec<T>,
    readonly check: (value: unknown) => void,
  ) {}
  size(value: Record<string, T>, log: SizeLog): number {
    this.check(value);
    const slot = log.length;
    log.push(0);
    const el = this.value;
    let body = 0;
    for (const k of Object.keys(value)) {
      // MapType.toLiteral assigns `out[k]`, which for "__proto__" sets the prototype: keep that path.
      if (k === "__proto__") throw WIRE_FALLBACK;
      const entrySlot = log.length;
      const kb = utf8Length(k);
      log.push(0, kb);
      let s: number;
      try {
        s = el.size(value[k] as T, log);
      } catch (err) {
        throw prefixPath(err, `.${k}`);
      }
      const entry = 1 + varintSize(kb) + kb + 1 + varintSize(s) + s;
      log[entrySlot] = entry;
      body += 1 + varintSize(entry) + entry;
    }
    log[slot] = body;
    return 1 + varintSize(body) + body;
  }
  write(value: Record<string, T>, w: WireWriter): void {
    const body = w.next();
    w.varint(1 + varintSize(body) + body);
    w.byte(0x1a);
    w.varint(body);
    const el = this.value;
    for (const k of Object.keys(value)) {
      const entry = w.next();
      const kb = w.next();
      w.byte(0x0a);
      w.varint(entry);
      w.byte(0x0a);
      w.varint(kb);
      w.utf8(k, kb);
      w.byte(0x12);
      el.write(value[k] as T, w);
    }
  }
  read(r: WireReader, end: number): Record<string, T> | typeof MISMATCH {
    const b = r.buf;
    if (r.pos >= end || b[r.pos] !== 0x1a) return MISMATCH;
    r.pos++;
    const n = r.len(end);
    if (n < 0 || r.pos + n !== end) return MISMATCH;
    const el = this.value;
    const out: Record<string, T> = {};
    while (r.pos < end) {
      if (b[r.pos] !== 0x0a) return MISMATCH;
      r.pos++;
      const len = r.len(end);
      if (len < 0) return MISMATCH;
      const entryEnd = r.pos + len;
      if (!r.entry(entryEnd) || r.key === "__proto__") return MISMATCH;
      const key = r.key;
      r.pos = r.valueStart;
      const v = el.read(r, r.valueEnd);
      if (v === MISMATCH) return MISMATCH;
      r.pos = entryEnd;
      out[key] = v;
    }
    return out;
  }
}

// ---- binary scalars: Literal { scalar (1) { binary (3) { value (1), tag (2) } } } ----

/**
 * Binary literals with a fixed tag (records: MessagePack, tag `msgpack`). `encode` validates and
 * serializes a value (throwing what `toLiteral` throws); `decode` reads the bytes back, and
 * returns MISMATCH (or throws) when the value must take the `fromLiteral` path.
 */
export class BinaryCodec<T> implements LiteralCodec<T> {
  readonly #tag: Uint8Array;
  constructor(
    readonly encode: (value: T) => Uint8Array,
    readonly decode: (bytes: Uint8Array) => T | typeof MISMATCH,
    tag: string,
  ) {
    this.#tag = new TextEncoder().encode(tag);
  }
  #binarySize(n: number): number {
    // protobuf-es leaves out an empty value or tag (proto3 defaults).
    const t = this.#tag.length;
    return (n > 0 ? 1 + varintSize(n) + n : 0) + (t > 0 ? 1 + varintSize(t) + t : 0);
  }
  size(value: T, log: SizeLog): number {
    const bytes = this.encode(value);
    log.push(bytes);
    const b = this.#binarySize(bytes.length);
    const s = 1 + varintSize(b) + b;
    return 1 + varintSize(s) + s;
  }
  write(_value: T, w: WireWriter): void {
    const bytes = w.nextBytes();
    const b = this.#binarySize(bytes.length);
    const s = 1 + varintSize(b) + b;
    w.varint(1 + varintSize(s) + s);
    w.byte(0x0a);
    w.varint(s);
    w.byte(0x1a);
    w.varint(b);
    if (bytes.length > 0) {
      w.byte(0x0a);
      w.varint(bytes.length);
      w.bytes(bytes);
    }
    const tag = this.#tag;
    if (tag.length > 0) {
      w.byte(0x12);
      w.varint(tag.length);
      w.bytes(tag);
    }
  }
  read(r: WireReader, end: number): T | typeof MISMATCH {
    const b = r.buf;
    if (b[r.pos] !== 0x0a) return MISMATCH; // Literal.scalar
    r.pos++;
    const s = r.len(end);
    if (s < 0 || r.pos + s !== end || b[r.pos] !== 0x1a) return MISMATCH; // Scalar.binary
    r.pos++;
    const n = r.len(end);
    if (n < 0 || r.pos + n !== end) return MISMATCH;
    // Binary { value = 1, tag = 2 }, exactly in this order, the tag ours.
    if (b[r.pos] !== 0x0a) return MISMATCH;
    r.pos++;
    const vl = r.len(end);
    if (vl < 0) return MISMATCH;
    const value = b.subarray(r.pos, r.pos + vl);
    r.pos += vl;
    const tag = this.#tag;
    if (b[r.pos] !== 0x12 || r.pos + 2 + tag.length !== end || b[r.pos + 1] !== tag.length) return MISMATCH;
    for (let i = 0; i < tag.length; i++) if (b[r.pos + 2 + i] !== tag[i]) return MISMATCH;
    r.pos = end;
    try {
      return this.decode(value);
    } catch {
      return MISMATCH;
    }
  }
}
