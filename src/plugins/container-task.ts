/**
 * `ContainerTask`: a raw container (no SDK inside) run with a command line; inputs and outputs
 * are exchanged as files in an input and an output folder by Flyte's copilot (flytekit's
 * `ContainerTask`, task type `raw-container`).
 *
 * ```ts
 * export const area = new ContainerTask({
 *   name: "ellipse_area",
 *   image: "ghcr.io/flyteorg/rawcontainers-shell:v2",
 *   command: ["sh", "-c", "echo $(( {{.inputs.a}} * {{.inputs.b}} )) > /var/outputs/area"],
 *   inputs: { a: t.int(), b: t.int() },
 *   outputs: { area: t.int() },
 * });
 * ```
 *
 * `{{.inputs.<name>}}` in the command and arguments is replaced by propeller with the input's
 * text (see `renderInputPlaceholders` in input-placeholders.ts). The template's `DataLoadingConfig` names the folders:
 * `/var/inputs` and `/var/outputs` unless given (flytekit leaves them empty, and propeller then
 * uses its configured defaults, `/var/flyte/inputs` and `/var/flyte/outputs`).
 * Running needs a container: in-process local runs fail with a pointer to container mode.
 */
import { create } from "@bufbuild/protobuf";
import { type Bindings, brandClass, type CallResult, makeCallable } from "../core/entity.js";
import type { CallOptions } from "../core/node.js";
import { BaseTask, type TaskSettings } from "../core/task.js";
import { describeValue, FlyteDefinitionError, FlyteExecutionError } from "../errors.js";
import { KeyValuePairSchema } from "../proto/gen/flyteidl/core/literals_pb.js";
import {
  type Container,
  ContainerSchema,
  DataLoadingConfigSchema,
  IOStrategy_DownloadMode,
  IOStrategy_UploadMode,
  IOStrategySchema,
} from "../proto/gen/flyteidl/core/tasks_pb.js";
import type { SerializationSettingsLike } from "../serialize/serialization-context.js";
import {
  resourcesMessage,
  type TaskSerializationHooks,
  taskEnvironment,
} from "../serialize/task-template.js";
import type { Schema } from "../types/literal-map.js";
import { type LiteralMap, type LiteralType, SimpleType } from "../types/literals.js";
import { copilotCanReadOutput, literalMapFormat, type MetadataFormat } from "./copilot.js";
import { checkPlaceholderNames } from "./input-placeholders.js";
import type { ExecutorContext } from "./shim-executor.js";

/** The Flyte task type of raw container tasks. */
export const RAW_CONTAINER_TASK_TYPE = "raw-container";

/** Default folder of the inputs inside the container. */
export const DEFAULT_INPUT_DATA_DIR = "/var/inputs";

/** Default folder of the outputs inside the container. */
export const DEFAULT_OUTPUT_DATA_DIR = "/var/outputs";

/** When copilot downloads inputs and uploads outputs (flytekit's `ContainerTask.IOStrategy`). */
export interface IOStrategyOptions {
  /** `eager` (default): before the container starts; `stream`; `none`: not at all. */
  download?: "eager" | "stream" | "none";
  /** `onExit` (default): after the container exits; `eager`; `none`: not at all. */
  upload?: "onExit" | "eager" | "none";
}

/** Options of a ContainerTask. */
export interface ContainerTaskOptions<I extends Schema, O extends Schema>
  extends Omit<TaskSettings, "containerImage"> {
  /** The image: a reference or an `{{.image.<name>}}` template. */
  image: string;
  /** The command (`ENTRYPOINT` override); `{{.inputs.<name>}}` is replaced by the input's text. */
  command: string[];
  /** The arguments; `{{.inputs.<name>}}` as in `command`. */
  arguments?: string[];
  inputs?: I;
  /** Named outputs: simple types, `t.file()` or `t.directory()`. */
  outputs?: O;
  /** The input folder inside the container (default `/var/inputs`). */
  inputDataDir?: string;
  /** The output folder inside the container (default `/var/outputs`). */
  outputDataDir?: string;
  /** `inputs.json` (default), `inputs.yaml` or only `inputs.pb` in the input folder. */
  metadataFormat?: MetadataFormat;
  /** When inputs are downloaded and outputs uploaded. */
  ioStrategy?: IOStrategyOptions;
}

