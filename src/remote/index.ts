/**
 * The remote side of flytekit-ts: a FlyteAdmin client configured like flytectl, registration,
 * executions, and the `FlyteRemote` object API. See docs/remote.md.
 */
export {
  type AccessToken,
  type AuthDiscovery,
  DEFAULT_AUTHORIZATION_HEADER,
  TokenSource,
  type TokenSourceOptions,
} from "./auth.js";
export { AdminClient, type AdminClientOptions, remoteErrorFrom } from "./client.js";
export {
  type AdminConfig,
  type AdminConfigOptions,
  type AuthType,
  adminConfig,
  parseAdminSection,
  parseDuration,
  parseEndpoint,
} from "./config.js";
export { FlyteRemoteError, type FlyteRemoteErrorOptions, type RemoteErrorCode } from "./errors.js";
export {
  consoleUrl,
  type ExecutionPhase,
  listNodeExecutions,
  type NodePhase,
  type RemoteExecution,
  type RemoteNodeExecution,
  remoteExecution,
  TERMINAL_PHASES,
  type WaitOptions,
  waitForExecution,
} from "./execution.js";
export {
  type BundleToUpload,
  contentVersion,
  type EntityKind,
  entityId,
  gitVersion,
  hydrateEntities,
  type RegisteredEntity,
  type RegisterSerializedOptions,
  type RegisterTarget,
  registerSerialized,
  uploadBundle,
} from "./register.js";
export {
  DEFAULT_DEST_DIR,
  DEFAULT_DOMAIN,
  DEFAULT_PROJECT,
  type PackageContents,
  type RegisterCodeOptions,
  type RegisterOptions,
  type RegisterResult,
  readPackageContents,
  registerEntities,
  registerModules,
  registerPackage,
} from "./register-sources.js";
export {
  type EntityLocation,
  type Executable,
  type ExecuteOptions,
  executionName,
  FlyteRemote,
  type FlyteRemoteOptions,
  type RemoteLaunchPlan,
  type RemoteTask,
  type RemoteWorkflow,
} from "./remote.js";
