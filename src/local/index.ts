/** Local execution: `entity.run(inputs)` and the executor behind `tsflyte run`. */
import { Entity, type OutputSpec } from "../core/entity.js";
import type { FlyteType } from "../types/flyte-type.js";
import type { InputValues, Schema, Values } from "../types/literal-map.js";

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The inputs of a local run: inputs with defaults may be left out. */
export type RunInputs<I extends Schema, D extends keyof I> = [D] extends [never]
  ? InputValues<I>
  : Simplify<Omit<InputValues<I>, D> & Partial<Pick<InputValues<I>, D & keyof InputValues<I>>>>;

import { type LocalRunOptions, runLocally } from "./executor.js";

export { defaultCacheDir, inputsHash, LocalCache } from "./cache.js";
export {
  inProcessRunner,
  inputsToLiterals,
  LocalExecution,
  type LocalRunOptions,
  type NodeEvent,
  outputsFromLiterals,
  runLocally,
  type TaskRunner,
} from "./executor.js";

/** The outputs a local run returns for an output spec. */
export type RunResult<O> =
  O extends FlyteType<infer T> ? T : O extends Schema ? (keyof O extends never ? void : Values<O>) : void;

declare module "../core/entity.js" {
  interface Entity<I extends Schema, O extends OutputSpec, D extends keyof I> {
    /** Runs this task, workflow or launch plan locally, in process, and returns its outputs. */
    run(inputs: RunInputs<I, D>, options?: LocalRunOptions): Promise<RunResult<O>>;
  }
}

Entity.prototype.run = function (this: Entity, inputs: Record<string, unknown>, options?: LocalRunOptions) {
  return runLocally(this, inputs ?? {}, options) as never;
} as never;
