// The entrypoint, fed the same inputs as flytekit's pyflyte-execute (goldens in
// test/fixtures/flytekit/execute), compared with what flytekit wrote.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DynamicJobSpecSchema } from "../../src/proto/gen/flyteidl/core/dynamic_job_pb.js";
import { ErrorDocumentSchema } from "../../src/proto/gen/flyteidl/core/errors_pb.js";
import { LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { fromLiteralMap, t, toLiteralMap } from "../../src/types/index.js";

const root = join(import.meta.dirname, "../..");
const goldens = join(root, "test/fixtures/flytekit/execute");
const bin = join(root, "bin/tsflyte-execute.mjs");

interface Run {
  code: number | null;
  stderr: string;
  out: string;
  files: string[];
}

function execute(
  golden: string | undefined,
  taskName: string,
  opts: { env?: Record<string, string>; resolver?: string[]; inputs?: string; killOn?: string } = {},
): Promise<Run> {
  const work = mkdtempSync(join(tmpdir(), "tsflyte-exec-"));
  const inputs = opts.inputs ?? join(work, "inputs.pb");
  if (golden && !opts.inputs) copyFileSync(join(goldens, golden, "inputs.pb"), inputs);
  if (!golden && !opts.inputs) writeFileSync(inputs, new Uint8Array());
  const out = join(work, "out");
  const args = [
    bin,
    "--inputs",
    inputs,
    "--output-prefix",
    out,
    "--raw-output-data-prefix",
    join(work, "raw"),
    "--checkpoint-path",
    join(work, "ckpt"),
    "--prev-checkpoint",
    '""',
    "--resolver",
    ...(opts.resolver ?? [
      "default",
      "--",
      "task-module",
      "test/runtime/fixtures/example",
      "task-name",
      taskName,
    ]),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...opts.env } });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
      if (opts.killOn && stderr.includes(opts.killOn)) child.kill("SIGTERM");
    });
    child.on("exit", (code) =>
      resolve({ code, stderr, out, files: existsSync(out) ? readdirSync(out).sort() : [] }),
    );
  });
}

const literalJson = (path: string) =>
  toJson(LiteralMapSchema, fromBinary(LiteralMapSchema, readFileSync(path)));

