/** Unions of types and optional values (a union with none), as Flyte's UnionType. */
import { describeValue } from "../errors.js";
import { FlyteType, registerTransformer, type TypeContext, typeError } from "./flyte-type.js";
import { type Literal, type LiteralType, noneLiteral, typeStructure, unionLiteral } from "./literals.js";
import { NoneType, primitives } from "./primitives.js";

/**
 * The tag flytekit gives each variant (its Python type name), so that unions written by one
 * SDK are read by the other.
 */
export function variantTag(t: FlyteType<unknown>): string {
  const tags: Record<string, string> = {
    int: "int",
    bigint: "int",
    float: "float",
    string: "str",
    bool: "bool",
    datetime: "datetime",
    duration: "timedelta",
    none: "none",
    bytes: "bytes",
  };
  return tags[t.name] ?? (t as { pythonTag?: string }).pythonTag ?? t.name;
}

function withTag(lt: LiteralType, tag: string): LiteralType {
  return { ...lt, structure: typeStructure(tag, lt.structure?.dataclassType ?? {}) } as LiteralType;
}

/** A value of exactly one of several types. The first variant that accepts a value writes it. */
export class UnionType<T> extends FlyteType<T> {
  readonly name: string;
  override readonly io: boolean;
  override readonly optional: boolean;
  constructor(readonly variants: readonly FlyteType<unknown>[]) {
    super();
    this.name = variants.map((v) => v.name).join(" | ");
    this.io = variants.some((v) => v.io);
    this.optional = variants.some((v) => v instanceof NoneType);
  }
  protected makeLiteralType(): LiteralType {
    return {
      $typeName: "flyteidl.core.LiteralType",
      type: {
        case: "unionType",
        value: { $typeName: "flyteidl.core.UnionType", variants: this.variants.map((v) => withTag(v.literalType, variantTag(v))) },
      },
    } as LiteralType;
  }
  #variantFor(value: unknown): FlyteType<unknown> {
    if (value === null || value === undefined) {
      const none = this.variants.find((v) => v instanceof NoneType);
      if (none) return none;
    }
    for (const v of this.variants) {
      if (v instanceof NoneType) continue;
      try {
        v.fromJson(v.toJson(value));
        return v;
      } catch {
        // try the next variant
      }
    }
    throw typeError("TYPE_INVALID_VALUE", `${describeValue(value)} matches no variant of ${this.name}`, value, `pass a value of one of: ${this.name}`);
  }
  toLiteral(value: T, ctx: TypeContext): Literal | Promise<Literal> {
    const variant = this.#variantFor(value);
    const lt = withTag(variant.literalType, variantTag(variant));
    const inner = variant instanceof NoneType ? noneLiteral() : variant.toLiteral(value, ctx);
    return inner instanceof Promise ? inner.then((l) => unionLiteral(l, lt)) : unionLiteral(inner, lt);
  }
  fromLiteral(literal: Literal, ctx: TypeContext): T | Promise<T> {
    if (literal.value.case === "scalar") {
      const s = literal.value.value.value;
      if (s.case === "union" && s.value.value) {
        const tag = s.value.type?.structure?.tag;
        const variant = this.variants.find((v) => variantTag(v) === tag) ?? this.variants.find((v) => sameKind(v.literalType, s.value.type));
        if (variant) return variant.fromLiteral(s.value.value, ctx) as T | Promise<T>;
        throw typeError("TYPE_LITERAL_MISMATCH", `union variant ${describeValue(tag)} is not one of ${this.name}`, literal, "check the producer's output type");
      }
      if (s.case === "noneType" && this.optional) return null as T;
    }
    // A plain (non-union) literal: accept it if some variant reads it.
    for (const v of this.variants) {
      try {
        return v.fromLiteral(literal, ctx) as T | Promise<T>;
      } catch {
        // next
      }
    }
    throw typeError("TYPE_LITERAL_MISMATCH", `literal matches no variant of ${this.name}`, literal, "check the producer's output type");
  }
  fromJson(json: unknown): T {
    if ((json === null || json === undefined) && this.optional) return null as T;
    for (const v of this.variants) {
      if (v instanceof NoneType) continue;
      try {
        return v.fromJson(json) as T;
      } catch {
        // next
      }
    }
    throw typeError("TYPE_INVALID_VALUE", `${describeValue(json)} matches no variant of ${this.name}`, json, `give a value of one of: ${this.name}`);
  }
  toJson(value: T): unknown {
    if (value === null || value === undefined) return null;
    return this.#variantFor(value).toJson(value);
  }
  override parseText(text: string): T {
    if (this.optional && (text === "" || text === "null")) return null as T;
    for (const v of this.variants) {
      if (v instanceof NoneType) continue;
      try {
        return v.parseText(text) as T;
      } catch {
        // next
      }
    }
    throw typeError("TYPE_PARSE", `${describeValue(text)} matches no variant of ${this.name}`, text, `give a value of one of: ${this.name}`);
  }
}

function sameKind(a: LiteralType, b: LiteralType | undefined): boolean {
  return !!b && a.type.case === b.type.case && (a.type.case !== "simple" || a.type.value === b.type.value);
}

/** `T | null`: a union of `inner` and none. */
export function optionalOf<T>(inner: FlyteType<T>): UnionType<T | null> {
  return new UnionType<T | null>([inner as FlyteType<unknown>, primitives.none as FlyteType<unknown>]);
}

registerTransformer((lt, typeFor) =>
  lt.type.case === "unionType" ? (new UnionType(lt.type.value.variants.map((v) => typeFor(v))) as FlyteType<unknown>) : undefined,
);
