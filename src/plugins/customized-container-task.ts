/**
 * Pre-built container tasks: tasks whose logic ships in a pre-built image. The user only
 * instantiates the task (a query, a URL, a configuration); serialization writes the
 * configuration into the template's `custom` field, and at run time a {@link ShimTaskExecutor}
 * found by its location runs the serialized template. No user function exists at run time.
 *
 * Container args (flytekit's `PythonCustomizedContainerTask` with flytekit-ts' entrypoint):
 *
 *   tsflyte-execute --inputs {{.input}} --output-prefix {{.outputPrefix}}
 *     --raw-output-data-prefix {{.rawOutputDataPrefix}} --checkpoint-path {{.checkpointOutputPrefix}}
 *     --prev-checkpoint {{.prevCheckpointPrefix}} --resolver template
 *     -- {{.taskTemplatePath}} <executor location>
 *
 * Propeller writes the template to `{{.taskTemplatePath}}`; the `template` resolver
 * (src/runtime/template-resolver.ts) loads it and the executor, and runs
 * `executor.executeFromModel(template, inputs, ctx)`. In-process local runs serialize the task's
 * own template and call the same method, so every run goes through the template.
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { type Bindings, brandClass, type CallResult, makeCallable, type OutputSpec } from "../core/entity.js";
import type { CallOptions } from "../core/node.js";
import { asUserError, BaseTask, type TaskOptions } from "../core/task.js";
import { FlyteDefinitionError, FlyteError, FlyteExecutionError } from "../errors.js";
import { sdkDefaultImage } from "../images/image-config.js";
import type { Container, TaskTemplate } from "../proto/gen/flyteidl/core/tasks_pb.js";
import type { SerializationSettingsLike } from "../serialize/serialization-context.js";
import {
  defaultContainer,
  executeArgs,
  type TaskSerializationHooks,
  taskTemplate,
} from "../serialize/task-template.js";
import type { Schema } from "../types/literal-map.js";
import type { LiteralMap } from "../types/literals.js";
import { loadExecutor, parseExecutorLocation } from "./executor-location.js";
import {
  type ExecutorContext,
  type ShimTaskExecutor,
  schemaOfVariables,
  templateName,
} from "./shim-executor.js";

/** The name of the resolver that loads a pre-built task from its serialized template. */
export const TEMPLATE_RESOLVER = "template";

/** Propeller replaces it with the path of the task's serialized TaskTemplate. */
export const TASK_TEMPLATE_PATH = "{{.taskTemplatePath}}";

/**
 * The settings in-process local runs serialize a task's own template with: any image is
 * accepted as it is (nothing is pulled), identifiers are `local/development/local`.
 */
export const LOCAL_TEMPLATE_SETTINGS: SerializationSettingsLike = Object.freeze({
  project: "local",
  domain: "development",
  version: "local",
  imageConfig: { resolve: (image: string | undefined) => image ?? sdkDefaultImage() },
});

/** Options of a pre-built container task. */
export interface CustomizedContainerTaskOptions<I extends Schema, O extends OutputSpec>
  extends TaskOptions<I, O> {
  /** The Flyte task type, e.g. `sqlite`. */
  taskType: string;
  /**
   * Where the runtime finds the executor: `"<module>:<ExportName>"` (see `parseExecutorLocation`),
   * e.g. `"flytekit-ts/plugins/sqlite:SQLite3TaskExecutor"`.
   */
  executorLocation: string;
}

/**
 * Runs a template with an executor: the one code path of pre-built tasks. Errors that are not
 * flytekit-ts errors become USER errors; the outputs must match the template's interface.
 */
export async function executeTemplate(
  template: TaskTemplate,
  executor: ShimTaskExecutor,
  inputs: LiteralMap,
  ctx: ExecutorContext,
): Promise<LiteralMap> {
  const name = templateName(template);
  let outputs: LiteralMap;
  try {
    outputs = await executor.executeFromModel(template, inputs, ctx);
  } catch (err) {
    throw err instanceof FlyteError ? err : asUserError(err, name);
  }
  const declared = Object.keys(template.interface?.outputs?.variables ?? {});
  const given = Object.keys(outputs?.literals ?? {});
  const missing = declared.filter((k) => !given.includes(k));
  const extra = given.filter((k) => !declared.includes(k));
  if (missing.length > 0 || extra.length > 0) {
    throw new FlyteExecutionError(
      "EXECUTOR_OUTPUTS_MISMATCH",
      `the executor returned outputs [${given.join(", ")}] but the template declares [${declared.join(", ")}]`,
      {
        entity: name,
        origin: "USER",
        fix: "return exactly one literal per output of template.interface.outputs",
      },
    );
  }
  return outputs;
}

/** A pre-built task is callable inside a workflow, like a task defined with `task()`. */
export interface CustomizedContainerTask<I extends Schema = Schema, O extends OutputSpec = OutputSpec> {
  // biome-ignore lint/style/useShorthandFunctionType: an interface, so that it merges with the class below
  (bindings: Bindings<I>, options?: CallOptions): CallResult<O>;
}

