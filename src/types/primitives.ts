/** Primitive types: integers, floats, strings, booleans, datetimes, durations, none, binary. */
import { describeValue } from "../errors.js";
import {
  isPythonBytesType,
  PYTHON_BYTES_CLASS,
  PYTHON_PICKLE_FORMAT,
  readPickledBytes,
  writePickledBytes,
} from "./blobs.js";
import {
  expectPrimitive,
  FlyteType,
  literalKind,
  registerTransformer,
  type TypeContext,
  typeError,
} from "./flyte-type.js";
import type { Literal, LiteralType } from "./literals.js";
import {
  blobType,
  boolLiteral,
  datetimeLiteral,
  durationLiteral,
  floatLiteral,
  intLiteral,
  noneLiteral,
  SimpleType,
  simpleType,
  stringLiteral,
} from "./literals.js";
import type { LiteralCodec } from "./wire.js";
import { BigIntCodec, BoolCodec, FloatCodec, IntCodec, StringCodec } from "./wire-codecs.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** INTEGER as a JS number; values must be safe integers (use `bigint()` for the full int64 range). */
export class IntType extends FlyteType<number> {
  readonly name = "int";
  protected makeLiteralType() {
    return simpleType(SimpleType.INTEGER);
  }
  /** Returns `value` if it is a safe integer; throws the error `toLiteral` throws otherwise. */
  validate(value: unknown): number {
    if (!Number.isSafeInteger(value)) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not a safe integer`,
        value,
        "pass a whole number between -(2^53-1) and 2^53-1, or declare the type as t.bigint() for the full int64 range",
      );
    }
    return value as number;
  }
  #wire: IntCodec | undefined;
  /** Writes and reads `Primitive.integer` directly. */
  override get wire(): LiteralCodec<number> {
    this.#wire ??= new IntCodec(this);
    return this.#wire;
  }
  toLiteral(value: number): Literal {
    return intLiteral(BigInt(this.validate(value)));
  }
  fromLiteral(literal: Literal): number {
    const v = expectPrimitive(literal, "integer", "int") as bigint;
    const n = Number(v);
    if (!Number.isSafeInteger(n)) {
      throw typeError(
        "TYPE_INT_RANGE",
        `integer ${v} does not fit a JS number`,
        v,
        "declare this value as t.bigint()",
      );
    }
    return n;
  }
  fromJson(json: unknown): number {
    if (typeof json === "number" && Number.isSafeInteger(json)) return json;
    if (typeof json === "bigint" && Number.isSafeInteger(Number(json))) return Number(json);
    if (typeof json === "string" && /^-?\d+$/.test(json.trim())) return this.fromJson(Number(json));
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not an integer`,
      json,
      "give a whole number, e.g. 42",
    );
  }
  toJson(value: number): unknown {
    return value;
  }
  override parseText(text: string): number {
    const s = text.trim();
    if (/^[-+]?\d+$/.test(s)) {
      const n = Number(s);
      if (Number.isSafeInteger(n)) return n;
    }
    throw typeError(
      "TYPE_PARSE",
      `${describeValue(text)} is not an integer`,
      text,
      "give a whole number, e.g. 42",
    );
  }
}

/** INTEGER as a bigint: the full int64 range. */
export class BigIntType extends FlyteType<bigint> {
  readonly name = "bigint";
  protected makeLiteralType() {
    return simpleType(SimpleType.INTEGER);
  }
  /** Returns `value` if it is an int64 bigint; throws the error `toLiteral` throws otherwise. */
  validate(value: unknown): bigint {
    if (typeof value !== "bigint" || value < INT64_MIN || value > INT64_MAX) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not an int64 bigint`,
        value,
        "pass a bigint within the int64 range, e.g. 42n",
      );
    }
    return value;
  }
  #wire: BigIntCodec | undefined;
  /** Writes and reads `Primitive.integer` directly. */
  override get wire(): LiteralCodec<bigint> {
    this.#wire ??= new BigIntCodec(this);
    return this.#wire;
  }
  toLiteral(value: bigint): Literal {
    return intLiteral(this.validate(value));
  }
  fromLiteral(literal: Literal): bigint {
    return expectPrimitive(literal, "integer", "int") as bigint;
  }
  fromJson(json: unknown): bigint {
    if (typeof json === "bigint") return json;
    if (
      (typeof json === "number" && Number.isInteger(json)) ||
      (typeof json === "string" && /^-?\d+$/.test(json.trim()))
    ) {
      const b = BigInt(json as number | string);
      if (b >= INT64_MIN && b <= INT64_MAX) return b;
    }
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not an int64 integer`,
      json,
      "give a whole number within the int64 range",
    );
  }
  toJson(value: bigint): unknown {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  override parseText(text: string): bigint {
    return this.fromJson(text);
  }
}

