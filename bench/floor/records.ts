/**
 * Floor of the record-list conversion: the same LiteralMap (one msgpack Binary literal per
 * record, as flytekit writes dataclasses) built with protobuf-es `create` and @msgpack/msgpack
 * directly, with no type engine or validation; encoded with `toBinary`; decoded with
 * `fromBinary` and each record's msgpack decoded.
 *
 *   node --import tsx/esm bench/floor/records.ts --n 100000
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { decode, Encoder } from "@msgpack/msgpack";
import { LiteralMapSchema, LiteralSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { args, emit, time } from "../ts/report.js";

const opts = args({ n: "100000", warmup: "1000" });
const n = Number(opts.n);
const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });

interface Item {
  id: number;
  score: number;
  name: string;
  tags: string[];
}

function build(items: Item[]) {
  const literals = items.map((item) =>
    create(LiteralSchema, {
      value: {
        case: "scalar",
        value: { value: { case: "binary", value: { value: encoder.encode(item), tag: "msgpack" } } },
      },
    }),
  );
  return create(LiteralMapSchema, {
    literals: { items: create(LiteralSchema, { value: { case: "collection", value: { literals } } }) },
  });
}

type LiteralMap = ReturnType<typeof build>;

function read(map: LiteralMap): Item[] {
  const lit = map.literals.items!;
  if (lit.value.case !== "collection") throw new Error("not a collection");
  return lit.value.value.literals.map((l) => {
    if (l.value.case === "scalar" && l.value.value.value.case === "binary") {
      return decode(l.value.value.value.value.value, { useBigInt64: true }) as Item;
    }
    throw new Error("not a binary literal");
  });
}

const values = (size: number): Item[] =>
  Array.from({ length: size }, (_, i) => ({
    id: i,
    score: i * 0.5,
    name: `item-${i}`,
    tags: ["a", `t${i % 10}`, `u${i % 7}`],
  }));
read(fromBinary(LiteralMapSchema, toBinary(LiteralMapSchema, build(values(Number(opts.warmup)))))); // warm-up
const items = values(n);
const [buildMs, map, buildCpu] = await time(() => build(items));
const [encodeMs, bytes, encodeCpu] = await time(() => toBinary(LiteralMapSchema, map));
const [decodeMs, decoded, decodeCpu] = await time(() => fromBinary(LiteralMapSchema, bytes));
const [readMs, back, readCpu] = await time(() => read(decoded));
if (back.length !== n || back[n - 1]!.name !== items[n - 1]!.name)
  throw new Error("round trip changed the records");
emit(
  "literals-records",
  {
    buildMs,
    encodeMs,
    decodeMs,
    readMs,
    toMs: buildMs + encodeMs,
    fromMs: decodeMs + readMs,
    toCpuMs: buildCpu + encodeCpu,
    fromCpuMs: decodeCpu + readCpu,
  },
  { n, bytes: bytes.length, floor: true },
);