describe("tsflyte-execute against flytekit's pyflyte-execute goldens", () => {
  it("writes the same outputs.pb as flytekit for the same inputs (trivial)", async () => {
    const r = await execute("trivial", "trivial");
    expect(r.code).toBe(0);
    expect(r.files).toEqual(["outputs.pb"]);
    expect(literalJson(join(r.out, "outputs.pb"))).toEqual(literalJson(join(goldens, "trivial/outputs.pb")));
  });

  it("reads flytekit's msgpack dataclass and writes one flytekit reads the same", async () => {
    const r = await execute("dataclass", "movePoint");
    expect(r.code).toBe(0);
    const ours = fromBinary(LiteralMapSchema, readFileSync(join(r.out, "outputs.pb"))).literals.o0!;
    const theirs = fromBinary(LiteralMapSchema, readFileSync(join(goldens, "dataclass/outputs.pb"))).literals
      .o0!;
    const bytes = (l: typeof ours) =>
      l.value.case === "scalar" && l.value.value.value.case === "binary"
        ? l.value.value.value.value.value
        : undefined;
    expect(bytes(ours)).toBeDefined();
    // Byte-identical MessagePack: same field order, same int and float encodings.
    expect(Buffer.from(bytes(ours)!).equals(Buffer.from(bytes(theirs)!))).toBe(true);
  });

  it("runs one item of a map task by the array index, like pyflyte-map-execute", async () => {
    const r = await execute("map_index1", "", {
      env: { BATCH_JOB_ARRAY_INDEX_VAR_NAME: "MY_ARRAY_INDEX", MY_ARRAY_INDEX: "1" },
      resolver: [
        "map",
        "--",
        "vars",
        "",
        "resolver",
        "default",
        "task-module",
        "test/runtime/fixtures/example",
        "task-name",
        "square",
      ],
    });
    expect(r.code).toBe(0);
    expect(literalJson(join(r.out, "outputs.pb"))).toEqual(
      literalJson(join(goldens, "map_index1/outputs.pb")),
    );
    const b = await execute("map_bound_offset", "", {
      env: {
        BATCH_JOB_ARRAY_INDEX_VAR_NAME: "MY_ARRAY_INDEX",
        MY_ARRAY_INDEX: "1",
        BATCH_JOB_ARRAY_INDEX_OFFSET: "1",
      },
      resolver: [
        "map",
        "--",
        "vars",
        "b",
        "resolver",
        "default",
        "task-module",
        "test/runtime/fixtures/example",
        "task-name",
        "add",
      ],
    });
    expect(b.code).toBe(0);
    expect(literalJson(join(b.out, "outputs.pb"))).toEqual(
      literalJson(join(goldens, "map_bound_offset/outputs.pb")),
    );
  });

  it("writes a user error document, non-recoverable, and exits 0", async () => {
    const r = await execute("value_error", "failValueError");
    expect(r.code).toBe(0);
    expect(r.files).toEqual(["error.pb"]);
    const ours = fromBinary(ErrorDocumentSchema, readFileSync(join(r.out, "error.pb"))).error!;
    const theirs = fromBinary(ErrorDocumentSchema, readFileSync(join(goldens, "value_error/error.pb")))
      .error!;
    expect(ours.kind).toBe(theirs.kind);
    expect(ours.origin).toBe(theirs.origin);
    expect(ours.code).toBe("USER:USER_ERROR");
    expect(ours.message).toMatch(/^Trace:\n\n/);
    expect(ours.message).toContain("RangeError: bad value 3");
  });

  it("marks FlyteRecoverableError as recoverable, like flytekit's FlyteRecoverableException", async () => {
    const r = await execute("recoverable_error", "failRecoverable");
    const ours = fromBinary(ErrorDocumentSchema, readFileSync(join(r.out, "error.pb"))).error!;
    const theirs = fromBinary(ErrorDocumentSchema, readFileSync(join(goldens, "recoverable_error/error.pb")))
      .error!;
    expect(ours.kind).toBe(theirs.kind);
    expect(ours.origin).toBe(theirs.origin);
    expect(ours.message).toContain("try again 4");
  });

  it("exits 1 after error.pb when FLYTE_FAIL_ON_ERROR=true", async () => {
    const r = await execute("value_error", "failValueError", { env: { FLYTE_FAIL_ON_ERROR: "true" } });
    expect(r.code).toBe(1);
    expect(r.files).toEqual(["error.pb"]);
  });

  it("writes a DynamicJobSpec to futures.pb with the same graph shape as flytekit", async () => {
    // flytekit's own _F_SS_C for its dynamic task: we read it as the settings of the graph.
    const contexts = JSON.parse(
      readFileSync(join(root, "test/fixtures/flytekit/packages/serialization-context.json"), "utf8"),
    ) as Record<string, { raw: string }>;
    const ssc = contexts["goldens_wf.example.dyn"]!.raw;
    const r = await execute("dynamic", "dyn", {
      env: {
        _F_SS_C: ssc,
        FLYTE_INTERNAL_TASK_PROJECT: "p",
        FLYTE_INTERNAL_TASK_DOMAIN: "d",
        FLYTE_INTERNAL_TASK_VERSION: "v1",
      },
    });
    expect(r.stderr).toBe("");
    expect(r.files).toEqual(["futures.pb"]);
    const ours = fromBinary(DynamicJobSpecSchema, readFileSync(join(r.out, "futures.pb")));
    const theirs = fromBinary(DynamicJobSpecSchema, readFileSync(join(goldens, "dynamic/futures.pb")));
    expect(ours.nodes.map((n) => n.id)).toEqual(theirs.nodes.map((n) => n.id));
    expect(ours.minSuccesses).toBe(theirs.minSuccesses);
    expect(ours.nodes.map((n) => n.upstreamNodeIds)).toEqual(theirs.nodes.map((n) => n.upstreamNodeIds));
    expect(ours.tasks.length).toBe(theirs.tasks.length);
    expect(ours.outputs.map((o) => o.binding?.value.case)).toEqual(
      theirs.outputs.map((o) => o.binding?.value.case),
    );
  });

  it("reports corrupt and missing inputs as system errors in error.pb", async () => {
    const work = mkdtempSync(join(tmpdir(), "tsflyte-bad-"));
    writeFileSync(join(work, "bad.pb"), "this is not protobuf \xff\xff\xff");
    const corrupt = await execute(undefined, "trivial", { inputs: join(work, "bad.pb") });
    expect(corrupt.code).toBe(0);
    expect(corrupt.files).toEqual(["error.pb"]);
    const doc = fromBinary(ErrorDocumentSchema, readFileSync(join(corrupt.out, "error.pb"))).error!;
    expect(doc.code).toBe("SYSTEM:INPUTS_CORRUPT");
    const missing = await execute(undefined, "trivial", { inputs: join(work, "nope.pb") });
    const doc2 = fromBinary(ErrorDocumentSchema, readFileSync(join(missing.out, "error.pb"))).error!;
    expect(doc2.code).toBe("SYSTEM:INPUTS_UNREADABLE");
  });

  it("writes an error document when terminated by SIGTERM", async () => {
    const r = await execute(undefined, "slow", { killOn: "slow task started" });
    expect(r.code).toBe(143);
    expect(r.files).toEqual(["error.pb"]);
    const doc = fromBinary(ErrorDocumentSchema, readFileSync(join(r.out, "error.pb"))).error!;
    expect(doc.code).toBe("SYSTEM:TERMINATED");
  });

  it("rejects bad arguments with exit code 2", async () => {
    const r = await new Promise<number | null>((resolve) =>
      spawn(process.execPath, [bin, "--inputs"], { cwd: root }).on("exit", resolve),
    );
    expect(r).toBe(2);
  });
});

