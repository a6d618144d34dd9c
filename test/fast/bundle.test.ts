// Fast registration's code bundle: what goes in, the compiled layout (task-module paths resolve
// inside it), and determinism (same tree, anywhere, any timestamps => same bytes).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { list as listTar } from "tar";
import { describe, expect, it } from "vitest";
import type { FlyteError } from "../../src/errors.js";
import {
  buildCodeBundle,
  bundlePathOf,
  digestOfBundleName,
  parseExcludePatterns,
} from "../../src/serialize/bundle.js";

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-bundle-src-"));
  const files: Record<string, string> = {
    "package.json": JSON.stringify({ name: "demo", type: "module" }),
    "tsconfig.json":
      '{ // comments are fine\n "compilerOptions": { "target": "ES2022", "strict": true, }\n}\n',
    "workflows/hello.ts": [
      'import { greet } from "../lib/greet";',
      'import { Counter } from "../lib/counter.ts";',
      'import * as idx from "../lib";',
      'import data from "../data/config.json" with { type: "json" };',
      "export const t3 = (n: number): number => n * 3;",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: user source code, written to a file
      "export const result = `${greet(data.name)} ${new Counter().inc().value} ${idx.marker} ${Counter.name}`;",
      'export const later = () => import("../lib/greet.ts");',
    ].join("\n"),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: user source code, written to a file
    "lib/greet.ts": "export function greet(name: string): string { return `hello ${name}`; }\n",
    "lib/counter.ts": "export class Counter { value = 0; inc(): this { this.value++; return this; } }\n",
    "lib/index.ts": 'export const marker: string = "idx";\n',
    "lib/plain.mjs": "export const plain = 1;\n",
    "lib/legacy.cts": "module.exports = { legacy: true as boolean };\n",
    "data/config.json": '{ "name": "flyte" }\n',
    "data/query.sql": "select 1;\n",
    "scripts/run.sh": "#!/bin/sh\necho hi\n",
    // left out by default
    "node_modules/dep/index.js": "export {};\n",
    ".env": "SECRET=1\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    "dist/old.js": "export {};\n",
    "lib/greet.test.ts": "export {};\n",
    "lib/types.d.ts": "export type X = 1;\n",
    "old-package.tgz": "not really\n",
    "package-lock.json": "{}\n",
    // left out by .flyteignore
    ".flyteignore": "# local notes\nnotes/\n/data/*.csv\n",
    "notes/todo.md": "- todo\n",
    "data/big.csv": "a,b\n",
    // a deep path (> 100 characters: a PAX header in the tar)
    [`deep/${"d".repeat(60)}/${"e".repeat(60)}/leaf.ts`]: "export const leaf = 1;\n",
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  chmodSync(join(dir, "scripts/run.sh"), 0o755);
  symlinkSync("/etc/hostname", join(dir, "lib/link-out.txt"));
  return dir;
}

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

async function entries(
  file: string,
): Promise<{ path: string; mode: number; mtime: number; uid: number; type: string }[]> {
  const out: { path: string; mode: number; mtime: number; uid: number; type: string }[] = [];
  await listTar({
    file,
    onReadEntry: (e) =>
      out.push({
        path: e.path,
        mode: e.mode ?? -1,
        mtime: e.mtime?.getTime() ?? -1,
        uid: e.uid ?? 0,
        type: e.type,
      }),
  });
  return out;
}

