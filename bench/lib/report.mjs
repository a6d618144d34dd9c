/**
 * Turns the samples of a bench run into the report: the results table (medians, ratios, floors),
 * the issue's targets, whole-process wall time and peak memory, every sample, and the machine.
 * The same Markdown is printed and written to BENCHMARKS.md.
 */
import { mb, median, ms, rate, ratio } from "./stats.mjs";

const SIDE_NAMES = {
  py: "flytekit",
  ts: "flytekit-ts",
  tsCompiled: "flytekit-ts (compiled task module)",
  floor: "floor",
};

function values(samples, side, metric) {
  return (samples[side] ?? []).map((s) => (s.ok ? s.metrics[metric] : Number.NaN));
}

function failures(samples, side) {
  return (samples[side] ?? []).filter((s) => !s.ok);
}

/** A median cell: the value, or why there is none. */
function cell(samples, side, metric) {
  const v = median(values(samples, side, metric));
  if (Number.isFinite(v)) return ms(v);
  const f = failures(samples, side);
  return f.length ? `failed (${f[0].error})` : "—";
}

/** The CPU-time twin of a metric: `runMs` -> `runCpuMs`, a whole process's `wallMs` -> `cpuMs`. */
export function cpuMetric(metric) {
  return metric === "wallMs" ? "cpuMs" : metric.replace(/Ms$/, "CpuMs");
}

/**
 * The medians of every row: what the tables and targets are computed from. `cpu` reads the
 * CPU-time twin of each metric instead of wall time.
 */
export function summarize(workloads, samples, cpu = false) {
  const rows = [];
  for (const w of workloads) {
    for (const row of w.rows) {
      if (w.unavailable) {
        rows.push({ ...row, workload: w.id, unavailable: w.unavailable });
        continue;
      }
      const s = samples[w.id] ?? {};
      const tsSide = row.tsSide ?? "ts";
      const metric = cpu ? cpuMetric(row.metric) : row.metric;
      const py = median(values(s, "py", metric));
      const ts = median(values(s, tsSide, metric));
      const floor = row.floor ? median(values(s, "floor", metric)) : Number.NaN;
      rows.push({
        ...row,
        workload: w.id,
        count: w.count,
        py,
        ts,
        floorMs: floor,
        ratio: py / ts,
        cells: {
          py: cell(s, "py", metric),
          ts: cell(s, tsSide, metric),
          floor: row.floor ? cell(s, "floor", metric) : "—",
        },
      });
    }
  }
  return rows;
}

/** The issue's targets, each with the measured value and whether it is met. */
export function targets(rows) {
  const out = [];
  const add = (target, measured, met) => out.push({ target, measured, met });
  for (const r of rows) {
    if (r.unavailable) continue;
    if (r.perNode)
      add(`per-node overhead ≤ 1 ms — ${r.label.replace("… ", "")} (${r.workload})`, ms(r.ts), r.ts <= 1);
  }
  for (const r of rows) {
    if (r.unavailable || r.conversion !== "ints") continue;
    const perSecond = r.count / (r.ts / 1000);
    add(`≥ 1M integers/s — ${r.label}`, rate(perSecond), perSecond >= 1e6);
  }
  for (const r of rows) {
    if (r.unavailable || !r.conversion) continue;
    const x = r.ts / r.floorMs;
    const measured = x < 1 ? `${ratio(1 / x)} faster than the floor` : `${ratio(x)} the floor`;
    add(`within 3× of the floor — ${r.label}`, measured, x <= 3);
  }
  for (const r of rows) {
    if (r.unavailable) continue;
    const label = r.label.startsWith("…") ? `${r.workload}: ${r.label.slice(2)}` : r.label;
    add(`≥ ${r.faster}× faster than flytekit — ${label}`, ratio(r.ratio), r.ratio >= r.faster);
  }
  return out;
}

function table(header, body) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...body.map(line)].join("\n");
}

function resultsTable(rows) {
  return table(
    [
      "Workload",
      "flytekit median",
      "flytekit-ts median",
      "ratio flytekit / flytekit-ts",
      "floor",
      "floor median",
    ],
    rows.map((r) =>
      r.unavailable
        ? [r.label, "not available yet", "not available yet", "—", r.floor ?? "—", "—"]
        : [r.label, r.cells.py, r.cells.ts, ratio(r.ratio), r.floor ?? "—", r.cells.floor],
    ),
  );
}

