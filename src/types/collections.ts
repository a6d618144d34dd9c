/** Lists and maps with string keys. */
import { describeValue } from "../errors.js";
import {
  atPath,
  FlyteType,
  type FlyteType as FT,
  literalKind,
  prefixPath,
  registerTransformer,
  type TypeContext,
  typeError,
} from "./flyte-type.js";
import { collectionLiteral, collectionType, type Literal, mapLiteral, mapValueType } from "./literals.js";
import type { LiteralCodec } from "./wire.js";
import { ListCodec, MapCodec } from "./wire-codecs.js";

export { atPath, prefixPath };

/** A list of values of one type. */
export class ListType<T> extends FlyteType<T[]> {
  readonly name: string;
  override readonly io: boolean;
  constructor(readonly element: FT<T>) {
    super();
    this.name = `list<${element.name}>`;
    this.io = element.io;
  }
  protected makeLiteralType() {
    return collectionType(this.element.literalType);
  }
  /** Throws the error `toLiteral` throws for a value that is not an array. */
  readonly checkArray = (value: unknown): void => {
    if (!Array.isArray(value)) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not an array`,
        value,
        `pass an array of ${this.element.name}`,
      );
    }
  };
  #wire: ListCodec<T> | null | undefined;
  /** A codec when the element type has one (lists of primitives, nested lists and maps of them). */
  override get wire(): LiteralCodec<T[]> | undefined {
    if (this.#wire === undefined) {
      const el = this.element.wire;
      this.#wire = el ? new ListCodec(el, this.checkArray) : null;
    }
    return this.#wire ?? undefined;
  }
  toLiteral(value: T[], ctx: TypeContext): Literal | Promise<Literal> {
    this.checkArray(value);
    const el = this.element;
    if (!el.io) {
      const out = new Array<Literal>(value.length);
      let i = 0;
      try {
        for (; i < value.length; i++) out[i] = el.toLiteral(value[i] as T, ctx) as Literal;
      } catch (err) {
        throw prefixPath(err, `[${i}]`);
      }
      return collectionLiteral(out);
    }
    return Promise.all(
      value.map(async (v, i) => {
        try {
          return await el.toLiteral(v, ctx);
        } catch (err) {
          throw prefixPath(err, `[${i}]`);
        }
      }),
    ).then(collectionLiteral);
  }
  fromLiteral(literal: Literal, ctx: TypeContext): T[] | Promise<T[]> {
    if (literal.value.case !== "collection") {
      throw typeError(
        "TYPE_LITERAL_MISMATCH",
        `expected a collection literal, got ${literalKind(literal)}`,
        literal,
        "check the producer's output type",
      );
    }
    const lits = literal.value.value.literals;
    const el = this.element;
    if (!el.io) {
      const out = new Array<T>(lits.length);
      let i = 0;
      try {
        for (; i < lits.length; i++) out[i] = el.fromLiteral(lits[i]!, ctx) as T;
      } catch (err) {
        throw prefixPath(err, `[${i}]`);
      }
      return out;
    }
    return Promise.all(lits.map((l) => el.fromLiteral(l, ctx)));
  }
  fromJson(json: unknown): T[] {
    if (!Array.isArray(json)) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(json)} is not a list`,
        json,
        `give a JSON array of ${this.element.name}`,
      );
    }
    return json.map((v, i) => atPath(`[${i}]`, () => this.element.fromJson(v)));
  }
  toJson(value: T[]): unknown {
    return value.map((v) => this.element.toJson(v));
  }
}

/** A map from string keys to values of one type (a plain object in TypeScript). */
export class MapType<T> extends FlyteType<Record<string, T>> {
  readonly name: string;
  override readonly io: boolean;
  constructor(readonly value: FT<T>) {
    super();
    this.name = `map<string, ${value.name}>`;
    this.io = value.io;
  }
  protected makeLiteralType() {
    return mapValueType(this.value.literalType);
  }
  /** Throws the error `toLiteral` throws for a value that is not an object. */
  readonly checkObject = (value: unknown): void => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(value)} is not an object`,
        value,
        `pass an object whose values are ${this.value.name}`,
      );
    }
  };
  #wire: MapCodec<T> | null | undefined;
  /** A codec when the value type has one. */
  override get wire(): LiteralCodec<Record<string, T>> | undefined {
    if (this.#wire === undefined) {
      const v = this.value.wire;
      this.#wire = v ? new MapCodec(v, this.checkObject) : null;
    }
    return this.#wire ?? undefined;
  }
  toLiteral(value: Record<string, T>, ctx: TypeContext): Literal | Promise<Literal> {
    this.checkObject(value);
    const entries = Object.entries(value);
    if (!this.value.io) {
      const out: Record<string, Literal> = {};
      for (const [k, v] of entries) out[k] = atPath(`.${k}`, () => this.value.toLiteral(v, ctx) as Literal);
      return mapLiteral(out);
    }
    return Promise.all(entries.map(async ([k, v]) => [k, await this.value.toLiteral(v, ctx)] as const)).then(
      (pairs) => mapLiteral(Object.fromEntries(pairs)),
    );
  }
  fromLiteral(literal: Literal, ctx: TypeContext): Record<string, T> | Promise<Record<string, T>> {
    if (literal.value.case !== "map") {
      throw typeError(
        "TYPE_LITERAL_MISMATCH",
        `expected a map literal, got ${literalKind(literal)}`,
        literal,
        "check the producer's output type",
      );
    }
    const entries = Object.entries(literal.value.value.literals);
    if (!this.value.io) {
      const out: Record<string, T> = {};
      for (const [k, l] of entries) out[k] = atPath(`.${k}`, () => this.value.fromLiteral(l, ctx) as T);
      return out;
    }
    return Promise.all(
      entries.map(async ([k, l]) => [k, await this.value.fromLiteral(l, ctx)] as const),
    ).then((p) => Object.fromEntries(p));
  }
  fromJson(json: unknown): Record<string, T> {
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(json)} is not a map`,
        json,
        `give a JSON object whose values are ${this.value.name}`,
      );
    }
    const out: Record<string, T> = {};
    for (const [k, v] of Object.entries(json)) out[k] = atPath(`.${k}`, () => this.value.fromJson(v));
    return out;
  }
  toJson(value: Record<string, T>): unknown {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.value.toJson(v);
    return out;
  }
}

registerTransformer((lt, typeFor) => {
  if (lt.type.case === "collectionType") return new ListType(typeFor(lt.type.value));
  if (lt.type.case === "mapValueType") return new MapType(typeFor(lt.type.value));
  return undefined;
});