/** FLOAT as a JS number. */
export class FloatType extends FlyteType<number> {
  readonly name = "float";
  protected makeLiteralType() {
    return simpleType(SimpleType.FLOAT);
  }
  /** Returns `value` if it is a number (NaN and infinities included); throws otherwise. */
  validate(value: unknown): number {
    if (typeof value !== "number") {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not a number`,
        value,
        "pass a number",
      );
    }
    return value;
  }
  #wire: FloatCodec | undefined;
  /** Writes and reads `Primitive.float_value` directly. */
  override get wire(): LiteralCodec<number> {
    this.#wire ??= new FloatCodec(this);
    return this.#wire;
  }
  toLiteral(value: number): Literal {
    return floatLiteral(this.validate(value));
  }
  fromLiteral(literal: Literal): number {
    // flytekit accepts an INTEGER literal where a float is expected; so do we.
    if (literal.value.case === "scalar" && literal.value.value.value.case === "primitive") {
      const p = literal.value.value.value.value.value;
      if (p.case === "integer") return Number(p.value);
    }
    return expectPrimitive(literal, "floatValue", "float") as number;
  }
  fromJson(json: unknown): number {
    if (typeof json === "number") return json;
    if (typeof json === "string" && json.trim() !== "" && !Number.isNaN(Number(json))) return Number(json);
    if (json === "NaN" || json === "nan") return Number.NaN;
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not a number`,
      json,
      "give a number, e.g. 0.5",
    );
  }
  toJson(value: number): unknown {
    return value;
  }
  override parseText(text: string): number {
    const s = text.trim();
    if (s !== "" && !Number.isNaN(Number(s))) return Number(s);
    if (/^(nan|inf|-inf|infinity|-infinity)$/i.test(s))
      return s.startsWith("-") ? -Infinity : /nan/i.test(s) ? Number.NaN : Infinity;
    throw typeError("TYPE_PARSE", `${describeValue(text)} is not a number`, text, "give a number, e.g. 0.5");
  }
}

