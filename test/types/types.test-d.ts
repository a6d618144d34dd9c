/** The inference the `t` builders promise, checked by the TypeScript compiler. */
import { describe, expectTypeOf, it } from "vitest";
import {
  type FlyteDirectory,
  type FlyteFile,
  type FlyteType,
  type StructuredDataset,
  t,
  type ValueOf,
} from "../../src/types/index.js";
import type { RowOf } from "../../src/types/structured-dataset.js";

describe("ValueOf infers the TypeScript value of each type", () => {
  it("primitives", () => {
    expectTypeOf<ValueOf<ReturnType<typeof t.int>>>().toEqualTypeOf<number>();
    expectTypeOf<ValueOf<ReturnType<typeof t.bigint>>>().toEqualTypeOf<bigint>();
    expectTypeOf<ValueOf<ReturnType<typeof t.float>>>().toEqualTypeOf<number>();
    expectTypeOf<ValueOf<ReturnType<typeof t.string>>>().toEqualTypeOf<string>();
    expectTypeOf<ValueOf<ReturnType<typeof t.bool>>>().toEqualTypeOf<boolean>();
    expectTypeOf<ValueOf<ReturnType<typeof t.datetime>>>().toEqualTypeOf<Date>();
    expectTypeOf<ValueOf<ReturnType<typeof t.duration>>>().toEqualTypeOf<number>();
    expectTypeOf<ValueOf<ReturnType<typeof t.none>>>().toEqualTypeOf<null>();
    expectTypeOf<ValueOf<ReturnType<typeof t.bytes>>>().toEqualTypeOf<Uint8Array>();
  });

  it("optional, enum, union", () => {
    const opt = t.optional(t.string());
    expectTypeOf<ValueOf<typeof opt>>().toEqualTypeOf<string | null>();
    const color = t.enum(["a", "b"]);
    expectTypeOf<ValueOf<typeof color>>().toEqualTypeOf<"a" | "b">();
    const u = t.union(t.int(), t.string(), t.none());
    expectTypeOf<ValueOf<typeof u>>().toEqualTypeOf<number | string | null>();
  });

  it("lists and maps", () => {
    const xs = t.list(t.list(t.int()));
    expectTypeOf<ValueOf<typeof xs>>().toEqualTypeOf<number[][]>();
    const m = t.map(t.optional(t.float()));
    expectTypeOf<ValueOf<typeof m>>().toEqualTypeOf<Record<string, number | null>>();
  });

  it("records: required keys, optional nullable keys, nesting", () => {
    const Inner = t.record({ a: t.int(), b: t.string() });
    const Point = t.record({
      x: t.int(),
      tags: t.list(t.string()),
      inner: t.optional(Inner),
      color: t.enum(["r", "g"]),
    });
    type P = ValueOf<typeof Point>;
    expectTypeOf<P>().toEqualTypeOf<{
      x: number;
      tags: string[];
      color: "r" | "g";
      inner?: { a: number; b: string } | null;
    }>();
    expectTypeOf<{ x: 1; tags: []; color: "r" }>().toMatchTypeOf<P>();
    expectTypeOf<{ x: 1; tags: [] }>().not.toMatchTypeOf<P>();
    expectTypeOf<{ x: "1"; tags: []; color: "r" }>().not.toMatchTypeOf<P>();
    const points = t.list(Point);
    expectTypeOf<ValueOf<typeof points>>().toEqualTypeOf<P[]>();
    const byName = t.map(t.record({ n: t.bigint() }));
    expectTypeOf<ValueOf<typeof byName>>().toEqualTypeOf<Record<string, { n: bigint }>>();
  });

  it("json, files, directories", () => {
    expectTypeOf<ValueOf<ReturnType<typeof t.json>>>().toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf<ValueOf<ReturnType<typeof t.file>>>().toEqualTypeOf<FlyteFile>();
    expectTypeOf<ValueOf<ReturnType<typeof t.directory>>>().toEqualTypeOf<FlyteDirectory>();
    const files = t.list(t.file("csv"));
    expectTypeOf<ValueOf<typeof files>>().toEqualTypeOf<FlyteFile[]>();
  });

  it("dataframes: typed rows", async () => {
    const df = t.dataframe({ a: t.int(), b: t.string(), c: t.optional(t.float()), when: t.datetime() });
    type Row = { a: number; b: string; c: number | null; when: Date };
    expectTypeOf<ValueOf<typeof df>>().toEqualTypeOf<StructuredDataset<Row>>();
    expectTypeOf<RowOf<{ a: FlyteType<number> }>>().toEqualTypeOf<{ a: number }>();
    const ds = null as unknown as ValueOf<typeof df>;
    expectTypeOf(await ds.rows()).toEqualTypeOf<Row[]>();
    expectTypeOf(await ds.columns()).toEqualTypeOf<{
      a: number[];
      b: string[];
      c: (number | null)[];
      when: Date[];
    }>();
    const untyped = t.dataframe({});
    expectTypeOf<ValueOf<typeof untyped>>().toEqualTypeOf<StructuredDataset<Record<string, unknown>>>();
    // Columns must hold scalar values: a list column is a compile error.
    // @ts-expect-error lists are not dataframe columns
    t.dataframe({ xs: t.list(t.int()) });
  });

  it("the type of a builder is a FlyteType of its value", () => {
    expectTypeOf(t.int()).toMatchTypeOf<FlyteType<number>>();
    expectTypeOf(t.optional(t.int())).toMatchTypeOf<FlyteType<number | null>>();
    expectTypeOf(t.int()).not.toMatchTypeOf<FlyteType<string>>();
  });
});
