/**
 * Launch plans: a workflow with some inputs fixed or defaulted, an optional schedule and
 * notifications. Every workflow also has a default launch plan of the same name.
 */
import { describeValue, FlyteDefinitionError } from "../errors.js";
import type { ValueOf } from "../types/flyte-type.js";
import type { Schema } from "../types/literal-map.js";
import {
  type Bindings,
  brandClass,
  type CallResult,
  Entity,
  makeCallable,
  type OutputSpec,
} from "./entity.js";
import type { CallOptions } from "./node.js";
import type { WorkflowDef, WorkflowReturn } from "./workflow.js";

/** A cron schedule (`0 * * * *`, or `@daily` style). */
export interface CronSchedule {
  kind: "cron";
  expression: string;
  /** The input that receives the scheduled time. */
  kickoffTimeInputArg?: string;
}

/** A fixed-rate schedule. */
export interface FixedRateSchedule {
  kind: "fixedRate";
  value: number;
  unit: "minute" | "hour" | "day";
  kickoffTimeInputArg?: string;
}

/** When a launch plan runs by itself. */
export type Schedule = CronSchedule | FixedRateSchedule;

/** A cron schedule. Five fields, or one of @hourly, @daily, @weekly, @monthly, @yearly. */
export function cron(expression: string, options: { kickoffTimeInputArg?: string } = {}): CronSchedule {
  const e = expression.trim();
  const ok = /^@(hourly|daily|weekly|monthly|yearly|annually)$/.test(e) || e.split(/\s+/).length === 5;
  if (!ok) {
    throw new FlyteDefinitionError(
      "SCHEDULE_CRON",
      `cron expression ${describeValue(expression)} needs five fields`,
      { fix: 'write e.g. "0 * * * *" (every hour) or "@daily"' },
    );
  }
  return { kind: "cron", expression: e, ...options };
}

/** A schedule that runs every `value` `unit`s. */
export function fixedRate(
  value: number,
  unit: FixedRateSchedule["unit"] = "minute",
  options: { kickoffTimeInputArg?: string } = {},
): FixedRateSchedule {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new FlyteDefinitionError(
      "SCHEDULE_RATE",
      `fixed rate ${describeValue(value)} is not a whole number > 0`,
      { fix: "write e.g. fixedRate(10, 'minute')" },
    );
  }
  return { kind: "fixedRate", value, unit, ...options };
}

/** Execution phases that can trigger a notification. */
export type NotificationPhase = "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

/** A notification on workflow completion. */
export type Notification =
  | { phases: NotificationPhase[]; email: string[] }
  | { phases: NotificationPhase[]; slack: string[] }
  | { phases: NotificationPhase[]; pagerDuty: string[] };

/** Options of `launchPlan()`. */
export interface LaunchPlanOptions<
  I extends Schema,
  DI extends keyof I = keyof I,
  FI extends keyof I = keyof I,
