/**
 * Whole interfaces: a map of named types <-> a LiteralMap or its protobuf bytes, and the Flyte
 * VariableMap.
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { describeValue, FlyteTypeError } from "../errors.js";
import type { Variable, VariableMap } from "../proto/gen/flyteidl/core/interface_pb.js";
import { LiteralMapSchema, LiteralSchema } from "../proto/gen/flyteidl/core/literals_pb.js";
import type { FlyteType, TypeContext, ValueOf } from "./flyte-type.js";
import { type Literal, type LiteralMap, literalMap } from "./literals.js";
import {
  encodeLiteral,
  indexLiteralMap,
  MISMATCH,
  utf8Length,
  varintSize,
  WireReader,
  WireWriter,
} from "./wire.js";

/** Named types: the inputs or outputs of a task or workflow. */
export type Schema = Record<string, FlyteType<unknown>>;

type NullableKeys<S extends Schema> = { [K in keyof S]: null extends ValueOf<S[K]> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The values of a schema, every key present (optional types are `null` when not given). */
export type Values<S extends Schema> = Simplify<{ -readonly [K in keyof S]: ValueOf<S[K]> }>;

/** The values a caller passes: keys whose type admits null may be omitted. */
export type InputValues<S extends Schema> = Simplify<
  { [K in Exclude<keyof S, NullableKeys<S>>]: ValueOf<S[K]> } & { [K in NullableKeys<S>]?: ValueOf<S[K]> }
>;

function wrap(err: unknown, entity: string, direction: string, key: string): unknown {
  if (err instanceof FlyteTypeError) {
    const path = (err as { path?: string }).path ?? "";
    const value = (err as { value?: unknown }).value;
    const e = new FlyteTypeError(err.code, `${direction} "${key}${path}": ${err.message}`, {
      entity,
      cause: err,
    });
    (e as { value?: unknown }).value = value;
    return e;
  }
  return err;
}

/** A value read directly from bytes by a type's wire codec (no Literal in between). */
class Direct {
  constructor(readonly value: unknown) {}
}

/**
 * Converts `values` key by key: `encode` (when given) turns a value into the bytes of its
 * Literal directly, or returns undefined for the key to take `toLiteral`. The result keeps the
 * key order `toLiteralMap` always had (synchronous keys in schema order, then the others as
 * their promises settle), which is the order protobuf-es writes the map in.
 */
async function convertValues(
  schema: Schema,
  values: Record<string, unknown>,
  ctx: TypeContext,
  entity: string,
  direction: string,
  encode: ((type: FlyteType<unknown>, value: unknown) => Uint8Array | undefined) | undefined,
): Promise<Record<string, Literal | Uint8Array>> {
  const out: Record<string, Literal | Uint8Array> = {};
  const pending: Promise<void>[] = [];
  for (const [k, type] of Object.entries(schema)) {
    let v = values[k];
    if (v === undefined) {
      if (!type.optional) {
        throw new FlyteTypeError("VALUE_MISSING", `${direction} "${k}" (${type.name}) has no value`, {
          entity,
          fix: `provide "${k}"`,
        });
      }
      v = null;
    }
    try {
      const bytes = encode?.(type, v);
      if (bytes !== undefined) {
        out[k] = bytes;
        continue;
      }
      const lit = type.toLiteral(v, ctx);
      if (lit instanceof Promise)
        pending.push(
          lit.then(
            (l) => {
              out[k] = l;
            },
            (err) => Promise.reject(wrap(err, entity, direction, k)),
          ),
        );
      else out[k] = lit;
    } catch (err) {
      throw wrap(err, entity, direction, k);
    }
  }
  for (const k of Object.keys(values)) {
    if (!(k in schema) && values[k] !== undefined) {
      throw new FlyteTypeError("VALUE_UNKNOWN", `unknown ${direction} "${k}" = ${describeValue(values[k])}`, {
        entity,
        fix: `the ${direction}s are: ${Object.keys(schema).join(", ") || "(none)"}`,
      });
    }
  }
  await Promise.all(pending);
  return out;
}

/**
 * Converts values to a LiteralMap by the schema. Missing optional values become null; missing
 * required values and unknown keys are errors naming `entity`.
 */
export async function toLiteralMap(
  schema: Schema,
  values: Record<string, unknown>,
  ctx: TypeContext,
  entity: string,
  direction = "input",
): Promise<LiteralMap> {
  return literalMap(
    (await convertValues(schema, values, ctx, entity, direction, undefined)) as Record<string, Literal>,
  );
}

/**
 * Converts values by the schema to the protobuf bytes of a flyteidl LiteralMap (what a task's
 * `inputs.pb` and `outputs.pb` hold). The bytes, and the errors, are those of `toLiteralMap`
 * followed by protobuf-es's `toBinary(LiteralMapSchema, ...)`; ints, bigints, floats, strings,
 * booleans, records and lists and maps of them are written directly, without building Literal
 * messages (about ten times faster for large lists); other types take `toLiteral`, key by key.
 */
export async function toLiteralMapBytes(
  schema: Schema,
  values: Record<string, unknown>,
  ctx: TypeContext,
  entity: string,
  direction = "input",
): Promise<Uint8Array> {
  const parts = await convertValues(schema, values, ctx, entity, direction, (type, v) => {
    const codec = type.wire;
    return codec === undefined ? undefined : encodeLiteral(codec, v);
  });
  // Each map entry: key (field 1) and the length-delimited Literal (field 2).
  const keys = Object.keys(parts);
  const entries: { keyBytes: number; value: Uint8Array; prefix: number; size: number }[] = [];
  let total = 0;
  for (const k of keys) {
    const part = parts[k]!;
    const value = part instanceof Uint8Array ? part : toBinary(LiteralSchema, part);
    const prefix = part instanceof Uint8Array ? 0 : varintSize(value.length); // fast parts carry their length
    const keyBytes = utf8Length(k);
    const size = 1 + varintSize(keyBytes) + keyBytes + 1 + prefix + value.length;
    entries.push({ keyBytes, value, prefix, size });
    total += 1 + varintSize(size) + size;
  }
  const w = new WireWriter(total, []);
  for (let i = 0; i < keys.length; i++) {
    const e = entries[i]!;
    w.byte(0x0a);
    w.varint(e.size);
    w.byte(0x0a);
    w.varint(e.keyBytes);
    w.utf8(keys[i]!, e.keyBytes);
    w.byte(0x12);
    if (e.prefix > 0) w.varint(e.value.length);
    w.bytes(e.value);
  }
  return w.buf;
}

/**
 * Converts values key by key; `find` gives a key's Literal, or its value already read, or
 * undefined when the map has no such key.
 */
async function convertLiterals<S extends Schema>(
  schema: S,
  find: (key: string, type: FlyteType<unknown>) => Literal | Direct | undefined,
  ctx: TypeContext,
  entity: string,
  direction: string,
): Promise<Values<S>> {
  const out: Record<string, unknown> = {};
  const pending: Promise<void>[] = [];
  for (const [k, type] of Object.entries(schema)) {
    const lit = find(k, type);
    if (lit === undefined) {
      if (type.optional) {
        out[k] = null;
        continue;
      }
      throw new FlyteTypeError(
        "VALUE_MISSING",
        `${direction} "${k}" (${type.name}) is missing from the literal map`,
        {
          entity,
          fix: `make sure the producer writes "${k}"`,
        },
      );
    }
    if (lit instanceof Direct) {
      out[k] = lit.value;
      continue;
    }
    try {
      const v = type.fromLiteral(lit, ctx);
      if (v instanceof Promise)
        pending.push(
          v.then(
            (x) => {
              out[k] = x;
            },
            (err) => Promise.reject(wrap(err, entity, direction, k)),
          ),
        );
      else out[k] = v;
    } catch (err) {
      throw wrap(err, entity, direction, k);
    }
  }
  await Promise.all(pending);
  return out as Values<S>;
}

/** Converts a LiteralMap to values by the schema. */
export async function fromLiteralMap<S extends Schema>(
  schema: S,
  map: LiteralMap,
  ctx: TypeContext,
  entity: string,
  direction = "input",
): Promise<Values<S>> {
  return convertLiterals(schema, (k) => map.literals[k], ctx, entity, direction);
}

/** protobuf-es's decoding of the whole map; its errors become LITERAL_MAP_CORRUPT. */
function decodeLiteralMap(bytes: Uint8Array, entity: string, direction: string): LiteralMap {
  try {
    return fromBinary(LiteralMapSchema, bytes);
  } catch (err) {
    throw new FlyteTypeError(
      "LITERAL_MAP_CORRUPT",
      `${direction}s are not a valid LiteralMap (${bytes.length} bytes): ${(err as Error).message}`,
      {
        entity,
        cause: err,
        fix: "check that the file holds a flyteidl.core.LiteralMap written by a Flyte SDK",
      },
    );
  }
}

/**
 * Converts the protobuf bytes of a flyteidl LiteralMap (a task's `inputs.pb` or `outputs.pb`)
 * to values by the schema: the same values and errors as protobuf-es's `fromBinary` followed by
 * `fromLiteralMap`, with ints, bigints, floats, strings, booleans, records and lists and maps of
 * them read directly from the bytes. Any valid encoding is accepted (other field orders, unknown fields,
 * `hash` or `metadata` set): whatever the direct readers do not recognise is decoded by
 * protobuf-es. Bytes that are not a valid LiteralMap throw a `FlyteTypeError` with code
 * `LITERAL_MAP_CORRUPT` whose `cause` is protobuf-es's error.
 */
export async function fromLiteralMapBytes<S extends Schema>(
  schema: S,
  bytes: Uint8Array,
  ctx: TypeContext,
  entity: string,
  direction = "input",
): Promise<Values<S>> {
  const index = indexLiteralMap(bytes);
  if (index === undefined)
    return fromLiteralMap(schema, decodeLiteralMap(bytes, entity, direction), ctx, entity, direction);
  const reader = new WireReader(bytes);
  const literalAt = (start: number, end: number) => fromBinary(LiteralSchema, bytes.subarray(start, end));
  try {
    // Entries the schema does not read must still be valid, as fromBinary checks them.
    for (const [k, [start, end]] of index) if (!Object.hasOwn(schema, k)) literalAt(start, end);
    return await convertLiterals(
      schema,
      (k, type) => {
        const range = index.get(k);
        if (range === undefined) return undefined;
        const codec = type.wire;
        if (codec !== undefined) {
          reader.pos = range[0];
          const v = codec.read(reader, range[1]);
          if (v !== MISMATCH) return new Direct(v);
        }
        return literalAt(range[0], range[1]);
      },
      ctx,
      entity,
      direction,
    );
  } catch {
    // Whatever failed (a bad value, or bytes protobuf-es reads more leniently than the direct
    // readers), take the old path from the start: the same values or errors, only slower.
    return fromLiteralMap(schema, decodeLiteralMap(bytes, entity, direction), ctx, entity, direction);
  }
}

/** The Flyte VariableMap of a schema (for TypedInterface). Keys keep declaration order. */
export function variableMap(schema: Schema, descriptions: Record<string, string> = {}): VariableMap {
  const variables: Record<string, Variable> = {};
  for (const [k, type] of Object.entries(schema)) {
    variables[k] = {
      $typeName: "flyteidl.core.Variable",
      type: type.literalType,
      description: descriptions[k] ?? "",
    } as Variable;
  }
  return { $typeName: "flyteidl.core.VariableMap", variables } as VariableMap;
}
