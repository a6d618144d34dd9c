/**
 * The in-memory tar writer behind packages and fast bundles: byte for byte what node-tar wrote
 * before (every kind of name: short, over 100 bytes, nested, not ASCII), long names that GNU tar,
 * Python's tarfile, node-tar and `flytectl compile` all read back, determinism, and the names it
 * refuses.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { create as createTar, Parser } from "tar";
import { describe, expect, it } from "vitest";
import { serializeEntities } from "../../src/serialize/entities.js";
import { writePackageArchive } from "../../src/serialize/package.js";
import { readPackage } from "../../src/serialize/package-reader.js";
import { type TarEntry, tarArchive, tarGzip, writeFileAtomic } from "../../src/serialize/ustar.js";
import { entitiesOf, FLYTECTL, FLYTEKIT_PYTHON, goldensSettings } from "./helpers.js";

const tmp = () => mkdtempSync(join(tmpdir(), "tsflyte-ustar-"));
const bytes = (n: number, seed = 1) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251));

/** What the writer this one replaced did: stage the files, then node-tar, portable, mtime 0. */
async function nodeTar(entries: readonly TarEntry[]): Promise<Buffer> {
  const staging = tmp();
  for (const e of entries) {
    const path = join(staging, e.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, e.bytes);
    chmodSync(path, e.mode ?? 0o644);
  }
  const file = join(tmp(), "out.tgz");
  const names = entries.map((e) => e.name).sort();
  await createTar(
    { gzip: { portable: true }, portable: true, mtime: new Date(0), cwd: staging, file, noDirRecurse: true },
    names,
  );
  return readFileSync(file);
}

/** Entries as node-tar's parser reads them from a .tar.gz. */
function parse(tgz: Buffer): Map<string, { bytes: Buffer; mode: number | undefined; mtime: number }> {
  const out = new Map<string, { bytes: Buffer; mode: number | undefined; mtime: number }>();
  const parser = new Parser({
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on("data", (c: Buffer) => chunks.push(c));
      entry.on("end", () =>
        out.set(entry.path, {
          bytes: Buffer.concat(chunks),
          mode: entry.mode,
          mtime: entry.mtime?.getTime() ?? -1,
        }),
      );
    },
  });
  parser.end(gunzipSync(tgz));
  return out;
}

const HUNDRED = "y".repeat(100);
const LONG_DIR = "a_folder_name_that_is_rather_long/and_another_folder_name_that_is_long_too";
const longEntries: TarEntry[] = [
  // flat and too long for the name field: a pax header
  { name: `0_${"module_component.".repeat(7)}export_name_1.pb`, bytes: bytes(700) },
  // nested, splits into prefix + name (no pax)
  { name: `${LONG_DIR}/${"file_name_".repeat(5)}.js`, bytes: bytes(1300, 2), mode: 0o755 },
  // nested with a last component over 100 bytes: a pax header
  { name: `src/${"x".repeat(120)}.js`, bytes: bytes(10, 3) },
  // exactly 100 bytes, flat
  { name: HUNDRED, bytes: bytes(1, 4) },
  // a prefix over 155 bytes: components move to the name field
  { name: `${"deep_folder_name/".repeat(10)}${"leaf_".repeat(6)}.ts`, bytes: bytes(20, 7) },
  // too long for prefix + name together
  { name: `${"q".repeat(90)}/${"r".repeat(90)}/${"s".repeat(90)}/t.js`, bytes: bytes(20, 8) },
  // multi-byte characters under and over the limit
  { name: "données/é.txt", bytes: bytes(5, 5) },
  { name: `${"ü".repeat(60)}.txt`, bytes: bytes(5, 6) },
];

