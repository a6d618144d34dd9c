/** The execution context inside a container, read from the variables propeller sets. */
import { readFileSync } from "node:fs";
import type { ExecutionInfo } from "../core/task-context.js";

/** Reads `FLYTE_INTERNAL_*` variables (with local fallbacks). */
export function executionFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ExecutionInfo & { attempt: number; taskName: string | undefined; taskVersion: string | undefined } {
  const info: ExecutionInfo & {
    attempt: number;
    taskName: string | undefined;
    taskVersion: string | undefined;
  } = {
    project: env.FLYTE_INTERNAL_EXECUTION_PROJECT ?? "local",
    domain: env.FLYTE_INTERNAL_EXECUTION_DOMAIN ?? "development",
    name: env.FLYTE_INTERNAL_EXECUTION_ID ?? "local",
    attempt: Number(env.FLYTE_ATTEMPT_NUMBER ?? "0") || 0,
    taskName: env.FLYTE_INTERNAL_TASK_NAME,
    taskVersion: env.FLYTE_INTERNAL_TASK_VERSION,
  };
  const nodeId = env.FLYTE_INTERNAL_NODE_ID ?? env._F_NODE_ID;
  if (nodeId) info.nodeId = nodeId;
  return info;
}

/** Reads a file or returns undefined (for secrets mounted as files). */
export function readFileOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Whether a CLI value is an unsubstituted template or an empty marker, meaning "none". */
export function isUnset(value: string | undefined): boolean {
  return value === undefined || value === "" || value === '""' || /^\{\{.*\}\}$/.test(value.trim());
}
