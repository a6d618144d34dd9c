/** Local execution: `entity.run(inputs)` and the executor behind `tsflyte run`. */
import { Entity, type OutputSpec } from "../core/entity.js";
import type { FlyteType } from "../types/flyte-type.js";
import type { InputValues, Schema, Values } from "../types/literal-map.js";
import { type LocalRunOptions, runLocally } from "./executor.js";

export { LocalExecution, runLocally, inputsToLiterals, outputsFromLiterals, inProcessRunner, type LocalRunOptions, type NodeEvent, type TaskRunner } from "./executor.js";
export { LocalCache, defaultCacheDir, inputsHash } from "./cache.js";

/** The outputs a local run returns for an output spec. */
export type RunResult<O> = O extends FlyteType<infer T> ? T : O extends Schema ? (keyof O extends never ? void : Values<O>) : void;

declare module "../core/entity.js" {
  interface Entity<I extends Schema, O extends OutputSpec> {
    /** Runs this task, workflow or launch plan locally, in process, and returns its outputs. */
    run(inputs: InputValues<I>, options?: LocalRunOptions): Promise<RunResult<O>>;
  }
}

Entity.prototype.run = function (this: Entity, inputs: Record<string, unknown>, options?: LocalRunOptions) {
  return runLocally(this, inputs ?? {}, options) as never;
} as never;