// A task module whose FunctionTask.executeLiterals reports each call: function tasks must run
// from inputs.pb bytes to outputs.pb bytes without it (toLiteralMapBytes/fromLiteralMapBytes),
// and still write and fail exactly as executeLiterals does.
const LIST_TASKS = `
import { FunctionTask, t, task } from ${JSON.stringify(join(root, "src/index.js"))};
const original = FunctionTask.prototype.executeLiterals;
FunctionTask.prototype.executeLiterals = function (...args) {
  process.stderr.write("executeLiterals called\\n");
  return original.apply(this, args);
};
export const stats = task(
  {
    inputs: { xs: t.list(t.int()), names: t.map(t.list(t.string())), scale: t.float() },
    outputs: { total: t.int(), scaled: t.list(t.float()), keys: t.list(t.string()) },
  },
  ({ xs, names, scale }) => ({
    total: xs.reduce((a, b) => a + b, 0),
    scaled: xs.map((x) => x * scale),
    keys: Object.keys(names),
  }),
);
export const badOutput = task({ inputs: { xs: t.list(t.int()) }, outputs: t.list(t.int()) }, ({ xs }) => [...xs, 1.5]);
`;

describe("tsflyte-execute runs function tasks from bytes to bytes", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-bytes-"));
  const mod = join(dir, "list_tasks.mts"); // .mts: ESM outside a package
  writeFileSync(mod, LIST_TASKS);
  const ctx = { rawDataPrefix: join(dir, "raw"), workDir: join(dir, "work") };
  const resolver = (name: string) => ["default", "--", "task-module", mod, "task-name", name];
  const inputsFile = async (schema: Parameters<typeof toLiteralMap>[0], values: Record<string, unknown>) => {
    const file = join(dir, `inputs-${Math.random().toString(36).slice(2)}.pb`);
    writeFileSync(file, toBinary(LiteralMapSchema, await toLiteralMap(schema, values, ctx, "test")));
    return file;
  };
  const statsInputs = { xs: t.list(t.int()), names: t.map(t.list(t.string())), scale: t.float() };
  const statsOutputs = { total: t.int(), scaled: t.list(t.float()), keys: t.list(t.string()) };

  it("writes the outputs.pb executeLiterals would, without calling it", async () => {
    const xs = Array.from({ length: 100_000 }, (_, i) => i - 50_000);
    const inputs = await inputsFile(statsInputs, { xs, names: { b: ["x"], a: [] }, scale: 0.5 });
    const r = await execute(undefined, "", { inputs, resolver: resolver("stats") });
    expect(r.stderr).not.toContain("executeLiterals called");
    expect(r.files).toEqual(["outputs.pb"]);
    const expected = toBinary(
      LiteralMapSchema,
      await toLiteralMap(
        statsOutputs,
        { total: -50_000, scaled: xs.map((x) => x * 0.5), keys: ["b", "a"] },
        ctx,
        "x",
      ),
    );
    expect(Buffer.from(readFileSync(join(r.out, "outputs.pb"))).equals(Buffer.from(expected))).toBe(true);
  });

  it("map tasks still take executeLiterals", async () => {
    const inputs = await inputsFile({ xs: t.list(t.list(t.int())) }, { xs: [[1], [2, 3]] });
    const r = await execute(undefined, "", {
      inputs,
      env: { BATCH_JOB_ARRAY_INDEX_VAR_NAME: "IDX", IDX: "1" },
      resolver: ["map", "--", "vars", "", "resolver", "default", ...resolver("badOutput").slice(2)],
    });
    expect(r.stderr).toContain("executeLiterals called");
    expect(r.files).toEqual(["error.pb"]);
  });

  it("fails on a bad output or input value with executeLiterals' error", async () => {
    const errorOf = async (p: Promise<unknown>) =>
      p.then(
        () => "no error",
        (e: Error) => e.message,
      );
    const bad = await execute(undefined, "", {
      inputs: await inputsFile({ xs: t.list(t.int()) }, { xs: [1, 2] }),
      resolver: resolver("badOutput"),
    });
    const doc = fromBinary(ErrorDocumentSchema, readFileSync(join(bad.out, "error.pb"))).error!;
    expect(doc.code).toBe("USER:TYPE_INVALID_VALUE");
    const expected = await errorOf(
      toLiteralMap({ o0: t.list(t.int()) }, { o0: [1, 2, 1.5] }, ctx, "list_tasks.badOutput", "output"),
    );
    expect(expected).toContain('output "o0[2]"');
    expect(doc.message).toContain(expected.replace("list_tasks.badOutput", ""));

    // A list of strings where the task takes ints: the error fromLiteralMap gives.
    const strings = await inputsFile({ xs: t.list(t.string()) }, { xs: ["1"] });
    const wrong = await execute(undefined, "", { inputs: strings, resolver: resolver("badOutput") });
    const doc2 = fromBinary(ErrorDocumentSchema, readFileSync(join(wrong.out, "error.pb"))).error!;
    const expected2 = await errorOf(
      fromLiteralMap({ xs: t.list(t.int()) }, fromBinary(LiteralMapSchema, readFileSync(strings)), ctx, "E"),
    );
    expect(doc2.code).toBe("USER:TYPE_LITERAL_MISMATCH");
    expect(doc2.message).toContain(expected2.replace("E: ", ""));
  });
});
