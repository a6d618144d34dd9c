#!/usr/bin/env node
/**
 * `npm run bench`: runs the same workloads in flytekit (Python) and flytekit-ts, alternating,
 * several repetitions, prints medians and ratios, and regenerates BENCHMARKS.md.
 *
 *   npm run bench                      # 5 repetitions, full sizes, writes BENCHMARKS.md
 *   npm run bench -- --reps 7          # an odd number of repetitions
 *   npm run bench -- --quick           # smoke run: small sizes, 1 repetition, writes nothing
 *   npm run bench -- --only fanout,chain --no-write
 *   npm run bench -- --python /path/to/venv/bin/python
 *
 * Workloads: fanout, chain, literals-ints, literals-records, literals-dataframe, coldstart,
 * package. See docs/benchmarks.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { machineInfo } from "./lib/machine.mjs";
import { canMeasureRss, runProcess, tail } from "./lib/proc.mjs";
import { resolvePython } from "./lib/python.mjs";
import { renderReport } from "./lib/report.mjs";
import { ms } from "./lib/stats.mjs";
import { repoVersion, sizes, workloads } from "./lib/workloads.mjs";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WORKLOAD_IDS = [
  "fanout",
  "chain",
  "literals-ints",
  "literals-records",
  "literals-dataframe",
  "coldstart",
  "package",
];

function usage(message) {
  process.stderr.write(
    `bench: ${message}\nusage: node bench/run.mjs [--reps N (odd)] [--quick] [--only ${WORKLOAD_IDS.join(",")}] [--no-write] [--python PATH] [--keep]\n`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    reps: undefined,
    quick: false,
    only: undefined,
    write: true,
    python: undefined,
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--reps") opts.reps = Number(value());
    else if (a === "--quick") opts.quick = true;
    else if (a === "--only") opts.only = value().split(",").filter(Boolean);
    else if (a === "--no-write") opts.write = false;
    else if (a === "--python") opts.python = value();
    else if (a === "--keep") opts.keep = true;
    else if (a === "--help" || a === "-h") usage("help");
    else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  opts.reps ??= opts.quick ? 1 : 5;
  if (!Number.isInteger(opts.reps) || opts.reps < 1 || opts.reps % 2 === 0) {
    usage(`--reps must be an odd whole number (a median needs a middle), got ${opts.reps}`);
  }
  for (const id of opts.only ?? []) {
    if (!WORKLOAD_IDS.includes(id)) usage(`unknown workload ${JSON.stringify(id)}`);
  }
  return opts;
}

function commandLine(argv) {
  const args = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  if (process.env.npm_lifecycle_event === "bench") return `npm run bench${args ? ` -- ${args}` : ""}`;
  return `node bench/run.mjs${args ? ` ${args}` : ""}`;
}

const log = (line) => process.stderr.write(`${line}\n`);

/** Runs one side of a workload once and returns its sample. */
async function runSide(w, side) {
  const spec = w.sides[side]();
  const r = await runProcess(spec.cmd, spec.args, { cwd: spec.cwd, env: spec.env ?? process.env });
  let ok = r.ok;
  let error = r.error;
  if (ok && w.check) {
    error = w.check(spec);
    ok = error === undefined;
  }
  let metrics = { wallMs: r.wallMs, cpuMs: r.cpuMs };
  if (ok && !w.process) {
    if (!r.json?.metrics) {
      ok = false;
      error = "printed no JSON result line";
    } else metrics = { ...r.json.metrics, ...metrics };
  }
  removeScratch(r.json?.scratch);
  const maxRssMb = Number.isFinite(r.maxRssMb) ? r.maxRssMb : (r.json?.maxRssMb ?? Number.NaN);
  if (!ok) log(`  ${w.id} ${side} FAILED: ${error}\n${tail(`${r.stderr}\n${r.stdout}`)}`);
  return { ok, error, metrics, wallMs: r.wallMs, cpuMs: r.cpuMs, maxRssMb, json: r.json };
}

/** Removes the scratch folders a flytekit-ts local run reported (only under the OS temp dir). */
function removeScratch(paths) {
  const root = join(os.tmpdir(), "flytekit-ts");
  for (const p of Array.isArray(paths) ? paths : []) {
    if (typeof p === "string" && p.startsWith(`${root}/bench-`)) rmSync(p, { recursive: true, force: true });
  }
}

function describeSample(w, s) {
  if (!s.ok) return "failed";
  const main = w.rows.map((r) => `${r.metric}=${ms(s.metrics[r.metric])}`);
  return [...new Set(main)].join(" ");
}

async function main() {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  const { python, bin: pythonBin } = resolvePython(repoRoot, opts.python);
  const workDir = mkdtempSync(join(os.tmpdir(), "flytekit-ts-bench-"));
  const load = { start: os.loadavg()[0], end: Number.NaN };
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const ctx = { repoRoot, python, pythonBin, workDir, sizes: sizes(opts.quick) };
  log(
    `bench: python ${python}; work dir ${workDir}; ${opts.reps} repetition(s)${opts.quick ? ", quick" : ""}`,
  );

  const list = workloads(ctx, opts.only);
  for (const w of list) if (w.unavailable) log(`bench: ${w.id}: not available yet (${w.unavailable})`);
  const active = list.filter((w) => !w.unavailable);
  const samples = Object.fromEntries(active.map((w) => [w.id, {}]));

  // Whole-process workloads get one unrecorded run per side first (tsx cache, __pycache__, page cache).
  for (const w of active.filter((x) => x.process)) {
    for (const side of Object.keys(w.sides)) {
      log(`bench: warm-up ${w.id} ${side}`);
      await runSide(w, side);
    }
  }

  for (let rep = 0; rep < opts.reps; rep++) {
    for (const [i, w] of active.entries()) {
      const sides = Object.keys(w.sides);
      const order = (rep + i) % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const s = await runSide(w, side);
        samples[w.id][side] ??= [];
        samples[w.id][side].push(s);
        log(
          `[${rep + 1}/${opts.reps}] ${w.id.padEnd(18)} ${side.padEnd(9)} ${describeSample(w, s)} (process ${ms(s.wallMs)})`,
        );
      }
    }
  }
  load.end = os.loadavg()[0];

  const machine = {
    ...machineInfo(repoRoot, python),
    flytekitTs: repoVersion(repoRoot),
    rssSource: canMeasureRss
      ? "`/usr/bin/time` (the whole process tree's largest process)"
      : "each process's own report",
  };
  const command = commandLine(argv);
  const report = renderReport({
    workloads: list,
    samples,
    machine,
    reps: opts.reps,
    command,
    date,
    quick: opts.quick,
    load,
  });
  process.stdout.write(report);

  const complete = !opts.quick && !opts.only;
  if (opts.write && complete) {
    writeFileSync(join(repoRoot, "BENCHMARKS.md"), report);
    log("bench: wrote BENCHMARKS.md");
  } else {
    log(`bench: BENCHMARKS.md not written (${opts.write ? "quick or partial run" : "--no-write"})`);
  }
  if (opts.keep) log(`bench: kept ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}

await main();
