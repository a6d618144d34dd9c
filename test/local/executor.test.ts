import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { conditional, dynamic, FlyteError, launchPlan, mapTask, t, task, workflow } from "../../src/index.js";

const cacheDir = () => mkdtempSync(join(tmpdir(), "tsflyte-cache-"));

describe("local execution in process", () => {
  it("runs a task directly and a workflow of tasks", async () => {
    const add = task({ inputs: { a: t.int(), b: t.int() }, outputs: t.int() }, ({ a, b }) => a + b);
    expect(await add.run({ a: 2, b: 3 })).toBe(5);
    const wf = workflow({ inputs: { x: t.int() } }, ({ x }) => {
      const y = add({ a: x, b: 1 });
      return { y, z: add({ a: y, b: y }) };
    });
    expect(await wf.run({ x: 4 })).toEqual({ y: 5, z: 10 });
  });

  it("runs independent nodes concurrently", async () => {
    // Two tasks that each wait for the other to start: they only finish if they run at once.
    let arrived = 0;
    let release: () => void = () => {};
    const both = new Promise<void>((r) => {
      release = r;
    });
    const meet = task({ inputs: { i: t.int() }, outputs: t.int() }, async ({ i }) => {
      arrived++;
      if (arrived === 2) release();
      await Promise.race([
        both,
        new Promise((_, rej) => setTimeout(() => rej(new Error("ran one at a time")), 2000)),
      ]);
      return i;
    });
    const wf = workflow({}, () => ({ a: meet({ i: 1 }), b: meet({ i: 2 }) }));
    expect(await wf.run({})).toEqual({ a: 1, b: 2 });
  });

  it("bounds concurrency", async () => {
    let running = 0;
    let peak = 0;
    const work = task({ inputs: { i: t.int() }, outputs: t.int() }, async ({ i }) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return i;
    });
    const wf = workflow({}, () => ({ xs: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => work({ i })) }).xs[7]!);
    await wf.run({}, { concurrency: 3 });
    expect(peak).toBe(3);
  });

  it("honours explicit ordering with `after`", async () => {
    const order: string[] = [];
    const step = task({ inputs: { name: t.string() } }, async ({ name }) => {
      await new Promise((r) => setTimeout(r, name === "first" ? 20 : 0));
      order.push(name);
    });
    const wf = workflow({}, () => {
      const first = step({ name: "first" });
      step({ name: "second" }, { after: [first] });
    });
    await wf.run({});
    expect(order).toEqual(["first", "second"]);
  });

  it("retries failed attempts up to `retries`", async () => {
    let calls = 0;
    const flaky = task({ inputs: {}, outputs: t.int(), retries: 2 }, () => {
      calls++;
      if (calls < 3) throw new Error("transient");
      return calls;
    });
    expect(await flaky.run({})).toBe(3);
    let calls2 = 0;
    const noRetry = task({ inputs: {}, outputs: t.int() }, () => {
      calls2++;
      throw new Error("boom");
    });
    await expect(noRetry.run({})).rejects.toMatchObject({ code: "USER_ERROR" });
    expect(calls2).toBe(1);
  });

  it("caches by version and inputs, with an opt-out", async () => {
    const dir = cacheDir();
    let calls = 0;
    const make = (version: string) =>
      task(
        { name: "cached.square", inputs: { x: t.int() }, outputs: t.int(), cache: { version } },
        ({ x }) => {
          calls++;
          return x * x;
        },
      );
    const v1 = make("1");
    expect(await v1.run({ x: 3 }, { cacheDir: dir })).toBe(9);
    expect(await v1.run({ x: 3 }, { cacheDir: dir })).toBe(9);
    expect(calls).toBe(1);
    expect(await v1.run({ x: 4 }, { cacheDir: dir })).toBe(16);
    expect(calls).toBe(2);
    expect(await v1.run({ x: 3 }, { cacheDir: dir, cache: false })).toBe(9);
    expect(calls).toBe(3);
    expect(await make("2").run({ x: 3 }, { cacheDir: dir })).toBe(9);
    expect(calls).toBe(4);
  });

  it("runs conditional branches on inputs and outputs", async () => {
    const inc = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x + 1);
    const dec = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x - 1);
    const wf = workflow({ inputs: { x: t.int() } }, ({ x }) => {
      const y = inc({ x });
      return conditional("c")
        .if(y.gt(10).or(x.eq(0)))
        .then(() => dec({ x: y }))
        .elif(x.lt(0))
        .then(() => inc({ x: y }))
        .else()
        .fail("middle values are not allowed");
    });
    expect(await wf.run({ x: 10 })).toBe(10);
    expect(await wf.run({ x: 0 })).toBe(0);
    expect(await wf.run({ x: -5 })).toBe(-3);
    await expect(wf.run({ x: 5 })).rejects.toMatchObject({ code: "BRANCH_FAILED" });
  });

  it("runs map tasks with min success ratio", async () => {
    const inv = task({ inputs: { x: t.int() }, outputs: t.float() }, ({ x }) => {
      if (x === 0) throw new Error("division by zero");
      return 1 / x;
    });
    const strict = workflow({ inputs: { xs: t.list(t.int()) } }, ({ xs }) => mapTask(inv)({ x: xs }));
    expect(await strict.run({ xs: [1, 2, 4] })).toEqual([1, 0.5, 0.25]);
    await expect(strict.run({ xs: [1, 0] })).rejects.toMatchObject({ code: "MAP_TOO_FEW_SUCCESSES" });
    const lenient = workflow({ inputs: { xs: t.list(t.int()) } }, ({ xs }) =>
      mapTask(inv, { minSuccessRatio: 0.5 })({ x: xs }),
    );
    expect(await lenient.run({ xs: [1, 0] })).toEqual([1, null]);
    await expect(lenient.run({ xs: [0, 0, 1] })).rejects.toMatchObject({ code: "MAP_TOO_FEW_SUCCESSES" });
  });

  it("runs dynamic workflows built from input values", async () => {
    const sq = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x * x);
    const sum = task({ inputs: { xs: t.list(t.int()) }, outputs: t.int() }, ({ xs }) =>
      xs.reduce((a, b) => a + b, 0),
    );
    const d = dynamic({ inputs: { n: t.int() }, outputs: t.int() }, ({ n }) =>
      sum({ xs: Array.from({ length: n }, (_, i) => sq({ x: i })) }),
    );
    const wf = workflow({ inputs: { n: t.int() } }, ({ n }) => d({ n }));
    expect(await wf.run({ n: 4 })).toBe(0 + 1 + 4 + 9);
  });

  it("runs sub-workflows and launch plans with defaults and fixed inputs", async () => {
    const mul = task({ inputs: { a: t.int(), b: t.int() }, outputs: t.int() }, ({ a, b }) => a * b);
    const inner = workflow({ inputs: { a: t.int(), b: t.int() }, defaults: { b: 10 } }, ({ a, b }) =>
      mul({ a, b }),
    );
    const lp = launchPlan(inner, { name: "times_seven", fixedInputs: { b: 7 } });
    const outer = workflow({ inputs: { x: t.int() } }, ({ x }) => ({
      sub: inner({ a: x, b: 2 }),
      viaLp: lp({ a: x }),
    }));
    expect(await outer.run({ x: 3 })).toEqual({ sub: 6, viaLp: 21 });
    expect(await inner.run({ a: 3 })).toBe(30);
    expect(await lp.run({ a: 2 })).toBe(14);
    await expect(lp.run({ a: 2, b: 3 })).rejects.toMatchObject({ code: "LAUNCHPLAN_FIXED_INPUT" });
    expect(() => workflow({}, () => lp({ a: 1, b: 2 }))).toThrow(
      expect.objectContaining({ code: "LAUNCHPLAN_FIXED_INPUT" }),
    );
  });

  it("runs the on-failure task when a workflow fails", async () => {
    const seen: number[] = [];
    const cleanup = task({ inputs: { x: t.int() } }, ({ x }) => {
      seen.push(x);
    });
    const fail = task({ inputs: { x: t.int() } }, () => {
      throw new Error("failed on purpose");
    });
    const wf = workflow({ inputs: { x: t.int() }, onFailure: cleanup }, ({ x }) => {
      fail({ x });
    });
    await expect(wf.run({ x: 9 })).rejects.toThrow(/failed on purpose/);
    expect(seen).toEqual([9]);
  });

  it("times out slow tasks", async () => {
    const slow = task({ inputs: {}, timeout: 50 }, () => new Promise<void>((r) => setTimeout(r, 2000)));
    await expect(slow.run({})).rejects.toMatchObject({ code: "TASK_TIMEOUT" });
  });
});

