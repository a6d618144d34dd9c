// The SQLite pipeline (examples/sqlite-pipeline.ts) on a real database file, extended with a
// flytekit task that reads the TypeScript task's parquet with pyarrow: in process (flytekit's
// pyflyte-execute on this machine) and in containers, each task in its declared image: the query
// in the SDK's pre-built image that `tsflyte build` makes, the TypeScript task in the project's
// image, the Python task in the flytekit image. Also: bad databases in a container are USER
// error documents with their stable codes, printed by `tsflyte run --containers` (exit 1).
// Skipped, with the reason printed, only when no container engine works or a peer is missing.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entity } from "../../src/core/entity.js";
import { loadModule } from "../../src/core/loader.js";
import type * as Containers from "../../src/local/containers/index.js";
import type { NodeEvent } from "../../src/local/executor.js";
import { containersUnavailable, NODE_BASE, PYTHON_IMAGE, root, run, tsflyte, VENV } from "./helpers.js";

const DIST = pathToFileURL(join(root, "dist/index.js")).href;
// Not under localhost/flytekit-ts-test/: containers.test.ts removes the images there it did not build.
const APP_NAME = "flytekit-ts-sqlite-test/app";

// The example reads its database path when it loads: set it first.
const scratch = mkdtempSync(join(tmpdir(), "tsflyte-sqlite-pipeline-"));
const DB = join(scratch, "music.db");
process.env.SQLITE_PIPELINE_DB = DB;

/** Why these tests cannot run here, or undefined. */
async function unavailable(): Promise<string | undefined> {
  if (!existsSync(join(VENV, "bin/pyflyte-execute"))) return `flytekit is not installed in ${VENV}`;
  return containersUnavailable();
}

const skipReason = await unavailable();
if (skipReason) console.warn(`SQLite pipeline tests skipped: ${skipReason}`);

/** The Python task: reads the TypeScript task's parquet with pyarrow and says where it ran. */
const PY_TASKS = `import os

import pyarrow as pa
from flytekit import task


@task
def read_totals(totals: pa.Table) -> str:
    types = ",".join(f"{f.name}:{f.type}" for f in totals.schema)
    cells = ";".join(f"{r['composer']}={r['tracks']}/{r['minutes']}" for r in totals.to_pylist())
    return f"{types}|{cells}|{os.environ.get('FLYTEKIT_TS_IMAGE_MARKER', 'host')}"
`;

// Rock tracks of at least 200 s, grouped by composer (minutes rounded to 2 places), read by pyarrow.
const EXPECTED_PY =
  "composer:string,tracks:int64,minutes:double|Page, Plant=3/22.09;Radiohead=1/6.38;Mercury=1/5.9";

