/**
 * Packages: deterministic archives (same input, same bytes), pyflyte's entry names, atomic
 * writes, and the reader on our packages, flytekit's, and Flyte's valid and invalid fixtures.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Command } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { register as registerInspect } from "../../src/cli/commands/inspect.js";
import { register as registerPackage } from "../../src/cli/commands/package.js";
import { register as registerSerialize } from "../../src/cli/commands/serialize.js";
import { type SerializedEntity, serializeEntities } from "../../src/serialize/entities.js";
import {
  entryName,
  indexWidth,
  writePackageArchive,
  writePackageFolder,
} from "../../src/serialize/package.js";
import { readPackage } from "../../src/serialize/package-reader.js";
import { ENTITIES_ROOT, entitiesOf, FLYTE_FIXTURES, FLYTEKIT_FIXTURES, goldensSettings } from "./helpers.js";

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const tmp = () => mkdtempSync(join(tmpdir(), "tsflyte-pkg-test-"));

/** The example module's entities in export-name order, as `tsflyte package` takes them. */
async function exampleEntities() {
  return [...(await entitiesOf("example.ts")).entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, e]) => e);
}

let entities: SerializedEntity[];
beforeAll(async () => {
  entities = await serializeEntities(await exampleEntities(), goldensSettings());
});

describe("entry names", () => {
  it("pad the index as pyflyte does", () => {
    expect([0, 1, 2, 9, 10, 11, 28, 100, 101, 1000, 1001].map(indexWidth)).toEqual([
      0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4,
    ]);
    expect(entryName(3, 28, "wf.x", 2)).toBe("03_wf.x_2.pb");
    expect(entryName(0, 1, "t", 1)).toBe("0_t_1.pb");
  });
});

describe("archives", () => {
  it("are byte-identical for the same entities", async () => {
    const a = join(tmp(), "a.tgz");
    const b = join(tmp(), "sub", "b.tgz");
    await writePackageArchive(entities, a);
    // A second serialization of the same entities, written elsewhere.
    const again = await serializeEntities(await exampleEntities(), goldensSettings());
    await writePackageArchive(again, b);
    expect(sha(a)).toBe(sha(b));
  });

  it("have a portable gzip header and tar entries with mtime 0, uid/gid 0, mode 0644, sorted", async () => {
    const file = join(tmp(), "p.tgz");
    const names = await writePackageArchive(entities, file);
    const gz = readFileSync(file);
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    expect(gz.readUInt32LE(4)).toBe(0); // gzip mtime
    expect(gz[9]).toBe(0xff); // OS: unknown
    const tar = gunzipSync(gz);
    const seen: string[] = [];
    for (let off = 0; off + 512 <= tar.length; ) {
      const h = tar.subarray(off, off + 512);
      if (h.every((x) => x === 0)) break;
      const name = h.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
      const field = (a: number, n: number) =>
        Number.parseInt(
          h
            .subarray(a, a + n)
            .toString("ascii")
            .replace(/\0/g, "")
            .trim() || "0",
          8,
        );
      expect(field(100, 8) & 0o777).toBe(0o644);
      expect(field(108, 8)).toBe(0);
      expect(field(116, 8)).toBe(0);
      expect(field(136, 12)).toBe(0);
      expect(h.subarray(265, 297).toString("utf8").replace(/\0/g, "")).toBe("");
      seen.push(name);
      off += 512 + Math.ceil(field(124, 12) / 512) * 512;
    }
    expect(seen).toEqual(names);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toHaveLength(entities.length);
  });

  it("are written atomically (nothing else is left in the folder)", async () => {
    const dir = tmp();
    await writePackageArchive(entities, join(dir, "pkg.tgz"));
    expect(readdirSync(dir)).toEqual(["pkg.tgz"]);
  });
});

describe("folders", () => {
  it("hold the entries, replacing an earlier package's", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "99_stale.entity_1.pb"), "x");
    writeFileSync(join(dir, "keep.txt"), "x");
    const names = await writePackageFolder(entities, dir);
    expect(readdirSync(dir).sort()).toEqual([...names, "keep.txt"].sort());
    const summary = await readPackage(dir);
    expect(summary.problems.filter((p) => p.code !== "PACKAGE_ENTRY_NAME")).toEqual([]);
    expect(summary.entities).toHaveLength(entities.length);
  });
});

