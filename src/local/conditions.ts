/** Evaluates branch conditions on literal values, as propeller does. */

import type { BoolExpr, Operand } from "../core/promise.js";
import { FlyteExecutionError } from "../errors.js";
import type { Literal, LiteralMap } from "../types/literals.js";

type Scalar = number | bigint | string | boolean | null;

function literalScalar(lit: Literal, what: string): Scalar {
  if (lit.value.case === "scalar") {
    const s = lit.value.value.value;
    if (s.case === "primitive") {
      const p = s.value.value;
      switch (p.case) {
        case "integer":
          return p.value;
        case "floatValue":
        case "stringValue":
        case "boolean":
          return p.value;
        case "datetime":
          return Number(p.value.seconds) * 1000 + p.value.nanos / 1e6;
        case "duration":
          return Number(p.value.seconds) * 1000 + p.value.nanos / 1e6;
      }
    }
    if (s.case === "noneType") return null;
    if (s.case === "union" && s.value.value) return literalScalar(s.value.value, what);
  }
  throw new FlyteExecutionError(
    "BRANCH_OPERAND_TYPE",
    `${what} is not a primitive value; conditions compare primitives only`,
    {
      fix: "compare ints, floats, strings, booleans, datetimes or durations",
    },
  );
}

function operandValue(op: Operand, inputs: LiteralMap): Scalar {
  if (op.kind === "value") {
    const v = op.value;
    return v instanceof Date ? v.getTime() : v;
  }
  const key = `${op.promise.nodeId}.${op.promise.variable}`;
  const lit = inputs.literals[key];
  if (!lit)
    throw new FlyteExecutionError("BRANCH_OPERAND_MISSING", `condition input ${key} has no value`, {
      origin: "SYSTEM",
    });
  return literalScalar(lit, key);
}

function compare(a: Scalar, b: Scalar): number {
  if (typeof a === "bigint" || typeof b === "bigint") {
    if (typeof a === "number" && !Number.isInteger(a)) return a - Number(b);
    if (typeof b === "number" && !Number.isInteger(b)) return Number(a) - b;
    const x = BigInt(a as bigint | number);
    const y = BigInt(b as bigint | number);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a === b) return 0;
  return (a as number | string) < (b as number | string) ? -1 : 1;
}

/** Evaluates a condition against the branch node's inputs. */
export function evaluate(expr: BoolExpr, inputs: LiteralMap): boolean {
  if (expr.kind === "conj") {
    const l = evaluate(expr.left, inputs);
    return expr.op === "and" ? l && evaluate(expr.right, inputs) : l || evaluate(expr.right, inputs);
  }
  const a = operandValue(expr.left, inputs);
  const b = operandValue(expr.right, inputs);
  if (a === null || b === null) {
    const eq = a === b;
    if (expr.op === "eq") return eq;
    if (expr.op === "neq") return !eq;
    return false;
  }
  const c = compare(a, b);
  switch (expr.op) {
    case "eq":
      return c === 0;
    case "neq":
      return c !== 0;
    case "gt":
      return c > 0;
    case "gte":
      return c >= 0;
    case "lt":
      return c < 0;
    case "lte":
      return c <= 0;
  }
}
