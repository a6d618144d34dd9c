/** What the report says about the machine and the tools the bench ran with. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? "unknown";
}

function packageVersion(repoRoot, name) {
  try {
    return JSON.parse(readFileSync(`${repoRoot}/node_modules/${name}/package.json`, "utf8")).version;
  } catch {
    return "?";
  }
}

/** The machine and versions, for the report. */
export function machineInfo(repoRoot, python) {
  const py = spawnSync(
    python,
    [
      "-c",
      "import sys, json, flytekit, pandas, pyarrow; print(json.dumps({'python': sys.version.split()[0], 'flytekit': flytekit.__version__, 'pandas': pandas.__version__, 'pyarrow': pyarrow.__version__}))",
    ],
    { encoding: "utf8" },
  );
  let versions = { python: "?", flytekit: "?", pandas: "?", pyarrow: "?" };
  try {
    versions = JSON.parse(py.stdout.trim().split("\n").at(-1));
  } catch {
    // reported as "?"
  }
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGb: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tsx: packageVersion(repoRoot, "tsx"),
    protobufEs: packageVersion(repoRoot, "@bufbuild/protobuf"),
    ...versions,
  };
}