/** A raw container task is callable inside a workflow. */
export interface ContainerTask<I extends Schema = {}, O extends Schema = {}> {
  // biome-ignore lint/style/useShorthandFunctionType: an interface, so that it merges with the class below
  (bindings: Bindings<I>, options?: CallOptions): CallResult<O>;
}

/**
 * Whether propeller can write a value of this type into a command line: primitives, enums,
 * files, directories, schemas and lists of them; not maps, structs, records, dataframes or
 * unions (an optional input is a union literal, which propeller cannot write).
 */
function renderable(lt: LiteralType): boolean {
  const ty = lt.type;
  switch (ty.case) {
    case "simple":
      return ty.value !== SimpleType.STRUCT;
    case "blob":
    case "schema":
    case "enumType":
      return true;
    case "collectionType":
      return renderable(ty.value);
    default:
      return false;
  }
}

/** A container run with a command line; data in and out through files (Flyte copilot). */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface adds only the call signature, which makeCallable provides
export class ContainerTask<I extends Schema = {}, O extends Schema = {}>
  extends BaseTask<I, O>
  implements TaskSerializationHooks
{
  /** `raw-container`. */
  readonly taskType: string = RAW_CONTAINER_TASK_TYPE;
  /** The command. */
  readonly command: readonly string[];
  /** The arguments. */
  readonly arguments: readonly string[];
  /** The input folder inside the container. */
  readonly inputDataDir: string;
  /** The output folder inside the container. */
  readonly outputDataDir: string;
  /** The format of the inputs' metadata file. */
  readonly metadataFormat: MetadataFormat;
  /** When copilot moves data. */
  readonly ioStrategy: IOStrategyOptions | undefined;

  constructor(options: ContainerTaskOptions<I, O>) {
    const entity = options?.name ?? "ContainerTask";
    if (typeof options?.image !== "string" || options.image === "") {
      throw new FlyteDefinitionError("CONTAINER_IMAGE_MISSING", `image is ${describeValue(options?.image)}`, {
        entity,
        fix: 'give the image to run, e.g. image: "ghcr.io/acme/tool:1.2"',
      });
    }
    const strings = (v: unknown, what: string): string[] => {
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
        throw new FlyteDefinitionError("CONTAINER_COMMAND_INVALID", `${what} is ${describeValue(v)}`, {
          entity,
          fix: `give ${what} as an array of strings`,
        });
      }
      return [...v];
    };
    const command = strings(options.command, "command");
    if (command.length === 0) {
      throw new FlyteDefinitionError("CONTAINER_COMMAND_INVALID", "command is empty", {
        entity,
        fix: 'give the program to run, e.g. command: ["sh", "-c", "..."]',
      });
    }
    const args = options.arguments === undefined ? [] : strings(options.arguments, "arguments");
    const inputs = (options.inputs ?? {}) as I;
    const outputs = (options.outputs ?? {}) as O;
    for (const part of [...command, ...args]) {
      for (const p of checkPlaceholderNames(
        part,
        Object.keys(inputs),
        entity,
        "the command line",
        "CONTAINER",
      )) {
        if (!renderable(inputs[p.name]!.literalType)) {
          throw new FlyteDefinitionError(
            "CONTAINER_PLACEHOLDER_TYPE",
            `{{.inputs.${p.name}}} is a ${inputs[p.name]!.name}, which propeller cannot write into a command line`,
            {
              entity,
              fix: "refer only to primitives, enums, files, directories or lists of them in the command line (not optional inputs: propeller cannot write a union)",
            },
          );
        }
      }
    }
    for (const [k, type] of Object.entries(inputs)) {
      if (type.literalType.type.case === "structuredDatasetType") {
        throw new FlyteDefinitionError(
          "CONTAINER_INPUT_TYPE",
          `input "${k}" is a ${type.name}; Flyte's copilot cannot hand dataframes to a raw container`,
          { entity, fix: "pass the data as a t.directory() or t.file()" },
        );
      }
    }
    for (const [k, type] of Object.entries(outputs)) {
      const lt = type.literalType;
      const pickled = lt.type.case === "blob" && lt.type.value.format === "PythonPickle";
      if (!copilotCanReadOutput(lt) || pickled) {
        throw new FlyteDefinitionError(
          "CONTAINER_OUTPUT_TYPE",
          `output "${k}" is a ${type.name}; Flyte's copilot reads only simple types, files and directories from a raw container`,
          {
            entity,
            fix: "declare it as t.int(), t.float(), t.string(), t.bool(), t.datetime(), t.duration(), t.json(), t.file() or t.directory()",
          },
        );
      }
    }
    const format = options.metadataFormat ?? "JSON";
    if (!["JSON", "YAML", "PROTO"].includes(format)) {
      throw new FlyteDefinitionError(
        "CONTAINER_METADATA_FORMAT",
        `metadataFormat is ${describeValue(format)}`,
        {
          entity,
          fix: 'use "JSON", "YAML" or "PROTO"',
        },
      );
    }
    super({ ...options, containerImage: options.image, inputs, outputs });
    this.command = Object.freeze(command);
    this.arguments = Object.freeze(args);
    this.inputDataDir = options.inputDataDir ?? DEFAULT_INPUT_DATA_DIR;
    this.outputDataDir = options.outputDataDir ?? DEFAULT_OUTPUT_DATA_DIR;
    this.metadataFormat = format;
    this.ioStrategy = options.ioStrategy;
    // biome-ignore lint/correctness/noConstructorReturn: makes the task callable inside workflows, as task() does
    return makeCallable(this);
  }

  /** The container: image, command, args, env, resources and the copilot `DataLoadingConfig`. */
  serializeContainer(settings: SerializationSettingsLike): Container {
    const env = taskEnvironment(this, settings);
    const io = this.ioStrategy;
    const downloads = {
      eager: IOStrategy_DownloadMode.DOWNLOAD_EAGER,
      stream: IOStrategy_DownloadMode.DOWNLOAD_STREAM,
      none: IOStrategy_DownloadMode.DO_NOT_DOWNLOAD,
    };
    const uploads = {
      onExit: IOStrategy_UploadMode.UPLOAD_ON_EXIT,
      eager: IOStrategy_UploadMode.UPLOAD_EAGER,
      none: IOStrategy_UploadMode.DO_NOT_UPLOAD,
    };
    return create(ContainerSchema, {
      image: settings.imageConfig.resolve(this.settings.containerImage, this.name),
      command: [...this.command],
      args: [...this.arguments],
      env: Object.entries(env).map(([key, value]) => create(KeyValuePairSchema, { key, value })),
      resources: resourcesMessage(this.settings.requests, this.settings.limits),
      dataConfig: create(DataLoadingConfigSchema, {
        enabled: true,
        inputPath: this.inputDataDir,
        outputPath: this.outputDataDir,
        format: literalMapFormat(this.metadataFormat),
        ...(io
          ? {
              ioStrategy: create(IOStrategySchema, {
                downloadMode: downloads[io.download ?? "eager"],
                uploadMode: uploads[io.upload ?? "onExit"],
              }),
            }
          : {}),
      }),
    });
  }

  /** A raw container cannot run in process: run it in container mode. */
  async executeLiterals(_inputs: LiteralMap, _ctx: ExecutorContext): Promise<LiteralMap> {
    throw new FlyteExecutionError(
      "CONTAINER_TASK_LOCAL",
      `a raw container task runs the image ${this.settings.containerImage} and cannot run in process`,
      {
        entity: this.name,
        origin: "USER",
        fix: "run it in container mode: tsflyte run --containers <file> <workflow>, or on a Flyte cluster",
      },
    );
  }
}

brandClass(ContainerTask, "ContainerTask");