/**
 * Base of task types whose logic ships in a pre-built image (flytekit's
 * `PythonCustomizedContainerTask`). A subclass passes its `taskType` and `executorLocation`,
 * and implements `getCustom` (keep it small: the engine reads templates often).
 * `containerImage` defaults to the SDK's own image (`sdkDefaultImage()`), which holds the
 * SDK's executors; an `{{.image.<name>}}` template or a reference picks another image.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface adds only the call signature, which makeCallable provides
export abstract class CustomizedContainerTask<I extends Schema = Schema, O extends OutputSpec = OutputSpec>
  extends BaseTask<I, O>
  implements TaskSerializationHooks
{
  /** The Flyte task type given by the subclass (e.g. `sqlite`). */
  readonly taskType: string;
  /** `"<module>:<ExportName>"` of the executor, written into the container args. */
  readonly executorLocation: string;
  /** @internal The template of in-process local runs (serialized once). */
  protected localTemplate: TaskTemplate | undefined;

  constructor(options: CustomizedContainerTaskOptions<I, O>) {
    super({ ...options, containerImage: options.containerImage ?? sdkDefaultImage() });
    const entity = options.name ?? "task";
    if (typeof options.taskType !== "string" || !/^[A-Za-z0-9_.-]+$/.test(options.taskType)) {
      throw new FlyteDefinitionError(
        "TASK_TYPE_INVALID",
        `task type ${String(options.taskType)} is not valid`,
        {
          entity,
          fix: 'use letters, digits, "_", "-" and "." (e.g. "sqlite")',
        },
      );
    }
    this.taskType = options.taskType;
    this.executorLocation = parseExecutorLocation(options.executorLocation, entity).location;
    // Instances are callable inside workflows; subclasses' fields land on the callable.
    // biome-ignore lint/correctness/noConstructorReturn: makes the task callable, as task() does
    return makeCallable(this);
  }

  /** The template's `custom` struct: everything the executor needs besides the interface. */
  abstract getCustom(settings: SerializationSettingsLike): JsonObject;

  /** The container: the task's image and `tsflyte-execute ... --resolver template -- {{.taskTemplatePath}} <executor>`. */
  serializeContainer(settings: SerializationSettingsLike): Container {
    const file = parseExecutorLocation(this.executorLocation, this.name).kind === "file";
    // The image is pre-built: a fast-registration bundle matters only when the executor is a file of the project.
    const effective = file ? settings : { ...settings, fastSerializationSettings: undefined };
    return defaultContainer(
      this,
      effective,
      executeArgs(effective, TEMPLATE_RESOLVER, [TASK_TEMPLATE_PATH, this.executorLocation]),
    );
  }

  /**
   * Files of this machine that a template of this task reads by itself (not through its inputs),
   * e.g. a database named by a local path in `custom`. Container-mode local runs mount the ones
   * that exist read-only at the same path, as they mount the data folder. Default: none.
   */
  localFiles(_template: TaskTemplate): string[] {
    return [];
  }

  /** The TaskTemplate of in-process local runs (serialized with {@link LOCAL_TEMPLATE_SETTINGS}). */
  templateForLocalRun(): TaskTemplate {
    this.localTemplate ??= taskTemplate(this, LOCAL_TEMPLATE_SETTINGS);
    return this.localTemplate;
  }

  /** Serializes the task's own template and runs it with the executor loaded from its location. */
  async executeLiterals(inputs: LiteralMap, ctx: ExecutorContext): Promise<LiteralMap> {
    const template = this.templateForLocalRun();
    const executor = await loadExecutor(this.executorLocation);
    return executeTemplate(template, executor, inputs, ctx);
  }
}

brandClass(CustomizedContainerTask, "CustomizedContainerTask");

/**
 * A task known only by its serialized template and executor (flytekit's
 * `ExecutableTemplateShimTask`): what the `template` resolver gives the entrypoint.
 */
export class TemplateShimTask extends BaseTask<Schema, Schema> {
  /** The template's task type. */
  readonly taskType: string;
  /** The serialized template. */
  readonly template: TaskTemplate;
  /** The executor that runs it. */
  readonly executor: ShimTaskExecutor;

  constructor(template: TaskTemplate, executor: ShimTaskExecutor) {
    const name = templateName(template);
    super({
      inputs: schemaOfVariables(template.interface?.inputs, name, { opaque: true }),
      outputs: schemaOfVariables(template.interface?.outputs, name, { opaque: true }),
    });
    this.taskType = template.type;
    this.template = template;
    this.executor = executor;
  }

  /** The template's name. */
  override get name(): string {
    return templateName(this.template);
  }

  /** Runs the template with the executor. */
  executeLiterals(inputs: LiteralMap, ctx: ExecutorContext): Promise<LiteralMap> {
    return executeTemplate(this.template, this.executor, inputs, ctx);
  }
}

brandClass(TemplateShimTask, "TemplateShimTask");
