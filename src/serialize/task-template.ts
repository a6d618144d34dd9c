/**
 * Tasks -> flyteidl `TaskTemplate` / `admin.TaskSpec`: identifier, metadata (runtime, retries,
 * timeout, cache, interruptible), typed interface, and the container propeller starts: image,
 * the `tsflyte-execute` command line, environment, resources and secrets.
 *
 * Plugin task types shape their own template through {@link TaskSerializationHooks}.
 */
import { createHash } from "node:crypto";
import { create, equals, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { DynamicTaskDef } from "../core/dynamic.js";
import type { MapTaskDef } from "../core/map-task.js";
import type { BaseTask } from "../core/task.js";
import { FlyteDefinitionError } from "../errors.js";
import { type TaskSpec, TaskSpecSchema } from "../proto/gen/flyteidl/admin/task_pb.js";
import { type TypedInterface, TypedInterfaceSchema } from "../proto/gen/flyteidl/core/interface_pb.js";
import { KeyValuePairSchema } from "../proto/gen/flyteidl/core/literals_pb.js";
import {
  Secret_MountType,
  SecretSchema,
  type SecurityContext,
  SecurityContextSchema,
} from "../proto/gen/flyteidl/core/security_pb.js";
import {
  type Container,
  ContainerSchema,
  type Resources,
  Resources_ResourceName,
  ResourcesSchema,
  RuntimeMetadata_RuntimeType,
  RuntimeMetadataSchema,
  type TaskMetadata,
  TaskMetadataSchema,
  type TaskTemplate,
  TaskTemplateSchema,
} from "../proto/gen/flyteidl/core/tasks_pb.js";
import { LiteralTypeSchema } from "../proto/gen/flyteidl/core/types_pb.js";
import { ListType } from "../types/collections.js";
import { type Schema, variableMap } from "../types/literal-map.js";
import {
  durationOf,
  identifier,
  retryStrategy,
  SDK_FLAVOR,
  SDK_VERSION,
  type SerializationSettingsLike,
} from "./serialization-context.js";
import { DEFAULT_ENTRYPOINT } from "./settings.js";

/**
 * Optional members a task class may implement to shape its own template (plugin task types:
 * pre-built container tasks, SQL tasks, ...). Serialization calls them when present.
 */
export interface TaskSerializationHooks {
  /** The whole container (image, command, args, env, resources) instead of the function-task container. */
  serializeContainer?(settings: SerializationSettingsLike): Container;
  /** The template's `custom` struct (plugin configuration). */
  getCustom?(settings: SerializationSettingsLike): JsonObject | undefined;
  /** The template's `config` map. */
  getConfig?(settings: SerializationSettingsLike): Record<string, string> | undefined;
  /** The template's `task_type_version`. */
  readonly taskTypeVersion?: number;
}

/** The command that fetches a fast-registration bundle, then runs the task. */
export const FAST_ENTRYPOINT = "tsflyte-fast-execute";
/** Name of the resolver that finds function tasks by module and export name. */
export const DEFAULT_RESOLVER = "default";
/** Name of the resolver of map tasks (ArrayNode sub-tasks). */
export const MAP_RESOLVER = "map";
/** Placeholder flytectl replaces with the uploaded bundle's location at registration. */
export const REMOTE_PACKAGE_PATH = "{{ .remote_package_path }}";
/** Placeholder flytectl replaces with the bundle's destination folder at registration. */
export const DEST_DIR = "{{ .dest_dir }}";

/** The propeller-substituted arguments every SDK task command starts with (after the entrypoint). */
export const EXECUTE_IO_ARGS: readonly string[] = [
  "--inputs",
  "{{.input}}",
  "--output-prefix",
  "{{.outputPrefix}}",
  "--raw-output-data-prefix",
  "{{.rawOutputDataPrefix}}",
  "--checkpoint-path",
  "{{.checkpointOutputPrefix}}",
  "--prev-checkpoint",
  "{{.prevCheckpointPrefix}}",
];

/** Where the runtime finds a task: its module (relative to the source root) and export name. */
export function taskLocation(task: BaseTask): { module: string; exportName: string } {
  if (task.module === undefined || task.exportName === undefined) {
    throw new FlyteDefinitionError(
      "TASK_NOT_EXPORTED",
      "the task is not exported from a loaded module, so the container cannot find it at run time",
      {
        entity: task.name,
        fix: "export the task (`export const myTask = task(...)`) from a module and serialize through `tsflyte package` / loadModule()",
      },
    );
  }
  return { module: task.module, exportName: task.exportName };
}

/** The resolver arguments of a function task: `task-module <module> task-name <export name>`. */
export function functionTaskResolverArgs(task: BaseTask): string[] {
  const { module, exportName } = taskLocation(task);
  return ["task-module", module, "task-name", exportName];
}

/**
 * The full command line: `<entrypoint> --inputs ... --resolver <resolver> -- <resolver args>`,
 * wrapped in `tsflyte-fast-execute --additional-distribution ... --dest-dir ... --` when fast
 * registration is on.
 */
export function executeArgs(
  settings: SerializationSettingsLike,
  resolver: string,
  resolverArgs: readonly string[],
): string[] {
  const entrypoint = settings.entrypointSettings?.path || DEFAULT_ENTRYPOINT;
  return withFastPrefix(settings, [
    entrypoint,
    ...EXECUTE_IO_ARGS,
    "--resolver",
    resolver,
    "--",
    ...resolverArgs,
  ]);
}

/** Prefixes a command with the fast-registration entrypoint when fast serialization is enabled. */
export function withFastPrefix(settings: SerializationSettingsLike, args: string[]): string[] {
  const fast = settings.fastSerializationSettings;
  if (!fast?.enabled) return args;
  return [
    FAST_ENTRYPOINT,
    "--additional-distribution",
    fast.distributionLocation || REMOTE_PACKAGE_PATH,
    "--dest-dir",
    fast.destinationDir || DEST_DIR,
    "--",
    ...args,
  ];
}

const RESOURCE_ORDER: readonly [string, Resources_ResourceName][] = [
  ["cpu", Resources_ResourceName.CPU],
  ["memory", Resources_ResourceName.MEMORY],
  ["gpu", Resources_ResourceName.GPU],
  ["ephemeralStorage", Resources_ResourceName.EPHEMERAL_STORAGE],
];

/** Requests and limits (normalised quantity strings) as a flyteidl Resources message. */
export function resourcesMessage(
  requests: Readonly<Record<string, string>>,
  limits: Readonly<Record<string, string>>,
): Resources {
  const entries = (r: Readonly<Record<string, string>>) =>
    RESOURCE_ORDER.filter(([k]) => r[k] !== undefined).map(([k, name]) => ({ name, value: r[k] as string }));
  return create(ResourcesSchema, { requests: entries(requests), limits: entries(limits) });
}

/** A typed interface; each variable's description is its name, as flytekit writes it. */
export function typedInterface(inputs: Schema, outputs: Schema): TypedInterface {
  const names = (s: Schema) => Object.fromEntries(Object.keys(s).map((k) => [k, k]));
  return create(TypedInterfaceSchema, {
    inputs: variableMap(inputs, names(inputs)),
    outputs: variableMap(outputs, names(outputs)),
  });
}

/** The task's environment: the settings' env, then the task's own variables (which win). */
export function taskEnvironment(task: BaseTask, settings: SerializationSettingsLike): Record<string, string> {
  return { ...(settings.env ?? {}), ...task.settings.environment };
}

/** The container of a function task with the given command line. Plugins reuse it with their own args. */
export function defaultContainer(
  task: BaseTask,
  settings: SerializationSettingsLike,
  args: string[],
): Container {
  const env = taskEnvironment(task, settings);
  return create(ContainerSchema, {
    image: settings.imageConfig.resolve(task.settings.containerImage, task.name),
    args,
    env: Object.entries(env).map(([key, value]) => create(KeyValuePairSchema, { key, value })),
    resources: resourcesMessage(task.settings.requests, task.settings.limits),
  });
}

function securityContext(task: BaseTask): SecurityContext | undefined {
  if (task.settings.secrets.length === 0) return undefined;
  const mount = { env: Secret_MountType.ENV_VAR, file: Secret_MountType.FILE } as const;
  return create(SecurityContextSchema, {
    secrets: task.settings.secrets.map((s) =>
      create(SecretSchema, {
        group: s.group,
        key: s.key ?? "",
        mountRequirement: s.mountAs ? mount[s.mountAs] : Secret_MountType.ANY,
      }),
    ),
  });
}

/** A stable cache version for `cache: true` without a version: derived from the task's name and interface. */
function derivedCacheVersion(name: string, iface: TypedInterface): string {
  return createHash("sha256")
    .update(name)
    .update(toBinary(TypedInterfaceSchema, iface))
    .digest("hex")
    .slice(0, 16);
}

/** The template's metadata: runtime, retries, timeout, cache, interruptible, deprecation. */
export function taskMetadata(task: BaseTask, iface: TypedInterface): TaskMetadata {
  const s = task.settings;
  const md = create(TaskMetadataSchema, {
    runtime: create(RuntimeMetadataSchema, {
      type: RuntimeMetadata_RuntimeType.FLYTE_SDK,
      version: SDK_VERSION,
      flavor: SDK_FLAVOR,
    }),
    retries: retryStrategy(s.retries),
    deprecatedErrorMessage: s.deprecated ?? "",
  });
  if (s.timeoutMs !== undefined) md.timeout = durationOf(s.timeoutMs);
  if (s.cache) {
    md.discoverable = true;
    md.discoveryVersion = s.cache.version || derivedCacheVersion(task.name, iface);
    md.cacheSerializable = s.cache.serialize ?? false;
    md.cacheIgnoreInputVars = [...(s.cache.ignoreInputs ?? [])];
  }
  if (s.interruptible) md.interruptibleValue = { case: "interruptible", value: true };
  return md;
}

function hooksOf(task: BaseTask): TaskSerializationHooks {
  return task as unknown as TaskSerializationHooks;
}

/** The TaskTemplate of a task. */
export function taskTemplate(task: BaseTask, settings: SerializationSettingsLike): TaskTemplate {
  const hooks = hooksOf(task);
  const iface = typedInterface(task.inputs, task.outputs);
  // Dynamic tasks serialize a graph at run time: they carry the settings in `_F_SS_C`.
  const effective =
    task instanceof DynamicTaskDef && settings.withSerializedContext
      ? settings.withSerializedContext()
      : settings;
  const container =
    typeof hooks.serializeContainer === "function"
      ? hooks.serializeContainer(effective)
      : defaultContainer(
          task,
          effective,
          executeArgs(effective, DEFAULT_RESOLVER, functionTaskResolverArgs(task)),
        );
  const template = create(TaskTemplateSchema, {
    id: identifier("task", task.name, settings),
    type: task.taskType,
    metadata: taskMetadata(task, iface),
    interface: iface,
    target: { case: "container", value: container },
    taskTypeVersion: hooks.taskTypeVersion ?? 0,
    config: { ...(typeof hooks.getConfig === "function" ? (hooks.getConfig(effective) ?? {}) : {}) },
  });
  const custom = typeof hooks.getCustom === "function" ? hooks.getCustom(effective) : undefined;
  if (custom !== undefined) template.custom = custom;
  const sc = securityContext(task);
  if (sc) template.securityContext = sc;
  return template;
}

/** True when a map task's outputs are lists of optional items (partial success allowed). */
export function mapTaskIsPartial(map: MapTaskDef): boolean {
  const innerOutputs: Schema = map.task.outputs;
  return Object.entries(map.outputs as Schema).some(([k, type]) => {
    const inner = innerOutputs[k];
    return !inner || !equals(LiteralTypeSchema, type.literalType, new ListType(inner).literalType);
  });
}

/**
 * The name of the task template a map task runs per item. Map tasks over the same task share
 * it: the template depends only on the mapped task and on whether items may fail (then the
 * outputs are lists of optional items, and the name ends in `_partial`); concurrency and the
 * success criteria belong to the ArrayNode.
 */
export function mapTaskTemplateName(map: MapTaskDef): string {
  return mapTaskIsPartial(map) ? `${map.name}_partial` : map.name;
}

/**
 * The TaskTemplate of a map task's sub-task, as propeller's ArrayNode runs it: the mapped
 * task's settings with list-typed inputs and outputs (propeller 1.16 takes the ArrayNode's
 * interface from this template). Each item runs `tsflyte-execute ... --resolver map -- vars
 * <bound inputs> resolver default task-module <m> task-name <n>` with the whole input map and
 * `FLYTE_K8S_ARRAY_INDEX` set; it writes that item's outputs as scalars.
 */
export function mapTaskTemplate(map: MapTaskDef, settings: SerializationSettingsLike): TaskTemplate {
  const inner = map.task;
  const hooks = hooksOf(inner);
  if (typeof hooks.serializeContainer === "function") {
    throw new FlyteDefinitionError(
      "MAP_TASK_UNSUPPORTED",
      `mapping a ${inner.taskType} task is not supported`,
      {
        entity: map.name,
        fix: "map a task defined with task()",
      },
    );
  }
  const iface = typedInterface(map.inputs, map.outputs);
  const args = executeArgs(settings, MAP_RESOLVER, [
    "vars",
    "",
    "resolver",
    DEFAULT_RESOLVER,
    ...functionTaskResolverArgs(inner),
  ]);
  const template = create(TaskTemplateSchema, {
    id: identifier("task", mapTaskTemplateName(map), settings),
    type: inner.taskType,
    metadata: taskMetadata(inner, iface),
    interface: iface,
    target: { case: "container", value: defaultContainer(inner, settings, args) },
    taskTypeVersion: 1,
  });
  const sc = securityContext(inner);
  if (sc) template.securityContext = sc;
  return template;
}

/** An `admin.TaskSpec` (what a package's `_1.pb` entries hold). */
export function taskSpec(template: TaskTemplate): TaskSpec {
  return create(TaskSpecSchema, { template });
}
