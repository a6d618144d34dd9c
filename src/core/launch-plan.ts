/**
 * Launch plans: a workflow with some inputs fixed or defaulted, an optional schedule and
 * notifications. Every workflow also has a default launch plan of the same name.
 */
import { FlyteDefinitionError, describeValue } from "../errors.js";
import type { Schema } from "../types/literal-map.js";
import { type Bindings, type CallResult, Entity, makeCallable } from "./entity.js";
import type { CallOptions } from "./node.js";
import type { ReturnSpec, WorkflowDef, WorkflowReturn } from "./workflow.js";

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
    throw new FlyteDefinitionError("SCHEDULE_CRON", `cron expression ${describeValue(expression)} needs five fields`, { fix: 'write e.g. "0 * * * *" (every hour) or "@daily"' });
  }
  return { kind: "cron", expression: e, ...options };
}

/** A schedule that runs every `value` `unit`s. */
export function fixedRate(value: number, unit: FixedRateSchedule["unit"] = "minute", options: { kickoffTimeInputArg?: string } = {}): FixedRateSchedule {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new FlyteDefinitionError("SCHEDULE_RATE", `fixed rate ${describeValue(value)} is not a whole number > 0`, { fix: "write e.g. fixedRate(10, 'minute')" });
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
export interface LaunchPlanOptions<I extends Schema> {
  /** Flyte name; default `<module>.<export name>`. */
  name?: string;
  /** Inputs the caller may override. */
  defaultInputs?: Partial<Record<keyof I, unknown>>;
  /** Inputs nobody can override. */
  fixedInputs?: Partial<Record<keyof I, unknown>>;
  schedule?: Schedule;
  notifications?: Notification[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Cap on concurrently running nodes of an execution. */
  maxParallelism?: number;
}

/** A launch plan of a workflow. */
export class LaunchPlanDef<I extends Schema = Schema, R extends WorkflowReturn = WorkflowReturn> extends Entity<I, ReturnSpec<R> & {}> {
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
    readonly workflow: WorkflowDef<I, R>,
    options: LaunchPlanOptions<I>,
    isDefault = false,
  ) {
    super(workflow.inputs, undefined as never, options.name);
    this.outputSchemaValue = workflow.outputs as never;
    this.singleOutputValue = workflow.singleOutput;
    this.isDefault = isDefault;
    const entity = options.name ?? `launch plan of ${workflow.name}`;
    const check = (what: string, values: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(values)) {
        const type = workflow.inputs[k];
        if (!type) throw new FlyteDefinitionError("LAUNCHPLAN_UNKNOWN_INPUT", `${what} input "${k}" is not an input of ${workflow.name}`, { entity, fix: `inputs are: ${Object.keys(workflow.inputs).join(", ")}` });
        try {
          type.fromJson(type.toJson(v as never));
        } catch (err) {
          throw new FlyteDefinitionError("LAUNCHPLAN_BAD_VALUE", `${what} input "${k}" (${type.name}) = ${describeValue(v)}: ${(err as Error).message}`, { entity, cause: err });
        }
      }
    };
    this.defaultInputs = { ...workflow.defaults, ...(options.defaultInputs ?? {}) };
    this.fixedInputs = { ...(options.fixedInputs ?? {}) };
    check("default", this.defaultInputs);
    check("fixed", this.fixedInputs);
    this.schedule = options.schedule;
    this.notifications = [...(options.notifications ?? [])];
    this.labels = { ...(options.labels ?? {}) };
    this.annotations = { ...(options.annotations ?? {}) };
    this.maxParallelism = options.maxParallelism;
    if (this.schedule?.kickoffTimeInputArg && !workflow.inputs[this.schedule.kickoffTimeInputArg]) {
      throw new FlyteDefinitionError("SCHEDULE_KICKOFF_INPUT", `kickoffTimeInputArg "${this.schedule.kickoffTimeInputArg}" is not an input`, { entity });
    }
  }

  /** Default launch plans are named after their workflow. */
  override get name(): string {
    return this.isDefault ? this.workflow.name : super.name;
  }
}

/** A launch plan as users hold it: callable inside workflows. */
export type LaunchPlan<I extends Schema = Schema, R extends WorkflowReturn = WorkflowReturn> = LaunchPlanDef<I, R> &
  ((bindings: Partial<Bindings<I>>, options?: CallOptions) => CallResult<ReturnSpec<R> & {}>);

/** Creates a launch plan for `workflow`. */
export function launchPlan<I extends Schema, R extends WorkflowReturn>(workflow: WorkflowDef<I, R>, options: LaunchPlanOptions<I> = {}): LaunchPlan<I, R> {
  return makeCallable<LaunchPlanDef<I, R>, (bindings: Partial<Bindings<I>>, options?: CallOptions) => CallResult<ReturnSpec<R> & {}>>(new LaunchPlanDef(workflow, options));
}

const defaults = new WeakMap<object, LaunchPlanDef>();

/** The implicit default launch plan of a workflow (same name, the workflow's defaults). */
export function defaultLaunchPlan<I extends Schema, R extends WorkflowReturn>(workflow: WorkflowDef<I, R>): LaunchPlanDef<I, R> {
  let lp = defaults.get(workflow);
  if (!lp) {
    lp = new LaunchPlanDef(workflow, {}, true) as unknown as LaunchPlanDef;
    defaults.set(workflow, lp);
  }
  return lp as unknown as LaunchPlanDef<I, R>;
}
