// Shared helpers of the plugin tests: SQLite databases made with the same engine the executor
// uses (node-sqlite3-wasm), archives (zip written here, tar.gz with node-tar), task contexts,
// template files and a run of the real `tsflyte-execute` bin.
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import sqlite from "node-sqlite3-wasm";
import { create as tarCreate } from "tar";
import type { TaskContext } from "../../src/core/task-context.js";
import { type ErrorDocument, ErrorDocumentSchema } from "../../src/proto/gen/flyteidl/core/errors_pb.js";
import { type LiteralMap, LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { type TaskTemplate, TaskTemplateSchema } from "../../src/proto/gen/flyteidl/core/tasks_pb.js";
import type { TypeContext } from "../../src/types/flyte-type.js";

export const root = join(import.meta.dirname, "../..");

/** A fresh temporary folder. */
export function tempDir(prefix = "tsflyte-plugins-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Creates an SQLite database file running `sql` (several statements allowed). */
export function makeDatabase(path: string, sql: string): string {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const { Database } = sqlite as unknown as {
    Database: new (p: string) => { exec(sql: string): void; close(): void; all(sql: string): unknown[] };
  };
  const db = new Database(path);
  db.exec(sql);
  db.close();
  return path;
}

/** Counts rows of a table (to prove a query did not change the database). */
export function countRows(path: string, table: string): number {
  const { Database } = sqlite as unknown as {
    Database: new (p: string, o?: object) => { all(sql: string): { n: number }[]; close(): void };
  };
  const db = new Database(path, { readOnly: true });
  try {
    return db.all(`select count(*) as n from ${table}`)[0]!.n;
  } finally {
    db.close();
  }
}

/** The people table of most SQLite tests. */
export const PEOPLE_SQL = `
  create table people (id integer primary key, name text not null, score real, joined text, active integer, note text);
  insert into people values (1, 'ann', 1.5, '2024-05-06 07:08:09', 1, null);
  insert into people values (2, 'bob', 2.25, '2023-01-02', 0, 'hi');
  insert into people values (3, 'x''; DROP TABLE people; --', 3.0, '2022-12-31 23:59:59.250', 1, null);
`;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Writes a zip archive (deflate) of the given entries (name -> bytes; a name ending in / is a folder). */
export function writeZip(path: string, entries: Record<string, Uint8Array | string>): string {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const data = Buffer.from(content);
    const isDir = name.endsWith("/");
    const packed = isDir ? Buffer.alloc(0) : deflateRawSync(data);
    const method = isDir ? 0 : 8;
    const nameBuf = Buffer.from(name);
    const crc = isDir ? 0 : crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, packed);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(path, Buffer.concat([...locals, cd, end]));
  return path;
}

/** Writes a tar.gz of files in `dir` (names relative to it). */
export async function writeTarGz(path: string, dir: string, files: string[]): Promise<string> {
  await tarCreate({ gzip: true, file: path, cwd: dir, portable: true }, files);
  return path;
}

/** A task context for calling executeLiterals or an executor directly. */
export function taskContext(dir: string, secrets: Record<string, string> = {}): TaskContext & TypeContext {
  mkdirSync(join(dir, "work"), { recursive: true });
  return {
    taskName: "test",
    execution: { project: "local", domain: "development", name: "test" },
    attempt: 0,
    rawDataPrefix: join(dir, "raw"),
    workDir: join(dir, "work"),
    checkpoint: { read: async () => undefined, write: async () => {} },
    secret: (group, key) => {
      const v = secrets[`${group}/${key ?? ""}`];
      if (v === undefined) throw new Error(`no secret ${group}/${key}`);
      return v;
    },
  };
}

/** Writes a template as `flyteidl.core.TaskTemplate` bytes. */
export function writeTemplate(path: string, template: TaskTemplate): string {
  writeFileSync(path, toBinary(TaskTemplateSchema, template));
  return path;
}

/** Reads a TaskTemplate file. */
export function readTemplate(path: string): TaskTemplate {
  return fromBinary(TaskTemplateSchema, readFileSync(path));
}

/** What a run of the entrypoint left. */
export interface EntrypointRun {
  code: number | null;
  stderr: string;
  files: string[];
  outputs?: LiteralMap;
  error?: ErrorDocument;
  raw: string;
}

/**
 * Runs `bin/tsflyte-execute.mjs` (the built dist) as propeller would:
 * `--inputs ... --resolver template -- <template> <executor location>`.
 */
export function runEntrypoint(
  dir: string,
  inputs: LiteralMap,
  resolverArgs: string[],
  env: Record<string, string> = {},
): Promise<EntrypointRun> {
  mkdirSync(dir, { recursive: true });
  const inputsPath = join(dir, "inputs.pb");
  writeFileSync(inputsPath, toBinary(LiteralMapSchema, inputs));
  const out = join(dir, "out");
  const raw = join(dir, "raw");
  const args = [
    join(root, "bin/tsflyte-execute.mjs"),
    "--inputs",
    inputsPath,
    "--output-prefix",
    out,
    "--raw-output-data-prefix",
    raw,
    "--checkpoint-path",
    join(dir, "ckpt"),
    "--prev-checkpoint",
    '""',
    "--resolver",
    "template",
    "--",
    ...resolverArgs,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...env } });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code) => {
      const files = existsSync(out) ? readdirSync(out).sort() : [];
      const run: EntrypointRun = { code, stderr, files, raw };
      if (files.includes("outputs.pb"))
        run.outputs = fromBinary(LiteralMapSchema, readFileSync(join(out, "outputs.pb")));
      if (files.includes("error.pb"))
        run.error = fromBinary(ErrorDocumentSchema, readFileSync(join(out, "error.pb")));
      resolve(run);
    });
  });
}
