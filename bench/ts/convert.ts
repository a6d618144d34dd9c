/**
 * The conversion round trip the literal benches time, as a task's inputs take it on a cluster:
 * values -> LiteralMap (`toLiteralMap`) -> protobuf bytes (`toBinary`), then bytes ->
 * LiteralMap (`fromBinary`) -> values (`fromLiteralMap`). Each step is timed on its own.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { fromLiteralMap, type Schema, type TypeContext, toLiteralMap } from "../../src/index.js";
import { LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { time } from "./report.js";

/** A type context whose raw data (dataframes) goes to a fresh temp folder. */
export function tempContext(): TypeContext {
  const base = mkdtempSync(join(tmpdir(), "flytekit-ts-bench-"));
  process.on("exit", () => rmSync(base, { recursive: true, force: true }));
  return { rawDataPrefix: join(base, "raw"), workDir: join(base, "work") };
}

/**
 * Timings of one round trip, in milliseconds; `toMs` and `fromMs` are the two directions, and
 * `*CpuMs` the CPU time of the same steps.
 */
export interface RoundTrip {
  toLiteralMs: number;
  encodeMs: number;
  decodeMs: number;
  fromLiteralMs: number;
  toMs: number;
  fromMs: number;
  toCpuMs: number;
  fromCpuMs: number;
  bytes: number;
}

/**
 * Runs one round trip of `values` through `schema`; `materialize` finishes reading the values
 * (dataframes are read lazily) and is timed with the "from" direction.
 */
export async function roundTrip(
  schema: Schema,
  values: Record<string, unknown>,
  ctx: TypeContext,
  materialize: (v: Record<string, unknown>) => unknown = () => undefined,
): Promise<{ timings: RoundTrip; back: Record<string, unknown> }> {
  const [toLiteralMs, map, toLiteralCpu] = await time(() =>
    toLiteralMap(schema, values, ctx, "bench", "input"),
  );
  const [encodeMs, bytes, encodeCpu] = await time(() => toBinary(LiteralMapSchema, map));
  const [decodeMs, decoded, decodeCpu] = await time(() => fromBinary(LiteralMapSchema, bytes));
  const [fromLiteralMs, back, fromLiteralCpu] = await time(async () => {
    const v = await fromLiteralMap(schema, decoded, ctx, "bench", "input");
    await materialize(v);
    return v;
  });
  return {
    timings: {
      toLiteralMs,
      encodeMs,
      decodeMs,
      fromLiteralMs,
      toMs: toLiteralMs + encodeMs,
      fromMs: decodeMs + fromLiteralMs,
      toCpuMs: toLiteralCpu + encodeCpu,
      fromCpuMs: decodeCpu + fromLiteralCpu,
      bytes: bytes.length,
    },
    back: back as Record<string, unknown>,
  };
}
