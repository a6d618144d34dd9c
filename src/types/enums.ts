/** Enums: a fixed set of string values (Flyte's EnumType). */
import { describeValue } from "../errors.js";
import { FlyteType, registerTransformer, typeError } from "./flyte-type.js";
import { type Literal, type LiteralType, stringLiteral } from "./literals.js";

/** One of a fixed list of strings. */
export class EnumType<V extends string> extends FlyteType<V> {
  readonly name: string;
  readonly #set: ReadonlySet<string>;
  constructor(readonly values: readonly V[]) {
    super();
    if (values.length === 0) {
      throw typeError(
        "TYPE_ENUM_EMPTY",
        "an enum needs at least one value",
        values,
        "list the allowed values, e.g. t.enum(['red', 'green'])",
      );
    }
    this.#set = new Set(values);
    this.name = `enum(${values.join("|")})`;
  }
  protected makeLiteralType(): LiteralType {
    return {
      $typeName: "flyteidl.core.LiteralType",
      type: { case: "enumType", value: { $typeName: "flyteidl.core.EnumType", values: [...this.values] } },
    } as LiteralType;
  }
  toLiteral(value: V): Literal {
    return stringLiteral(this.fromJson(value));
  }
  fromLiteral(literal: Literal): V {
    if (literal.value.case === "scalar" && literal.value.value.value.case === "primitive") {
      const p = literal.value.value.value.value.value;
      if (p.case === "stringValue") return this.fromJson(p.value);
    }
    throw typeError(
      "TYPE_LITERAL_MISMATCH",
      "expected a string literal for an enum",
      literal,
      "check the producer's output type",
    );
  }
  fromJson(json: unknown): V {
    if (typeof json === "string" && this.#set.has(json)) return json as V;
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not one of ${this.values.map((v) => JSON.stringify(v)).join(", ")}`,
      json,
      `use one of the enum's values`,
    );
  }
  toJson(value: V): unknown {
    return value;
  }
  override parseText(text: string): V {
    return this.fromJson(text);
  }
}

registerTransformer((lt) =>
  lt.type.case === "enumType" ? (new EnumType(lt.type.value.values) as FlyteType<unknown>) : undefined,
);
