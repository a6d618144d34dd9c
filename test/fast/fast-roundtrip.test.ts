// Fast registration end to end: a small TypeScript project is bundled, the bundle uploaded to a
// real S3-compatible server (moto), and tsflyte-fast-execute fetches it and runs tsflyte-execute
// on one of its tasks, as a fast-registered task's container does.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDocumentSchema } from "../../src/proto/gen/flyteidl/core/errors_pb.js";
import { LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { buildCodeBundle } from "../../src/serialize/bundle.js";
import { createS3Backend, type S3Backend } from "../../src/storage/s3.js";
import { literalMap, stringLiteral } from "../../src/types/literals.js";
import { type S3TestServer, startS3Server } from "../storage/s3-server.js";

const root = join(import.meta.dirname, "../..");
const fastBin = join(root, "bin/tsflyte-fast-execute.mjs");
const executeBin = join(root, "bin/tsflyte-execute.mjs");
const BUCKET = "tsflyte-fast";
let server: S3TestServer;
let s3: S3Backend;

beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket(BUCKET);
  s3 = createS3Backend({ settings: server.settings });
});

afterAll(async () => {
  s3?.close();
  await server?.stop();
});

function userProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-fastproj-"));
  mkdirSync(join(dir, "workflows"));
  mkdirSync(join(dir, "lib"));
  mkdirSync(join(dir, "node_modules"));
  // The SDK as the user's project sees it (an npm install would put it here).
  symlinkSync(root, join(dir, "node_modules/flytekit-ts"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "fastproj", type: "module" }));
  writeFileSync(
    join(dir, "lib/greet.ts"),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: user source code, written to a file
    "export function greet(name: string): string {\n  return `hello ${name}, from the bundle`;\n}\n",
  );
  writeFileSync(
    join(dir, "workflows/hello.ts"),
    [
      'import { t, task, workflow } from "flytekit-ts";',
      'import { greet } from "../lib/greet";',
      "",
      "export const hello = task({ inputs: { name: t.string() }, outputs: t.string() }, ({ name }) => greet(name));",
      "export const wf = workflow({ inputs: { name: t.string() }, outputs: t.string() }, ({ name }) => hello({ name }));",
    ].join("\n"),
  );
  return dir;
}

function run(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

describe("fast registration round trip through s3://", () => {
  it("bundles a project, fetches it from S3 and runs its task with tsflyte-execute", async () => {
    const project = userProject();
    const t0 = performance.now();
    const bundle = await buildCodeBundle({ sourceRoot: project });
    const bundleMs = performance.now() - t0;
    expect(bundle.files).toEqual(["lib/greet.js", "package.json", "workflows/hello.js"]);
    const uri = `s3://${BUCKET}/fast/${bundle.name}`;
    await s3.upload(bundle.path, uri);

    const work = mkdtempSync(join(tmpdir(), "tsflyte-fastrun-"));
    const inputs = join(work, "inputs.pb");
    writeFileSync(inputs, toBinary(LiteralMapSchema, literalMap({ name: stringLiteral("flyte") })));
    const dest = join(work, "root");
    const out = join(work, "out");
    const t1 = performance.now();
    const r = await run(
      [
        fastBin,
        "--additional-distribution",
        uri,
        "--dest-dir",
        dest,
        "--",
        process.execPath,
        executeBin,
        "--inputs",
        inputs,
        "--output-prefix",
        out,
        "--raw-output-data-prefix",
        join(work, "raw"),
        "--resolver",
        "default",
        "--",
        "task-module",
        "workflows.hello",
        "task-name",
        "hello",
      ],
      { ...server.env, FLYTE_FAST_EXECUTE_VERBOSE: "1" },
    );
    const runMs = performance.now() - t1;
    expect(r.stderr).not.toContain("task failed");
    expect(r.code).toBe(0);
    const outputs = fromBinary(LiteralMapSchema, readFileSync(join(out, "outputs.pb")));
    const o0 = outputs.literals.o0;
    expect(
      o0?.value.case === "scalar" && o0.value.value.value.case === "primitive"
        ? o0.value.value.value.value.value.value
        : undefined,
    ).toBe("hello flyte, from the bundle");
    const timing = /download (\d+) ms, unpack (\d+) ms/.exec(r.stderr);
    console.log(
      `bundle ${bundleMs.toFixed(0)} ms (${bundle.size} bytes); fast-execute + execute ${runMs.toFixed(0)} ms; ${timing?.[0] ?? ""}`,
    );
  });

  it("writes error.pb to an s3:// output prefix when the bundle is not in the bucket", async () => {
    const missing = `s3://${BUCKET}/fast/fast${"b".repeat(64)}.tar.gz`;
    const r = await run(
      [
        fastBin,
        "--additional-distribution",
        missing,
        "--dest-dir",
        mkdtempSync(join(tmpdir(), "tsflyte-d-")),
        "--",
        "tsflyte-execute",
        "--output-prefix",
        `s3://${BUCKET}/missing/out`,
      ],
      server.env,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot fetch the code bundle");
    const doc = fromBinary(ErrorDocumentSchema, await s3.get(`s3://${BUCKET}/missing/out/error.pb`)).error!;
    expect(doc.code).toBe("SYSTEM:FAST_BUNDLE_MISSING");
    expect(doc.message).toContain(missing);
  });
});
