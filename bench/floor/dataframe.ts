/**
 * Floor of the dataframe conversion: the same parquet file written with hyparquet-writer
 * straight from column arrays and the structured dataset literal built with protobuf-es
 * `create` (no type engine, no validation, no storage layer); read back with `fromBinary` and
 * hyparquet's `parquetReadObjects` into row objects.
 *
 *   node --import tsx/esm bench/floor/dataframe.ts --n 100000
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { parquetReadObjects } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import { LiteralMapSchema, LiteralSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { args, emit, time } from "../ts/report.js";

const opts = args({ n: "100000", warmup: "1000" });
const n = Number(opts.n);
const base = mkdtempSync(join(tmpdir(), "flytekit-ts-bench-floor-"));
process.on("exit", () => rmSync(base, { recursive: true, force: true }));
let files = 0;

interface Row {
  id: number;
  score: number;
  name: string;
}

async function write(rows: Row[]) {
  const ids = new Array<bigint>(rows.length);
  const scores = new Array<number>(rows.length);
  const names = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    ids[i] = BigInt(r.id);
    scores[i] = r.score;
    names[i] = r.name;
  }
  const data = parquetWriteBuffer({
    columnData: [
      { name: "id", data: ids, type: "INT64" },
      { name: "score", data: scores, type: "DOUBLE" },
      { name: "name", data: names, type: "STRING" },
    ],
  });
  const dir = join(base, String(files++));
  mkdirSync(dir);
  await writeFile(join(dir, "00000"), new Uint8Array(data));
  const map = create(LiteralMapSchema, {
    literals: {
      df: create(LiteralSchema, {
        value: {
          case: "scalar",
          value: {
            value: {
              case: "structuredDataset",
              value: { uri: dir, metadata: { structuredDatasetType: { format: "parquet" } } },
            },
          },
        },
      }),
    },
  });
  return toBinary(LiteralMapSchema, map);
}

async function read(bytes: Uint8Array): Promise<Row[]> {
  const lit = fromBinary(LiteralMapSchema, bytes).literals.df!;
  if (lit.value.case !== "scalar" || lit.value.value.value.case !== "structuredDataset")
    throw new Error("not a dataset");
  const buf = await readFile(join(lit.value.value.value.value.uri, "00000"));
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  return (await parquetReadObjects({ file })) as unknown as Row[];
}

const rows = (size: number): Row[] =>
  Array.from({ length: size }, (_, i) => ({ id: i, score: i * 0.5, name: `name-${i}` }));
await read(await write(rows(Number(opts.warmup)))); // warm-up
const data = rows(n);
const [toMs, bytes, toCpuMs] = await time(() => write(data));
const [fromMs, back, fromCpuMs] = await time(() => read(bytes));
if (back.length !== n || back[n - 1]!.name !== data[n - 1]!.name)
  throw new Error("round trip changed the dataframe");
emit("literals-dataframe", { toMs, fromMs, toCpuMs, fromCpuMs }, { n, bytes: bytes.length, floor: true });
