// End-to-end: the examples run through the real CLI, as a user runs them.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const bin = join(root, "bin/tsflyte.mjs");

async function tsflyte(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      cwd: root,
      env: { ...process.env, TSFLYTE_CACHE_DIR: join(root, ".scratch/test-cache") },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("tsflyte run (examples double as end-to-end tests)", () => {
  it.each([
    [["examples/hello-world.ts", "helloWorld", "--name", "Flyte"], { greeting: "Hello, Flyte!", length: 13 }],
    [["examples/hello-world.ts", "helloWorld"], { greeting: "Hello, world!", length: 13 }],
    [
      ["examples/data-pipeline.ts", "pipeline", "--rows", "100"],
      { o0: { rows: 100, totalUnits: 590, revenue: 1191, topRegion: "south" } },
    ],
    [["examples/conditions.ts", "classify", "--x", "0.5"], { o0: 0.25 }],
    [["examples/conditions.ts", "classify", "--x", "3"], { o0: 6 }],
    [["examples/conditions.ts", "collatzStep", "--n", "7"], { o0: 22 }],
    [["examples/map-task.ts", "sumOfSquares", "--xs", "[1,2,3,4]"], { o0: 30 }],
    [["examples/dynamic.ts", "fibonacciWorkflow", "--n", "10"], { o0: 55 }],
    [["examples/multi-images.ts", "withReport"], { o0: "accuracy: 100.0%" }],
  ])("%j", async (args, expected) => {
    const r = await tsflyte("run", ...args, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it("shows progress per node on stderr", async () => {
    const r = await tsflyte("run", "examples/hello-world.ts", "helloWorld", "--no-cache");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/✓ n0 examples\.hello-world\.greet/);
    expect(r.stderr).toMatch(/2\/2 nodes done/);
  });

  it("lists an entity's inputs, types and defaults with --help", async () => {
    const r = await tsflyte("run", "examples/data-pipeline.ts", "pipeline", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--rows <int>\s+int \(default: "100"\)/);
    expect(r.stdout).toMatch(/Outputs: o0: record Summary/);
  });

  it("accepts run's own options before the file, as flyte users write them", async () => {
    const r = await tsflyte(
      "run",
      "--json",
      "--concurrency",
      "2",
      "examples/hello-world.ts",
      "helloWorld",
      "--name",
      "Flyte",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ greeting: "Hello, Flyte!", length: 13 });
    const listed = await tsflyte("run", "--json", "examples/hello-world.ts");
    expect(listed.stdout).toMatch(/helloWorld\s+workflow/);
  });

  it("lists the entities of a file", async () => {
    const r = await tsflyte("run", "examples/hello-world.ts");
    expect(r.stdout).toMatch(/helloWorld\s+workflow\s+examples\.hello-world\.helloWorld/);
  });

  it.each([
    [["examples/map-task.ts", "square", "--x", "abc"], "INPUT_INVALID", '"abc" is not an integer'],
    [["examples/hello-world.ts", "count"], "INPUT_MISSING", "--text <string>"],
    [["examples/hello-world.ts", "nothing"], "ENTITY_NOT_FOUND", "found: count, greet, helloWorld"],
    [["examples/conditions.ts", "classify", "--x", "42"], "BRANCH_FAILED", "42 is not a number to classify"],
    [["examples/missing.ts", "x"], "MODULE_NOT_FOUND", "missing.ts"],
  ])("%j fails with %s", async (args, code, text) => {
    const r = await tsflyte("run", ...args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`[${code}]`);
    expect(r.stderr).toContain(text);
  });
});