describe("tarGzip", () => {
  it("writes what node-tar wrote, byte for byte, for short, long, nested and non-ASCII names", async () => {
    const entries: TarEntry[] = [
      { name: "2_wf.pipeline_2.pb", bytes: bytes(511) },
      { name: "0_wf.t_1.pb", bytes: bytes(512) },
      { name: "1_wf.u_1.pb", bytes: bytes(513) },
      { name: "empty.txt", bytes: Buffer.alloc(0) },
      { name: "bin/run.sh", bytes: bytes(40), mode: 0o755 },
      { name: "lib/deep/er/module.js", bytes: bytes(9000) },
      { name: `${"z".repeat(99)}`, bytes: bytes(3) },
      ...longEntries,
    ];
    // node-tar gives a 100-byte name without "/" the prefix "." (it reads back as "./y..."): below
    const same = entries.filter((e) => e.name !== HUNDRED);
    const ours = tarGzip(same);
    const theirs = await nodeTar(same);
    expect(gunzipSync(ours).equals(gunzipSync(theirs))).toBe(true);
    expect(ours.equals(theirs)).toBe(true);
    // gzip header: no name, mtime 0, OS 255
    expect([...ours.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  });

  it("keeps a 100-byte name without '/' whole, where node-tar's reads back as ./name", async () => {
    const entry = { name: HUNDRED, bytes: bytes(7) };
    expect([...parse(tarGzip([entry])).keys()]).toEqual([HUNDRED]);
    expect([...parse(await nodeTar([entry])).keys()]).toEqual([`./${HUNDRED}`]);
  });

  it("is the same for the same entries in any order, and twice", () => {
    const a = tarGzip(longEntries);
    const b = tarGzip([...longEntries].reverse());
    expect(a.equals(b)).toBe(true);
    expect(tarGzip(longEntries).equals(a)).toBe(true);
  });

  it("writes long names that node-tar reads back with contents, modes and mtime 0", () => {
    const read = parse(tarGzip(longEntries));
    expect([...read.keys()].sort()).toEqual(longEntries.map((e) => e.name).sort());
    for (const e of longEntries) {
      const r = read.get(e.name)!;
      expect(r.bytes.equals(Buffer.from(e.bytes))).toBe(true);
      expect(r.mode).toBe(e.mode ?? 0o644);
      expect(r.mtime).toBe(0);
    }
  });

  it.skipIf(spawnSync("tar", ["--version"]).status !== 0)(
    "writes long names GNU tar lists and extracts",
    () => {
      const dir = tmp();
      const file = join(dir, "long.tgz");
      writeFileSync(file, tarGzip(longEntries));
      const list = spawnSync("tar", ["-tzf", file], { encoding: "utf8" });
      expect(list.status, list.stderr).toBe(0);
      expect(list.stdout.trim().split("\n").sort()).toEqual(longEntries.map((e) => e.name).sort());
      const out = join(dir, "x");
      mkdirSync(out);
      const x = spawnSync("tar", ["-xzf", file, "-C", out], { encoding: "utf8" });
      expect(x.status, x.stderr).toBe(0);
      for (const e of longEntries) {
        expect(readFileSync(join(out, e.name)).equals(Buffer.from(e.bytes))).toBe(true);
        expect(statSync(join(out, e.name)).mode & 0o777).toBe(e.mode ?? 0o644);
      }
    },
  );

  it.skipIf(!FLYTEKIT_PYTHON)("writes long names Python's tarfile reads (flytekit's side)", () => {
    const file = join(tmp(), "long.tgz");
    writeFileSync(file, tarGzip(longEntries));
    const script = [
      "import json, sys, tarfile",
      "t = tarfile.open(sys.argv[1])",
      "print(json.dumps({m.name: [m.size, m.mode, m.mtime, m.uid, m.gid] for m in t.getmembers()}))",
    ].join("\n");
    const r = spawnSync(FLYTEKIT_PYTHON as string, ["-c", script, file], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const members = JSON.parse(r.stdout) as Record<string, number[]>;
    expect(members).toEqual(
      Object.fromEntries(longEntries.map((e) => [e.name, [e.bytes.length, e.mode ?? 0o644, 0, 0, 0]])),
    );
  });

  it("pads to 512-byte blocks and ends with two zero blocks", () => {
    const tar = tarArchive([{ name: "a", bytes: bytes(1) }]);
    expect(tar.length).toBe(512 * 4); // header, one data block, two zero blocks
    expect(tar.subarray(1024).every((b) => b === 0)).toBe(true);
  });

  it.each([
    ["", "empty"],
    ["/etc/passwd", "absolute"],
    ["a/../b", "dot-dot"],
    ["a//b", "empty segment"],
    ["./a", "dot"],
    ["a\\b", "backslash"],
  ])("refuses the name %j (%s) with TAR_ENTRY_NAME", (name) => {
    expect(() => tarArchive([{ name, bytes: bytes(1) }])).toThrow(
      expect.objectContaining({ code: "TAR_ENTRY_NAME" }),
    );
  });

  it("refuses the same name twice", () => {
    expect(() =>
      tarArchive([
        { name: "a.pb", bytes: bytes(1) },
        { name: "a.pb", bytes: bytes(2) },
      ]),
    ).toThrow(expect.objectContaining({ code: "TAR_ENTRY_NAME" }));
  });
});

describe("writeFileAtomic", () => {
  it("writes the file with the mode asked for and leaves no temporary file", async () => {
    const dir = tmp();
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(join(dir, "a.pb"), bytes(10), 0o644);
    } finally {
      process.umask(old);
    }
    expect(readdirSync(dir)).toEqual(["a.pb"]);
    expect(statSync(join(dir, "a.pb")).mode & 0o777).toBe(0o644);
  });

  it("removes the temporary file when the rename fails", async () => {
    const dir = tmp();
    mkdirSync(join(dir, "taken"));
    writeFileSync(join(dir, "taken", "x"), "");
    await expect(writeFileAtomic(join(dir, "taken"), bytes(10))).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(["taken"]);
  });
});

describe("packages with long entry names", () => {
  /** The test entities renamed so every entry name is over 100 bytes (pax headers). */
  async function longPackage(): Promise<{ file: string; names: string[] }> {
    const entities = await serializeEntities((await entitiesOf("example.ts")).values(), goldensSettings());
    const renamed = entities.map((e) => ({ ...e, name: `${e.name}.${"long_name_component".repeat(5)}` }));
    const file = join(tmp(), "long.tgz");
    const names = await writePackageArchive(renamed, file);
    expect(names.every((n) => Buffer.byteLength(n) > 100)).toBe(true);
    return { file, names };
  }

  it("are read back whole by our package reader", async () => {
    const { file, names } = await longPackage();
    const pkg = await readPackage(file);
    expect(pkg.entities.map((e) => e.file).sort()).toEqual([...names].sort());
    expect(pkg.problems).toEqual([]);
  });

  it.skipIf(!FLYTECTL)("are accepted by flytectl compile", async () => {
    const { file, names } = await longPackage();
    const r = spawnSync(FLYTECTL as string, ["compile", "--file", file], {
      cwd: tmp(),
      encoding: "utf8",
      env: { ...process.env, HOME: tmp() },
      timeout: 120_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    // flytectl counts what it read: every entry, none dropped for its name
    const tasks = names.filter((n) => n.endsWith("_1.pb")).length;
    expect(r.stdout).toMatch(new RegExp(`${tasks}\\s+Tasks? found in package`, "i"));
  });
});
