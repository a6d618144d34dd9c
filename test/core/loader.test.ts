/**
 * The module loader through the real CLI (bin/tsflyte.mjs runs dist/): TypeScript modules loaded
 * from esbuild-compiled files in the package's `.tsflyte/` folder must give exactly what tsx gives
 * (packages byte for byte, import.meta, stack traces, entity names), follow source and resolution
 * changes, hand to tsx what they cannot do exactly, and name a missing import instead of the module.
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadModule } from "../../src/core/loader.js";

const REPO = join(import.meta.dirname, "../..");
const BIN = join(REPO, "bin/tsflyte.mjs");

/** A project folder: package.json (ES modules), flytekit-ts linked in node_modules, the files. */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-loader-"));
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(REPO, join(dir, "node_modules", "flytekit-ts"), "dir");
  for (const [name, text] of Object.entries(files)) write(dir, name, text);
  return dir;
}

function write(dir: string, name: string, text: string): void {
  mkdirSync(dirname(join(dir, name)), { recursive: true });
  writeFileSync(join(dir, name), text);
}

/** Runs the CLI; `tsx` forces tsx's loader (the reference the compiled files must match). */
function tsflyte(cwd: string, args: string[], opts: { tsx?: boolean; debug?: boolean } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, TSFLYTE_CACHE_DIR: join(cwd, ".scratch-cache") };
  delete env.TSFLYTE_TS_LOADER;
  delete env.TSFLYTE_DEBUG;
  if (opts.tsx) env.TSFLYTE_TS_LOADER = "tsx";
  if (opts.debug) env.TSFLYTE_DEBUG = "1";
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const MAIN = `import { t, task, workflow } from "flytekit-ts";
import { helper } from "./lib.js";
import { where, boom } from "./sub";
import data from "./data.json" with { type: "json" };

const local = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x + data.n);
export const fails = task({ inputs: { x: t.int() }, outputs: t.int() }, () => boom());
export const wf = workflow({ inputs: { x: t.int() } }, ({ x }) => ({ y: local({ x: helper({ x }) }) }));
export const info = task({ inputs: {}, outputs: t.string() }, () =>
  [where, import.meta.url, import.meta.dirname, local.name, local.sourceFile].join(" "),
);
`;
const FILES = {
  "main.ts": MAIN,
  "lib.ts": `import { t, task } from "flytekit-ts";
export const helper = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x * 2);
`,
  "sub/index.ts": `export const where: string = import.meta.url;
export function boom(): never {
  throw new Error("boom from sub");
}
`,
  "data.json": `{ "n": 5 }\n`,
  // everything exported, for packages
  "flow.ts": `import { t, task, workflow } from "flytekit-ts";
import { helper } from "./lib.js";
import { where } from "./sub";
import data from "./data.json" with { type: "json" };
export const add = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x + data.n);
export const flow = workflow({ inputs: { x: t.int() } }, ({ x }) => ({ y: add({ x: helper({ x }) }) }));
export const info = task({ inputs: {}, outputs: t.string() }, () => where);
`,
};

