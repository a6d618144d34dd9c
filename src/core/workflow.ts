/**
 * `workflow()`: a static graph of task, sub-workflow and launch plan calls, built once when the
 * workflow is defined. The function receives typed promises of the inputs and returns promises
 * of the outputs; the output types are inferred from what it returns.
 *
 * ```ts
 * export const wf = workflow({ inputs: { x: t.int() } }, ({ x }) => {
 *   const y = add({ a: x, b: 1 });
 *   return { y };
 * });
 * ```
 */
import { FlyteDefinitionError } from "../errors.js";
import type { FlyteType, ValueOf } from "../types/flyte-type.js";
import type { Schema } from "../types/literal-map.js";
import { type Bindings, brandClass, type CallResult, Entity, makeCallable } from "./entity.js";
import { type CallOptions, GraphBuilder, type Node, withBuilder } from "./node.js";
import { type BindingValue, FlytePromise, type NODE, START_NODE, toBinding } from "./promise.js";
import type { BaseTask } from "./task.js";

/** The promises a workflow function receives. */
export type InputPromises<I extends Schema> = { readonly [K in keyof I]: FlytePromise<ValueOf<I[K]>> };

/** What a workflow function may return. */
export type WorkflowReturn = FlytePromise<unknown> | Readonly<Record<string, FlytePromise<unknown>>> | void;

/** The output spec of a workflow, inferred from what its function returns. */
export type ReturnSpec<R> =
  R extends FlytePromise<infer T>
    ? FlyteType<T>
    : R extends Readonly<Record<string, FlytePromise<unknown>>>
      ? {
          -readonly [K in keyof R as K extends typeof NODE ? never : K]: R[K] extends FlytePromise<infer T>
            ? FlyteType<T>
            : never;
        }
      : undefined;

/** Options of `workflow()`. */
export interface WorkflowOptions<I extends Schema, D extends keyof I = keyof I> {
  /** Flyte name; default `<module>.<export name>`. */
  name?: string;
  description?: string;
  inputs?: I;
  /** Default values of inputs (they become the default launch plan's defaults). */
  defaults?: { [K in D]: ValueOf<I[K]> };
  /** A task run when the workflow fails; it receives the workflow's inputs it declares. */
  onFailure?: BaseTask;
  /** Continue running independent nodes after one fails (Flyte's FAIL_AFTER_EXECUTABLE_NODES_COMPLETE). */
  failurePolicy?: "immediate" | "afterExecutableNodes";
}

/** The built graph of a workflow. */
export interface WorkflowGraph {
  readonly nodes: readonly Node[];
  /** Output name -> binding (usually a promise). */
  readonly outputs: Readonly<Record<string, BindingValue>>;
}

/** A workflow definition. */
export class WorkflowDef<
  I extends Schema = Schema,
  R extends WorkflowReturn = WorkflowReturn,
  D extends keyof I = keyof I,
