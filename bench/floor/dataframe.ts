/**
 * Floor of the dataframe conversion: the same parquet file written by the parquet code
 * flytekit-ts builds on, used directly: `writeFlatParquet` (src/types/parquet-writer.ts, with
 * hyparquet-writer's Thrift footer) straight from column arrays, `writeFile`, and the structured
 * dataset literal built with protobuf-es `create` (no type engine, no validation, no storage
 * layer); read back with `fromBinary`, `readFile`, hyparquet's `parquetMetadata` and
 * `readFlatColumns` (src/types/parquet-reader.ts) into columns, then one object per row.
 *
 *   node --import tsx/esm bench/floor/dataframe.ts --n 100000
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { parquetMetadata } from "hyparquet";
import { LiteralMapSchema, LiteralSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { readFlatColumns } from "../../src/types/parquet-reader.js";
import { writeFlatParquet } from "../../src/types/parquet-writer.js";
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
  const ids = new Float64Array(rows.length);
  const scores = new Float64Array(rows.length);
  const names = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    ids[i] = r.id;
    scores[i] = r.score;
    names[i] = r.name;
  }
  const data = writeFlatParquet(
    [
      { name: "id", kind: "int64", nullable: false, values: ids },
      { name: "score", kind: "double", nullable: false, values: scores },
      { name: "name", kind: "utf8", nullable: false, values: names },
    ],
    rows.length,
    "floor",
  );
  const dir = join(base, String(files++));
  mkdirSync(dir);
  await writeFile(join(dir, "00000"), data);
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
  const file = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const metadata = parquetMetadata(
    buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
  );
  const [ids, scores, names] = readFlatColumns(
    file,
    metadata,
    metadata.schema.slice(1).map((element) => ({
      element,
      numbers: element.type !== "BYTE_ARRAY",
      text: element.type === "BYTE_ARRAY",
      bigint: false,
    })),
    {},
  ).map((c) => c.values);
  const rows = new Array<Row>(ids!.length);
  for (let i = 0; i < rows.length; i++) {
    rows[i] = { id: ids![i] as number, score: scores![i] as number, name: names![i] as string };
  }
  return rows;
}

const rows = (size: number): Row[] =>
  Array.from({ length: size }, (_, i) => ({ id: i, score: i * 0.5, name: `name-${i}` }));
await read(await write(rows(Number(opts.warmup)))); // warm-up
const data = rows(n);
const [toMs, bytes, toCpuMs] = await time(() => write(data));
const [fromMs, back, fromCpuMs] = await time(() => read(bytes));
if (back.length !== n || back[n - 1]!.name !== data[n - 1]!.name || back[n - 1]!.id !== n - 1)
  throw new Error("round trip changed the dataframe");
emit("literals-dataframe", { toMs, fromMs, toCpuMs, fromCpuMs }, { n, bytes: bytes.length, floor: true });
