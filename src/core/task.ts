/**
 * `task()`: a typed unit of work. Its inputs and outputs are declared once as Flyte types; the
 * function's parameter and return types are inferred from them.
 *
 * ```ts
 * export const add = task(
 *   { inputs: { a: t.int(), b: t.int() }, outputs: t.int(), requests: { cpu: 1 } },
 *   async ({ a, b }) => a + b,
 * );
 * ```
 */
import { FlyteDefinitionError, FlyteExecutionError, FlyteTypeError } from "../errors.js";
import { validateContainerImage } from "../images/template.js";
import type { FlyteType, TypeContext } from "../types/flyte-type.js";
import {
  fromLiteralMap,
  type InputValues,
  type LiteralMap,
  type Schema,
  toLiteralMap,
  type Values,
} from "../types/index.js";
import {
  type Bindings,
  brandClass,
  type CallResult,
  Entity,
  makeCallable,
  type OutputSpec,
} from "./entity.js";
import type { CallOptions } from "./node.js";
import { normalizeResources, parseTimeout, type Resources } from "./resources.js";
import type { TaskContext } from "./task-context.js";

/** A secret a task needs; delivered as an env var (default) or a file. */
export interface SecretRequest {
  group: string;
  key?: string;
  mountAs?: "env" | "file";
}

/** Caching of a task's outputs by its inputs. */
export interface CacheOptions {
  /** Bump to invalidate earlier results. */
  version: string;
  /** Only one execution with the same inputs runs at a time; the others wait for its result. */
  serialize?: boolean;
  /** Inputs left out of the cache key. */
  ignoreInputs?: string[];
}

/** Settings shared by every kind of task. */
export interface TaskSettings {
  /** Flyte name; default `<module>.<export name>`. */
  name?: string;
  /** A one-line description (shown by the CLI and in Flyte's console). */
  description?: string;
  /** The image: a reference, an `{{.image.<name>...}}` template, or default image when absent. */
  containerImage?: string;
  requests?: Resources;
  limits?: Resources;
  /** How many times a failed attempt is retried. */
  retries?: number;
  /** Milliseconds or text like `"1h"`. */
  timeout?: number | string;
  cache?: boolean | CacheOptions;
  /** May run on preemptible machines. */
  interruptible?: boolean;
  /** Environment variables set in the task's container. */
  environment?: Record<string, string>;
  secrets?: SecretRequest[];
  /** Marks the task deprecated with this message. */
  deprecated?: string;
}

/** Options of `task()`. */
export interface TaskOptions<I extends Schema, O extends OutputSpec> extends TaskSettings {
  inputs?: I;
  outputs?: O;
}

/** The value a task function returns for an output spec. */
export type TaskReturn<O extends OutputSpec> =
  O extends FlyteType<infer T>
    ? T
    : O extends Schema
      ? keyof O extends never
        ? void
        : InputValues<O>
      : void;

/** The signature of a task function. */
export type TaskFunction<I extends Schema, O extends OutputSpec> = (
  inputs: Values<I>,
  ctx: TaskContext,
) => TaskReturn<O> | Promise<TaskReturn<O>>;

/** Settings after validation, as serialization and executors read them. */
export interface ResolvedTaskSettings {
  readonly description: string | undefined;
  readonly containerImage: string | undefined;
  readonly requests: Readonly<Record<string, string>>;
  readonly limits: Readonly<Record<string, string>>;
  readonly retries: number;
  readonly timeoutMs: number | undefined;
  readonly cache: Readonly<CacheOptions> | undefined;
  readonly interruptible: boolean;
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: readonly SecretRequest[];
  readonly deprecated: string | undefined;
}

/** Validates task settings, naming the task on error. */
export function resolveSettings(s: TaskSettings, entity: string): ResolvedTaskSettings {
  if (s.retries !== undefined && !(Number.isInteger(s.retries) && s.retries >= 0)) {
    throw new FlyteDefinitionError("RETRIES_INVALID", `retries = ${s.retries} is not a whole number >= 0`, {
      entity,
      fix: "set retries to 0, 1, 2, ...",
    });
  }
  let cache: CacheOptions | undefined;
  if (s.cache === true) cache = { version: "" };
  else if (s.cache && typeof s.cache === "object") {
    if (typeof s.cache.version !== "string") {
      throw new FlyteDefinitionError("CACHE_VERSION", "cache.version must be a string", {
        entity,
        fix: 'write cache: { version: "1" }',
      });
    }
    cache = { ...s.cache };
  }
  for (const [k, v] of Object.entries(s.environment ?? {})) {
    if (typeof v !== "string") {
      throw new FlyteDefinitionError("ENV_INVALID", `environment.${k} must be a string`, {
        entity,
        fix: `write ${k}: "${String(v)}"`,
      });
    }
  }
  if (s.containerImage !== undefined) validateContainerImage(s.containerImage, entity);
  return {
    description: s.description,
    containerImage: s.containerImage,
    requests: normalizeResources(s.requests, entity, "requests"),
    limits: normalizeResources(s.limits, entity, "limits"),
    retries: s.retries ?? 0,
    timeoutMs: parseTimeout(s.timeout, entity),
    cache,
    interruptible: s.interruptible ?? false,
    environment: { ...(s.environment ?? {}) },
    secrets: [...(s.secrets ?? [])],
    deprecated: s.deprecated,
  };
}

