/**
 * Plugins: task types beyond `task()`. Pre-built container tasks (`CustomizedContainerTask` and
 * its `ShimTaskExecutor`, with `SQLite3Task` and `HttpRequestTask`) and raw container tasks
 * (`ContainerTask` with the copilot data contract).
 */

/** The types executors work with (re-exported so plugin authors need no other import). */
export type { JsonObject, JsonValue } from "@bufbuild/protobuf";
export type { TaskTemplate } from "../proto/gen/flyteidl/core/tasks_pb.js";
export {
  ContainerTask,
  type ContainerTaskOptions,
  DEFAULT_INPUT_DATA_DIR,
  DEFAULT_OUTPUT_DATA_DIR,
  type IOStrategyOptions,
  RAW_CONTAINER_TASK_TYPE,
} from "./container-task.js";
export {
  COPILOT_ERROR_FILE,
  COPILOT_MAX_PRIMITIVE_SIZE,
  type CopilotTask,
  copilotCanReadOutput,
  copilotInputs,
  copilotOutputs,
  goDuration,
  goTimestamp,
  type MetadataFormat,
  parseGoDuration,
  parseGoTimestamp,
} from "./copilot.js";
export {
  CustomizedContainerTask,
  type CustomizedContainerTaskOptions,
  executeTemplate,
  LOCAL_TEMPLATE_SETTINGS,
  TASK_TEMPLATE_PATH,
  TEMPLATE_RESOLVER,
  TemplateShimTask,
} from "./customized-container-task.js";
export {
  type ExecutorLocation,
  FLYTEKIT_EXECUTOR_ALIASES,
  loadExecutor,
  parseExecutorLocation,
  SDK_MODULE_PREFIX,
} from "./executor-location.js";
export {
  HTTP_EXECUTOR_LOCATION,
  HTTP_TASK_TYPE,
  type HttpMethod,
  type HttpOutputs,
  HttpRequestTask,
  HttpRequestTaskExecutor,
  type HttpRequestTaskOptions,
  type HttpResponseKind,
} from "./http/index.js";
export {
  COMMAND_INPUT_PLACEHOLDER,
  findInputPlaceholders,
  INPUT_PLACEHOLDER,
  type InputPlaceholder,
  renderInput,
  renderInputLiteral,
  renderInputPlaceholders,
} from "./input-placeholders.js";
export { templateLocalFiles } from "./local-files.js";
export {
  type ExecutorContext,
  OpaqueLiteralType,
  ShimTaskExecutor,
  schemaOfVariables,
  templateCustom,
  templateInputValues,
  templateName,
  templateOutputLiterals,
} from "./shim-executor.js";
export {
  SQLITE_EXECUTOR_LOCATION,
  SQLITE_TASK_TYPE,
  type SQLite3Config,
  SQLite3Task,
  SQLite3TaskExecutor,
  type SQLite3TaskOptions,
  sqliteLocalFiles,
} from "./sqlite/index.js";
