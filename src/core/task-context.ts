/** What a running task can see: its execution, its attempt, scratch space, secrets, checkpoints. */
import { FlyteExecutionError } from "../errors.js";

/** Identifies one run of a task. */
export interface ExecutionInfo {
  project: string;
  domain: string;
  /** The execution (workflow run) name. */
  name: string;
  /** The node id inside the workflow, when known. */
  nodeId?: string;
}

/** Checkpoints let a retried task resume (Flyte intra-task checkpointing). */
export interface Checkpoint {
  /** The previous attempt's checkpoint, if any. */
  read(): Promise<Uint8Array | undefined>;
  /** Saves this attempt's checkpoint. */
  write(data: Uint8Array): Promise<void>;
}

/** The context passed as the second argument of every task function. */
export interface TaskContext {
  /** The task's Flyte name. */
  readonly taskName: string;
  /** The execution this task runs in. */
  readonly execution: ExecutionInfo;
  /** 0 for the first attempt, then 1, 2... on retries. */
  readonly attempt: number;
  /** Where large outputs are written (local path, file:// or s3://). */
  readonly rawDataPrefix: string;
  /** A private local scratch folder. */
  readonly workDir: string;
  /** Checkpoint of this task. */
  readonly checkpoint: Checkpoint;
  /** Reads a secret the task requested. */
  secret(group: string, key?: string): string;
}

/**
 * Reads a secret as Flyte delivers it: env var `_FSEC_<GROUP>[_<KEY>]` (upper case), or the file
 * `/etc/secrets/<group>[/<key>]`. Prefix and folder follow flytekit's defaults and can be changed
 * with `FLYTE_SECRETS_ENV_PREFIX` and `FLYTE_SECRETS_DEFAULT_DIR`.
 */
export function readSecret(
  group: string,
  key: string | undefined,
  readFile: (p: string) => string | undefined,
): string {
  const prefix = process.env.FLYTE_SECRETS_ENV_PREFIX ?? "_FSEC_";
  const envName = `${prefix}${group}${key ? `_${key}` : ""}`.toUpperCase();
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined) return fromEnv;
  const dir = process.env.FLYTE_SECRETS_DEFAULT_DIR ?? "/etc/secrets";
  const path = key ? `${dir}/${group.toLowerCase()}/${key.toLowerCase()}` : `${dir}/${group.toLowerCase()}`;
  const fromFile = readFile(path);
  if (fromFile !== undefined) return fromFile.replace(/\n$/, "");
  throw new FlyteExecutionError(
    "SECRET_NOT_FOUND",
    `secret ${group}${key ? `/${key}` : ""} was not found in env ${envName} nor in ${path}`,
    {
      entity: group,
      fix: "request the secret in the task's `secrets` option, and set it locally as that env var",
    },
  );
}
