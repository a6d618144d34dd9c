/**
 * The flytekit side's Python: `--python <path>` or `$FLYTEKIT_TS_BENCH_PYTHON`, else the peer venv
 * `${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}/venv`, made by `scripts/setup/flytekit.sh`
 * when it is missing or incomplete.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

function importsFlytekit(python) {
  return (
    existsSync(python) &&
    spawnSync(python, ["-c", "import flytekit, pandas, pyarrow"], { stdio: "ignore" }).status === 0
  );
}

/** The Python to run flytekit with, and the folder of its scripts (pyflyte, pyflyte-execute). */
export function resolvePython(repoRoot, explicit) {
  const given = explicit ?? process.env.FLYTEKIT_TS_BENCH_PYTHON;
  if (given) {
    if (!importsFlytekit(given)) {
      throw new Error(
        `${given} cannot import flytekit, pandas and pyarrow; fix: pass a Python with them installed`,
      );
    }
    return { python: given, bin: join(given, "..") };
  }
  const cache = process.env.FLYTEKIT_TS_CACHE ?? join(os.homedir(), ".cache", "flytekit-ts");
  const venv = join(cache, "venv");
  const python = join(venv, "bin", "python");
  if (!importsFlytekit(python)) {
    process.stderr.write(`bench: ${venv} is missing or incomplete; running scripts/setup/flytekit.sh\n`);
    const setup = spawnSync("bash", [join(repoRoot, "scripts", "setup", "flytekit.sh")], {
      stdio: "inherit",
    });
    if (setup.status !== 0 || !importsFlytekit(python)) {
      throw new Error(
        "scripts/setup/flytekit.sh did not produce a venv with flytekit; fix: see its output, or pass --python <python with flytekit 1.16>",
      );
    }
  }
  return { python, bin: join(venv, "bin") };
}