describe("compiled TypeScript modules", () => {
  it("give the same package as tsx, byte for byte, from files in .tsflyte/", () => {
    const dir = project(FILES);
    const a = tsflyte(dir, ["package", "flow.ts", "lib.ts", "--image", "x:1", "-o", "a.tgz", "-q"]);
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    const b = tsflyte(dir, ["package", "flow.ts", "lib.ts", "--image", "x:1", "-o", "b.tgz", "-q"], {
      tsx: true,
    });
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(dir, "a.tgz")).equals(readFileSync(join(dir, "b.tgz")))).toBe(true);
    const cache = join(dir, ".tsflyte");
    expect(readdirSync(join(cache, "modules")).sort()).toEqual(["flow.ts.mjs", "lib.ts.mjs", "sub"]);
    expect(existsSync(join(cache, "modules/sub/index.ts.mjs"))).toBe(true);
    expect(readFileSync(join(cache, ".gitignore"), "utf8")).toMatch(/^\*$/m);
  });

  it("give the same packages as tsx for every example", () => {
    const examples = readdirSync(join(REPO, "examples"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => `examples/${f}`);
    const out = mkdtempSync(join(tmpdir(), "tsflyte-loader-"));
    const images = ["x:1", "trainer=x/trainer:1", "predictor=x/predictor:1"].flatMap((i) => ["--image", i]);
    const args = (o: string) => ["package", ...examples, ...images, "-o", join(out, o), "-q"];
    const a = tsflyte(REPO, args("a.tgz"));
    expect(a.code, a.stderr).toBe(0);
    expect(tsflyte(REPO, args("b.tgz"), { tsx: true }).code).toBe(0);
    expect(readFileSync(join(out, "a.tgz")).equals(readFileSync(join(out, "b.tgz")))).toBe(true);
  });

  it("keep import.meta, stack traces and entity source files pointing at the .ts sources", () => {
    const dir = project(FILES);
    const compiled = tsflyte(dir, ["run", "main.ts", "info", "--json"]);
    const viaTsx = tsflyte(dir, ["run", "main.ts", "info", "--json"], { tsx: true });
    expect(compiled.code, compiled.stderr).toBe(0);
    expect(compiled.stdout).toBe(viaTsx.stdout);
    const url = `file://${join(dir, "main.ts")}`;
    expect((JSON.parse(compiled.stdout) as { o0: string }).o0).toMatch(
      new RegExp(
        `^file://${join(dir, "sub/index.ts")} ${url} ${dir} main\\.entity-\\d+ ${join(dir, "main.ts")}$`,
      ),
    );
    const failed = tsflyte(dir, ["run", "main.ts", "fails", "--x", "1"], { debug: true });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(`at boom (${join(dir, "sub/index.ts")}:3:9)`);
    expect(failed.stderr).toContain(`(${join(dir, "main.ts")}:7:`);
    expect(failed.stderr).not.toContain(".tsflyte");
    expect(JSON.parse(tsflyte(dir, ["run", "main.ts", "wf", "--x", "3", "--json"]).stdout)).toEqual({
      y: 11,
    });
  });

  it("are compiled again when a source changes or an import resolves to another file", () => {
    const dir = project({
      "main.ts": `import { t, task } from "flytekit-ts";
import { value } from "./util";
export const show = task({ inputs: {}, outputs: t.string() }, () => value);
`,
      "util.ts": `export const value: string = "A";\n`,
    });
    const show = () => tsflyte(dir, ["run", "main.ts", "show", "--json"]).stdout;
    expect(show()).toContain('"A"');
    write(dir, "util.ts", `export const value: string = "B";\n`);
    expect(show()).toContain('"B"');
    // main.ts is unchanged, but "./util" now means util/index.ts
    rmSync(join(dir, "util.ts"));
    write(dir, "util/index.ts", `export const value: string = "C";\n`);
    expect(show()).toContain('"C"');
  });

  it("leave to tsx what they cannot do exactly (import.meta.resolve)", () => {
    const dir = project({
      "main.ts": `import { t, task } from "flytekit-ts";
const target = import.meta.resolve("./main.ts");
export const where = task({ inputs: {}, outputs: t.string() }, () => target);
`,
    });
    const r = tsflyte(dir, ["run", "main.ts", "where", "--json"], { debug: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/loaded with tsx: .*import\.meta/);
    expect(JSON.parse(r.stdout)).toEqual({ o0: `file://${join(dir, "main.ts")}` });
  });

  it("leave modules to tsx when the cache folder cannot be written (a read-only image)", () => {
    const dir = project({
      "main.ts": `import { t, task } from "flytekit-ts";
export const hi = task({ inputs: {}, outputs: t.string() }, () => "hi");
`,
    });
    writeFileSync(join(dir, ".tsflyte"), "not a folder");
    const r = tsflyte(dir, ["run", "main.ts", "hi", "--json"], { debug: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/loaded with tsx: cannot write .*\.tsflyte/);
    expect(JSON.parse(r.stdout)).toEqual({ o0: "hi" });
  });

  it("refuse a module tsx must load when a module it imports was loaded compiled: MODULE_LOADER_CONFLICT", () => {
    const dir = project({
      "common.ts": `import { t, task } from "flytekit-ts";
export const c = task({ inputs: {}, outputs: t.int() }, () => 1);
`,
      "a.ts": `import { workflow } from "flytekit-ts";
import { c } from "./common.ts";
export const wa = workflow({}, () => ({ o: c({}) }));
`,
      "b.ts": `import { workflow } from "flytekit-ts";
import { c } from "./common.ts";
export const here = import.meta.resolve("./b.ts");
export const wb = workflow({}, () => ({ o: c({}) }));
`,
    });
    const args = ["package", "common.ts", "a.ts", "b.ts", "--image", "x:1", "-o", "p.tgz", "-q", "-f"];
    const r = tsflyte(dir, args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MODULE_LOADER_CONFLICT.*b\.ts.*common\.ts/);
    expect(r.stderr).toContain("TSFLYTE_TS_LOADER=tsx");
    const viaTsx = tsflyte(dir, args, { tsx: true });
    expect(viaTsx.code, viaTsx.stderr).toBe(0);
  });
});

describe("loadModule errors", () => {
  it("MODULE_NOT_FOUND when the file does not exist", async () => {
    await expect(loadModule(join(tmpdir(), "no-such-dir-x", "missing.ts"))).rejects.toMatchObject({
      code: "MODULE_NOT_FOUND",
    });
  });

  it.each([
    ["compiled", false],
    ["tsx", true],
  ])("names the missing package or file, not the module (%s)", (_, tsx) => {
    const dir = project({
      "pkg.ts": `import "no-such-package-xyz";\nexport const x = 1;\n`,
      "rel.ts": `import { y } from "./gone.js";\nexport const x = y;\n`,
    });
    const pkg = tsflyte(dir, ["run", "pkg.ts", "x"], { tsx });
    expect(pkg.code).toBe(1);
    expect(pkg.stderr).toMatch(
      /^error \[MODULE_IMPORT_NOT_FOUND\]: pkg\.ts: pkg\.ts imports no-such-package-xyz /,
    );
    expect(pkg.stderr).not.toContain("cannot find pkg.ts");
    const rel = tsflyte(dir, ["run", "rel.ts", "x"], { tsx });
    expect(rel.code).toBe(1);
    expect(rel.stderr).toMatch(/MODULE_IMPORT_NOT_FOUND\]: rel\.ts: rel\.ts imports \S*gone\.js /);
  });
});
