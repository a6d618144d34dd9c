// tsflyte-fast-execute: the bundle's digest and entries are checked before anything is written,
// placeholders and missing bundles fail clearly (error.pb + exit 1), and the wrapped command
// runs in the destination with its exit code, signals and stdio passed through.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fromBinary } from "@bufbuild/protobuf";
import { Header } from "tar";
import { describe, expect, it } from "vitest";
import type { FlyteError } from "../../src/errors.js";
import { ErrorDocumentSchema } from "../../src/proto/gen/flyteidl/core/errors_pb.js";
import {
  checkBundleEntries,
  fetchBundle,
  outputPrefixOf,
  withDynamicDistribution,
} from "../../src/runtime/fast-execute.js";
import { parseFastExecuteArgs } from "../../src/runtime/fast-execute-cli.js";
import { buildCodeBundle } from "../../src/serialize/bundle.js";

const root = join(import.meta.dirname, "../..");
const bin = join(root, "bin/tsflyte-fast-execute.mjs");

interface Crafted {
  path: string;
  type?: "File" | "Directory" | "SymbolicLink" | "Link" | "CharacterDevice";
  linkpath?: string;
  data?: string;
}

/** A .tar.gz written header by header, so it can hold what no well-behaved tool writes. */
function craft(items: Crafted[]): Buffer {
  const blocks: Buffer[] = [];
  for (const it of items) {
    const data = Buffer.from(it.data ?? "");
    const h = new Header({
      path: it.path,
      type: it.type ?? "File",
      size: it.type && it.type !== "File" ? 0 : data.length,
      mode: 0o644,
      mtime: new Date(0),
      ...(it.linkpath !== undefined ? { linkpath: it.linkpath } : {}),
    });
    const block = Buffer.alloc(512);
    h.encode(block, 0);
    blocks.push(block);
    if (!it.type || it.type === "File") {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** Writes a crafted bundle under its correct name `fast<sha256>.tar.gz`. */
function writeBundle(items: Crafted[]): string {
  const bytes = craft(items);
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-crafted-"));
  const path = join(dir, `fast${createHash("sha256").update(bytes).digest("hex")}.tar.gz`);
  writeFileSync(path, bytes);
  return path;
}

async function fails(p: Promise<unknown>): Promise<FlyteError> {
  try {
    await p;
  } catch (e) {
    return e as FlyteError;
  }
  throw new Error("expected a rejection");
}

function run(
  args: string[],
  opts: {
    env?: Record<string, string>;
    onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void;
  } = {},
) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...opts.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      opts.onStdout?.(stdout, (s) => child.kill(s));
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

async function tinyBundle(): Promise<string> {
  const src = mkdtempSync(join(tmpdir(), "tsflyte-tiny-"));
  writeFileSync(join(src, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(src, "hello.ts"), 'export const hello: string = "hi";\n');
  return (await buildCodeBundle({ sourceRoot: src })).path;
}

describe("bundle safety checks", () => {
  const cases: [string, Crafted[], string][] = [
    [
      "a '..' path",
      [
        { path: "ok.txt", data: "fine" },
        { path: "../x", data: "evil" },
      ],
      '"../x"',
    ],
    [
      "an absolute path",
      [
        { path: "ok.txt", data: "fine" },
        { path: "/etc/x", data: "evil" },
      ],
      '"/etc/x"',
    ],
    [
      "a symlink to /",
      [
        { path: "ok.txt", data: "fine" },
        { path: "root", type: "SymbolicLink", linkpath: "/" },
      ],
      '"root"',
    ],
    ["a symlink climbing out", [{ path: "up", type: "SymbolicLink", linkpath: "../.." }], '"up"'],
    [
      "a symlink that escapes only through another link",
      [
        { path: "a", type: "SymbolicLink", linkpath: "." },
        { path: "a/c", type: "SymbolicLink", linkpath: "../out" },
      ],
      '"a/c"',
    ],
    [
      "a file written through a link to outside",
      [
        { path: "d", type: "SymbolicLink", linkpath: "sub/../.." },
        { path: "d/f.txt", data: "x" },
      ],
      '"d"',
    ],
    [
      "a file written through a link, even one inside",
      [
        { path: "sub/a.txt", data: "a" },
        { path: "alias", type: "SymbolicLink", linkpath: "sub" },
        { path: "alias/b.txt", data: "b" },
      ],
      '"alias/b.txt"',
    ],
    ["a hard link to /etc/passwd", [{ path: "pw", type: "Link", linkpath: "/etc/passwd" }], '"pw"'],
    ["a hard link climbing out", [{ path: "pw", type: "Link", linkpath: "../secret" }], '"pw"'],
    ["a device", [{ path: "tty", type: "CharacterDevice" }], '"tty"'],
  ];
  for (const [what, items, named] of cases) {
    it(`rejects ${what}, naming the entry and writing nothing`, async () => {
      const bundle = writeBundle(items);
      const dest = join(mkdtempSync(join(tmpdir(), "tsflyte-dest-")), "dest");
      const e = await fails(fetchBundle(bundle, dest));
      expect(e.code).toBe("FAST_BUNDLE_UNSAFE");
      expect(e.message).toContain(named);
      expect(existsSync(dest) ? readdirSync(dest) : []).toEqual([]);
    });
  }

  it("accepts links that stay inside, and unpacks them", async () => {
    const bundle = writeBundle([
      { path: "sub/real.txt", data: "real" },
      { path: "alias", type: "SymbolicLink", linkpath: "sub" },
      { path: "up/link", type: "SymbolicLink", linkpath: "../sub/real.txt" },
      { path: "hard.txt", type: "Link", linkpath: "sub/real.txt" },
    ]);
    const dest = mkdtempSync(join(tmpdir(), "tsflyte-dest-ok-"));
    const got = await fetchBundle(bundle, dest);
    expect(readFileSync(join(dest, "hard.txt"), "utf8")).toBe("real");
    expect(readFileSync(join(dest, "alias/real.txt"), "utf8")).toBe("real");
    expect(readFileSync(join(dest, "up/link"), "utf8")).toBe("real");
    expect(got.entries).toContain("alias");
  });

  it("checks entry lists without an archive too", () => {
    expect(() => checkBundleEntries([{ path: "a/../../b", type: "File" }])).toThrow(/'\.\.' path segment/);
    expect(() =>
      checkBundleEntries([
        { path: "./a/b.js", type: "File" },
        { path: "./", type: "Directory" },
      ]),
    ).not.toThrow();
  });

  it("rejects a bundle whose bytes do not match the digest in its name", async () => {
    const good = await tinyBundle();
    const wrongName = join(mkdtempSync(join(tmpdir(), "tsflyte-wrong-")), `fast${"0".repeat(64)}.tar.gz`);
    writeFileSync(wrongName, readFileSync(good));
    const e = await fails(fetchBundle(wrongName, mkdtempSync(join(tmpdir(), "tsflyte-dest-"))));
    expect(e.code).toBe("FAST_BUNDLE_DIGEST");
    expect(e.message).toContain("0".repeat(64));
    const noDigest = join(mkdtempSync(join(tmpdir(), "tsflyte-noname-")), "code.tar.gz");
    writeFileSync(noDigest, readFileSync(good));
    expect((await fails(fetchBundle(noDigest, tmpdir()))).code).toBe("FAST_BUNDLE_NAME");
    const junk = writeBundle([]);
    writeFileSync(junk, "not a tarball");
    const renamed = join(
      mkdtempSync(join(tmpdir(), "tsflyte-junk-")),
      `fast${createHash("sha256").update("not a tarball").digest("hex")}.tar.gz`,
    );
    writeFileSync(renamed, "not a tarball");
    expect((await fails(fetchBundle(renamed, mkdtempSync(join(tmpdir(), "tsflyte-dest-"))))).code).toBe(
      "FAST_BUNDLE_CORRUPT",
    );
  });
});

describe("tsflyte-fast-execute", () => {
  it("parses its arguments and finds --output-prefix in the wrapped command", () => {
    expect(
      parseFastExecuteArgs(["--additional-distribution", "s3://b/f", "--dest-dir=/root", "--", "cmd", "a"]),
    ).toEqual({
      additionalDistribution: "s3://b/f",
      destDir: "/root",
      command: ["cmd", "a"],
    });
    expect(() => parseFastExecuteArgs(["--dest-dir", "x", "--", "cmd"])).toThrow(
      /--additional-distribution is required/,
    );
    expect(() => parseFastExecuteArgs(["--additional-distribution", "u", "--dest-dir", "x"])).toThrow(
      /missing `--`/,
    );
    expect(() => parseFastExecuteArgs(["--bogus", "1", "--", "cmd"])).toThrow(/unknown option --bogus/);
    expect(
      outputPrefixOf([
        "tsflyte-execute",
        "--inputs",
        "i",
        "--output-prefix",
        "s3://b/o",
        "--",
        "task-module",
        "--output-prefix",
      ]),
    ).toBe("s3://b/o");
    expect(outputPrefixOf(["x", "--output-prefix=/o"])).toBe("/o");
    expect(
      withDynamicDistribution(
        ["e", "--inputs", "i", "--resolver", "default", "--", "task-module", "m"],
        "s3://b/f",
        "/root",
      ),
    ).toEqual([
      "e",
      "--inputs",
      "i",
      "--dynamic-addl-distro",
      "s3://b/f",
      "--dynamic-dest-dir",
      "/root",
      "--resolver",
      "default",
      "--",
      "task-module",
      "m",
    ]);
  });

  it("exits 2 on bad arguments", async () => {
    const r = await run(["--dest-dir", "/tmp"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("usage: tsflyte-fast-execute");
  });

  it("fails an unsubstituted {{ .remote_package_path }} with error.pb and exit 1", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "tsflyte-ph-")), "out");
    const r = await run([
      "--additional-distribution",
      "{{ .remote_package_path }}",
      "--dest-dir",
      "/tmp",
      "--",
      "tsflyte-execute",
      "--inputs",
      "x",
      "--output-prefix",
      out,
      "--resolver",
      "default",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the template was never filled in");
    const doc = fromBinary(ErrorDocumentSchema, readFileSync(join(out, "error.pb"))).error!;
    expect(doc.code).toBe("USER:FAST_PLACEHOLDER");
    expect(doc.message).toContain("flytectl register files");
  });

  it("fails a missing bundle with error.pb and exit 1", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "tsflyte-miss-")), "out");
    const missing = join(tmpdir(), `fast${"a".repeat(64)}.tar.gz`);
    const r = await run([
      "--additional-distribution",
      missing,
      "--dest-dir",
      mkdtempSync(join(tmpdir(), "tsflyte-d-")),
      "--",
      "tsflyte-execute",
      "--output-prefix",
      out,
    ]);
    expect(r.code).toBe(1);
    const doc = fromBinary(ErrorDocumentSchema, readFileSync(join(out, "error.pb"))).error!;
    expect(doc.code).toBe("SYSTEM:FAST_BUNDLE_MISSING");
    expect(doc.message).toContain(missing);
  });

  it("runs the command in the destination with FLYTE_SOURCE_ROOT, passing its exit code through", async () => {
    const bundle = await tinyBundle();
    const dest = join(mkdtempSync(join(tmpdir(), "tsflyte-run-")), "dest");
    const r = await run([
      "--additional-distribution",
      bundle,
      "--dest-dir",
      dest,
      "--",
      process.execPath,
      "--input-type=module",
      "-e",
      'const m = await import(process.cwd() + "/hello.js"); console.log(JSON.stringify([process.cwd(), process.env.FLYTE_SOURCE_ROOT, m.hello])); process.exit(7)',
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(7);
    expect(JSON.parse(r.stdout.trim())).toEqual([dest, dest, "hi"]);
    expect(existsSync(join(dest, "node_modules/flytekit-ts/package.json"))).toBe(true); // linked to this SDK
  });

  it("forwards SIGTERM to the command and reports a command killed by a signal as 128+n", async () => {
    const bundle = await tinyBundle();
    const dest = mkdtempSync(join(tmpdir(), "tsflyte-sig-"));
    let sent = false;
    const r = await run(
      [
        "--additional-distribution",
        bundle,
        "--dest-dir",
        dest,
        "--",
        process.execPath,
        "-e",
        'process.on("SIGTERM", () => { console.log("child got SIGTERM"); process.exit(42); }); console.log("ready"); setInterval(() => {}, 1000);',
      ],
      {
        onStdout: (text, kill) => {
          if (!sent && text.includes("ready")) {
            sent = true;
            kill("SIGTERM");
          }
        },
      },
    );
    expect(r.stdout).toContain("child got SIGTERM");
    expect(r.code).toBe(42);
    const killed = await run([
      "--additional-distribution",
      bundle,
      "--dest-dir",
      dest,
      "--",
      process.execPath,
      "-e",
      'process.kill(process.pid, "SIGKILL")',
    ]);
    expect(killed.code).toBe(137);
  });

  it("fails clearly when the command cannot start", async () => {
    const bundle = await tinyBundle();
    const out = join(mkdtempSync(join(tmpdir(), "tsflyte-nocmd-")), "out");
    mkdirSync(out);
    const r = await run([
      "--additional-distribution",
      bundle,
      "--dest-dir",
      mkdtempSync(join(tmpdir(), "tsflyte-d-")),
      "--",
      "no-such-command-xyz",
      "--output-prefix",
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot start "no-such-command-xyz"');
    expect(fromBinary(ErrorDocumentSchema, readFileSync(join(out, "error.pb"))).error!.code).toBe(
      "SYSTEM:FAST_COMMAND_START",
    );
  });
});
