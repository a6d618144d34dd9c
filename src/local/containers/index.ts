/**
 * Containers: `tsflyte build` (images tagged by content) and container-mode local runs (every
 * node in its own image, exactly as its serialized template says).
 */
export {
  type BuildOptions,
  type BuiltImage,
  baseImage,
  buildImages,
  CONTENT_HASH_LABEL,
  defaultBuildCacheDir,
  runsInSdkImage,
} from "./build.js";
export {
  type CommandResult,
  ContainerEngine,
  detectEngine,
  ENGINE_ENV_VAR,
  ENGINE_NAMES,
  type EngineName,
  FlyteContainerError,
  type ImageInfo,
} from "./engine.js";
export {
  ContainerExecution,
  type ContainerRunOptions,
  containerSettings,
  runInContainers,
} from "./executor.js";
export { findProgram, type HostRunOptions, runTemplateOnHost, templateProgram } from "./host-run.js";
export {
  type MeasureOptions,
  measureContainerOverhead,
  type OverheadMeasurement,
  type Timing,
} from "./measure.js";
export {
  ForeignTask,
  type ForeignTaskCallable,
  type ForeignTaskOptions,
  foreignTask,
  taskTemplateFromFile,
  taskTemplatesFromPackage,
} from "./python-task.js";
export { substitute, substituteAll, type TemplateVars } from "./substitutions.js";
export {
  type AttemptResult,
  type AttemptSpec,
  type CopilotIO,
  containerRunArgs,
  fromErrorDocument,
  imageMissing,
  type Mount,
  runAttempt,
  splitErrorDocumentText,
} from "./task-container.js";
