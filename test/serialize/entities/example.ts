/**
 * Entities used by the serialization tests: tasks with settings, a workflow with a branch, a
 * map task, a sub-workflow, a launch plan call, a failure handler, a dynamic task and a
 * scheduled launch plan. Loaded through `loadModule`, so names are `example.<export>`.
 */
import {
  conditional,
  cron,
  dynamic,
  fixedRate,
  launchPlan,
  mapTask,
  task,
  workflow,
} from "../../../src/core/index.js";
import { t } from "../../../src/types/index.js";

export const configured = task(
  {
    inputs: { a: t.int(), b: t.string() },
    outputs: t.string(),
    requests: { cpu: "500m", memory: "256Mi" },
    limits: { cpu: 1, memory: "512Mi" },
    retries: 2,
    timeout: "10m",
    cache: { version: "1" },
    interruptible: true,
    environment: { MY_ENV: "hello" },
    secrets: [{ group: "my-group", key: "my-key" }],
  },
  ({ a, b }) => `${b}${a}`,
);

export const trivial = task(
  { inputs: { a: t.int(), b: t.string() }, outputs: { o0: t.int(), o1: t.string() } },
  ({ a, b }) => ({ o0: a + 1, o1: b.toUpperCase() }),
);

export const square = task(
  {
    inputs: { x: t.int() },
    outputs: t.int(),
    containerImage: "{{.image.other.fqn}}:{{.image.other.version}}",
  },
  ({ x }) => x * x,
);
export const double = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => 2 * x);
export const negate = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => -x);
export const add = task({ inputs: { a: t.int(), b: t.int() }, outputs: t.int() }, ({ a, b }) => a + b);
export const total = task({ inputs: { xs: t.list(t.int()) }, outputs: t.int() }, ({ xs }) =>
  xs.reduce((s, x) => s + x, 0),
);
export const cleanup = task({ inputs: { a: t.int(), err: t.optional(t.string()) } }, () => {});

export const simpleWf = workflow(
  { inputs: { a: t.int(), b: t.string() }, defaults: { b: "x" } },
  ({ a, b }) => configured({ a, b }),
);

export const branchWf = workflow({ inputs: { x: t.int() } }, ({ x }) =>
  conditional("test")
    .if(x.gt(10))
    .then(() => double({ x }))
    .elif(x.lt(0).and(x.gt(-100)))
    .then(() => negate({ x }))
    .else()
    .fail("x out of range"),
);

export const branchMidWf = workflow({ inputs: { x: t.int() } }, ({ x }) => {
  const y = square({ x });
  const r = conditional("mid")
    .if(y.gte(100))
    .then(() => double({ x: y }))
    .else()
    .then(() => negate({ x: y }));
  return add({ a: r, b: x });
});

export const mapWf = workflow({ inputs: { xs: t.list(t.int()) } }, ({ xs }) => {
  const squares = mapTask(square, { concurrency: 2 })({ x: xs });
  return total({ xs: squares });
});

export const mapWfLp = launchPlan(mapWf, { name: "map_wf_lp", defaultInputs: { xs: [1, 2, 3] } });

export const parentWf = workflow(
  { inputs: { a: t.int(), xs: t.list(t.int()) }, onFailure: cleanup, failurePolicy: "afterExecutableNodes" },
  ({ a, xs }) => {
    const s = simpleWf({ a, b: "from-parent" }, { retries: 3, timeout: "1h", requests: { cpu: 2 } });
    const m = mapWfLp({ xs });
    const d = double(
      { x: a },
      {
        retries: 1,
        timeout: "5m",
        requests: { cpu: 2, memory: "1Gi" },
        containerImage: "{{.image.other}}",
        name: "twice",
      },
    );
    const sumOf = total({ xs: [a, d, 3] });
    return { s, m, sumOf };
  },
);

export const fanOut = dynamic({ inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => {
  let acc = add({ a: 0, b: 0 });
  for (let i = 1; i < n; i++) acc = add({ a: acc, b: i });
  return acc;
});

export const dynWf = workflow({ inputs: { n: t.int() }, defaults: { n: 3 } }, ({ n }) => fanOut({ n }));

export const chainWf = workflow(
  { inputs: { a: t.int(), b: t.string(), kickoff: t.datetime() } },
  ({ a, b }) => {
    const s = configured({ a, b });
    const o = trivial({ a, b: s });
    return { o0: square({ x: o.o0 }), o1: o.o1 };
  },
);

export const cronLp = launchPlan(chainWf, {
  name: "cron_lp",
  defaultInputs: { b: "default-b" },
  fixedInputs: { a: 5 },
  schedule: cron("0 * * * *", { kickoffTimeInputArg: "kickoff" }),
  labels: { team: "flyte" },
  annotations: { note: "hourly" },
  maxParallelism: 7,
  notifications: [{ phases: ["FAILED"], email: ["a@example.com"] }],
});

export const rateLp = launchPlan(dynWf, { name: "rate_lp", schedule: fixedRate(10, "minute") });

/** A map whose items may fail: its outputs are lists of optional items. */
export const mapWfOpts = workflow({ inputs: { xs: t.list(t.int()) } }, ({ xs }) =>
  mapTask(square, { concurrency: 2, minSuccessRatio: 0.5 })({ x: xs }),
);
