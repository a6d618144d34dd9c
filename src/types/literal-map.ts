/** Whole interfaces: a map of named types <-> a LiteralMap, and the Flyte VariableMap. */
import { describeValue, FlyteTypeError } from "../errors.js";
import type { Variable, VariableMap } from "../proto/gen/flyteidl/core/interface_pb.js";
import type { FlyteType, TypeContext, ValueOf } from "./flyte-type.js";
import { type Literal, type LiteralMap, literalMap } from "./literals.js";

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
  const out: Record<string, Literal> = {};
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
  return literalMap(out);
}

/** Converts a LiteralMap to values by the schema. */
export async function fromLiteralMap<S extends Schema>(
  schema: S,
  map: LiteralMap,
  ctx: TypeContext,
  entity: string,
  direction = "input",
): Promise<Values<S>> {
  const out: Record<string, unknown> = {};
  const pending: Promise<void>[] = [];
  for (const [k, type] of Object.entries(schema)) {
    const lit = map.literals[k];
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