> {
  /** Flyte name; default `<module>.<export name>`. */
  name?: string;
  /** Inputs the caller may override. */
  defaultInputs?: { [K in DI]: ValueOf<I[K]> };
  /** Inputs nobody can override. */
  fixedInputs?: { [K in FI]: ValueOf<I[K]> };
  schedule?: Schedule;
  notifications?: Notification[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Cap on concurrently running nodes of an execution. */
  maxParallelism?: number;
}

/** A launch plan of a workflow. */
/** Any workflow, as a launch plan holds it. */
export type AnyWorkflow = WorkflowDef<Schema, WorkflowReturn>;

export class LaunchPlanDef<
  I extends Schema = Schema,
  O extends OutputSpec = OutputSpec,
  D extends keyof I = keyof I,
> extends Entity<I, O, D> {
  readonly kind = "launchPlan" as const;
  readonly defaultInputs: Readonly<Record<string, unknown>>;
  readonly fixedInputs: Readonly<Record<string, unknown>>;
  readonly schedule: Schedule | undefined;
  readonly notifications: readonly Notification[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly maxParallelism: number | undefined;
  /** True for the implicit launch plan every workflow has. */
  readonly isDefault: boolean;

  constructor(
    readonly workflow: AnyWorkflow,
    options: LaunchPlanOptions<Schema, string, string>,
    isDefault = false,
  ) {
    super(workflow.inputs as I, undefined as never, options.name);
    this.outputSchemaValue = workflow.outputs as never;
    this.singleOutputValue = workflow.singleOutput;
    this.isDefault = isDefault;
    const entity = options.name ?? `launch plan of ${workflow.name}`;
    const check = (what: string, values: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(values)) {
        const type = workflow.inputs[k];
        if (!type)
          throw new FlyteDefinitionError(
            "LAUNCHPLAN_UNKNOWN_INPUT",
            `${what} input "${k}" is not an input of ${workflow.name}`,
            { entity, fix: `inputs are: ${Object.keys(workflow.inputs).join(", ")}` },
          );
        try {
          type.fromJson(type.toJson(v as never));
        } catch (err) {
          throw new FlyteDefinitionError(
            "LAUNCHPLAN_BAD_VALUE",
            `${what} input "${k}" (${type.name}) = ${describeValue(v)}: ${(err as Error).message}`,
            { entity, cause: err },
          );
        }
      }
    };
    this.defaultInputs = {
      ...workflow.defaults,
      ...((options.defaultInputs ?? {}) as Record<string, unknown>),
    };
    this.fixedInputs = { ...((options.fixedInputs ?? {}) as Record<string, unknown>) };
    check("default", this.defaultInputs);
    check("fixed", this.fixedInputs);
    this.schedule = options.schedule;
    this.notifications = [...(options.notifications ?? [])];
    this.labels = { ...(options.labels ?? {}) };
    this.annotations = { ...(options.annotations ?? {}) };
    this.maxParallelism = options.maxParallelism;
    if (this.schedule?.kickoffTimeInputArg && !workflow.inputs[this.schedule.kickoffTimeInputArg]) {
      throw new FlyteDefinitionError(
        "SCHEDULE_KICKOFF_INPUT",
        `kickoffTimeInputArg "${this.schedule.kickoffTimeInputArg}" is not an input`,
        { entity },
      );
    }
  }

  protected override addNode(bindings: Record<string, unknown>, options?: CallOptions): CallResult<O> {
    for (const k of Object.keys(this.fixedInputs)) {
      if (bindings?.[k] !== undefined) {
        throw new FlyteDefinitionError(
          "LAUNCHPLAN_FIXED_INPUT",
          `input "${k}" is fixed by the launch plan and cannot be bound`,
          { entity: this.name, fix: "leave it out of the call" },
        );
      }
    }
    return super.addNode(bindings, options);
  }

  protected override inputsWithDefaults(): ReadonlySet<string> {
    return new Set([...Object.keys(this.defaultInputs), ...Object.keys(this.fixedInputs)]);
  }

  /** Default launch plans are named after their workflow. */
  override get name(): string {
    return this.isDefault ? this.workflow.name : super.name;
  }
}

/** A launch plan as users hold it: callable inside workflows. */
export type LaunchPlan<
  I extends Schema = Schema,
  O extends OutputSpec = OutputSpec,
  D extends keyof I = never,
> = LaunchPlanDef<I, O, D> & ((bindings: Partial<Bindings<I>>, options?: CallOptions) => CallResult<O>);

/** Creates a launch plan for `workflow`. */
export function launchPlan<
  I extends Schema,
  O extends OutputSpec,
  WD extends keyof I = never,
  DI extends keyof I = never,
  FI extends keyof I = never,
>(
  workflow: Entity<I, O, WD> & { readonly kind: "workflow" },
  options: LaunchPlanOptions<I, DI, FI> = {},
): LaunchPlan<I, O, WD | DI | FI> {
  return makeCallable<
    LaunchPlanDef<I, O, WD | DI | FI>,
    (bindings: Partial<Bindings<I>>, options?: CallOptions) => CallResult<O>
  >(
    new LaunchPlanDef(
      workflow as unknown as AnyWorkflow,
      options as LaunchPlanOptions<Schema, string, string>,
    ) as never,
  );
}

const defaults = new WeakMap<object, LaunchPlanDef>();

/** The implicit default launch plan of a workflow (same name, the workflow's defaults). */
export function defaultLaunchPlan(workflow: AnyWorkflow | Entity): LaunchPlanDef {
  let lp = defaults.get(workflow);
  if (!lp) {
    lp = new LaunchPlanDef(workflow as AnyWorkflow, {}, true) as unknown as LaunchPlanDef;
    defaults.set(workflow, lp);
  }
  return lp;
}

brandClass(LaunchPlanDef, "LaunchPlanDef");