> extends Entity<I, ReturnSpec<R> & {}, D> {
  readonly kind = "workflow" as const;
  readonly description: string | undefined;
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly onFailure: BaseTask | undefined;
  readonly failurePolicy: "immediate" | "afterExecutableNodes";
  /** The graph, built once at definition. */
  readonly graph: WorkflowGraph;

  constructor(options: WorkflowOptions<I, D>, fn: (inputs: InputPromises<I>) => R) {
    super((options.inputs ?? {}) as I, undefined as never, options.name);
    if (typeof fn !== "function") {
      throw new FlyteDefinitionError(
        "WORKFLOW_NO_FUNCTION",
        "workflow() needs a function as its second argument",
        { entity: options.name ?? "workflow" },
      );
    }
    this.description = options.description;
    this.defaults = { ...((options.defaults ?? {}) as Record<string, unknown>) };
    this.onFailure = options.onFailure;
    this.failurePolicy = options.failurePolicy ?? "immediate";
    for (const k of Object.keys(this.defaults)) {
      const type = this.inputs[k];
      if (!type)
        throw new FlyteDefinitionError("DEFAULT_UNKNOWN", `default for unknown input "${k}"`, {
          entity: this.name,
          fix: `inputs are: ${Object.keys(this.inputs).join(", ")}`,
        });
      type.fromJson(type.toJson(this.defaults[k] as never));
    }
    const entity = options.name ?? fn.name ?? "workflow";
    const builder = new GraphBuilder(entity);
    const promises: Record<string, FlytePromise<unknown>> = {};
    for (const [k, type] of Object.entries(this.inputs)) promises[k] = new FlytePromise(START_NODE, k, type);
    const ret = withBuilder(builder, () => fn(promises as InputPromises<I>));
    const { outputs, schema, single } = outputsOf(ret, entity);
    this.outputSchemaValue = schema as never;
    this.singleOutputValue = single;
    this.graph = { nodes: builder.nodes, outputs };
    checkAcyclic(builder.nodes, entity);
  }

  /** Adds a sub-workflow node when called inside another workflow. */
  protected override addNode(
    bindings: Record<string, unknown>,
    options: CallOptions = {},
  ): CallResult<ReturnSpec<R> & {}> {
    return super.addNode(bindings, options);
  }
}

function outputsOf(
  ret: unknown,
  entity: string,
): { outputs: Record<string, BindingValue>; schema: Schema; single: boolean } {
  if (ret === undefined || ret === null) return { outputs: {}, schema: {}, single: false };
  if (ret instanceof FlytePromise)
    return { outputs: { o0: toBinding(ret) }, schema: { o0: ret.type }, single: true };
  if (typeof ret === "object") {
    const outputs: Record<string, BindingValue> = {};
    const schema: Schema = {};
    for (const [k, v] of Object.entries(ret)) {
      if (!(v instanceof FlytePromise)) {
        throw new FlyteDefinitionError(
          "WORKFLOW_OUTPUT_NOT_PROMISE",
          `output "${k}" is not the result of a call`,
          {
            entity,
            fix: "return outputs of task, workflow or launch plan calls (or the workflow's inputs)",
          },
        );
      }
      outputs[k] = toBinding(v);
      schema[k] = v.type;
    }
    return { outputs, schema, single: false };
  }
  throw new FlyteDefinitionError(
    "WORKFLOW_BAD_RETURN",
    "a workflow function must return a promise, an object of promises, or nothing",
    { entity },
  );
}

function checkAcyclic(nodes: readonly Node[], entity: string): void {
  const state = new Map<Node, 1 | 2>();
  const visit = (n: Node, path: Node[]): void => {
    const s = state.get(n);
    if (s === 2) return;
    if (s === 1) {
      throw new FlyteDefinitionError(
        "WORKFLOW_CYCLE",
        `the nodes form a cycle: ${[...path, n].map((x) => x.id).join(" -> ")}`,
        {
          entity,
          fix: "remove one of the `after` dependencies",
        },
      );
    }
    state.set(n, 1);
    for (const u of n.upstream) visit(u, [...path, n]);
    state.set(n, 2);
  };
  for (const n of nodes) visit(n, []);
}

/** A workflow as users hold it: callable inside other workflows (a sub-workflow node). */
export type Workflow<
  I extends Schema = Schema,
  R extends WorkflowReturn = WorkflowReturn,
  D extends keyof I = never,
> = WorkflowDef<I, R, D> & ((bindings: Bindings<I>, options?: CallOptions) => CallResult<ReturnSpec<R> & {}>);

/** Defines a workflow. */
export function workflow<
  const I extends Schema = {},
  R extends WorkflowReturn = void,
  D extends keyof I = never,
>(options: WorkflowOptions<I, D>, fn: (inputs: InputPromises<I>) => R): Workflow<I, R, D> {
  return makeCallable<
    WorkflowDef<I, R, D>,
    (bindings: Bindings<I>, options?: CallOptions) => CallResult<ReturnSpec<R> & {}>
  >(new WorkflowDef(options, fn) as never);
}

brandClass(WorkflowDef, "WorkflowDef");
