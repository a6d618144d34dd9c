/**
 * Floor of the integer-list conversion: the same LiteralMap built with protobuf-es `create`
 * directly (no type engine), encoded with `toBinary`; decoded with `fromBinary` and the values
 * read straight out of the messages.
 *
 *   node --import tsx/esm bench/floor/ints.ts --n 1000000
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema, LiteralSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { args, emit, time } from "../ts/report.js";

const opts = args({ n: "1000000", warmup: "1000" });
const n = Number(opts.n);

function build(xs: number[]) {
  const literals = xs.map((x) =>
    create(LiteralSchema, {
      value: {
        case: "scalar",
        value: { value: { case: "primitive", value: { value: { case: "integer", value: BigInt(x) } } } },
      },
    }),
  );
  return create(LiteralMapSchema, {
    literals: { xs: create(LiteralSchema, { value: { case: "collection", value: { literals } } }) },
  });
}

type LiteralMap = ReturnType<typeof build>;

function read(map: LiteralMap): number[] {
  const xs = map.literals.xs!;
  if (xs.value.case !== "collection") throw new Error("not a collection");
  return xs.value.value.literals.map((l) => {
    if (l.value.case === "scalar" && l.value.value.value.case === "primitive") {
      const p = l.value.value.value.value.value;
      if (p.case === "integer") return Number(p.value);
    }
    throw new Error("not an integer");
  });
}

const values = (size: number) => Array.from({ length: size }, (_, i) => i * 7919);
read(fromBinary(LiteralMapSchema, toBinary(LiteralMapSchema, build(values(Number(opts.warmup)))))); // warm-up
const xs = values(n);
const [buildMs, map, buildCpu] = await time(() => build(xs));
const [encodeMs, bytes, encodeCpu] = await time(() => toBinary(LiteralMapSchema, map));
const [decodeMs, decoded, decodeCpu] = await time(() => fromBinary(LiteralMapSchema, bytes));
const [readMs, back, readCpu] = await time(() => read(decoded));
if (back.length !== n || back[n - 1] !== xs[n - 1]) throw new Error("round trip changed the list");
emit(
  "literals-ints",
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
