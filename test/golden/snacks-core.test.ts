import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { LaunchPlanSchema } from "../../src/proto/gen/flyteidl/admin/launch_plan_pb.js";
import { TaskSpecSchema } from "../../src/proto/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema } from "../../src/proto/gen/flyteidl/admin/workflow_pb.js";

const dir = join(
  import.meta.dirname,
  "../fixtures/flyte-v1.16.8/flytepropeller/pkg/compiler/test/testdata/snacks-core",
);
const files = readdirSync(dir).filter((f) => f.endsWith(".pb"));

/** The package convention: `<idx>_<name>_<kind>.pb`, kind 1 task, 2 workflow, 3 launch plan. */
function schemaFor(file: string): DescMessage {
  const kind = /_(\d)\.pb$/.exec(file)?.[1];
  if (kind === "1") return TaskSpecSchema;
  if (kind === "2") return WorkflowSpecSchema;
  if (kind === "3") return LaunchPlanSchema;
  throw new Error(`unexpected fixture name ${file}`);
}

function unknownFieldPaths(value: unknown, path = "$"): string[] {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return [];
  const found: string[] = [];
  const rec = value as Record<string, unknown>;
  if (Array.isArray(rec.$unknown) && rec.$unknown.length > 0) found.push(path);
  for (const [k, v] of Object.entries(rec)) {
    if (k !== "$unknown") found.push(...unknownFieldPaths(v, `${path}.${k}`));
  }
  return found;
}

describe("snacks-core fixtures (flytekit output) round-trip through the generated flyteidl code", () => {
  it("has the fixtures", () => {
    expect(files.length).toBeGreaterThan(150);
  });
  it.each(files)("%s decodes and re-encodes byte-identically", (file) => {
    const bytes = new Uint8Array(readFileSync(join(dir, file)));
    const schema = schemaFor(file);
    const msg = fromBinary(schema, bytes);
    const again = toBinary(schema, msg);
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    // Every field was understood: nothing fell into protobuf-es's unknown-field bucket.
    expect(unknownFieldPaths(msg)).toEqual([]);
    expect(JSON.stringify(msg, (_k, v) => (typeof v === "bigint" ? String(v) : v))).toMatch(/"name":"[^"]+"/);
  });
});
