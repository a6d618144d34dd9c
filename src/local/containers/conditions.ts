/**
 * Branch conditions as propeller evaluates them: flyteidl `BooleanExpression`s over the branch
 * node's inputs (operands `{var: ".x"}` or `{var: "n0.o0"}` name its bindings) and constants.
 */
import { FlyteExecutionError } from "../../errors.js";
import {
  type BooleanExpression,
  ConjunctionExpression_LogicalOperator,
  ComparisonExpression_Operator as Op,
  type Operand,
} from "../../proto/gen/flyteidl/core/condition_pb.js";
import type { Primitive, Scalar } from "../../proto/gen/flyteidl/core/literals_pb.js";
import type { Literal } from "../../types/literals.js";

type Comparable = bigint | number | string | boolean | null;

/** Evaluates a condition against the branch node's inputs (by binding name). */
export function evaluateCondition(
  expr: BooleanExpression | undefined,
  inputs: Readonly<Record<string, Literal>>,
  entity: string,
): boolean {
  if (!expr) return false;
  const e = expr.expr;
  if (e.case === "conjunction") {
    const left = evaluateCondition(e.value.leftExpression, inputs, entity);
    if (e.value.operator === ConjunctionExpression_LogicalOperator.OR)
      return left || evaluateCondition(e.value.rightExpression, inputs, entity);
    return left && evaluateCondition(e.value.rightExpression, inputs, entity);
  }
  if (e.case === "comparison") {
    const l = operandValue(e.value.leftValue, inputs, entity);
    const r = operandValue(e.value.rightValue, inputs, entity);
    return compare(e.value.operator, l, r);
  }
  return false;
}

function compare(op: Op, l: Comparable, r: Comparable): boolean {
  if (typeof l === "bigint" && typeof r === "number") return compare(op, Number(l), r);
  if (typeof l === "number" && typeof r === "bigint") return compare(op, l, Number(r));
  switch (op) {
    case Op.EQ:
      return l === r;
    case Op.NEQ:
      return l !== r;
    case Op.GT:
      return l !== null && r !== null && l > r;
    case Op.GTE:
      return l !== null && r !== null && l >= r;
    case Op.LT:
      return l !== null && r !== null && l < r;
    case Op.LTE:
      return l !== null && r !== null && l <= r;
    default:
      return false;
  }
}

function operandValue(
  o: Operand | undefined,
  inputs: Readonly<Record<string, Literal>>,
  entity: string,
): Comparable {
  const v = o?.val;
  if (!v || v.case === undefined) return null;
  if (v.case === "primitive") return primitiveValue(v.value);
  if (v.case === "scalar") return scalarValue(v.value);
  const lit = inputs[v.value];
  if (!lit) {
    throw new FlyteExecutionError(
      "BRANCH_OPERAND_UNBOUND",
      `the condition's operand ${v.value} has no value`,
      {
        entity,
        origin: "SYSTEM",
      },
    );
  }
  return literalValue(lit);
}

function literalValue(lit: Literal): Comparable {
  if (lit.value.case !== "scalar") return null;
  return scalarValue(lit.value.value);
}

function scalarValue(s: Scalar): Comparable {
  const v = s.value;
  if (v.case === "primitive") return primitiveValue(v.value);
  if (v.case === "union") return v.value.value ? literalValue(v.value.value) : null;
  return null;
}

function primitiveValue(p: Primitive): Comparable {
  const v = p.value;
  switch (v.case) {
    case "integer":
      return v.value;
    case "floatValue":
      return v.value;
    case "stringValue":
      return v.value;
    case "boolean":
      return v.value;
    case "datetime":
      return Number(v.value.seconds) * 1e3 + v.value.nanos / 1e6;
    case "duration":
      return Number(v.value.seconds) * 1e3 + v.value.nanos / 1e6;
    default:
      return null;
  }
}
