/**
 * The conversion round trip the literal benches time, as a task's inputs and outputs take it on
 * a cluster: values -> LiteralMap protobuf bytes (`toLiteralMapBytes`), then bytes -> values
 * (`fromLiteralMapBytes`). Each direction is timed on its own.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromLiteralMapBytes, type Schema, type TypeContext, toLiteralMapBytes } from "../../src/index.js";
import { time } from "./report.js";

/** A type context whose raw data (dataframes) goes to a fresh temp folder. */
export function tempContext(): TypeContext {
  const base = mkdtempSync(join(tmpdir(), "flytekit-ts-bench-"));
  process.on("exit", () => rmSync(base, { recursive: true, force: true }));
  return { rawDataPrefix: join(base, "raw"), workDir: join(base, "work") };
}

/**
 * Timings of one round trip, in milliseconds: `toMs` is values -> LiteralMap bytes
 * (`toLiteralMapBytes`), `fromMs` bytes -> values (`fromLiteralMapBytes`, then `materialize`),
 * and `*CpuMs` the CPU time of the same steps; `bytes` is the size of the LiteralMap.
 */
export interface RoundTrip {
  toMs: number;
  fromMs: number;
  toCpuMs: number;
  fromCpuMs: number;
  bytes: number;
}

/**
 * Runs one round trip of `values` through `schema` with the SDK's public bytes API, as a task's
 * inputs and outputs take it in a container (`inputs.pb` -> values, values -> `outputs.pb`);
 * `materialize` finishes reading the values (dataframes are read lazily) and is timed with the
 * "from" direction.
 */
export async function roundTrip(
  schema: Schema,
  values: Record<string, unknown>,
  ctx: TypeContext,
  materialize: (v: Record<string, unknown>) => unknown = () => undefined,
): Promise<{ timings: RoundTrip; back: Record<string, unknown> }> {
  const [toMs, bytes, toCpuMs] = await time(() => toLiteralMapBytes(schema, values, ctx, "bench", "input"));
  const [fromMs, back, fromCpuMs] = await time(async () => {
    const v = await fromLiteralMapBytes(schema, bytes, ctx, "bench", "input");
    await materialize(v);
    return v;
  });
  return {
    timings: { toMs, fromMs, toCpuMs, fromCpuMs, bytes: bytes.length },
    back: back as Record<string, unknown>,
  };
}
