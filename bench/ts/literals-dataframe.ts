/**
 * Literal conversion of a dataframe (`t.dataframe`, 3 columns int/float/string) to a structured
 * dataset literal (parquet under the raw data prefix) and back to rows in memory.
 *
 * The compared figures (`toMs`, `fromMs`) are the SDK's public path: values -> literal -> bytes,
 * and bytes -> values -> `await ds.rows()`. A second read figure, `fromColumnsMs` (and
 * `fromColumnsCpuMs`), is the same bytes read with `await ds.columns()` instead (column arrays,
 * no row objects); it is measured after the rows read, on a fresh dataset value.
 *
 *   node --import tsx/esm bench/ts/literals-dataframe.ts --n 100000
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { fromLiteralMap, StructuredDataset, t, toLiteralMap } from "../../src/index.js";
import { LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { roundTrip, tempContext } from "./convert.js";
import { args, emit, time } from "./report.js";

const opts = args({ n: "100000", warmup: "1000" });
const n = Number(opts.n);
const Frame = t.dataframe({ id: t.int(), score: t.float(), name: t.string() });
const schema = { df: Frame };
const ctx = tempContext();
const rows = (size: number) =>
  Array.from({ length: size }, (_, i) => ({ id: i, score: i * 0.5, name: `name-${i}` }));
// Reading back means having the rows in memory, as pandas has after flytekit's to_python_value.
const materialize = (v: Record<string, unknown>) => (v.df as StructuredDataset<object>).rows();

/** bytes -> values -> `columns()`: the columnar read of the same literal. */
async function readColumns(bytes: Uint8Array) {
  const map = fromBinary(LiteralMapSchema, bytes);
  const v = await fromLiteralMap(schema, map, ctx, "bench", "input");
  return (v.df as StructuredDataset<{ id: number; score: number; name: string }>).columns();
}

async function literalBytes(size: number): Promise<Uint8Array> {
  const map = await toLiteralMap(
    schema,
    { df: StructuredDataset.fromRows(rows(size)) },
    ctx,
    "bench",
    "input",
  );
  return toBinary(LiteralMapSchema, map);
}

// Warm-up of both read paths.
await roundTrip(schema, { df: StructuredDataset.fromRows(rows(Number(opts.warmup))) }, ctx, materialize);
await readColumns(await literalBytes(Number(opts.warmup)));

const data = rows(n);
const { timings, stored } = await (async () => {
  const { timings, back } = await roundTrip(
    schema,
    { df: StructuredDataset.fromRows(data) },
    ctx,
    materialize,
  );
  const df = back.df as StructuredDataset<{ name: string }>;
  const got = await df.rows();
  if (got.length !== n || got[n - 1]!.name !== data[n - 1]!.name)
    throw new Error("round trip changed the dataframe");
  return { timings, stored: df.uri! };
})();

// The columnar read, on a fresh value of the literal the SDK wrote above (the rows read above
// are no longer referenced, as they would not exist in a program reading columns).
const again = toBinary(
  LiteralMapSchema,
  await toLiteralMap(schema, { df: StructuredDataset.fromUri(stored) }, ctx, "bench", "input"),
);
const [fromColumnsMs, cols, fromColumnsCpuMs] = await time(() => readColumns(again));
if (cols.name.length !== n || cols.name[n - 1] !== data[n - 1]!.name || cols.id[n - 1] !== n - 1)
  throw new Error("the columnar read changed the dataframe");

const { bytes, ...metrics } = timings;
emit("literals-dataframe", { ...metrics, fromColumnsMs, fromColumnsCpuMs }, { n, bytes });
