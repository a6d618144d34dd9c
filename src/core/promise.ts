/**
 * Typed promises: what a task call returns inside a workflow. A `FlytePromise<T>` stands for a
 * value of type `T` that some node will produce. Passing it to another call creates the data
 * dependency; its phantom type makes a wrong wiring a TypeScript error.
 */
import type { FlyteType } from "../types/flyte-type.js";
import type { Node } from "./node.js";

/** Where a node's data comes from. */
export type BindingValue =
  | { readonly kind: "promise"; readonly promise: FlytePromise<unknown> }
  | { readonly kind: "value"; readonly value: unknown }
  | { readonly kind: "list"; readonly items: readonly BindingValue[] }
  | { readonly kind: "map"; readonly entries: Readonly<Record<string, BindingValue>> };

/** Node id of the workflow's own inputs (Flyte's reserved start node). */
export const START_NODE = "start-node";
/** Node id of the workflow's outputs (Flyte's reserved end node). */
export const END_NODE = "end-node";

/** Symbol under which promises and call results expose their node. */
export const NODE: unique symbol = Symbol.for("flytekit-ts.node");

/** Comparison operators of Flyte conditions. */
export type ComparisonOp = "eq" | "neq" | "gt" | "gte" | "lt" | "lte";

/** One side of a comparison: a promise or a constant. */
export type Operand =
  | { readonly kind: "promise"; readonly promise: FlytePromise<unknown> }
  | { readonly kind: "value"; readonly value: string | number | boolean | bigint | Date | null };

/** A boolean expression over promises, used by `conditional()`. */
export type BoolExpr =
  | { readonly kind: "cmp"; readonly op: ComparisonOp; readonly left: Operand; readonly right: Operand }
  | { readonly kind: "conj"; readonly op: "and" | "or"; readonly left: BoolExpr; readonly right: BoolExpr };

/** A condition with `and` / `or` chaining. */
export class Condition {
  constructor(readonly expr: BoolExpr) {}
  /** Both conditions hold. */
  and(other: Condition): Condition {
    return new Condition({ kind: "conj", op: "and", left: this.expr, right: other.expr });
  }
  /** Either condition holds. */
  or(other: Condition): Condition {
    return new Condition({ kind: "conj", op: "or", left: this.expr, right: other.expr });
  }
}

type Comparable<T> = T | FlytePromise<T>;

function operand(v: unknown): Operand {
  if (v instanceof FlytePromise) return { kind: "promise", promise: v };
  return { kind: "value", value: v as Operand extends { value: infer V } ? V : never };
}

/**
 * A typed reference to an output of a node (or an input of the workflow). `T` is the value type.
 */
export class FlytePromise<T> {
  /** Phantom: the value type. */
  declare readonly __value: T;
  /** @internal */
  readonly [NODE]: Node | undefined;

  constructor(
    /** The producing node's id, or `start-node` for workflow inputs. */
    readonly nodeId: string,
    /** The output variable name on that node. */
    readonly variable: string,
    /** The declared type. */
    readonly type: FlyteType<T>,
    node?: Node,
  ) {
    this[NODE] = node;
  }

  /** `this == other`. */
  eq(other: Comparable<T>): Condition {
    return this.#cmp("eq", other);
  }
  /** `this != other`. */
  neq(other: Comparable<T>): Condition {
    return this.#cmp("neq", other);
  }
  /** `this > other`. */
  gt(other: Comparable<T>): Condition {
    return this.#cmp("gt", other);
  }
  /** `this >= other`. */
  gte(other: Comparable<T>): Condition {
    return this.#cmp("gte", other);
  }
  /** `this < other`. */
  lt(other: Comparable<T>): Condition {
    return this.#cmp("lt", other);
  }
  /** `this <= other`. */
  lte(other: Comparable<T>): Condition {
    return this.#cmp("lte", other);
  }
  /** `this == true` (for boolean promises). */
  isTrue(): Condition {
    return this.#cmp("eq", true as T);
  }
  /** `this == false`. */
  isFalse(): Condition {
    return this.#cmp("eq", false as T);
  }
  #cmp(op: ComparisonOp, other: unknown): Condition {
    return new Condition({ kind: "cmp", op, left: operand(this), right: operand(other) });
  }
  /** @internal JSON form for debugging. */
  toJSON(): string {
    return `${this.nodeId}.${this.variable}`;
  }
}

/**
 * What a binding accepts for a value of type `T`: the value itself, a promise of it, or for
 * lists and maps a list or map mixing values and promises.
 */
export type Bindable<T> =
  | T
  | FlytePromise<T>
  | (T extends readonly (infer E)[] ? readonly Bindable<E>[] : never)
  | (T extends Date | Uint8Array
      ? never
      : T extends Record<string, infer V>
        ? string extends keyof T
          ? Record<string, Bindable<V>>
          : never
        : never);

/** Converts a user-supplied binding (value, promise, list, map) into a BindingValue. */
export function toBinding(v: unknown): BindingValue {
  if (v instanceof FlytePromise) return { kind: "promise", promise: v };
  if (Array.isArray(v) && v.some(containsPromise)) return { kind: "list", items: v.map(toBinding) };
  if (
    v &&
    typeof v === "object" &&
    Object.getPrototypeOf(v) === Object.prototype &&
    Object.values(v).some(containsPromise)
  ) {
    return { kind: "map", entries: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toBinding(x)])) };
  }
  return { kind: "value", value: v };
}

function containsPromise(v: unknown): boolean {
  if (v instanceof FlytePromise) return true;
  if (Array.isArray(v)) return v.some(containsPromise);
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype)
    return Object.values(v).some(containsPromise);
  return false;
}

/** The promises a binding depends on. */
export function promisesOf(b: BindingValue): FlytePromise<unknown>[] {
  switch (b.kind) {
    case "promise":
      return [b.promise];
    case "value":
      return [];
    case "list":
      return b.items.flatMap(promisesOf);
    case "map":
      return Object.values(b.entries).flatMap(promisesOf);
  }
}
