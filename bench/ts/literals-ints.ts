/**
 * Conversion of a list of integers (`t.list(t.int())`) to LiteralMap bytes and back
 * (`toLiteralMapBytes` / `fromLiteralMapBytes`), each way timed separately.
 *
 *   node --import tsx/esm bench/ts/literals-ints.ts --n 1000000
 */
import { t } from "../../src/index.js";
import { roundTrip, tempContext } from "./convert.js";
import { args, emit } from "./report.js";

const opts = args({ n: "1000000", warmup: "1000" });
const n = Number(opts.n);
const schema = { xs: t.list(t.int()) };
const ctx = tempContext();
const values = (size: number) => Array.from({ length: size }, (_, i) => i * 7919);

await roundTrip(schema, { xs: values(Number(opts.warmup)) }, ctx); // warm-up
const xs = values(n);
const { timings, back } = await roundTrip(schema, { xs }, ctx);
const got = back.xs as number[];
if (got.length !== n || got[n - 1] !== xs[n - 1]) throw new Error("round trip changed the list");

const { bytes, ...metrics } = timings;
emit("literals-ints", metrics, { n, bytes });