describe.skipIf(skipReason !== undefined)("SQLite3Task -> TypeScript -> flytekit (pyarrow)", () => {
  let c: typeof Containers;
  let sdkImage: string;
  let appImage: string;
  let wf: Entity;
  let first: { code: number; stdout: string; stderr: string };
  let again: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    c = (await import(DIST)) as typeof Containers;
    const { createExampleDatabase } = await import("../../examples/sqlite-pipeline.js");
    await createExampleDatabase(DB);
    // The project's image and the SDK's pre-built image, from the offline base (cached by content).
    first = await tsflyte([
      "build",
      "examples/sqlite-pipeline.ts",
      "--base",
      NODE_BASE,
      "--name",
      APP_NAME,
      "--env",
      "FLYTEKIT_TS_IMAGE_MARKER=default",
    ]);
    expect(first.code).toBe(0);
    const images = first.stdout.trim().split("\n");
    expect(images.map((l) => l.split("=")[0])).toEqual(["default", "sdk"]);
    appImage = images[0]!.slice("default=".length);
    sdkImage = images[1]!.slice("sdk=".length);
    // Built again at once: nothing to build, unless the SDK changed in between (checked below).
    again = await tsflyte([
      "build",
      "examples/sqlite-pipeline.ts",
      "--base",
      NODE_BASE,
      "--no-default-image",
    ]);
    // The Python task, packaged by flytekit for the Python image.
    const src = join(scratch, "py");
    mkdirSync(join(src, "pyreport"), { recursive: true });
    writeFileSync(join(src, "pyreport/__init__.py"), "");
    writeFileSync(join(src, "pyreport/tasks.py"), PY_TASKS);
    await run(
      join(VENV, "bin/pyflyte"),
      ["--pkgs", "pyreport", "package", "--image", PYTHON_IMAGE, "-o", join(scratch, "py.tgz"), "--force"],
      { cwd: src, env: { ...process.env, PYTHONPATH: src, FLYTECTL_CONFIG: "/dev/null" } },
    );
    await loadModule(join(root, "examples/sqlite-pipeline.ts"), root);
    const { sqliteMixedWorkflow } = await import("./fixtures/sqlite-mixed.js");
    wf = (await sqliteMixedWorkflow(join(scratch, "py.tgz"), src)) as unknown as Entity;
  });

  afterAll(async () => {
    // Keep only this run's project image: older content tags go.
    const listed = await run("podman", ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    const old = listed.stdout
      .split("\n")
      .filter((r) => r.startsWith(`localhost/${APP_NAME}:`) && r !== appImage);
    if (old.length > 0) await run("podman", ["rmi", ...old]).catch(() => undefined);
  });

  it("tsflyte build makes the SDK's image under its default name, with the SDK and no project code", async () => {
    const { sdkDefaultImage } = (await import(DIST)) as { sdkDefaultImage: () => string };
    expect(sdkImage).toBe(sdkDefaultImage());
    const engine = await c.detectEngine();
    const info = await engine.inspectImage(sdkImage);
    expect(info?.labels["org.flytekit-ts.kind"]).toBe("sdk");
    const { stdout } = await run("podman", [
      "run",
      "--rm",
      "--network",
      "none",
      sdkImage,
      "sh",
      "-c",
      "ls /usr/local/bin; ls /usr/local/lib/node_modules/flytekit-ts/node_modules; ls /root | wc -l",
    ]);
    expect(stdout).toMatch(/tsflyte-execute/);
    expect(stdout).toMatch(/node-sqlite3-wasm/);
    expect(stdout.trim().split("\n").pop()).toBe("0");
    // Unchanged: not built again. (When the SDK's sources changed between the two builds, as
    // other work on this checkout may do, the image must be built again instead.)
    const stage = (r: { stderr: string }) => /staged the SDK \((sdk-[0-9a-f]+)\)/.exec(r.stderr)?.[1];
    expect(stage(first)).toBeDefined();
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`sdk=${sdkImage}\n`);
    if (stage(again) === stage(first)) expect(again.stderr).toContain(`○ ${sdkImage} is up to date`);
    else expect(again.stderr).toMatch(/holds other content[\s\S]*built in/);
  });

  it("runs in process: the query in this process, flytekit's pyflyte-execute on this machine", async () => {
    const path = process.env.PATH;
    process.env.PATH = `${join(VENV, "bin")}:${path}`;
    try {
      const local = wf as unknown as { run(v: object, o?: object): Promise<unknown> };
      const out = await local.run({ genre: "Rock", minSeconds: 200 }, { cache: false });
      expect(out).toEqual({ python: `${EXPECTED_PY}|host`, longest: "Kashmir" });
    } finally {
      process.env.PATH = path;
    }
  });

  it("runs in containers, each task in its declared image", async () => {
    const events: NodeEvent[] = [];
    const out = await c.runInContainers(
      wf,
      { genre: "Rock", minSeconds: 200 },
      {
        images: [appImage],
        sourceRoot: root,
        cache: false,
        env: { FLYTEKIT_TS_CHECK_IMAGE: "1" },
        onEvent: (e) => events.push(e),
      },
    );
    // The Python task ran in the flytekit image (its marker), the TypeScript task checked its own.
    expect(out).toEqual({ python: `${EXPECTED_PY}|${PYTHON_IMAGE}`, longest: "Kashmir" });
    expect(events.filter((e) => e.type === "end").map((e) => [e.node, e.image])).toEqual([
      ["n0", sdkImage],
      ["n1", appImage],
      ["n2", PYTHON_IMAGE],
    ]);
  });

  it("tsflyte run --containers prints the outputs; a bad database is a USER error document with its code", async () => {
    const base = ["run", "examples/sqlite-pipeline.ts", "genreReport", "--containers", "--image", appImage];
    const ok = await tsflyte([...base, "--genre", "Jazz", "--json", "--env", "FLYTEKIT_TS_CHECK_IMAGE=1"]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ longest: "So What" });

    const text = join(scratch, "notes.db");
    writeFileSync(text, "not a database\n");
    const notSqlite = await tsflyte([...base, "--genre", "Jazz"], { SQLITE_PIPELINE_DB: text });
    expect(notSqlite.code).toBe(1);
    expect(notSqlite.stderr).toContain(
      `error [USER:SQLITE_DB_NOT_SQLITE]: examples.sqlite-pipeline.genreTracks [${sdkImage}]: ${text} is not an SQLite database`,
    );
    expect(notSqlite.stderr).toContain("Fix: point config.uri at an SQLite 3 database file");
    expect(notSqlite.stderr).not.toContain("trace:");

    const missing = await tsflyte([...base, "--genre", "Jazz"], {
      SQLITE_PIPELINE_DB: join(scratch, "nope.db"),
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error [USER:SQLITE_DB_NOT_FOUND]");
  });
});
