/**
 * Conditional branches inside a workflow (Flyte branch nodes).
 *
 * ```ts
 * const r = conditional("sign")
 *   .if(x.lt(0)).then(() => negate({ x }))
 *   .elif(x.eq(0)).then(() => zero({}))
 *   .else().then(() => identity({ x }));
 * ```
 * Each `then` function makes exactly one call (task, sub-workflow or launch plan); every branch
 * must produce the same outputs. `.else().fail(message)` fails the workflow instead.
 */
import { FlyteDefinitionError } from "../errors.js";
import { isAssignable } from "../types/compatibility.js";
import type { Schema } from "../types/literal-map.js";
import { callResult } from "./entity.js";
import { type BranchCase, type BranchSpec, currentBuilder, GraphBuilder, Node, withBuilder } from "./node.js";
import { type BindingValue, type BoolExpr, type Condition, FlytePromise, type Operand } from "./promise.js";

interface PendingCase {
  condition: BoolExpr | undefined;
  thunk: () => unknown;
}

/** Starts a conditional named `name` (the branch node's name). */
export function conditional(name: string): ConditionalStart {
  const builder = currentBuilder();
  if (!builder) {
    throw new FlyteDefinitionError(
      "CONDITIONAL_OUTSIDE_WORKFLOW",
      `conditional("${name}") used outside a workflow function`,
      { fix: "use it inside workflow(...)" },
    );
  }
  return new ConditionalStart(name, builder);
}

/** `conditional(name)`: needs `.if(...)`. */
export class ConditionalStart {
  constructor(
    private readonly name: string,
    private readonly builder: GraphBuilder,
  ) {}
  /** The first case. */
  if(condition: Condition): { then<R>(thunk: () => R): ConditionalChain<R> } {
    return {
      then: <R>(thunk: () => R) =>
        new ConditionalChain<R>(this.name, this.builder, [{ condition: condition.expr, thunk }]),
    };
  }
}

/** A conditional with at least one case. */
export class ConditionalChain<R> {
  constructor(
    private readonly name: string,
    private readonly builder: GraphBuilder,
    private readonly cases: PendingCase[],
  ) {}
  /** Another case. */
  elif(condition: Condition): { then(thunk: () => R): ConditionalChain<R> } {
    return {
      then: (thunk: () => R) =>
        new ConditionalChain<R>(this.name, this.builder, [
          ...this.cases,
          { condition: condition.expr, thunk },
        ]),
    };
  }
  /** The else case: `.then(...)` runs a call, `.fail(message)` fails the workflow. */
  else(): { then(thunk: () => R): R; fail(message: string): R } {
    return {
      then: (thunk: () => R) =>
        buildBranch<R>(this.name, this.builder, [...this.cases, { condition: undefined, thunk }], undefined),
      fail: (message: string) => buildBranch<R>(this.name, this.builder, this.cases, message),
    };
  }
}

function buildBranch<R>(
  name: string,
  builder: GraphBuilder,
  pending: PendingCase[],
  elseFail: string | undefined,
): R {
  const id = builder.nextId();
  const entity = `${builder.entity} -> conditional "${name}"`;
  const built: { condition: BoolExpr | undefined; node: Node; single: boolean }[] = [];
  pending.forEach((c, i) => {
    const inner = new GraphBuilder(builder.entity, `${id}-`);
    // Give each case its own id space, like n1-n0, n1-n1.
    for (let k = 0; k < i; k++) inner.nextId();
    const ret = withBuilder(inner, c.thunk);
    if (inner.nodes.length !== 1) {
      throw new FlyteDefinitionError(
        "BRANCH_ONE_CALL",
        `case ${i + 1} made ${inner.nodes.length} calls; each case must make exactly one`,
        {
          entity,
          fix: "move several steps into a sub-workflow and call that",
        },
      );
    }
    const node = inner.nodes[0]!;
    const single = ret instanceof FlytePromise;
    built.push({ condition: c.condition, node, single });
  });
  const first = built[0]!;
  const outputs: Schema = first.node.outputs;
  for (const b of built.slice(1)) {
    for (const [k, type] of Object.entries(outputs)) {
      const other = b.node.outputs[k];
      if (!other || !isAssignable(other.literalType, type.literalType)) {
        throw new FlyteDefinitionError(
          "BRANCH_OUTPUTS_DIFFER",
          `the cases produce different outputs ("${k}": ${type.name} vs ${other?.name ?? "missing"})`,
          {
            entity,
            fix: "make every case call something with the same outputs",
          },
        );
      }
    }
  }
  const cases: BranchCase[] = built
    .filter((b) => b.condition)
    .map((b) => ({ condition: b.condition!, node: b.node }));
  const elseCase = built.find((b) => !b.condition);
  const spec: BranchSpec = { kind: "branch", name, cases, elseNode: elseCase?.node, elseFail, outputs };
  // The branch node's inputs: every promise its conditions read.
  const bindings: Record<string, BindingValue> = {};
  for (const c of cases)
    for (const op of operandsOf(c.condition))
      if (op.kind === "promise") bindings[`${op.promise.nodeId}.${op.promise.variable}`] = op;
  const node = builder.add(new Node(id, spec, bindings, {}));
  // The branch waits for whatever its cases read.
  for (const b of built) for (const u of b.node.upstream) node.upstream.add(u);
  return callResult(node, first.single) as R;
}

/** Every operand of a boolean expression. */
export function operandsOf(e: BoolExpr): Operand[] {
  return e.kind === "cmp" ? [e.left, e.right] : [...operandsOf(e.left), ...operandsOf(e.right)];
}
