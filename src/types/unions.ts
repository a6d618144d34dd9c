/** Unions of types and optional values (a union with none), as Flyte's UnionType. */
import { describeValue } from "../errors.js";
import { FlyteType, registerTransformer, type TypeContext, typeError } from "./flyte-type.js";
import {
  BlobType_BlobDimensionality,
  type Literal,
  type LiteralType,
  noneLiteral,
  SimpleType,
  typeStructure,
  unionLiteral,
} from "./literals.js";
import { NoneType, primitives } from "./primitives.js";

/** flytekit's transformer names, the union tags of the variants they handle. */
const DATACLASS_TAG = "Object-Dataclass-Transformer";
const SIMPLE_TAGS: Partial<Record<SimpleType, string>> = {
  [SimpleType.INTEGER]: "int",
  [SimpleType.FLOAT]: "float",
  [SimpleType.STRING]: "str",
  [SimpleType.BOOLEAN]: "bool",
  [SimpleType.DATETIME]: "datetime",
  [SimpleType.DURATION]: "timedelta",
  [SimpleType.NONE]: "none",
};

/**
 * The tag flytekit gives each variant: the name of the flytekit transformer that handles it
 * (`int`, `str`, `Typed List`, `Object-Dataclass-Transformer`, ...). flytekit reads a union
 * value only through a variant whose transformer has the stored tag, and propeller only binds
 * tagged types with equal tags, so these must be flytekit's names exactly.
 */
export function variantTag(t: FlyteType<unknown>): string {
  const lt = t.literalType;
  switch (lt.type.case) {
    case "simple":
      if (lt.type.value === SimpleType.STRUCT)
        return lt.metadata !== undefined || Object.keys(lt.structure?.dataclassType ?? {}).length > 0
          ? DATACLASS_TAG
          : "Typed Dict";
      return SIMPLE_TAGS[lt.type.value] ?? t.name;
    case "collectionType":
      return "Typed List";
    case "mapValueType":
      return "Typed Dict";
    case "enumType":
      return "DefaultEnumTransformer";
    case "blob":
      if (lt.type.value.format === "PythonPickle") return "FlytePickle";
      return lt.type.value.dimensionality === BlobType_BlobDimensionality.MULTIPART
        ? "FlyteDirectory"
        : "FlyteFilePath";
    case "structuredDatasetType":
      return "StructuredDataset Transformer";
    case "unionType":
      return "Typed Union";
    default:
      return t.name;
  }
}

/** A variant's LiteralType as flytekit writes it in a union: the structure replaced by the tag alone. */
function withTag(lt: LiteralType, tag: string): LiteralType {
  return { ...lt, structure: typeStructure(tag) } as LiteralType;
}

/** A value of exactly one of several types. The first variant that accepts a value writes it. */
export class UnionType<T> extends FlyteType<T> {
  readonly name: string;
  override readonly io: boolean;
  override readonly optional: boolean;
  #tags: string[] | undefined;
  #tagged: LiteralType[] | undefined;
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
        value: { $typeName: "flyteidl.core.UnionType", variants: this.#taggedTypes() },
      },
    } as LiteralType;
  }
  #variantTags(): string[] {
    this.#tags ??= this.variants.map((v) => variantTag(v));
    return this.#tags;
  }
  #taggedTypes(): LiteralType[] {
    const tags = this.#variantTags();
    this.#tagged ??= this.variants.map((v, i) => withTag(v.literalType, tags[i]!));
    return this.#tagged;
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
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(value)} matches no variant of ${this.name}`,
      value,
      `pass a value of one of: ${this.name}`,
    );
  }
  toLiteral(value: T, ctx: TypeContext): Literal | Promise<Literal> {
    const variant = this.#variantFor(value);
    const lt = this.#taggedTypes()[this.variants.indexOf(variant)]!;
    const inner = variant instanceof NoneType ? noneLiteral() : variant.toLiteral(value, ctx);
    return inner instanceof Promise ? inner.then((l) => unionLiteral(l, lt)) : unionLiteral(inner, lt);
  }
  fromLiteral(literal: Literal, ctx: TypeContext): T | Promise<T> {
    if (literal.value.case === "scalar") {
      const s = literal.value.value.value;
      if (s.case === "union" && s.value.value) {
        const tag = s.value.type?.structure?.tag;
        const tags = this.#variantTags();
        // As flytekit: the variants whose tag is the stored one (several records share a tag), in order.
        let candidates = this.variants.filter((_, i) => tags[i] === tag);
        if (candidates.length === 0)
          candidates = this.variants.filter((v) => sameKind(v.literalType, s.value.type));
        if (candidates.length === 0) {
          throw typeError(
            "TYPE_LITERAL_MISMATCH",
            `union variant ${describeValue(tag)} is not one of ${this.name}`,
            literal,
            "check the producer's output type",
          );
        }
        return firstThatReads(candidates, s.value.value, ctx, this.name) as T | Promise<T>;
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
    throw typeError(
      "TYPE_LITERAL_MISMATCH",
      `literal matches no variant of ${this.name}`,
      literal,
      "check the producer's output type",
    );
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
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} matches no variant of ${this.name}`,
      json,
      `give a value of one of: ${this.name}`,
    );
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
    throw typeError(
      "TYPE_PARSE",
      `${describeValue(text)} matches no variant of ${this.name}`,
      text,
      `give a value of one of: ${this.name}`,
    );
  }
}

/** Reads `literal` with the first of `variants` that accepts it (awaiting I/O variants in turn). */
function firstThatReads(
  variants: FlyteType<unknown>[],
  literal: Literal,
  ctx: TypeContext,
  name: string,
): unknown {
  if (variants.length === 1) return variants[0]!.fromLiteral(literal, ctx);
  const errors: unknown[] = [];
  const tryFrom = (i: number): unknown => {
    for (; i < variants.length; i++) {
      try {
        const r = variants[i]!.fromLiteral(literal, ctx);
        if (r instanceof Promise) {
          const next = i + 1;
          return r.catch((err) => {
            errors.push(err);
            return tryFrom(next);
          });
        }
        return r;
      } catch (err) {
        errors.push(err);
      }
    }
    const first = errors[0] as { message?: string } | undefined;
    throw typeError(
      "TYPE_LITERAL_MISMATCH",
      `no variant of ${name} reads the value${first?.message ? ` (${first.message})` : ""}`,
      literal,
      "check the producer's output type",
    );
  };
  return tryFrom(0);
}

function sameKind(a: LiteralType, b: LiteralType | undefined): boolean {
  return !!b && a.type.case === b.type.case && (a.type.case !== "simple" || a.type.value === b.type.value);
}

/** `T | null`: a union of `inner` and none. */
export function optionalOf<T>(inner: FlyteType<T>): UnionType<T | null> {
  return new UnionType<T | null>([inner as FlyteType<unknown>, primitives.none as FlyteType<unknown>]);
}

registerTransformer((lt, typeFor) =>
  lt.type.case === "unionType"
    ? (new UnionType(lt.type.value.variants.map((v) => typeFor(v))) as FlyteType<unknown>)
    : undefined,
);
