/**
 * Local execution of a fan-out/fan-in workflow: `n` calls of a trivial task, their outputs
 * gathered into one list for a reducer task. Per-node overhead = run time / n.
 *
 *   node --import tsx/esm bench/ts/fanout.ts --n 1000
 */
import { runLocally, t, task, workflow } from "../../src/index.js";
import { args, emit, localRunOptions, time } from "./report.js";

const opts = args({ n: "1000", warmup: "10" });
const n = Number(opts.n);

const square = task(
  { name: "bench.fanout.square", inputs: { x: t.int() }, outputs: t.int() },
  ({ x }) => x * x,
);
const total = task(
  { name: "bench.fanout.total", inputs: { xs: t.list(t.int()) }, outputs: t.int() },
  ({ xs }) => xs.reduce((a, b) => a + b, 0),
);

function fanOut(size: number) {
  return workflow({ name: `bench.fanout.wf${size}` }, () =>
    total({ xs: Array.from({ length: size }, (_, i) => square({ x: i })) }),
  );
}

function expected(size: number): number {
  let s = 0;
  for (let i = 0; i < size; i++) s += i * i;
  return s;
}

// Warm-up: a small workflow, so lazy initialisation is not in the timed run.
await runLocally(fanOut(Number(opts.warmup)), {}, localRunOptions("fanout"));

const [defineMs, wf, defineCpuMs] = await time(() => fanOut(n));
const options = localRunOptions("fanout");
const [runMs, result, runCpuMs] = await time(() => runLocally(wf, {}, options));
if (result !== expected(n)) throw new Error(`fan-out gave ${String(result)}, expected ${expected(n)}`);

emit(
  "fanout",
  { defineMs, runMs, perNodeMs: runMs / n, defineCpuMs, runCpuMs, perNodeCpuMs: runCpuMs / n },
  { n },
);
