/**
 * Literal conversion of a dataframe (`t.dataframe`, 3 columns int/float/string) to a structured
 * dataset literal (parquet under the raw data prefix) and back to rows in memory.
 *
 *   node --import tsx/esm bench/ts/literals-dataframe.ts --n 100000
 */
import { StructuredDataset, t } from "../../src/index.js";
import { roundTrip, tempContext } from "./convert.js";
import { args, emit } from "./report.js";

const opts = args({ n: "100000", warmup: "1000" });
const n = Number(opts.n);
const Frame = t.dataframe({ id: t.int(), score: t.float(), name: t.string() });
const schema = { df: Frame };
const ctx = tempContext();
const rows = (size: number) =>
  Array.from({ length: size }, (_, i) => ({ id: i, score: i * 0.5, name: `name-${i}` }));
// Reading back means having the rows in memory, as pandas has after flytekit's to_python_value.
const materialize = (v: Record<string, unknown>) => (v.df as StructuredDataset<object>).rows();

await roundTrip(schema, { df: StructuredDataset.fromRows(rows(Number(opts.warmup))) }, ctx, materialize); // warm-up
const data = rows(n);
const { timings, back } = await roundTrip(schema, { df: StructuredDataset.fromRows(data) }, ctx, materialize);
const got = await (back.df as StructuredDataset<{ name: string }>).rows();
if (got.length !== n || got[n - 1]!.name !== data[n - 1]!.name)
  throw new Error("round trip changed the dataframe");

const { bytes, ...metrics } = timings;
emit("literals-dataframe", metrics, { n, bytes });
