// What the container-mode tests share: the repository's paths, the offline base images, the
// flytekit virtualenv, a runner of the real CLI, and the check that says why they cannot run here.
import { execFile } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type * as Containers from "../../src/local/containers/index.js";

export const root = join(import.meta.dirname, "../..");
export const cli = join(root, "bin/tsflyte.mjs");
export const NODE_BASE = "localhost/flytekit-ts/node-base:20";
export const PYTHON_IMAGE = "localhost/flytekit-ts/python-flytekit:3.11";
/** The compiled SDK: the copy the fixtures' `import "flytekit-ts"` loads, so entities and executor agree. */
export const DIST_CONTAINERS = pathToFileURL(join(root, "dist/local/containers/index.js")).href;
export const VENV = join(process.env.FLYTEKIT_TS_CACHE ?? join(homedir(), ".cache/flytekit-ts"), "venv");

export const run = promisify(execFile);

/** Runs `tsflyte <args>` from the repository root; a failure comes back as its exit code and output. */
export async function tsflyte(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Why container-mode tests cannot run here (no engine, a base image missing), or undefined. */
export async function containersUnavailable(): Promise<string | undefined> {
  const c = (await import(DIST_CONTAINERS)) as typeof Containers;
  try {
    const engine = await c.detectEngine();
    for (const img of [NODE_BASE, PYTHON_IMAGE]) {
      if (!(await engine.imageExists(img)))
        return `the base image ${img} is missing (run bash scripts/setup/base-images.sh)`;
    }
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}