/** Base of every task kind (function tasks, container tasks, pre-built container tasks, map tasks). */
export abstract class BaseTask<I extends Schema = Schema, O extends OutputSpec = OutputSpec> extends Entity<
  I,
  O,
  never
> {
  readonly kind = "task" as const;
  /** Flyte task type, e.g. `typescript-task`, `sqlite`, `raw-container`. */
  abstract readonly taskType: string;
  /** Validated settings. */
  readonly settings: ResolvedTaskSettings;

  constructor(options: TaskOptions<I, O>) {
    super((options.inputs ?? {}) as I, options.outputs as O, options.name);
    this.settings = resolveSettings(options, options.name ?? "task");
  }

  /**
   * Runs the task on a LiteralMap of inputs and returns the LiteralMap of outputs. This is the one
   * code path of in-process local runs and of the container entrypoint.
   */
  abstract executeLiterals(inputs: LiteralMap, ctx: TaskContext & TypeContext): Promise<LiteralMap>;
}

/** A task whose logic is a TypeScript function. */
export class FunctionTask<I extends Schema = Schema, O extends OutputSpec = OutputSpec> extends BaseTask<
  I,
  O
> {
  readonly taskType: string = "typescript-task";
  /** The user's function. */
  readonly fn: TaskFunction<I, O>;
  constructor(options: TaskOptions<I, O>, fn: TaskFunction<I, O>) {
    super(options);
    if (typeof fn !== "function") {
      throw new FlyteDefinitionError("TASK_NO_FUNCTION", "task() needs a function as its second argument", {
        entity: options.name ?? "task",
        fix: "write task({ inputs, outputs }, async (inputs) => ...)",
      });
    }
    this.fn = fn;
  }

  /** Runs the function with typed values and checks the result against the outputs. */
  async execute(inputs: Values<I>, ctx: TaskContext): Promise<Record<string, unknown>> {
    const result = await this.fn(inputs, ctx);
    return this.outputsAsRecord(result);
  }

  /** The function's return value as a record keyed by output name. */
  outputsAsRecord(result: unknown): Record<string, unknown> {
    const names = Object.keys(this.outputs);
    if (this.singleOutput) return { o0: result };
    if (names.length === 0) return {};
    if (result === null || typeof result !== "object") {
      throw new FlyteTypeError(
        "TASK_OUTPUT_SHAPE",
        `returned ${String(result)} but must return an object with ${names.join(", ")}`,
        {
          entity: this.name,
          fix: `return { ${names.map((n) => `${n}: ...`).join(", ")} }`,
        },
      );
    }
    return result as Record<string, unknown>;
  }

  async executeLiterals(inputs: LiteralMap, ctx: TaskContext & TypeContext): Promise<LiteralMap> {
    const values = await fromLiteralMap(this.inputs, inputs, ctx, this.name, "input");
    let outputs: Record<string, unknown>;
    try {
      outputs = await this.execute(values as Values<I>, ctx);
    } catch (err) {
      throw asUserError(err, this.name);
    }
    return toLiteralMap(this.outputs, outputs, ctx, this.name, "output");
  }
}

/** Marks an error thrown by user code as a USER error (keeping flytekit-ts errors as they are). */
export function asUserError(err: unknown, entity: string): unknown {
  if (
    err instanceof FlyteExecutionError ||
    (err && typeof err === "object" && "code" in err && "origin" in err)
  )
    return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const wrapped = new FlyteExecutionError("USER_ERROR", `${e.name}: ${e.message}`, {
    entity,
    origin: "USER",
    cause: e,
  });
  if (e.stack) wrapped.stack = e.stack;
  return wrapped;
}

/** A task as users hold it: the task object, callable inside workflows. */
export type Task<I extends Schema = Schema, O extends OutputSpec = OutputSpec> = FunctionTask<I, O> &
  ((bindings: Bindings<I>, options?: CallOptions) => CallResult<O>);

/**
 * Defines a task. Inputs and outputs are declared once; the function's types follow.
 * `outputs` may be one type (the function returns the value) or named types (it returns an object).
 */
export function task<const I extends Schema = {}, const O extends OutputSpec = undefined>(
  options: TaskOptions<I, O>,
  fn: TaskFunction<I, O>,
): Task<I, O> {
  return makeCallable<FunctionTask<I, O>, (bindings: Bindings<I>, options?: CallOptions) => CallResult<O>>(
    new FunctionTask(options, fn),
  );
}

brandClass(BaseTask, "BaseTask");

brandClass(FunctionTask, "FunctionTask");
