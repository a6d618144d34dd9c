/**
 * Literal conversion of a list of records (`t.record` with int, float, string and list of
 * strings fields; a flytekit dataclass on the Python side), both ways, timed separately.
 *
 *   node --import tsx/esm bench/ts/literals-records.ts --n 100000
 */
import { t } from "../../src/index.js";
import { roundTrip, tempContext } from "./convert.js";
import { args, emit } from "./report.js";

const opts = args({ n: "100000", warmup: "1000" });
const n = Number(opts.n);
const Item = t.record(
  { id: t.int(), score: t.float(), name: t.string(), tags: t.list(t.string()) },
  { name: "Item" },
);
const schema = { items: t.list(Item) };
const ctx = tempContext();
const values = (size: number) =>
  Array.from({ length: size }, (_, i) => ({
    id: i,
    score: i * 0.5,
    name: `item-${i}`,
    tags: ["a", `t${i % 10}`, `u${i % 7}`],
  }));

await roundTrip(schema, { items: values(Number(opts.warmup)) }, ctx); // warm-up
const items = values(n);
const { timings, back } = await roundTrip(schema, { items }, ctx);
const got = back.items as typeof items;
if (got.length !== n || got[n - 1]!.name !== items[n - 1]!.name)
  throw new Error("round trip changed the records");

const { bytes, ...metrics } = timings;
emit("literals-records", metrics, { n, bytes });