describe("buildCodeBundle", () => {
  it("compiles the sources, keeps the layout and leaves out what should not ship", async () => {
    const src = project();
    const b = await buildCodeBundle({
      sourceRoot: src,
      outDir: join(src, "..", `${src.split("/").pop()}-out`),
    });
    expect(b.name).toBe(`fast${b.digest}.tar.gz`);
    expect(digestOfBundleName(b.name)).toBe(b.digest);
    expect(b.digest).toBe(sha(b.path));
    expect(b.files).toEqual([
      "data/config.json",
      "data/query.sql",
      `deep/${"d".repeat(60)}/${"e".repeat(60)}/leaf.js`,
      "lib/counter.js",
      "lib/greet.js",
      "lib/index.js",
      "lib/legacy.cjs",
      "lib/plain.mjs",
      "package.json",
      "scripts/run.sh",
      "tsconfig.json",
      "workflows/hello.js",
    ]);
    expect(b.skippedLinks).toEqual(["lib/link-out.txt"]);
    const listed = await entries(b.path);
    expect(listed.map((e) => e.path)).toEqual(b.files); // sorted, no directory entries
    for (const e of listed) {
      expect(e.type).toBe("File");
      expect(e.mtime).toBe(0);
      expect(e.uid).toBe(0); // portable: no owner at all (readers take 0)
      expect(e.mode).toBe(e.path === "scripts/run.sh" ? 0o755 : 0o644);
    }
  });

  it("rewrites relative imports so the compiled task module runs under plain Node", async () => {
    const src = project();
    const b = await buildCodeBundle({ sourceRoot: src });
    const out = mkdtempSync(join(tmpdir(), "tsflyte-bundle-x-"));
    execFileSync("tar", ["xzf", b.path, "-C", out]);
    const hello = readFileSync(join(out, "workflows/hello.js"), "utf8");
    expect(hello).toContain('from "../lib/greet.js"');
    expect(hello).toContain('from "../lib/counter.js"');
    expect(hello).toContain('from "../lib/index.js"');
    expect(hello).toContain('with { type: "json" }');
    expect(hello).toContain('import("../lib/greet.js")');
    // plain node, no TypeScript loader: the layout and the rewritten specifiers resolve
    const result = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const m = await import("./workflows/hello.js"); console.log(m.result, m.t3.name, (await m.later()).greet("x"))',
      ],
      {
        cwd: out,
        encoding: "utf8",
      },
    );
    expect(result.trim()).toBe("hello flyte 1 idx Counter t3 hello x");
  });

  it("is byte-identical for the same tree, wherever it is and whatever its timestamps", async () => {
    const src = project();
    const a = await buildCodeBundle({ sourceRoot: src });
    const again = await buildCodeBundle({ sourceRoot: src });
    expect(again.digest).toBe(a.digest);
    const copy = join(mkdtempSync(join(tmpdir(), "tsflyte-bundle-copy-")), "elsewhere", "project");
    cpSync(src, copy, { recursive: true, verbatimSymlinks: true });
    const past = new Date("2001-02-03T04:05:06Z");
    for (const f of ["workflows/hello.ts", "lib/greet.ts", "data/config.json"])
      utimesSync(join(copy, f), past, past);
    const moved = await buildCodeBundle({ sourceRoot: copy });
    expect(moved.digest).toBe(a.digest);
    expect(readFileSync(moved.path).equals(readFileSync(a.path))).toBe(true);
    writeFileSync(
      join(copy, "lib/greet.ts"),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: user source code, written to a file
      "export function greet(name: string): string { return `hi ${name}`; }\n",
    );
    expect((await buildCodeBundle({ sourceRoot: copy })).digest).not.toBe(a.digest);
  });

  it("writes package.json with the module type of the nearest one above a source root that has none", async () => {
    const top = mkdtempSync(join(tmpdir(), "tsflyte-bundle-pkg-"));
    writeFileSync(join(top, "package.json"), JSON.stringify({ type: "module" }));
    mkdirSync(join(top, "src"));
    writeFileSync(join(top, "src/a.ts"), "export const a = 1;\n");
    const b = await buildCodeBundle({ sourceRoot: join(top, "src") });
    const out = mkdtempSync(join(tmpdir(), "tsflyte-bundle-pkgx-"));
    execFileSync("tar", ["xzf", b.path, "-C", out]);
    expect(JSON.parse(readFileSync(join(out, "package.json"), "utf8"))).toEqual({ type: "module" });
  });

  it("reports clashes, syntax errors, bad roots and unsupported patterns by name", async () => {
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return [(e as FlyteError).code, (e as Error).message] as const;
      }
      return ["none", ""] as const;
    };
    const clash = mkdtempSync(join(tmpdir(), "tsflyte-bundle-clash-"));
    writeFileSync(join(clash, "a.ts"), "export const a = 1;\n");
    writeFileSync(join(clash, "a.js"), "export const a = 2;\n");
    const [c1, m1] = await code(buildCodeBundle({ sourceRoot: clash }));
    expect(c1).toBe("BUNDLE_OUTPUT_CLASH");
    expect(m1).toContain("a.js and a.ts would both become a.js");
    const broken = mkdtempSync(join(tmpdir(), "tsflyte-bundle-broken-"));
    writeFileSync(join(broken, "ok.ts"), "export const ok = 1;\n");
    writeFileSync(join(broken, "bad.ts"), "export const x = ;\n");
    const [c2, m2] = await code(buildCodeBundle({ sourceRoot: broken }));
    expect(c2).toBe("BUNDLE_COMPILE");
    expect(m2).toContain("bad.ts:1:");
    expect((await code(buildCodeBundle({ sourceRoot: join(broken, "missing") })))[0]).toBe(
      "BUNDLE_SOURCE_ROOT",
    );
    const empty = mkdtempSync(join(tmpdir(), "tsflyte-bundle-empty-"));
    writeFileSync(join(empty, "readme.md"), "no code\n");
    expect((await code(buildCodeBundle({ sourceRoot: empty })))[0]).toBe("BUNDLE_EMPTY");
    expect(() => parseExcludePatterns(["!keep.ts"])).toThrow(/BUNDLE_IGNORE_PATTERN|not supported/);
  });

  it("maps source extensions to their compiled ones", () => {
    expect(
      ["a.ts", "b/c.tsx", "d.mts", "e.cts", "f.js", "g.jsx", "h.mjs", "i.cjs", "j.json"].map(bundlePathOf),
    ).toEqual(["a.js", "b/c.js", "d.mjs", "e.cjs", "f.js", "g.js", "h.mjs", "i.cjs", "j.json"]);
  });
});
