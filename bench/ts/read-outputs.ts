/**
 * Prints the integer output `o0` of an `outputs.pb` (to check a cold-start run's result).
 *
 *   node --import tsx/esm bench/ts/read-outputs.ts <file>
 */
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";

const file = process.argv[2];
if (!file) throw new Error("usage: read-outputs.ts <file>");
const map = fromBinary(LiteralMapSchema, readFileSync(file));
const lit = map.literals.o0;
if (lit?.value.case === "scalar" && lit.value.value.value.case === "primitive") {
  process.stdout.write(`${String(lit.value.value.value.value.value.value)}\n`);
} else {
  process.stdout.write("?\n");
}