/** The Markdown report. */
export function renderReport({ workloads, samples, machine, reps, command, date, quick, load }) {
  const rows = summarize(workloads, samples);
  const cpuRows = summarize(workloads, samples, true);
  const results = resultsTable(rows);
  const cpuResults = resultsTable(cpuRows);
  const tgt = targets(rows);
  const tgtCpu = targets(cpuRows);
  const targetTable = table(
    ["Target", "Measured (median wall time)", "Met", "Same on CPU time", "Met on CPU time"],
    tgt.map((t, i) => [
      t.target,
      t.measured,
      t.met ? "yes" : "**no**",
      tgtCpu[i].measured,
      tgtCpu[i].met ? "yes" : "**no**",
    ]),
  );
  const sideKeys = ["py", "ts", "tsCompiled", "floor"];
  const processRows = [];
  for (const w of workloads) {
    if (w.unavailable) continue;
    const s = samples[w.id] ?? {};
    for (const side of sideKeys) {
      if (!s[side]) continue;
      const wall = median(s[side].map((x) => (x.ok ? x.wallMs : Number.NaN)));
      const rss = median(s[side].map((x) => (x.ok ? x.maxRssMb : Number.NaN)));
      processRows.push([w.id, SIDE_NAMES[side], ms(wall), mb(rss)]);
    }
  }
  const processTable = table(
    ["Workload", "Side", "Process wall time (median)", "Peak RSS (median)"],
    processRows,
  );
  const sampleRows = [];
  for (const w of workloads) {
    if (w.unavailable) continue;
    const s = samples[w.id] ?? {};
    const metrics = [...new Set(w.rows.map((r) => r.metric))];
    for (const side of sideKeys) {
      if (!s[side]) continue;
      for (const m of metrics) {
        if (side === "floor" && !w.rows.some((r) => r.floor && r.metric === m)) continue;
        sampleRows.push([
          w.id,
          SIDE_NAMES[side],
          m,
          s[side].map((x) => (x.ok ? ms(x.metrics[m]) : "failed")).join(", "),
        ]);
      }
    }
  }
  const hooks = workloads.filter((w) => w.unavailable);
  const m = machine;
  return `# Benchmarks: flytekit-ts and flytekit

<!-- Generated by bench/run.mjs (\`npm run bench\`). Do not edit by hand: rerun the bench. -->

Generated by \`${command}\` on ${date}.${quick ? " **Quick smoke run: small sizes, one repetition; not a result.**" : ""}
How each workload is measured, and what the profiles of the missed targets show:
[docs/benchmarks.md](docs/benchmarks.md).

Every workload runs in fresh processes, flytekit and flytekit-ts alternating (the order flips
each repetition), ${reps} repetition${reps === 1 ? "" : "s"}; the tables give medians. Times in
the results table are measured inside each process (after imports and a small warm-up), so
interpreter start-up is not in them, except for the cold-start and \`package\` rows, which time
the whole process. The floor is the same work done directly with the libraries flytekit-ts
builds on, with no SDK in between.

## Results

${results}

${hooks.map((w) => `- \`${w.id}\`: not available yet — ${w.unavailable}.`).join("\n")}

### The same, in CPU time

User + system CPU time of the same work (in-process: \`process.cpuUsage()\` and Python's
\`time.process_time()\`; whole processes: \`/usr/bin/time\`). Other work on a shared machine
inflates wall time more than CPU time, so these vary less between runs.

${cpuResults}

## Targets

Wall-time medians decide; the CPU-time columns show whether a miss is the machine's load.

${targetTable}

## Whole processes: wall time and peak memory

Wall time from spawn to exit (interpreter start-up, imports, warm-up and the work); peak RSS
from ${m.rssSource}.

${processTable}

## Machine

- CPU: ${m.cpu}, ${m.cores} cores available; memory ${m.memoryGb.toFixed(1)} GB; ${m.os}
- Load average (1 min) at start / end of the run: ${load.start.toFixed(2)} / ${load.end.toFixed(2)}
- Node ${m.node} (tsx ${m.tsx}, @bufbuild/protobuf ${m.protobufEs}), flytekit-ts ${m.flytekitTs}
- Python ${m.python}, flytekit ${m.flytekit}, pandas ${m.pandas}, pyarrow ${m.pyarrow}
- Command: \`${command}\`
- Date: ${date}

## Samples

${table(["Workload", "Side", "Metric", "Samples (run order)"], sampleRows)}
`;
}
