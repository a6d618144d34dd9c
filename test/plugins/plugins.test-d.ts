// Type-level tests of the plugin task types: inputs and outputs inferred from the declarations,
// callable inside workflows with typed promises, and wrong wiring as TypeScript errors.
import { describe, expectTypeOf, it } from "vitest";
import { type FlytePromise, type StructuredDataset, t, task, workflow } from "../../src/index.js";
import { ContainerTask, HttpRequestTask, SQLite3Task } from "../../src/plugins/index.js";

const people = new SQLite3Task({
  queryTemplate: "select id, name from people where id > {{.inputs.min}}",
  inputs: { min: t.int() },
  outputSchema: t.dataframe({ id: t.int(), name: t.string() }),
  config: { uri: "people.db" },
});

describe("plugin task types", () => {
  it("SQLite3Task: run() gives a typed dataframe; a call gives a promise of it", async () => {
    const out = await people.run({ min: 1 });
    expectTypeOf(out.results).toEqualTypeOf<StructuredDataset<{ id: number; name: string }>>();
    workflow({ inputs: { m: t.int() } }, ({ m }) => {
      const r = people({ min: m });
      expectTypeOf(r.results).toEqualTypeOf<FlytePromise<StructuredDataset<{ id: number; name: string }>>>();
      // @ts-expect-error: min is an int
      people({ min: "x" });
      // @ts-expect-error: unknown input
      people({ min: m, other: 1 });
      return r.results;
    });
  });

  it("HttpRequestTask: body is a string or a JSON object by `response`", async () => {
    const text = new HttpRequestTask({ url: "https://example.com/{{.inputs.id}}", inputs: { id: t.int() } });
    const json = new HttpRequestTask({ url: "https://example.com", response: "json" });
    expectTypeOf((await text.run({ id: 1 })).body).toEqualTypeOf<string>();
    expectTypeOf((await json.run({})).body).toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf((await json.run({})).status).toEqualTypeOf<number>();
  });

  it("ContainerTask outputs wire into tasks of matching types", () => {
    const area = new ContainerTask({
      image: "alpine:3",
      command: ["sh"],
      inputs: { a: t.float() },
      outputs: { area: t.float(), unit: t.string() },
    });
    const show = task({ inputs: { x: t.float() }, outputs: t.string() }, ({ x }) => String(x));
    workflow({ inputs: { a: t.float() } }, ({ a }) => {
      const r = area({ a });
      // @ts-expect-error: unit is a string, x a float
      show({ x: r.unit });
      return show({ x: r.area });
    });
  });
});