describe("the reader", () => {
  it("lists our packages: kinds, names, task types, images, interfaces, nodes, schedules", async () => {
    const file = join(tmp(), "p.tgz");
    await writePackageArchive(entities, file);
    const s = await readPackage(file);
    expect(s.problems).toEqual([]);
    expect(s.format).toBe("tgz");
    expect(s.entities.map((e) => [e.kind, e.name])).toEqual(
      entities.map((e) => [{ 1: "task", 2: "workflow", 3: "launchPlan" }[e.kind], e.name]),
    );
    const square = s.entities.find((e) => e.name === "example.square");
    expect(square).toMatchObject({
      kind: "task",
      taskType: "typescript-task",
      images: ["ghcr.io/example/other:v2"],
      inputs: { x: "int" },
      outputs: { o0: "int" },
    });
    expect(s.entities.find((e) => e.name === "example.parentWf" && e.kind === "workflow")).toMatchObject({
      nodes: 4,
      subWorkflows: ["example.simpleWf"],
    });
    expect(s.entities.find((e) => e.name === "cron_lp")).toMatchObject({
      workflow: "example.chainWf",
      schedule: 'cron "0 * * * *" (kickoff time -> kickoff)',
    });
    expect(s.entities.find((e) => e.name === "rate_lp")).toMatchObject({ schedule: "every 10 minute" });
  });

  it("lists flytekit's packages, with the fast bundle", async () => {
    const s = await readPackage(join(FLYTEKIT_FIXTURES, "goldens-fast.tgz"));
    expect(s.problems).toEqual([]);
    expect(s.entities).toHaveLength(28);
    expect(s.bundles).toEqual([
      { file: "fastf07138f47c7b793f834656dba7685739.tar.gz", size: expect.any(Number) },
    ]);
    expect(s.entities[0]).toMatchObject({
      kind: "task",
      name: "goldens_wf.example.configured",
      taskType: "python-task",
      images: ["ghcr.io/example/goldens:v1"],
      inputs: { a: "int", b: "str" },
    });
  });

  const ctl = join(FLYTE_FIXTURES, "flytectl/cmd");
  it.each([
    "compile/testdata/valid-package.tgz",
    "compile/testdata/launchplan-in-wf.tgz",
    "register/testdata/failure-node.tgz",
    "register/testdata/flyte-package.tgz",
    "register/testdata/flytesnacks-core.tgz",
    "register/testdata/valid-fast-register.tgz",
    "register/testdata/valid-register.tgz",
    "register/testdata/valid-register.tar",
    "register/testdata/valid-parent-folder-register.tar",
  ])("finds nothing wrong with Flyte's valid %s", async (f) => {
    const s = await readPackage(join(ctl, f));
    expect(s.problems).toEqual([]);
    expect(s.entities.length).toBeGreaterThan(0);
  });

  it.each([
    ["compile/testdata/invalid.tgz", "PACKAGE_CORRUPT"],
    ["register/testdata/invalid.tgz", "PACKAGE_CORRUPT"],
    ["register/testdata/invalid.tar", "PACKAGE_CORRUPT"],
    ["compile/testdata/invalidtask.tgz", "PACKAGE_BAD_PROTOBUF"],
    ["compile/testdata/invalidworkflow.tgz", "PACKAGE_BAD_PROTOBUF"],
    ["compile/testdata/invalidlaunchplan.tgz", "PACKAGE_BAD_PROTOBUF"],
    ["compile/testdata/bad-workflow-package.tgz", "PACKAGE_TYPE_MISMATCH"],
    ["register/testdata/invalid-fast.tgz", "PACKAGE_ENTRY_NAME"],
  ])("reports Flyte's invalid %s as %s", async (f, code) => {
    const s = await readPackage(join(ctl, f));
    expect(s.problems.map((p) => p.code)).toContain(code);
  });

  it("reports a missing path", async () => {
    expect((await readPackage(join(tmp(), "nope.tgz"))).problems.map((p) => p.code)).toEqual([
      "PACKAGE_NOT_FOUND",
    ]);
  });
});

/** Runs a tsflyte command in process; returns stdout, stderr and the exit code. */
async function cli(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command("tsflyte").exitOverride();
  registerPackage(program);
  registerSerialize(program);
  registerInspect(program);
  let out = "";
  let err = "";
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => {
    out += s;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => {
    err += s;
    return true;
  }) as typeof process.stderr.write;
  const before = process.exitCode;
  process.exitCode = 0;
  let code = 0;
  try {
    await program.parseAsync(["node", "tsflyte", ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    err += `error [${(e as { code?: string }).code}]: ${(e as Error).message}\n`;
    code = 1;
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.exitCode = before;
  }
  return { out, err, code };
}

describe("tsflyte package / serialize / inspect", () => {
  const images = [
    "-i",
    "ghcr.io/example/goldens:v1",
    "-i",
    "other=ghcr.io/example/other:v2",
    "--source-root",
    ENTITIES_ROOT,
  ];

  it("package writes the same archive as the library, with progress on stderr", async () => {
    const out = join(tmp(), "flyte-package.tgz");
    const r = await cli(["package", join(ENTITIES_ROOT, "example.ts"), ...images, "-o", out]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`[1/${entities.length}] task example.add`);
    const lib = join(tmp(), "lib.tgz");
    await writePackageArchive(entities, lib);
    expect(sha(out)).toBe(sha(lib));
    const again = await cli(["package", join(ENTITIES_ROOT, "example.ts"), ...images, "-o", out]);
    expect(again.err).toMatch(/OUTPUT_EXISTS/);
  });

  it("serialize writes a folder, inspect lists it and exits 0", async () => {
    const dir = join(tmp(), "pb");
    const r = await cli([
      "serialize",
      join(ENTITIES_ROOT, "example.ts"),
      ...images,
      "-o",
      dir,
      "-q",
      "-p",
      "flytesnacks",
      "-d",
      "development",
      "-v",
      "v1",
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(r.out.trim().split("\n")).toHaveLength(entities.length);
    const i = await cli(["inspect", dir]);
    expect(i.code).toBe(0);
    expect(i.out).toMatch(
      /task example\.square\n\s+type typescript-task; image ghcr\.io\/example\/other:v2\n\s+\(x: int\) -> \(o0: int\)/,
    );
    const j = await cli(["inspect", dir, "--json"]);
    expect(JSON.parse(j.out).entities).toHaveLength(entities.length);
  });

  it("inspect reports an invalid package with its code and exit code 1", async () => {
    const r = await cli(["inspect", join(FLYTE_FIXTURES, "flytectl/cmd/compile/testdata/invalidtask.tgz")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/problem \[PACKAGE_BAD_PROTOBUF\] my_task_1\.pb/);
  });

  it("refuses modules outside the source root", async () => {
    const r = await cli([
      "package",
      join(ENTITIES_ROOT, "example.ts"),
      "--source-root",
      join(ENTITIES_ROOT, "core"),
      "-o",
      join(tmp(), "x.tgz"),
    ]);
    expect(r.err).toMatch(/MODULE_OUTSIDE_SOURCE_ROOT/);
  });
});
