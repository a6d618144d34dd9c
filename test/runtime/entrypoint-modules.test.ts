// How the entrypoint (bin/tsflyte-execute.mjs, running the bundled dist/) finds and loads a task
// module laid out as in an image: a project folder whose node_modules/flytekit-ts links to the
// SDK. Build dist/ first (npm test does).
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { moduleFile } from "../../src/runtime/resolvers.js";
import { intLiteral, literalMap } from "../../src/types/literals.js";

const root = join(import.meta.dirname, "../..");
const bin = join(root, "bin/tsflyte-execute.mjs");
const work = mkdtempSync(join(tmpdir(), "tsflyte-entry-modules-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const inputs = join(work, "inputs.pb");
writeFileSync(inputs, toBinary(LiteralMapSchema, literalMap({ x: intLiteral(21n) })));

/** A project folder as `tsflyte build` lays one out: ES modules, flytekit-ts linked in node_modules. */
function project(name: string, sdk: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(sdk, join(dir, "node_modules", "flytekit-ts"));
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** Runs the entrypoint in `dir`; returns the exit code, stderr and the integer output o0 (if any). */
function execute(dir: string, module: string, outputPrefix: string, env: Record<string, string> = {}) {
  const r = spawnSync(
    process.execPath,
    [
      bin,
      "--inputs",
      inputs,
      "--output-prefix",
      outputPrefix,
      "--raw-output-data-prefix",
      join(dir, "raw"),
      "--resolver",
      "default",
      "--",
      "task-module",
      module,
      "task-name",
      "f",
    ],
    { cwd: dir, encoding: "utf8", env: { ...process.env, ...env } },
  );
  return { code: r.status, stderr: r.stderr };
}

function output(file: string): bigint | undefined {
  const o0 = fromBinary(LiteralMapSchema, readFileSync(file)).literals.o0;
  const scalar = o0?.value.case === "scalar" ? o0.value.value : undefined;
  const primitive = scalar?.value.case === "primitive" ? scalar.value.value : undefined;
  return primitive?.value.case === "integer" ? primitive.value.value : undefined;
}

// A storage backend registered by the user's module: the entrypoint can write outputs through it
// only if both see the same registry, i.e. one instance of the SDK.
const PROBE_MODULE = `
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { registerStorageBackend, t, task } from "flytekit-ts";
const local = (uri) => join(process.env.PROBE_ROOT, uri.slice("probe://".length));
const unused = async () => { throw new Error("not used"); };
registerStorageBackend("probe", {
  get: async (uri) => readFileSync(local(uri)),
  put: async (uri, data) => { mkdirSync(dirname(local(uri)), { recursive: true }); writeFileSync(local(uri), data); },
  exists: async (uri) => existsSync(local(uri)),
  upload: unused,
  download: unused,
  list: async () => [],
});
export const f = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => 2 * x);
`;

describe("the bundled SDK", () => {
  it("is one instance for the entrypoint and a task module that imports flytekit-ts", () => {
    const dir = project("one-sdk", root, { "probe.js": PROBE_MODULE });
    const r = execute(dir, "probe", "probe://out", { PROBE_ROOT: join(dir, "store") });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(output(join(dir, "store/out/outputs.pb"))).toBe(42n);
  });

  it("(control) a second copy of the SDK in the task module does not see the entrypoint's registry", () => {
    const copy = join(work, "sdk-copy");
    mkdirSync(copy);
    cpSync(join(root, "package.json"), join(copy, "package.json"));
    cpSync(join(root, "dist"), join(copy, "dist"), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
    const dir = project("two-sdks", copy, { "probe.js": PROBE_MODULE });
    const r = execute(dir, "probe", "probe://out", { PROBE_ROOT: join(dir, "store") });
    expect(r.stderr).toContain('no storage backend for scheme "probe"');
  });
});

describe("task modules", () => {
  const TS =
    'import { t, task } from "flytekit-ts";\nexport const f = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }: { x: number }) => 3 * x);\n';
  const JS =
    'import { t, task } from "flytekit-ts";\nexport const f = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => 2 * x);\n';

  it("moduleFile prefers the compiled .js/.mjs/.cjs beside a TypeScript module", () => {
    const dir = join(work, "layout");
    mkdirSync(join(dir, "wf"), { recursive: true });
    for (const f of [
      "wf/a.ts",
      "wf/a.js",
      "wf/b.mts",
      "wf/b.mjs",
      "wf/c.cts",
      "wf/c.cjs",
      "wf/d.tsx",
      "wf/d.js",
    ])
      writeFileSync(join(dir, f), "");
    writeFileSync(join(dir, "wf/only.ts"), "");
    expect(moduleFile("wf/a", dir)).toBe(join(dir, "wf/a.js"));
    expect(moduleFile("wf.a", dir)).toBe(join(dir, "wf/a.js"));
    expect(moduleFile("wf/a.ts", dir)).toBe(join(dir, "wf/a.js"));
    expect(moduleFile("wf/b.mts", dir)).toBe(join(dir, "wf/b.mjs"));
    expect(moduleFile("wf/b", dir)).toBe(join(dir, "wf/b.mjs"));
    expect(moduleFile("wf/c.cts", dir)).toBe(join(dir, "wf/c.cjs"));
    expect(moduleFile("wf/d.tsx", dir)).toBe(join(dir, "wf/d.js"));
    expect(moduleFile("wf.only", dir)).toBe(join(dir, "wf/only.ts"));
    expect(moduleFile("wf/only.ts", dir)).toBe(join(dir, "wf/only.ts"));
    expect(() => moduleFile("wf/none", dir)).toThrow(
      expect.objectContaining({ code: "TASK_MODULE_NOT_FOUND" }),
    );
  });

  it("the entrypoint runs the compiled .js when the .ts is there too, and the .ts alone otherwise", () => {
    const dir = project("compiled", root, { "m.ts": TS, "m.js": JS, "t.ts": TS });
    for (const [module, want] of [
      ["m", 42n],
      ["m.ts", 42n],
      ["t", 63n],
    ] as const) {
      const out = join(dir, `out-${module}`);
      const r = execute(dir, module, out);
      expect(r.code, r.stderr).toBe(0);
      expect(output(join(out, "outputs.pb")), module).toBe(want);
    }
  });
});
