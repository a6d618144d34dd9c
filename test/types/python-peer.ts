/**
 * Finds a Python interpreter with flytekit and pyarrow for interop tests: `FLYTEKIT_TS_PYTHON`,
 * then the venv of scripts/setup/flytekit.sh, then the research venv. Tests skip (with the
 * reason printed) when none is usable.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Candidate interpreters, in order of preference. */
export const PYTHON_CANDIDATES = [
  process.env.FLYTEKIT_TS_PYTHON,
  join(homedir(), ".cache/flytekit-ts/venv/bin/python"),
  "/tmp/fk-research-venv/bin/python",
].filter((p): p is string => !!p);

function probe(python: string, modules: string[]): boolean {
  if (!existsSync(python)) return false;
  const r = spawnSync(python, ["-c", `import ${modules.join(", ")}`], { stdio: "ignore", timeout: 60_000 });
  return r.status === 0;
}

/** The first interpreter that imports all `modules`, and why none did otherwise. */
export function findPython(modules: string[]): { python?: string; reason: string } {
  for (const p of PYTHON_CANDIDATES) if (probe(p, modules)) return { python: p, reason: "" };
  const reason = `no Python with ${modules.join(", ")} among ${PYTHON_CANDIDATES.join(", ")} (set FLYTEKIT_TS_PYTHON or run scripts/setup/flytekit.sh)`;
  console.warn(`SKIP: ${reason}`);
  return { reason };
}

/** Runs a Python script and returns its stdout; throws with stderr on failure. */
export function runPython(python: string, script: string, args: string[] = [], cwd?: string): string {
  try {
    return execFileSync(python, ["-c", script, ...args], {
      encoding: "utf8",
      cwd,
      env: { ...process.env, FLYTE_SDK_LOGGING_LEVEL: "40", PYTHONWARNINGS: "ignore" },
      maxBuffer: 64 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`python failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}
