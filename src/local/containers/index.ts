/**
 * Containers: `tsflyte build` (images tagged by content) and container-mode local runs (every
 * node in its own image, exactly as its serialized template says).
 */
export { type BuildOptions, type BuiltImage, baseImage, buildImages, defaultBuildCacheDir } from "./build.js";
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
export { literalText, substitute, substituteAll, type TemplateVars } from "./substitutions.js";
export {
  type AttemptResult,
  type AttemptSpec,
  type CopilotIO,
  containerRunArgs,
  fromErrorDocument,
  type Mount,
  runAttempt,
} from "./task-container.js";
