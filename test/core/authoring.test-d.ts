// Type-level tests: the inference the authoring API promises, and wiring mistakes that must be
// TypeScript errors. `@ts-expect-error` lines fail `tsc` if the error ever disappears.
import { describe, expectTypeOf, it } from "vitest";
import {
  conditional,
  dynamic,
  type FlytePromise,
  launchPlan,
  mapTask,
  t,
  task,
  workflow,
} from "../../src/index.js";

const add = task({ inputs: { a: t.int(), b: t.int() }, outputs: t.int() }, ({ a, b }) => a + b);
const shout = task({ inputs: { s: t.string() }, outputs: t.string() }, ({ s }) => s.toUpperCase());
const stats = task(
  { inputs: { xs: t.list(t.float()) }, outputs: { mean: t.float(), n: t.int() } },
  ({ xs }) => ({ mean: xs.reduce((a, b) => a + b, 0) / xs.length, n: xs.length }),
);
const maybe = task({ inputs: { x: t.optional(t.int()) }, outputs: t.bool() }, ({ x }) => x === null);
const noOut = task({ inputs: {} }, () => {});

describe("task inference", () => {
  it("infers the function's parameter types from the inputs", () => {
    task(
      {
        inputs: {
          a: t.int(),
          s: t.string(),
          when: t.datetime(),
          tags: t.list(t.string()),
          m: t.map(t.float()),
        },
      },
      (inputs) => {
        expectTypeOf(inputs).toEqualTypeOf<{
          a: number;
          s: string;
          when: Date;
          tags: string[];
          m: Record<string, number>;
        }>();
      },
    );
  });
  it("infers optional inputs as T | null", () => {
    task({ inputs: { x: t.optional(t.int()) } }, ({ x }) => {
      expectTypeOf(x).toEqualTypeOf<number | null>();
    });
  });
  it("checks the return type against the outputs", () => {
    // @ts-expect-error a string is not an int output
    task({ inputs: {}, outputs: t.int() }, () => "nope");
    // @ts-expect-error a named output is missing
    task({ inputs: {}, outputs: { a: t.int(), b: t.string() } }, () => ({ a: 1 }));
  });
  it("types enums and records", () => {
    const Color = t.enum(["red", "green"]);
    const Point = t.record({ x: t.float(), label: t.optional(t.string()) });
    task({ inputs: { c: Color, p: Point } }, ({ c, p }) => {
      expectTypeOf(c).toEqualTypeOf<"red" | "green">();
      expectTypeOf(p.x).toEqualTypeOf<number>();
      expectTypeOf(p.label).toEqualTypeOf<string | null | undefined>();
    });
  });
});

describe("workflow wiring", () => {
  it("returns typed promises from calls", () => {
    workflow({ inputs: { x: t.int() } }, ({ x }) => {
      const sum = add({ a: x, b: 2 });
      expectTypeOf(sum).toEqualTypeOf<FlytePromise<number>>();
      const s = stats({ xs: [1, 2] });
      expectTypeOf(s.mean).toEqualTypeOf<FlytePromise<number>>();
      expectTypeOf(s.n).toEqualTypeOf<FlytePromise<number>>();
      return { sum };
    });
  });
  it("rejects wrong wiring at compile time", () => {
    workflow({ inputs: { x: t.int(), name: t.string() } }, ({ x, name }) => {
      // @ts-expect-error a string promise bound to an int input
      add({ a: name, b: 1 });
      // @ts-expect-error an int promise bound to a string input
      shout({ s: x });
      // @ts-expect-error a missing required input
      add({ a: x });
      // @ts-expect-error an unknown input
      add({ a: x, b: 1, c: 3 });
      // @ts-expect-error a literal of the wrong type
      add({ a: "1", b: 2 });
      // optional inputs may be omitted, and take a promise of the inner type
      maybe({});
      maybe({ x });
      noOut({});
    });
  });
  it("infers workflow outputs from the returned promises", () => {
    const wf = workflow({ inputs: { x: t.int() } }, ({ x }) => {
      const s = add({ a: x, b: 1 });
      return { s, upper: shout({ s: "a" }) };
    });
    workflow({}, () => {
      const r = wf({ x: 1 });
      expectTypeOf(r.s).toEqualTypeOf<FlytePromise<number>>();
      expectTypeOf(r.upper).toEqualTypeOf<FlytePromise<string>>();
      // @ts-expect-error sub-workflow output "upper" is a string
      add({ a: r.upper, b: 1 });
    });
  });
  it("types local runs", async () => {
    const wf = workflow({ inputs: { x: t.int() } }, ({ x }) => ({ s: add({ a: x, b: 1 }) }));
    expectTypeOf(wf.run).parameter(0).toEqualTypeOf<{ x: number }>();
    expectTypeOf(await wf.run({ x: 1 })).toEqualTypeOf<{ s: number }>();
    expectTypeOf(await add.run({ a: 1, b: 2 })).toEqualTypeOf<number>();
  });
  it("types map tasks over lists", () => {
    workflow({ inputs: { xs: t.list(t.int()) } }, ({ xs }) => {
      const r = mapTask(add)({ a: xs, b: [1, 2, 3] });
      expectTypeOf(r).toEqualTypeOf<FlytePromise<number[]>>();
      // @ts-expect-error a map task takes lists
      mapTask(add)({ a: 1, b: 2 });
    });
  });
  it("types conditionals by their cases", () => {
    workflow({ inputs: { x: t.int() } }, ({ x }) => {
      const r = conditional("c")
        .if(x.gt(1))
        .then(() => add({ a: x, b: 1 }))
        .else()
        .then(() => add({ a: x, b: 2 }));
      expectTypeOf(r).toEqualTypeOf<FlytePromise<number>>();
      // @ts-expect-error comparing an int promise with a string
      x.eq("a");
    });
  });
  it("types dynamic tasks and launch plans", () => {
    const d = dynamic({ inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => {
      expectTypeOf(n).toEqualTypeOf<number>();
      return add({ a: n, b: 1 });
    });
    const wf = workflow({ inputs: { n: t.int() } }, ({ n }) => d({ n }));
    const lp = launchPlan(wf, { name: "lp", defaultInputs: { n: 3 } });
    workflow({}, () => {
      expectTypeOf(lp({})).toEqualTypeOf<FlytePromise<number>>();
    });
  });
});
