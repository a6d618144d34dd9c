/**
 * Dynamic workflows: a task whose function runs with real input values and builds a graph at run
 * time (for example a loop over an input list). Locally the graph runs in process; on a cluster
 * the task writes it as a DynamicJobSpec (`futures.pb`) and propeller runs it.
 *
 * ```ts
 * export const fanOut = dynamic({ inputs: { n: t.int() }, outputs: t.list(t.int()) }, ({ n }) => {
 *   const out = [];
 *   for (let i = 0; i < n; i++) out.push(square({ x: i }));
 *   return out;
 * });
 * ```
 */
import { FlyteDefinitionError } from "../errors.js";
import type { FlyteType, TypeContext } from "../types/flyte-type.js";
import type { InputValues, LiteralMap, Schema, Values } from "../types/index.js";
import { type Bindings, brandClass, type CallResult, makeCallable, type OutputSpec } from "./entity.js";
import { type CallOptions, GraphBuilder, type Node, withBuilder } from "./node.js";
import { type Bindable, type BindingValue, toBinding } from "./promise.js";
import { BaseTask, type TaskOptions } from "./task.js";
import type { TaskContext } from "./task-context.js";

/** What a dynamic function returns: outputs as values or promises. */
export type DynamicReturn<O extends OutputSpec> =
  O extends FlyteType<infer T>
    ? Bindable<T>
    : O extends Schema
      ? keyof O extends never
        ? void
        : { [K in keyof InputValues<O>]: Bindable<InputValues<O>[K]> }
      : void;

/** The graph a dynamic task made for one set of inputs. */
export interface DynamicGraph {
  readonly nodes: readonly Node[];
  readonly outputs: Readonly<Record<string, BindingValue>>;
}

/** A task that builds a workflow at run time. */
export class DynamicTaskDef<I extends Schema = Schema, O extends OutputSpec = OutputSpec> extends BaseTask<
  I,
  O
> {
  readonly taskType: string = "typescript-task";
  constructor(
    options: TaskOptions<I, O>,
    readonly fn: (inputs: Values<I>, ctx: TaskContext) => DynamicReturn<O>,
  ) {
    super(options);
  }

  /** Runs the function with real values and returns the graph it built. */
  compile(inputs: Values<I>, ctx: TaskContext): DynamicGraph {
    const builder = new GraphBuilder(this.name);
    const ret = withBuilder(builder, () => this.fn(inputs, ctx));
    const outputs: Record<string, BindingValue> = {};
    if (this.singleOutput) outputs.o0 = toBinding(ret);
    else if (Object.keys(this.outputs).length > 0) {
      if (ret === null || typeof ret !== "object") {
        throw new FlyteDefinitionError(
          "DYNAMIC_BAD_RETURN",
          "a dynamic task with named outputs must return an object",
          { entity: this.name },
        );
      }
      for (const k of Object.keys(this.outputs)) {
        const v = (ret as Record<string, unknown>)[k];
        if (v === undefined)
          throw new FlyteDefinitionError("DYNAMIC_OUTPUT_MISSING", `output "${k}" was not returned`, {
            entity: this.name,
          });
        outputs[k] = toBinding(v);
      }
    }
    return { nodes: builder.nodes, outputs };
  }

  executeLiterals(_inputs: LiteralMap, _ctx: TaskContext & TypeContext): Promise<LiteralMap> {
    throw new FlyteDefinitionError(
      "DYNAMIC_NEEDS_EXECUTOR",
      "a dynamic task's graph must be run by an executor",
      {
        entity: this.name,
        origin: "SYSTEM",
        fix: "run it through tsflyte run, the local executor, or tsflyte-execute",
      },
    );
  }
}

/** A dynamic task as users hold it. */
export type DynamicTask<I extends Schema = Schema, O extends OutputSpec = OutputSpec> = DynamicTaskDef<I, O> &
  ((bindings: Bindings<I>, options?: CallOptions) => CallResult<O>);

/** Defines a dynamic workflow task. */
export function dynamic<const I extends Schema = {}, const O extends OutputSpec = undefined>(
  options: TaskOptions<I, O>,
  fn: (inputs: Values<I>, ctx: TaskContext) => DynamicReturn<O>,
): DynamicTask<I, O> {
  return makeCallable<DynamicTaskDef<I, O>, (bindings: Bindings<I>, options?: CallOptions) => CallResult<O>>(
    new DynamicTaskDef(options, fn),
  );
}

brandClass(DynamicTaskDef, "DynamicTaskDef");
