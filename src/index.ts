/**
 * flytekit-ts: the TypeScript SDK for Flyte v1.
 *
 * ```ts
 * import { task, workflow, t } from "flytekit-ts";
 * ```
 *
 * The FlyteAdmin client and `FlyteRemote` are a separate entry, `flytekit-ts/remote` (as
 * flytekit's `flytekit.remote`): every task's container imports this module, and the gRPC client
 * and admin service descriptors would add about a quarter to its cold start.
 */
import "./storage/local.js";
import "./storage/s3.js";

export * from "./core/index.js";
export * from "./errors.js";
export * from "./images/index.js";
export {
  type BuildOptions,
  type BuiltImage,
  buildImages,
  ContainerExecution,
  type ContainerRunOptions,
  detectEngine,
  FlyteContainerError,
  ForeignTask,
  foreignTask,
  measureContainerOverhead,
  type OverheadMeasurement,
  runInContainers,
  taskTemplateFromFile,
  taskTemplatesFromPackage,
} from "./local/containers/index.js";
export * from "./local/index.js";
export * from "./plugins/index.js";
export {
  DEFAULT_ENTRYPOINT,
  type EntrypointSettings,
  type FastSerializationSettings,
  SERIALIZED_CONTEXT_ENV_VAR,
  SerializationSettings,
  SerializationSettingsBuilder,
} from "./serialize/settings.js";
export { registerStorageBackend, type StorageBackend, storage } from "./storage/index.js";
export * from "./types/index.js";
