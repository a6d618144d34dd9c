/**
 * The type engine's unit: a `FlyteType<T>` knows one family of values. It gives the Flyte
 * `LiteralType` for interfaces, converts a TypeScript value `T` to a `Literal` and back, and
 * parses text (CLI) or JSON (defaults, remote inputs). Declaring a task's inputs with these
 * types is what lets TypeScript infer the task function's parameter and return types.
 */
import { describeValue, FlyteTypeError } from "../errors.js";
import type { Literal, LiteralType } from "./literals.js";
import type { LiteralCodec } from "./wire.js";

/** What conversions need besides the value: where large data goes, and a scratch folder. */
export interface TypeContext {
  /** Prefix (local path, file:// or s3://) under which files, directories and dataframes are written. */
  readonly rawDataPrefix: string;
  /** A local folder for downloads made while reading literals. */
  readonly workDir: string;
}

/** The TypeScript value type carried by a FlyteType. */
export type ValueOf<F> = F extends FlyteType<infer T> ? T : never;

/** Base of every type. Subclasses implement one family. */
export abstract class FlyteType<T> {
  /** Phantom: the TypeScript type of values. Never set at run time. */
  declare readonly __value: T;
  /** Human-readable name, e.g. `int`, `list<string>`, `record Point`. */
  abstract readonly name: string;
  /** True when conversions may do I/O (files, dataframes) and so return promises. */
  readonly io: boolean = false;
  /** True when the value may be omitted (optional types): it is then `null`. */
  readonly optional: boolean = false;

  #literalType: LiteralType | undefined;

  /** The Flyte LiteralType (computed once). */
  get literalType(): LiteralType {
    this.#literalType ??= this.makeLiteralType();
    return this.#literalType;
  }

  /** Builds the LiteralType. */
  protected abstract makeLiteralType(): LiteralType;

  /** TS value -> Literal. Synchronous unless `io`. */
  abstract toLiteral(value: T, ctx: TypeContext): Literal | Promise<Literal>;

  /** Literal -> TS value. Synchronous unless `io`. */
  abstract fromLiteral(literal: Literal, ctx: TypeContext): T | Promise<T>;

  /**
   * The type's direct protobuf codec of Literals (see `wire.ts`), used by `toLiteralMapBytes`
   * and `fromLiteralMapBytes`; undefined (the default) when values take the `toLiteral` /
   * `fromLiteral` path. Types that return one must write the bytes `toBinary` writes for
   * `toLiteral`'s Literal, and throw the same errors.
   */
  get wire(): LiteralCodec<T> | undefined {
    return undefined;
  }

  /** JSON (already parsed) -> TS value, validated. Used for CLI inputs and defaults. */
  abstract fromJson(json: unknown): T;

  /** TS value -> JSON-compatible value, for printing and `--json`. */
  abstract toJson(value: T): unknown;

  /** Text from the command line -> TS value. JSON by default. */
  parseText(text: string): T {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw typeError(
        "TYPE_PARSE",
        `cannot parse ${describeValue(text)} as ${this.name}`,
        text,
        `give JSON text for a ${this.name}`,
      );
    }
    return this.fromJson(json);
  }
}

/** Builds a FlyteTypeError with a path that containers extend as the error bubbles up. */
export function typeError(code: string, message: string, value: unknown, fix: string): FlyteTypeError {
  const err = new FlyteTypeError(code, message, { fix });
  (err as { value?: unknown }).value = value;
  return err;
}

/** Prefixes the path of a nested conversion error (`[3]`, `.key`) and rethrows. */
export function atPath<R>(segment: string, fn: () => R): R {
  try {
    return fn();
  } catch (err) {
    throw prefixPath(err, segment);
  }
}

/** Adds `segment` in front of the error's value path. */
export function prefixPath(err: unknown, segment: string): unknown {
  if (err && typeof err === "object" && "code" in err) {
    const e = err as unknown as { path?: string };
    e.path = segment + (e.path ?? "");
  }
  return err;
}

/** Reads `literal.value.value` as a primitive of the given case, or throws. */
export function expectPrimitive<C extends string>(literal: Literal, kase: C, typeName: string): unknown {
  if (literal.value.case === "scalar") {
    const s = literal.value.value.value;
    if (s.case === "primitive" && s.value.value.case === kase) return s.value.value.value;
    if (s.case === "union" && s.value.value) return expectPrimitive(s.value.value, kase, typeName);
  }
  throw typeError(
    "TYPE_LITERAL_MISMATCH",
    `expected a ${typeName} literal, got ${literalKind(literal)}`,
    literal,
    "check that the producer's output type matches this input's type",
  );
}

/** A short description of a literal's kind, for errors. */
export function literalKind(literal: Literal): string {
  const v = literal.value;
  if (v.case === "scalar") {
    const s = v.value.value;
    if (s.case === "primitive") return `primitive ${s.value.value.case ?? "empty"}`;
    return `scalar ${s.case ?? "empty"}`;
  }
  return v.case ?? "empty literal";
}

// ---- the registry: LiteralType -> FlyteType, for reading literals with no declared type ----

type Guesser = (
  lt: LiteralType,
  typeFor: (lt: LiteralType) => FlyteType<unknown>,
) => FlyteType<unknown> | undefined;
const guessers: Guesser[] = [];

/** Registers a function that maps a LiteralType to the FlyteType that reads it. */
export function registerTransformer(guess: Guesser): void {
  guessers.push(guess);
}

/** The FlyteType that reads literals of `lt` (for entities defined elsewhere, e.g. by flytekit). */
export function typeForLiteralType(lt: LiteralType): FlyteType<unknown> {
  for (const g of guessers) {
    const t = g(lt, typeForLiteralType);
    if (t) return t;
  }
  throw new FlyteTypeError("TYPE_UNSUPPORTED", `no transformer for literal type ${JSON.stringify(lt.type)}`, {
    fix: "this type is not supported by flytekit-ts yet",
  });
}
