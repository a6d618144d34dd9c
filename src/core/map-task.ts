/**
 * Map tasks (Flyte ArrayNode): run one task over lists of inputs, in parallel.
 *
 * ```ts
 * const squares = mapTask(square, { concurrency: 4 })({ x: [1, 2, 3] });
 * ```
 */
import { FlyteDefinitionError } from "../errors.js";
import { ListType } from "../types/collections.js";
import type { FlyteType } from "../types/flyte-type.js";
import type { Schema } from "../types/literal-map.js";
import { optionalOf } from "../types/unions.js";
import {
  type Bindings,
  brandClass,
  type CallResult,
  Entity,
  makeCallable,
  type OutputSchema,
  type OutputSpec,
} from "./entity.js";
import type { CallOptions } from "./node.js";
import type { BaseTask } from "./task.js";

/** Options of a map task. */
export interface MapTaskOptions {
  /** At most this many items run at once (0 or absent: no limit). */
  concurrency?: number;
  /** The map succeeds when at least this fraction of items succeed (default 1). */
  minSuccessRatio?: number;
  /** Or when at least this many items succeed. */
  minSuccesses?: number;
}

/** Lists of each input. */
export type ListsOf<S extends Schema> = {
  [K in keyof S]: S[K] extends FlyteType<infer T> ? ListType<T> : never;
};

/** Lists of each output; items are `null` where a sub-task failed when partial success is allowed. */
export type OutputListsOf<S extends Schema, Partial extends boolean> = {
  [K in keyof S]: S[K] extends FlyteType<infer T> ? ListType<Partial extends true ? T | null : T> : never;
};

/** The output spec of a map over a task with output spec O. */
export type MappedOutputs<O extends OutputSpec, Partial extends boolean = false> =
  O extends FlyteType<infer T>
    ? ListType<Partial extends true ? T | null : T>
    : O extends Schema
      ? OutputListsOf<O, Partial>
      : undefined;

/** Narrows a type to an output spec without distributing over unions. */
type AsSpec<X> = X extends OutputSpec ? X : never;

function listsOf(s: Schema, optionalItems = false): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(s))
    out[k] = new ListType(optionalItems ? (optionalOf(v) as FlyteType<unknown>) : v) as FlyteType<unknown>;
  return out;
}

/** A task mapped over lists. */
export class MapTaskDef<
  I extends Schema = Schema,
  O extends OutputSpec = OutputSpec,
  P extends boolean = boolean,
> extends Entity<ListsOf<I>, AsSpec<MappedOutputs<O, P>>, never> {
  readonly kind = "map" as const;
  readonly concurrency: number | undefined;
  readonly minSuccessRatio: number | undefined;
  readonly minSuccesses: number | undefined;
  constructor(
    readonly task: BaseTask<I, O>,
    options: MapTaskOptions,
  ) {
    super(listsOf(task.inputs) as ListsOf<I>, undefined as never, undefined);
    const entity = `mapTask(${task.name})`;
    if (
      options.concurrency !== undefined &&
      !(Number.isInteger(options.concurrency) && options.concurrency >= 0)
    ) {
      throw new FlyteDefinitionError(
        "MAP_CONCURRENCY",
        `concurrency ${options.concurrency} is not a whole number >= 0`,
        { entity },
      );
    }
    if (
      options.minSuccessRatio !== undefined &&
      !(options.minSuccessRatio >= 0 && options.minSuccessRatio <= 1)
    ) {
      throw new FlyteDefinitionError(
        "MAP_SUCCESS_RATIO",
        `minSuccessRatio ${options.minSuccessRatio} is not between 0 and 1`,
        { entity },
      );
    }
    this.concurrency = options.concurrency;
    this.minSuccessRatio = options.minSuccessRatio;
    this.minSuccesses = options.minSuccesses;
    const partial =
      (options.minSuccessRatio !== undefined && options.minSuccessRatio < 1) ||
      options.minSuccesses !== undefined;
    this.outputSchemaValue = listsOf(task.outputs, partial) as OutputSchema<AsSpec<MappedOutputs<O, P>>>;
    this.singleOutputValue = task.singleOutput;
  }
  /** The mapped task's name, prefixed as flytekit names map tasks. */
  override get name(): string {
    return `${this.task.name}_mapped`;
  }
}

/** A map task as users hold it. `P` is true when partial success is allowed (items may be null). */
export type MapTask<
  I extends Schema = Schema,
  O extends OutputSpec = OutputSpec,
  P extends boolean = false,
> = MapTaskDef<I, O, P> &
  ((bindings: Bindings<ListsOf<I>>, options?: CallOptions) => CallResult<AsSpec<MappedOutputs<O, P>>>);

/** Maps `task` over lists of its inputs; with `minSuccessRatio < 1` or `minSuccesses`, failed items are `null`. */
export function mapTask<I extends Schema, O extends OutputSpec>(
  task: BaseTask<I, O>,
  options: MapTaskOptions & ({ minSuccessRatio: number } | { minSuccesses: number }),
): MapTask<I, O, true>;
export function mapTask<I extends Schema, O extends OutputSpec>(
  task: BaseTask<I, O>,
  options?: Omit<MapTaskOptions, "minSuccessRatio" | "minSuccesses">,
): MapTask<I, O, false>;
export function mapTask<I extends Schema, O extends OutputSpec>(
  task: BaseTask<I, O>,
  options: MapTaskOptions = {},
): MapTask<I, O, boolean> {
  return makeCallable<
    MapTaskDef<I, O, boolean>,
    (bindings: Bindings<ListsOf<I>>, options?: CallOptions) => CallResult<AsSpec<MappedOutputs<O, boolean>>>
  >(new MapTaskDef(task, options)) as MapTask<I, O, boolean>;
}

brandClass(MapTaskDef, "MapTaskDef");
