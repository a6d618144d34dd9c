/**
 * Entities -> flyteidl, the entry point of serialization: collects what a set of tasks,
 * workflows and launch plans needs registered and turns each into the admin message a package
 * holds (`TaskSpec`, `WorkflowSpec`, `LaunchPlan`).
 *
 * The pieces live beside this file: task-template.ts, workflow-spec.ts, launch-plan.ts,
 * bindings.ts, registrable.ts.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import type { Entity } from "../core/entity.js";
import { DescriptionEntitySchema } from "../proto/gen/flyteidl/admin/description_entity_pb.js";
import {
  type LaunchPlan as LaunchPlanMessage,
  LaunchPlanSchema,
} from "../proto/gen/flyteidl/admin/launch_plan_pb.js";
import { type TaskSpec, TaskSpecSchema } from "../proto/gen/flyteidl/admin/task_pb.js";
import { type WorkflowSpec, WorkflowSpecSchema } from "../proto/gen/flyteidl/admin/workflow_pb.js";
import { launchPlanMessage } from "./launch-plan.js";
import { type CollectOptions, collectRegistrables, type Registrable } from "./registrable.js";
import type { SerializationSettingsLike } from "./serialization-context.js";
import { mapTaskTemplate, taskSpec, taskTemplate } from "./task-template.js";
import { workflowSpec } from "./workflow-spec.js";

export { defaultInputs, launchPlanMessage } from "./launch-plan.js";
export { type CollectOptions, collectRegistrables, type Registrable } from "./registrable.js";
export {
  type FastSettingsLike,
  type ImageResolver,
  identifier,
  SDK_FLAVOR,
  SDK_VERSION,
  type SerializationSettingsLike,
} from "./serialization-context.js";
export {
  DEFAULT_RESOLVER,
  DEST_DIR,
  defaultContainer,
  executeArgs,
  FAST_ENTRYPOINT,
  functionTaskResolverArgs,
  MAP_RESOLVER,
  mapTaskTemplate,
  mapTaskTemplateName,
  REMOTE_PACKAGE_PATH,
  resourcesMessage,
  type TaskSerializationHooks,
  taskSpec,
  taskTemplate,
  typedInterface,
  withFastPrefix,
} from "./task-template.js";
export { dynamicJobSpec, FAILURE_NODE_ID, workflowSpec, workflowTemplates } from "./workflow-spec.js";

/** Package entry kinds: 1 TaskSpec, 2 WorkflowSpec, 3 LaunchPlan. */
export type EntryKind = 1 | 2 | 3;

/** One serialized entity, ready to be written as a package entry. */
export type SerializedEntity =
  | { readonly kind: 1; readonly name: string; readonly message: TaskSpec; readonly bytes: Uint8Array }
  | { readonly kind: 2; readonly name: string; readonly message: WorkflowSpec; readonly bytes: Uint8Array }
  | {
      readonly kind: 3;
      readonly name: string;
      readonly message: LaunchPlanMessage;
      readonly bytes: Uint8Array;
    };

/** Serializes one registrable. */
export async function serializeRegistrable(
  r: Registrable,
  settings: SerializationSettingsLike,
): Promise<SerializedEntity> {
  switch (r.kind) {
    case "task": {
      const message = taskSpec(taskTemplate(r.task, settings));
      if (r.task.settings.description)
        message.description = create(DescriptionEntitySchema, {
          shortDescription: r.task.settings.description,
        });
      return { kind: 1, name: r.name, message, bytes: toBinary(TaskSpecSchema, message) };
    }
    case "mapTask": {
      const message = taskSpec(mapTaskTemplate(r.map, settings));
      return { kind: 1, name: r.name, message, bytes: toBinary(TaskSpecSchema, message) };
    }
    case "workflow": {
      const message = await workflowSpec(r.workflow, settings);
      return { kind: 2, name: r.name, message, bytes: toBinary(WorkflowSpecSchema, message) };
    }
    case "launchPlan": {
      const message = await launchPlanMessage(r.launchPlan, settings);
      return { kind: 3, name: r.name, message, bytes: toBinary(LaunchPlanSchema, message) };
    }
  }
}

/** Options of {@link serializeEntities}. */
export interface SerializeOptions extends CollectOptions {
  /** Called before each entity is serialized (for progress lines). */
  onEntity?: (r: Registrable, index: number, total: number) => void;
}

/** Serializes everything `entities` need registered, dependencies first. */
export async function serializeEntities(
  entities: Iterable<Entity>,
  settings: SerializationSettingsLike,
  options: SerializeOptions = {},
): Promise<SerializedEntity[]> {
  const registrables = collectRegistrables(entities, options);
  const out: SerializedEntity[] = [];
  for (const [i, r] of registrables.entries()) {
    options.onEntity?.(r, i, registrables.length);
    out.push(await serializeRegistrable(r, settings));
  }
  return out;
}