describe("bad input gets a clear error with a stable code", () => {
  const add = task(
    { name: "math.add", inputs: { a: t.int(), b: t.int() }, outputs: t.int() },
    ({ a, b }) => a + b,
  );

  it("names the entity and the value for unconvertible inputs", async () => {
    const err = await add.run({ a: Number.NaN, b: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(FlyteError);
    expect(err.code).toBe("TYPE_INVALID_VALUE");
    expect(err.message).toContain("math.add");
    expect(err.message).toContain('"a"');
    expect(err.message).toContain("NaN");
    const fn = await add.run({ a: (() => 1) as unknown as number, b: 1 }).catch((e) => e);
    expect(fn.code).toBe("TYPE_INVALID_VALUE");
    expect(fn.message).toContain("function");
  });

  it("reports missing inputs and unknown inputs", async () => {
    await expect(add.run({ a: 1 } as never)).rejects.toMatchObject({ code: "VALUE_MISSING" });
    await expect(add.run({ a: 1, b: 2, c: 3 } as never)).rejects.toMatchObject({ code: "VALUE_UNKNOWN" });
  });

  it("reports a task that throws as a USER error naming the task", async () => {
    const bad = task({ name: "bad.task", inputs: {} }, () => {
      throw new TypeError("x is undefined");
    });
    const err = await bad.run({}).catch((e) => e);
    expect(err).toMatchObject({ code: "USER_ERROR", origin: "USER" });
    expect(err.message).toContain("bad.task");
    expect(err.message).toContain("TypeError: x is undefined");
  });

  it("reports outputs of the wrong type", async () => {
    const lies = task({ name: "lies", inputs: {}, outputs: t.int() }, () => "text" as unknown as number);
    await expect(lies.run({})).rejects.toMatchObject({ code: "TYPE_INVALID_VALUE" });
  });

  it("rejects unbound and mistyped bindings when the workflow is defined", () => {
    const s = task({ inputs: { s: t.string() }, outputs: t.string() }, ({ s }) => s);
    expect(() => workflow({ inputs: { x: t.int() } }, ({ x }) => add({ a: x } as never))).toThrow(
      expect.objectContaining({ code: "BINDING_MISSING" }),
    );
    expect(() => workflow({ inputs: { x: t.int() } }, ({ x }) => s({ s: x as never }))).toThrow(
      expect.objectContaining({ code: "BINDING_TYPE_MISMATCH" }),
    );
    expect(() => workflow({}, () => add({ a: 1, b: "two" as never }))).toThrow(
      expect.objectContaining({ code: "BINDING_BAD_VALUE" }),
    );
  });

  it("rejects calls outside a workflow and async workflow functions", () => {
    expect(() => add({ a: 1, b: 2 })).toThrow(expect.objectContaining({ code: "CALL_OUTSIDE_WORKFLOW" }));
    expect(() => workflow({}, (async () => {}) as never)).toThrow(
      expect.objectContaining({ code: "WORKFLOW_ASYNC" }),
    );
  });

  it("validates task settings", () => {
    expect(() => task({ inputs: {}, retries: -1 }, () => {})).toThrow(
      expect.objectContaining({ code: "RETRIES_INVALID" }),
    );
    expect(() => task({ inputs: {}, requests: { memory: "lots" } }, () => {})).toThrow(
      expect.objectContaining({ code: "RESOURCE_INVALID" }),
    );
    expect(() => task({ inputs: {}, timeout: "soon" }, () => {})).toThrow(
      expect.objectContaining({ code: "TIMEOUT_INVALID" }),
    );
  });
});

describe("image templates are checked when a task is defined", () => {
  it("rejects a string that looks like a template but does not parse", () => {
    expect(() =>
      task({ name: "typo", inputs: {}, containerImage: "{{.imag.spark.fqn}}:latest" }, () => {}),
    ).toThrow(expect.objectContaining({ code: expect.stringMatching(/^IMAGE_TEMPLATE/) }));
    expect(() =>
      task({ name: "typo2", inputs: {}, containerImage: "{{ .image.spark.fqdn }}" }, () => {}),
    ).toThrow(expect.objectContaining({ code: expect.stringMatching(/^IMAGE_TEMPLATE/) }));
    expect(() =>
      task(
        { name: "ok", inputs: {}, containerImage: "{{.image.spark.fqn}}:{{.image.spark.version}}" },
        () => {},
      ),
    ).not.toThrow();
  });
});
