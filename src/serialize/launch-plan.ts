/**
 * Launch plans -> `admin.LaunchPlan` (what a package's `_3.pb` entries hold): the workflow id,
 * default inputs as a ParameterMap (a default value, or required), fixed inputs, schedule,
 * notifications, labels, annotations, max parallelism, and an empty closure (flytectl needs
 * it present).
 */
import { create } from "@bufbuild/protobuf";
import type { LaunchPlanDef, Notification, Schedule } from "../core/launch-plan.js";
import {
  AnnotationsSchema,
  EmailNotificationSchema,
  LabelsSchema,
  type Notification as NotificationMessage,
  NotificationSchema,
  PagerDutyNotificationSchema,
  RawOutputDataConfigSchema,
  SlackNotificationSchema,
} from "../proto/gen/flyteidl/admin/common_pb.js";
import {
  LaunchPlanClosureSchema,
  type LaunchPlan as LaunchPlanMessage,
  LaunchPlanMetadataSchema,
  LaunchPlanSchema,
  LaunchPlanSpecSchema,
} from "../proto/gen/flyteidl/admin/launch_plan_pb.js";
import {
  CronScheduleSchema,
  FixedRateSchema,
  FixedRateUnit,
  type Schedule as ScheduleMessage,
  ScheduleSchema,
} from "../proto/gen/flyteidl/admin/schedule_pb.js";
import { WorkflowExecution_Phase } from "../proto/gen/flyteidl/core/execution_pb.js";
import {
  type Parameter,
  type ParameterMap,
  ParameterMapSchema,
  ParameterSchema,
  VariableMapSchema,
  VariableSchema,
} from "../proto/gen/flyteidl/core/interface_pb.js";
import { type Literal, LiteralMapSchema } from "../proto/gen/flyteidl/core/literals_pb.js";
import { constantLiteral } from "./bindings.js";
import { identifier, type SerializationSettingsLike } from "./serialization-context.js";

function scheduleMessage(s: Schedule): ScheduleMessage {
  const kickoffTimeInputArg = s.kickoffTimeInputArg ?? "";
  if (s.kind === "cron") {
    return create(ScheduleSchema, {
      kickoffTimeInputArg,
      ScheduleExpression: {
        case: "cronSchedule",
        value: create(CronScheduleSchema, { schedule: s.expression }),
      },
    });
  }
  const unit = { minute: FixedRateUnit.MINUTE, hour: FixedRateUnit.HOUR, day: FixedRateUnit.DAY }[s.unit];
  return create(ScheduleSchema, {
    kickoffTimeInputArg,
    ScheduleExpression: { case: "rate", value: create(FixedRateSchema, { value: s.value, unit }) },
  });
}

const PHASES = {
  SUCCEEDED: WorkflowExecution_Phase.SUCCEEDED,
  FAILED: WorkflowExecution_Phase.FAILED,
  TIMED_OUT: WorkflowExecution_Phase.TIMED_OUT,
  ABORTED: WorkflowExecution_Phase.ABORTED,
} as const;

function notificationMessage(n: Notification): NotificationMessage {
  const phases = n.phases.map((p) => PHASES[p]);
  if ("email" in n)
    return create(NotificationSchema, {
      phases,
      type: { case: "email", value: create(EmailNotificationSchema, { recipientsEmail: [...n.email] }) },
    });
  if ("slack" in n)
    return create(NotificationSchema, {
      phases,
      type: { case: "slack", value: create(SlackNotificationSchema, { recipientsEmail: [...n.slack] }) },
    });
  return create(NotificationSchema, {
    phases,
    type: {
      case: "pagerDuty",
      value: create(PagerDutyNotificationSchema, { recipientsEmail: [...n.pagerDuty] }),
    },
  });
}

/** The ParameterMap of a launch plan's overridable inputs: a default value, or required. Fixed inputs are left out. */
export async function defaultInputs(lp: LaunchPlanDef): Promise<ParameterMap> {
  const parameters: Record<string, Parameter> = {};
  for (const [k, type] of Object.entries(lp.inputs)) {
    if (k in lp.fixedInputs) continue;
    const p = create(ParameterSchema, {
      var: create(VariableSchema, { type: type.literalType, description: k }),
    });
    if (k in lp.defaultInputs && lp.defaultInputs[k] !== undefined) {
      p.behavior = {
        case: "default",
        value: await constantLiteral(
          type,
          type.fromJson(type.toJson(lp.defaultInputs[k] as never)),
          lp.name,
          k,
        ),
      };
    } else if (type.optional) {
      p.behavior = { case: "default", value: await constantLiteral(type, null, lp.name, k) };
    } else {
      p.behavior = { case: "required", value: true };
    }
    parameters[k] = p;
  }
  return create(ParameterMapSchema, { parameters });
}

/** The `admin.LaunchPlan` of a launch plan (default launch plans included). */
export async function launchPlanMessage(
  lp: LaunchPlanDef,
  settings: SerializationSettingsLike,
): Promise<LaunchPlanMessage> {
  const fixed: Record<string, Literal> = {};
  for (const [k, v] of Object.entries(lp.fixedInputs)) {
    const type = lp.inputs[k];
    if (type && v !== undefined)
      fixed[k] = await constantLiteral(type, type.fromJson(type.toJson(v as never)), lp.name, k);
  }
  const entityMetadata = create(LaunchPlanMetadataSchema, {
    notifications: lp.notifications.map(notificationMessage),
  });
  if (lp.schedule) entityMetadata.schedule = scheduleMessage(lp.schedule);
  return create(LaunchPlanSchema, {
    id: identifier("launchPlan", lp.name, settings),
    spec: create(LaunchPlanSpecSchema, {
      workflowId: identifier("workflow", lp.workflow.name, settings),
      entityMetadata,
      defaultInputs: await defaultInputs(lp),
      fixedInputs: create(LiteralMapSchema, { literals: fixed }),
      labels: create(LabelsSchema, { values: { ...lp.labels } }),
      annotations: create(AnnotationsSchema, { values: { ...lp.annotations } }),
      rawOutputDataConfig: create(RawOutputDataConfigSchema, {}),
      maxParallelism: lp.maxParallelism ?? 0,
    }),
    closure: create(LaunchPlanClosureSchema, {
      expectedInputs: create(ParameterMapSchema, {}),
      expectedOutputs: create(VariableMapSchema, {}),
    }),
  });
}