/** STRING. */
export class StringType extends FlyteType<string> {
  readonly name = "string";
  protected makeLiteralType() {
    return simpleType(SimpleType.STRING);
  }
  /** Returns `value` if it is a string; throws the error `toLiteral` throws otherwise. */
  validate(value: unknown): string {
    if (typeof value !== "string") {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not a string`,
        value,
        "pass a string",
      );
    }
    return value;
  }
  #wire: StringCodec | undefined;
  /** Writes and reads `Primitive.string_value` directly. */
  override get wire(): LiteralCodec<string> {
    this.#wire ??= new StringCodec(this);
    return this.#wire;
  }
  toLiteral(value: string): Literal {
    return stringLiteral(this.validate(value));
  }
  fromLiteral(literal: Literal): string {
    return expectPrimitive(literal, "stringValue", "string") as string;
  }
  fromJson(json: unknown): string {
    if (typeof json === "string") return json;
    throw typeError("TYPE_INVALID_VALUE", `${describeValue(json)} is not a string`, json, "give a string");
  }
  toJson(value: string): unknown {
    return value;
  }
  override parseText(text: string): string {
    return text;
  }
}

/** BOOLEAN. */
export class BoolType extends FlyteType<boolean> {
  readonly name = "bool";
  protected makeLiteralType() {
    return simpleType(SimpleType.BOOLEAN);
  }
  /** Returns `value` if it is a boolean; throws the error `toLiteral` throws otherwise. */
  validate(value: unknown): boolean {
    if (typeof value !== "boolean") {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not a boolean`,
        value,
        "pass true or false",
      );
    }
    return value;
  }
  #wire: BoolCodec | undefined;
  /** Writes and reads `Primitive.boolean` directly. */
  override get wire(): LiteralCodec<boolean> {
    this.#wire ??= new BoolCodec(this);
    return this.#wire;
  }
  toLiteral(value: boolean): Literal {
    return boolLiteral(this.validate(value));
  }
  fromLiteral(literal: Literal): boolean {
    return expectPrimitive(literal, "boolean", "bool") as boolean;
  }
  fromJson(json: unknown): boolean {
    if (typeof json === "boolean") return json;
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not a boolean`,
      json,
      "give true or false",
    );
  }
  toJson(value: boolean): unknown {
    return value;
  }
  override parseText(text: string): boolean {
    const s = text.trim().toLowerCase();
    if (["true", "1", "yes", "y", "t"].includes(s)) return true;
    if (["false", "0", "no", "n", "f"].includes(s)) return false;
    throw typeError("TYPE_PARSE", `${describeValue(text)} is not a boolean`, text, "give true or false");
  }
}

/** DATETIME as a JS Date (millisecond precision; sub-millisecond nanos are dropped on read). */
export class DatetimeType extends FlyteType<Date> {
  readonly name = "datetime";
  protected makeLiteralType() {
    return simpleType(SimpleType.DATETIME);
  }
  /** Returns `value` if it is a valid Date; throws the error `toLiteral` throws otherwise. */
  validate(value: unknown): Date {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not a valid Date`,
        value,
        "pass a valid Date",
      );
    }
    return value;
  }
  toLiteral(value: Date): Literal {
    this.validate(value);
    const ms = value.getTime();
    const seconds = Math.floor(ms / 1000);
    return datetimeLiteral({
      $typeName: "google.protobuf.Timestamp",
      seconds: BigInt(seconds),
      nanos: (ms - seconds * 1000) * 1_000_000,
    });
  }
  fromLiteral(literal: Literal): Date {
    const ts = expectPrimitive(literal, "datetime", "datetime") as { seconds: bigint; nanos: number };
    return new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000));
  }
  fromJson(json: unknown): Date {
    if (json instanceof Date) return json;
    if (typeof json === "string" || typeof json === "number") {
      const d = new Date(json);
      if (!Number.isNaN(d.getTime())) return d;
    }
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not a datetime`,
      json,
      "give an ISO 8601 date-time, e.g. 2024-01-31T12:00:00Z",
    );
  }
  toJson(value: Date): unknown {
    return value.toISOString();
  }
  override parseText(text: string): Date {
    return this.fromJson(text);
  }
}

/** DURATION as milliseconds (a JS number). */
export class DurationType extends FlyteType<number> {
  readonly name = "duration";
  protected makeLiteralType() {
    return simpleType(SimpleType.DURATION);
  }
  /** Returns `value` if it is a finite number of milliseconds; throws the error `toLiteral` throws otherwise. */
  validate(value: unknown): number {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not a duration in milliseconds`,
        value,
        "pass a finite number of milliseconds",
      );
    }
    return value;
  }
  toLiteral(value: number): Literal {
    this.validate(value);
    const seconds = Math.trunc(value / 1000);
    const nanos = Math.round((value - seconds * 1000) * 1_000_000);
    return durationLiteral({ $typeName: "google.protobuf.Duration", seconds: BigInt(seconds), nanos });
  }
  fromLiteral(literal: Literal): number {
    const d = expectPrimitive(literal, "duration", "duration") as { seconds: bigint; nanos: number };
    return Number(d.seconds) * 1000 + d.nanos / 1_000_000;
  }
  fromJson(json: unknown): number {
    if (typeof json === "number" && Number.isFinite(json)) return json;
    if (typeof json === "string") return parseDuration(json);
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not a duration`,
      json,
      "give milliseconds or a duration like 1h30m, 90s, 250ms",
    );
  }
  toJson(value: number): unknown {
    return value;
  }
  override parseText(text: string): number {
    return this.fromJson(/^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text);
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `1h30m`, `90s`, `250ms`, `2d` into milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== s.length) {
    throw typeError(
      "TYPE_PARSE",
      `${describeValue(text)} is not a duration`,
      text,
      "write a duration like 1h30m, 90s or 250ms",
    );
  }
  return total;
}

/** NONE: the value `null`. */
export class NoneType extends FlyteType<null> {
  readonly name = "none";
  protected makeLiteralType() {
    return simpleType(SimpleType.NONE);
  }
  toLiteral(value: null): Literal {
    if (value !== null && value !== undefined) {
      throw typeError("TYPE_INVALID_VALUE", `${describeValue(value)} is not null`, value, "pass null");
    }
    return noneLiteral();
  }
  fromLiteral(literal: Literal): null {
    if (literal.value.case === "scalar" && literal.value.value.value.case === "noneType") return null;
    throw typeError(
      "TYPE_LITERAL_MISMATCH",
      `expected a none literal, got ${literalKind(literal)}`,
      literal,
      "check the producer's output type",
    );
  }
  fromJson(json: unknown): null {
    if (json === null || json === undefined) return null;
    throw typeError("TYPE_INVALID_VALUE", `${describeValue(json)} is not null`, json, "give null");
  }
  toJson(): unknown {
    return null;
  }
}

/**
 * Bytes, written as flytekit writes a Python `bytes` value (it has no BINARY transformer): the
 * bytes pickled into a blob of format `PythonPickle`, so a Python task declaring `bytes` reads
 * them and the reverse. Reading also accepts a Flyte BINARY literal. Inside records, bytes are
 * MessagePack binary, as in flytekit dataclasses.
 */
export class BytesType extends FlyteType<Uint8Array> {
  readonly name = "bytes";
  override readonly io = true;
  protected makeLiteralType(): LiteralType {
    return {
      ...blobType(PYTHON_PICKLE_FORMAT, false),
      metadata: { python_class_name: PYTHON_BYTES_CLASS },
    } as LiteralType;
  }
  /** Throws unless `value` is a Uint8Array. */
  validate(value: unknown): Uint8Array {
    if (!(value instanceof Uint8Array)) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not a Uint8Array`,
        value,
        "pass a Uint8Array or Buffer",
      );
    }
    return value;
  }
  toLiteral(value: Uint8Array, ctx: TypeContext): Promise<Literal> {
    try {
      return writePickledBytes(this.validate(value), ctx);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  fromLiteral(literal: Literal): Uint8Array | Promise<Uint8Array> {
    if (literal.value.case === "scalar") {
      const s = literal.value.value.value;
      if (s.case === "binary") return s.value.value;
      if (s.case === "blob") return readPickledBytes(literal);
      if (s.case === "union" && s.value.value) return this.fromLiteral(s.value.value);
    }
    throw typeError(
      "TYPE_LITERAL_MISMATCH",
      `expected a pickled-bytes blob or a binary literal, got ${literalKind(literal)}`,
      literal,
      "check the producer's output type",
    );
  }
  fromJson(json: unknown): Uint8Array {
    if (json instanceof Uint8Array) return json;
    if (typeof json === "string") return new Uint8Array(Buffer.from(json, "base64"));
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not base64 bytes`,
      json,
      "give base64 text",
    );
  }
  toJson(value: Uint8Array): unknown {
    return Buffer.from(value).toString("base64");
  }
  override parseText(text: string): Uint8Array {
    return this.fromJson(text);
  }
}

const INT = new IntType();
const FLOAT = new FloatType();
const STRING = new StringType();
const BOOL = new BoolType();
const DATETIME = new DatetimeType();
const DURATION = new DurationType();
const NONE = new NoneType();
const BYTES = new BytesType();
const BIGINT = new BigIntType();

/** Shared instances (types are immutable). */
export const primitives = {
  int: INT,
  bigint: BIGINT,
  float: FLOAT,
  string: STRING,
  bool: BOOL,
  datetime: DATETIME,
  duration: DURATION,
  none: NONE,
  bytes: BYTES,
};

registerTransformer((lt) => {
  if (isPythonBytesType(lt)) return BYTES as FlyteType<unknown>;
  if (lt.type.case !== "simple") return undefined;
  switch (lt.type.value) {
    case SimpleType.INTEGER:
      return BIGINT as FlyteType<unknown>;
    case SimpleType.FLOAT:
      return FLOAT as FlyteType<unknown>;
    case SimpleType.STRING:
      return STRING as FlyteType<unknown>;
    case SimpleType.BOOLEAN:
      return BOOL as FlyteType<unknown>;
    case SimpleType.DATETIME:
      return DATETIME as FlyteType<unknown>;
    case SimpleType.DURATION:
      return DURATION as FlyteType<unknown>;
    case SimpleType.NONE:
      return NONE as FlyteType<unknown>;
    case SimpleType.BINARY:
      return BYTES as FlyteType<unknown>;
    default:
      return undefined;
  }
});
