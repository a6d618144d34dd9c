/**
 * Local execution of a chain: `n` calls of a trivial task, each taking the previous output.
 * Nodes run one after another, so this measures per-node latency rather than throughput.
 *
 *   node --import tsx/esm bench/ts/chain.ts --n 200
 */
import { type Bindable, runLocally, t, task, workflow } from "../../src/index.js";
import { args, emit, localRunOptions, time } from "./report.js";

const opts = args({ n: "200", warmup: "10" });
const n = Number(opts.n);

const inc = task({ name: "bench.chain.inc", inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x + 1);

function chain(size: number) {
  return workflow({ name: `bench.chain.wf${size}`, inputs: { x: t.int() } }, ({ x }) => {
    let y: Bindable<number> = x;
    for (let i = 0; i < size; i++) y = inc({ x: y });
    return inc({ x: y });
  });
}

// Warm-up: a short chain, so lazy initialisation is not in the timed run.
await runLocally(chain(Number(opts.warmup)), { x: 0 }, localRunOptions("chain"));

const [defineMs, wf, defineCpuMs] = await time(() => chain(n - 1));
const options = localRunOptions("chain");
const [runMs, result, runCpuMs] = await time(() => runLocally(wf, { x: 0 }, options));
if (result !== n) throw new Error(`chain gave ${String(result)}, expected ${n}`);

emit(
  "chain",
  { defineMs, runMs, perNodeMs: runMs / n, defineCpuMs, runCpuMs, perNodeCpuMs: runCpuMs / n },
  { n },
);
