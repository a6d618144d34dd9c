/**
 * The bench's workloads: for each, the processes each side runs (flytekit, flytekit-ts, and the
 * floor where there is one), and the rows it contributes to the report. Workloads that need
 * tools colleagues are still building (the container entrypoint, `tsflyte package`) are hooks:
 * they probe for the tool and, when it is not usable yet, give "not available yet" rows.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateProjects } from "./project.mjs";

/** Sizes of a full run and of a `--quick` smoke run. */
export function sizes(quick) {
  return quick
    ? {
        fanout: 100,
        chain: 50,
        ints: 20_000,
        records: 5_000,
        dataframe: 10_000,
        modules: 5,
        tasksPerModule: 10,
      }
    : {
        fanout: 1_000,
        chain: 200,
        ints: 1_000_000,
        records: 100_000,
        dataframe: 100_000,
        modules: 50,
        tasksPerModule: 10,
      };
}

const fmt = (n) => n.toLocaleString("en-US");

const PROBE_ATTEMPTS = 3;
const PROBE_PAUSE_MS = 15_000;

/** Blocks for `ms` (probes run before any timing, so blocking is harmless). */
function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Environment of Python processes: bytecode caching on, as in a normal install; temp files
 * (flytekit's local raw data) inside the bench's work dir, which is removed at the end.
 */
function pythonEnv(c) {
  const env = { ...process.env, TMPDIR: join(c.workDir, "py-tmp") };
  mkdirSync(env.TMPDIR, { recursive: true });
  delete env.PYTHONDONTWRITEBYTECODE;
  return env;
}

/** The in-process workloads: one script per side, each printing its own timings. */
function scriptWorkloads(c) {
  const s = c.sizes;
  const ts = (script, n) => ({
    cmd: process.execPath,
    args: ["--import", "tsx/esm", script, "--n", String(n)],
    cwd: c.repoRoot,
  });
  const py = (script, n) => ({
    cmd: c.python,
    args: [script, "--n", String(n)],
    cwd: join(c.repoRoot, "bench", "py"),
    env: pythonEnv(c),
  });
  const floor = {
    ints: "protobuf-es `create` + `toBinary` / `fromBinary` + read",
    records: "protobuf-es `create` + msgpack `encode` + `toBinary` / `fromBinary` + `decode`",
    dataframe:
      "the SDK's flat parquet writer/reader used directly + `writeFile` + `create`/`toBinary` / `fromBinary` + `readFile` + column arrays → rows",
  };
  return [
    {
      id: "fanout",
      sides: { py: py("fanout.py", s.fanout), ts: ts("bench/ts/fanout.ts", s.fanout) },
      rows: [
        { label: `${fmt(s.fanout)}-node fan-out/fan-in, local run`, metric: "runMs", faster: 5 },
        { label: "… per node (run / nodes)", metric: "perNodeMs", faster: 10, perNode: true },
        { label: "… workflow definition (compile)", metric: "defineMs", faster: 5 },
      ],
    },
    {
      id: "chain",
      sides: { py: py("chain.py", s.chain), ts: ts("bench/ts/chain.ts", s.chain) },
      rows: [
        { label: `${fmt(s.chain)}-step chain, local run`, metric: "runMs", faster: 5 },
        { label: "… per node (run / nodes)", metric: "perNodeMs", faster: 10, perNode: true },
        { label: "… workflow definition (compile)", metric: "defineMs", faster: 5 },
      ],
    },
    {
      id: "literals-ints",
      count: s.ints,
      sides: {
        py: py("literals_ints.py", s.ints),
        ts: ts("bench/ts/literals-ints.ts", s.ints),
        floor: ts("bench/floor/ints.ts", s.ints),
      },
      rows: [
        {
          label: `${fmt(s.ints)} ints: values → LiteralMap bytes`,
          metric: "toMs",
          faster: 5,
          floor: floor.ints,
          conversion: "ints",
        },
        {
          label: `${fmt(s.ints)} ints: LiteralMap bytes → values`,
          metric: "fromMs",
          faster: 5,
          floor: floor.ints,
          conversion: "ints",
        },
      ],
    },
    {
      id: "literals-records",
      count: s.records,
      sides: {
        py: py("literals_records.py", s.records),
        ts: ts("bench/ts/literals-records.ts", s.records),
        floor: ts("bench/floor/records.ts", s.records),
      },
      rows: [
        {
          label: `${fmt(s.records)} records (dataclass / t.record): values → bytes`,
          metric: "toMs",
          faster: 5,
          floor: floor.records,
          conversion: "records",
        },
        {
          label: `${fmt(s.records)} records: bytes → values`,
          metric: "fromMs",
          faster: 5,
          floor: floor.records,
          conversion: "records",
        },
      ],
    },
    {
      id: "literals-dataframe",
      count: s.dataframe,
      sides: {
        py: py("literals_dataframe.py", s.dataframe),
        ts: ts("bench/ts/literals-dataframe.ts", s.dataframe),
        floor: ts("bench/floor/dataframe.ts", s.dataframe),
      },
      rows: [
        {
          label: `${fmt(s.dataframe)}-row dataframe (3 cols) → StructuredDataset literal → bytes`,
          metric: "toMs",
          faster: 5,
          floor: floor.dataframe,
          conversion: "dataframe",
        },
        {
          label: `${fmt(s.dataframe)}-row dataframe: bytes → rows in memory`,
          metric: "fromMs",
          faster: 5,
          floor: floor.dataframe,
          conversion: "dataframe",
        },
      ],
    },
  ];
}

/** The integer output of an outputs.pb, or undefined. */
function outputValue(c, file) {
  const r = spawnSync(process.execPath, ["--import", "tsx/esm", "bench/ts/read-outputs.ts", file], {
    cwd: c.repoRoot,
    encoding: "utf8",
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Hook: entrypoint cold start, `inputs.pb` → `outputs.pb` for a trivial task, through
 * `bin/tsflyte-execute.mjs` and `pyflyte-execute`; floor: a bare `node -e 0`.
 */
export function coldStartWorkload(c) {
  const rows = [
    {
      label: "entrypoint cold start: inputs.pb → outputs.pb, trivial task (TypeScript module)",
      metric: "wallMs",
      faster: 10,
      floor: "`node -e 0`",
    },
    {
      label: "… task module compiled to JavaScript (as `tsflyte build` and fast registration ship it)",
      metric: "wallMs",
      tsSide: "tsCompiled",
      faster: 10,
      floor: "`node -e 0`",
    },
  ];
  const bin = join(c.repoRoot, "bin", "tsflyte-execute.mjs");
  if (!existsSync(bin))
    return { id: "coldstart", unavailable: "bin/tsflyte-execute.mjs does not exist yet", rows };
  const dir = join(c.workDir, "coldstart");
  mkdirSync(dir, { recursive: true });
  const inputs = join(dir, "inputs.pb");
  const w = spawnSync(process.execPath, ["--import", "tsx/esm", "bench/ts/write-inputs.ts", inputs], {
    cwd: c.repoRoot,
    encoding: "utf8",
  });
  if (w.status !== 0)
    return { id: "coldstart", unavailable: `cannot write inputs.pb: ${w.stderr.trim()}`, rows };
  // The task module as an image or a fast-registration bundle has it: compiled to .js by esbuild
  // (what `tsflyte build` and `tsflyte package` do), in a project folder of ES modules whose
  // node_modules/flytekit-ts links to the SDK (as /node_modules/flytekit-ts does in images).
  const app = join(dir, "app");
  rmSync(app, { recursive: true, force: true });
  mkdirSync(join(app, "node_modules"), { recursive: true });
  symlinkSync(c.repoRoot, join(app, "node_modules", "flytekit-ts"), "dir");
  writeFileSync(join(app, "package.json"), '{ "type": "module" }\n');
  const esb = spawnSync(
    join(c.repoRoot, "node_modules", ".bin", "esbuild"),
    [
      "bench/ts/coldstart-task.ts",
      "--format=esm",
      "--platform=node",
      "--target=node20",
      "--keep-names",
      `--outfile=${join(app, "coldstart-task.js")}`,
    ],
    { cwd: c.repoRoot, encoding: "utf8" },
  );
  if (esb.status !== 0)
    return { id: "coldstart", unavailable: `cannot compile the task module: ${esb.stderr.trim()}`, rows };
  let runs = 0;
  const prefix = (side) => join(dir, `${side}-${runs++}`);
  const ts =
    (extraEnv, cwd = c.repoRoot, module = "bench/ts/coldstart-task") =>
    () => ({
      cmd: process.execPath,
      args: [
        bin,
        "--inputs",
        inputs,
        "--output-prefix",
        prefix("ts"),
        "--raw-output-data-prefix",
        join(dir, "raw"),
        "--resolver",
        "default",
        "--",
        "task-module",
        module,
        "task-name",
        "double",
      ],
      cwd,
      env: { ...process.env, ...extraEnv },
    });
  const py = () => ({
    cmd: join(c.pythonBin, "pyflyte-execute"),
    args: [
      "--inputs",
      inputs,
      "--output-prefix",
      prefix("py"),
      "--raw-output-data-prefix",
      join(dir, "raw"),
      "--resolver",
      "flytekit.core.python_auto_container.default_task_resolver",
      "--",
      "task-module",
      "coldstart_task",
      "task-name",
      "double",
    ],
    cwd: join(c.repoRoot, "bench", "py"),
    env: pythonEnv(c),
  });
  // Each run gets its own output prefix; a run counts only if it wrote outputs.pb.
  const check = (spec) => {
    if (!spec.args.includes("--output-prefix")) return undefined; // the floor
    const out = spec.args[spec.args.indexOf("--output-prefix") + 1];
    if (existsSync(join(out, "error.pb"))) return "wrote error.pb";
    return existsSync(join(out, "outputs.pb")) ? undefined : "wrote no outputs.pb";
  };
  // Probe: both entrypoints must produce the right output before anything is timed. A failure
  // is retried (a colleague's rebuild of dist/ can make the SDK briefly unimportable).
  for (const [name, make] of [
    ["tsflyte-execute", ts({})],
    ["tsflyte-execute (compiled task module)", ts({}, app, "coldstart-task")],
    ["pyflyte-execute", py],
  ]) {
    let problem;
    for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) {
      if (attempt > 0) sleep(PROBE_PAUSE_MS);
      const spec = make();
      const r = spawnSync(spec.cmd, spec.args, { cwd: spec.cwd, env: spec.env, encoding: "utf8" });
      const out = spec.args[spec.args.indexOf("--output-prefix") + 1];
      const value = r.status === 0 ? outputValue(c, join(out, "outputs.pb")) : undefined;
      problem =
        value === "42"
          ? undefined
          : `${name} did not write outputs.pb = 42 (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n").slice(-2).join(" ")}`;
      if (!problem) break;
    }
    if (problem) return { id: "coldstart", unavailable: problem, rows };
  }
  return {
    id: "coldstart",
    process: true,
    sides: {
      py,
      ts: ts({}),
      tsCompiled: ts({}, app, "coldstart-task"),
      floor: () => ({ cmd: process.execPath, args: ["-e", "0"], cwd: c.repoRoot }),
    },
    check,
    rows,
  };
}

function tarEntries(file) {
  const r = spawnSync("tar", ["tzf", file], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim().split("\n").filter(Boolean).length : 0;
}

/**
 * Hook: `package` of a generated project (500 tasks, 50 workflows by default) with `tsflyte
 * package` and `pyflyte --pkgs ... package`.
 */
export function packageWorkload(c) {
  const { modules, tasksPerModule } = c.sizes;
  const rows = [
    {
      label: `\`package\`: ${fmt(modules * tasksPerModule)} tasks + ${fmt(modules)} workflows`,
      metric: "wallMs",
      faster: 5,
    },
  ];
  const cli = join(c.repoRoot, "bin", "tsflyte.mjs");
  // An unknown command makes commander print the root help (exit 0), so look for the command's
  // own usage. Retried like the cold-start probe.
  let why;
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) {
    if (attempt > 0) sleep(PROBE_PAUSE_MS);
    const probe = spawnSync(process.execPath, [cli, "package", "--help"], {
      cwd: c.repoRoot,
      encoding: "utf8",
    });
    why =
      probe.status === 0 && /Usage: tsflyte package/.test(probe.stdout ?? "")
        ? undefined
        : `${probe.stderr ?? ""}`.trim().split("\n")[0] || "it is not a command of bin/tsflyte.mjs yet";
    if (!why) break;
  }
  if (why) return { id: "package", unavailable: `\`tsflyte package\` is not usable: ${why}`, rows };
  const dir = join(c.workDir, "package");
  const project = generateProjects(dir, c.repoRoot, { modules, tasksPerModule });
  const expected = modules * tasksPerModule + 2 * modules; // tasks, workflows, launch plans
  const image = "ghcr.io/flyteorg/flytekit-ts-bench:v1";
  const ts = () => ({
    cmd: process.execPath,
    args: [
      cli,
      "package",
      ...project.tsFiles,
      "--image",
      image,
      "--output",
      join(dir, "ts.tgz"),
      "--force",
      "--quiet",
    ],
    cwd: project.tsDir,
  });
  const py = () => ({
    cmd: join(c.pythonBin, "pyflyte"),
    args: [
      "--pkgs",
      project.pyPackage,
      "package",
      "--image",
      image,
      "--output",
      join(dir, "py.tgz"),
      "--force",
    ],
    cwd: project.pyDir,
    env: pythonEnv(c),
  });
  const check = (spec) => {
    const out = spec.args[spec.args.indexOf("--output") + 1];
    const n = tarEntries(out);
    return n >= expected ? undefined : `${out} has ${n} entries, expected ${expected}`;
  };
  return { id: "package", process: true, sides: { py, ts }, check, rows };
}

/** Every workload of a run, in order; `only` filters by id. */
export function workloads(c, only) {
  const all = [
    ...scriptWorkloads(c).map((w) => ({
      ...w,
      sides: Object.fromEntries(Object.entries(w.sides).map(([k, spec]) => [k, () => spec])),
    })),
    { lazy: "coldstart", make: () => coldStartWorkload(c) },
    { lazy: "package", make: () => packageWorkload(c) },
  ];
  return all.filter((w) => !only || only.includes(w.id ?? w.lazy)).map((w) => (w.lazy ? w.make() : w));
}

/** Reads the package.json version of the repository (for the report). */
export function repoVersion(repoRoot) {
  return JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version;
}
