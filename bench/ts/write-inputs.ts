/**
 * Writes the `inputs.pb` of the cold-start bench: a LiteralMap `{x: 21}`, read by both
 * `tsflyte-execute` and `pyflyte-execute`.
 *
 *   node --import tsx/esm bench/ts/write-inputs.ts <file>
 */
import { writeFileSync } from "node:fs";
import { toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { intLiteral, literalMap } from "../../src/types/literals.js";

const file = process.argv[2];
if (!file) throw new Error("usage: write-inputs.ts <file>");
writeFileSync(file, toBinary(LiteralMapSchema, literalMap({ x: intLiteral(21n) })));
