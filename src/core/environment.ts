/**
 * Task environments: one object that sets the image, resources, env vars, secrets, cache,
 * retries and interruptibility for a group of tasks.
 *
 * ```ts
 * const spark = environment({ name: "spark", containerImage: "{{.image.spark.fqn}}:{{.image.spark.version}}", requests: { cpu: 4 } });
 * export const crunch = spark.task({ inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => n * 2);
 * const bigSpark = spark.extend({ name: "big-spark", requests: { memory: "16Gi" } });
 * ```
 * A task's own options override the environment's (maps such as `environment` and resources are
 * merged key by key). The serialized task is exactly what the same options written on the task give.
 */
import { describeValue, FlyteDefinitionError } from "../errors.js";
import type { Schema, Values } from "../types/literal-map.js";
import { type DynamicReturn, type DynamicTask, dynamic } from "./dynamic.js";
import type { OutputSpec } from "./entity.js";
import type { Resources } from "./resources.js";
import {
  resolveSettings,
  type Task,
  type TaskFunction,
  type TaskOptions,
  type TaskSettings,
  task,
} from "./task.js";
import type { TaskContext } from "./task-context.js";

/** The settings an environment carries. */
export interface EnvironmentSettings {
  /** Unique in a project: packages show it per task. */
  name: string;
  description?: string;
  containerImage?: string;
  requests?: Resources;
  limits?: Resources;
  /** Environment variables of the tasks' containers. */
  env?: Record<string, string>;
  secrets?: TaskSettings["secrets"];
  cache?: TaskSettings["cache"];
  retries?: number;
  timeout?: number | string;
  interruptible?: boolean;
}

const KEYS = new Set([
  "name",
  "description",
  "containerImage",
  "requests",
  "limits",
  "env",
  "secrets",
  "cache",
  "retries",
  "timeout",
  "interruptible",
]);

/** Symbol under which a task records its environment's name. */
export const ENVIRONMENT = Symbol.for("flytekit-ts.environment");

/** The environment a task was created from, if any. */
export function environmentOf(entity: unknown): string | undefined {
  return (entity as { [ENVIRONMENT]?: string } | null)?.[ENVIRONMENT];
}

function checkKeys(settings: object, where: string): void {
  for (const k of Object.keys(settings)) {
    if (!KEYS.has(k)) {
      throw new FlyteDefinitionError("ENVIRONMENT_UNKNOWN_KEY", `unknown setting "${k}" in ${where}`, {
        entity: where,
        fix: `environments set: ${[...KEYS].join(", ")}`,
      });
    }
  }
}

/** A group of task settings. */
export class TaskEnvironment {
  readonly settings: Readonly<EnvironmentSettings>;
  constructor(settings: EnvironmentSettings) {
    checkKeys(settings, `environment ${describeValue(settings.name)}`);
    if (typeof settings.name !== "string" || !/^[A-Za-z0-9_.-]+$/.test(settings.name)) {
      throw new FlyteDefinitionError(
        "ENVIRONMENT_NAME",
        `environment name ${describeValue(settings.name)} is not valid`,
        { fix: "use letters, digits, '_', '-' and '.'" },
      );
    }
    this.settings = Object.freeze({ ...settings });
    // Validate now, so a bad environment fails where it is defined.
    resolveSettings(this.#taskSettings({}), `environment ${settings.name}`);
  }

  /** The environment's name. */
  get name(): string {
    return this.settings.name;
  }

  /** The task options this environment gives, with `own` overriding. */
  #taskSettings<T extends TaskSettings>(own: T): T {
    const e = this.settings;
    const merged: TaskSettings = {};
    if (e.description !== undefined) merged.description = e.description;
    if (e.containerImage !== undefined) merged.containerImage = e.containerImage;
    if (e.requests || own.requests) merged.requests = { ...e.requests, ...own.requests };
    if (e.limits || own.limits) merged.limits = { ...e.limits, ...own.limits };
    if (e.env || own.environment) merged.environment = { ...e.env, ...own.environment };
    if (e.secrets || own.secrets) merged.secrets = [...(e.secrets ?? []), ...(own.secrets ?? [])];
    if (e.cache !== undefined) merged.cache = e.cache;
    if (e.retries !== undefined) merged.retries = e.retries;
    if (e.timeout !== undefined) merged.timeout = e.timeout;
    if (e.interruptible !== undefined) merged.interruptible = e.interruptible;
    const out = { ...merged, ...own } as T;
    if (merged.requests) out.requests = merged.requests;
    if (merged.limits) out.limits = merged.limits;
    if (merged.environment) out.environment = merged.environment;
    if (merged.secrets) out.secrets = merged.secrets;
    return out;
  }

  /** Defines a task in this environment. */
  task<const I extends Schema = {}, const O extends OutputSpec = undefined>(
    options: TaskOptions<I, O>,
    fn: TaskFunction<I, O>,
  ): Task<I, O> {
    const t = task(this.#taskSettings(options), fn);
    Object.defineProperty(t, ENVIRONMENT, { value: this.name });
    return t;
  }

  /** Defines a dynamic workflow task in this environment. */
  dynamic<const I extends Schema = {}, const O extends OutputSpec = undefined>(
    options: TaskOptions<I, O>,
    fn: (inputs: Values<I>, ctx: TaskContext) => DynamicReturn<O>,
  ): DynamicTask<I, O> {
    const t = dynamic(this.#taskSettings(options), fn);
    Object.defineProperty(t, ENVIRONMENT, { value: this.name });
    return t;
  }

  /** A new environment with these settings over this one's (maps merged). Needs a new name. */
  extend(settings: Partial<EnvironmentSettings> & { name: string }): TaskEnvironment {
    checkKeys(settings, `environment ${describeValue(settings.name)} (extending ${this.name})`);
    const e = this.settings;
    const merged: EnvironmentSettings = { ...e, ...settings };
    if (e.requests || settings.requests) merged.requests = { ...e.requests, ...settings.requests };
    if (e.limits || settings.limits) merged.limits = { ...e.limits, ...settings.limits };
    if (e.env || settings.env) merged.env = { ...e.env, ...settings.env };
    if (e.secrets || settings.secrets) merged.secrets = [...(e.secrets ?? []), ...(settings.secrets ?? [])];
    if (merged.name === this.name) {
      throw new FlyteDefinitionError(
        "ENVIRONMENT_NAME_CLASH",
        `extend() of environment "${this.name}" needs a new name`,
        { entity: this.name, fix: "pass { name: ... }" },
      );
    }
    return new TaskEnvironment(merged);
  }
}

/** Creates a task environment. */
export function environment(settings: EnvironmentSettings): TaskEnvironment {
  return new TaskEnvironment(settings);
}
