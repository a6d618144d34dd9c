/**
 * The database of a SQLite3Task: fetched from its `uri` (a local path, `file://`, `http(s)://`,
 * or a storage URI such as `s3://`) into the task's scratch folder, unpacked when `compressed`
 * (`.zip`, `.tar.gz`/`.tgz`, `.tar`, or a gzip'd single file, told apart by their first bytes),
 * checked to be SQLite, opened read-only and queried with node-sqlite3-wasm (WebAssembly SQLite:
 * no native build, works on Node 20, which has no `node:sqlite`).
 *
 * Error origins: a database that is missing, not SQLite or packed wrongly is a USER error (the
 * uri and `compressed` are part of the task the user wrote); a download that fails for another
 * reason (network, HTTP 5xx/429, storage) is a SYSTEM error and recoverable.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { gunzipSync, inflateRawSync } from "node:zlib";
import { FlyteError, FlyteExecutionError } from "../../errors.js";
import { schemeOf, storage } from "../../storage/storage.js";
import type { SqlValue } from "./query.js";

/** The first 16 bytes of every SQLite 3 database file. */
const SQLITE_MAGIC = "SQLite format 3\0";

type FileKind = "sqlite" | "zip" | "gzip" | "tar" | "bzip2" | "xz" | "empty" | "other";

async function fileKind(path: string): Promise<FileKind> {
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead === 0) return "empty";
    if (head.subarray(0, 16).toString("latin1") === SQLITE_MAGIC) return "sqlite";
    if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)) return "zip";
    if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
    if (bytesRead >= 262 && head.subarray(257, 262).toString("latin1") === "ustar") return "tar";
    if (head.subarray(0, 3).toString("latin1") === "BZh") return "bzip2";
    if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
    return "other";
  } finally {
    await fh.close();
  }
}

function userError(code: string, message: string, entity: string, fix: string, cause?: unknown) {
  return new FlyteExecutionError(code, message, {
    entity,
    origin: "USER",
    fix,
    ...(cause === undefined ? {} : { cause }),
  });
}

function downloadError(uri: string, detail: string, entity: string, cause?: unknown) {
  return new FlyteExecutionError("SQLITE_DB_DOWNLOAD", `downloading the database ${uri} failed: ${detail}`, {
    entity,
    origin: "SYSTEM",
    recoverable: true,
    fix: "retry; check that the storage or server is reachable from the task",
    ...(cause === undefined ? {} : { cause }),
  });
}

function notFound(uri: string, detail: string, entity: string, cause?: unknown) {
  return userError(
    "SQLITE_DB_NOT_FOUND",
    `the database ${uri} does not exist (${detail})`,
    entity,
    "fix config.uri: a path inside the image, a file:// URI, an http(s) URL or a storage URI such as s3://bucket/db.sqlite",
    cause,
  );
}

async function download(uri: string, dest: string, entity: string): Promise<void> {
  const scheme = schemeOf(uri);
  if (scheme === "http" || scheme === "https") {
    let res: Response;
    try {
      res = await fetch(uri, { redirect: "follow" });
    } catch (err) {
      throw downloadError(uri, (err as Error).message, entity, err);
    }
    if (!res.ok || !res.body) {
      const detail = `HTTP ${res.status} ${res.statusText}`.trim();
      await res.body?.cancel().catch(() => {});
      if (res.status === 404 || res.status === 410) throw notFound(uri, detail, entity);
      if (res.status >= 500 || res.status === 429) throw downloadError(uri, detail, entity);
      throw userError(
        "SQLITE_DB_DOWNLOAD",
        `downloading the database ${uri} failed: ${detail}`,
        entity,
        "make the URL publicly readable, or store the database in the image or in the task's storage",
      );
    }
    try {
      await pipeline(
        Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>),
        createWriteStream(dest),
      );
    } catch (err) {
      throw downloadError(uri, (err as Error).message, entity, err);
    }
    return;
  }
  if (scheme === "s3") await import("../../storage/s3.js");
  try {
    await storage.download(uri, dest);
  } catch (err) {
    const code = (err as FlyteError).code;
    if (code === "STORAGE_NOT_FOUND") throw notFound(uri, (err as Error).message, entity, err);
    if (code === "STORAGE_UNKNOWN_SCHEME") {
      throw userError(
        "SQLITE_DB_URI",
        `the database uri ${uri} has a scheme no storage backend serves`,
        entity,
        "use a local path, file://, http(s):// or s3://",
        err,
      );
    }
    throw err instanceof FlyteError ? err : downloadError(uri, (err as Error).message, entity, err);
  }
}

/** The single file of a zip archive (stored or deflated entries; directories and `__MACOSX/` ignored). */
function unzipSingle(buf: Buffer, uri: string, entity: string): { name: string; data: Buffer } {
  const bad = (detail: string) =>
    userError(
      "SQLITE_ARCHIVE_INVALID",
      `${uri} is not a zip archive SQLite3Task can read: ${detail}`,
      entity,
      "pack the database alone into a .zip (deflate) or .tar.gz",
    );
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw bad("no end of central directory");
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files: {
    name: string;
    method: number;
    size: number;
    csize: number;
    offset: number;
    flags: number;
  }[] = [];
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw bad("corrupt central directory");
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const offset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString("utf8");
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith("/") || name.startsWith("__MACOSX/")) continue;
    files.push({ name, method, size, csize, offset, flags });
  }
  if (files.length !== 1)
    throw archiveCount(
      files.map((f) => f.name),
      uri,
      entity,
    );
  const f = files[0]!;
  if (f.flags & 1) throw bad(`${f.name} is encrypted`);
  if (f.csize === 0xffffffff || f.size === 0xffffffff || f.offset === 0xffffffff)
    throw bad("zip64 is not supported");
  if (buf.readUInt32LE(f.offset) !== 0x04034b50) throw bad("corrupt local header");
  const start = f.offset + 30 + buf.readUInt16LE(f.offset + 26) + buf.readUInt16LE(f.offset + 28);
  const raw = buf.subarray(start, start + f.csize);
  let data: Buffer;
  if (f.method === 0) data = Buffer.from(raw);
  else if (f.method === 8) {
    try {
      data = inflateRawSync(raw);
    } catch (err) {
      throw bad(`${f.name} does not inflate: ${(err as Error).message}`);
    }
  } else throw bad(`${f.name} uses compression method ${f.method} (only stored and deflate are supported)`);
  if (data.length !== f.size) throw bad(`${f.name} has ${data.length} bytes, the archive says ${f.size}`);
  return { name: basename(f.name), data };
}

function archiveCount(names: string[], uri: string, entity: string) {
  return userError(
    "SQLITE_ARCHIVE_FILE_COUNT",
    `the archive ${uri} must hold exactly one file (the database), but holds ${names.length}${names.length ? `: ${names.slice(0, 5).join(", ")}` : ""}`,
    entity,
    "pack the database alone",
  );
}

/** The single regular file of a tar (optionally gzip'd) archive, streamed into `dir`. */
async function untarSingle(path: string, dir: string, uri: string, entity: string): Promise<string> {
  const { t } = await import("tar");
  const names: string[] = [];
  const writes: Promise<void>[] = [];
  let out = "";
  try {
    await t({
      file: path,
      strict: true,
      onReadEntry: (entry) => {
        if (entry.type !== "File" && entry.type !== "OldFile" && entry.type !== "ContiguousFile") {
          entry.resume();
          return;
        }
        names.push(entry.path);
        if (names.length > 1) {
          entry.resume();
          return;
        }
        out = join(dir, `unpacked-${basename(entry.path) || "database"}`);
        writes.push(pipeline(entry, createWriteStream(out)));
      },
    });
    await Promise.all(writes);
  } catch (err) {
    throw userError(
      "SQLITE_ARCHIVE_INVALID",
      `${uri} is not a valid tar archive: ${(err as Error).message}`,
      entity,
      "pack the database with `tar czf db.tar.gz db.sqlite`, or set compressed: false",
      err,
    );
  }
  if (names.length !== 1) throw archiveCount(names, uri, entity);
  return out;
}

async function unpack(path: string, dir: string, uri: string, entity: string): Promise<string> {
  const kind = await fileKind(path);
  switch (kind) {
    case "zip": {
      const { name, data } = unzipSingle(await readFile(path), uri, entity);
      const out = join(dir, `unpacked-${name || "database"}`);
      await writeFile(out, data);
      return out;
    }
    case "tar":
      return untarSingle(path, dir, uri, entity);
    case "gzip": {
      // A .tar.gz, or one gzip'd file.
      let inner: Buffer;
      try {
        inner = gunzipSync(await readFile(path));
      } catch (err) {
        throw userError(
          "SQLITE_ARCHIVE_INVALID",
          `${uri} is not valid gzip data: ${(err as Error).message}`,
          entity,
          "upload the archive again",
          err,
        );
      }
      if (inner.length >= 262 && inner.subarray(257, 262).toString("latin1") === "ustar") {
        return untarSingle(path, dir, uri, entity);
      }
      const out = join(dir, `unpacked-${basename(path).replace(/\.gz$/i, "") || "database"}`);
      await writeFile(out, inner);
      return out;
    }
    case "sqlite":
      throw userError(
        "SQLITE_ARCHIVE_INVALID",
        `config.compressed is true, but ${uri} is an SQLite database, not an archive`,
        entity,
        "set compressed: false",
      );
    default:
      throw userError(
        "SQLITE_ARCHIVE_INVALID",
        `config.compressed is true, but ${uri} is ${kind === "empty" ? "empty" : kind === "other" ? "not an archive" : `a ${kind} file`} (supported: .zip, .tar.gz/.tgz, .tar, .gz)`,
        entity,
        "pack the database into a .zip or .tar.gz",
      );
  }
}

async function checkSqlite(path: string, uri: string, compressed: boolean, entity: string): Promise<void> {
  const st = await stat(path);
  if (st.isDirectory()) {
    const entries = await readdir(path);
    throw userError(
      "SQLITE_DB_NOT_SQLITE",
      `${uri} is a directory (${entries.length} entries), not an SQLite database`,
      entity,
      "point config.uri at the database file",
    );
  }
  const kind = await fileKind(path);
  if (kind === "sqlite") return;
  const what = compressed ? `the file unpacked from ${uri}` : uri;
  const fix =
    !compressed && (kind === "zip" || kind === "gzip" || kind === "tar")
      ? `it is a ${kind} archive: set compressed: true`
      : "point config.uri at an SQLite 3 database file";
  throw userError(
    "SQLITE_DB_NOT_SQLITE",
    `${what} is not an SQLite database (${kind === "empty" ? "it is empty" : `it does not start with "SQLite format 3"`})`,
    entity,
    fix,
  );
}

/**
 * Fetches the database into a new folder under `workDir`, unpacks it when `compressed`, checks
 * that it is SQLite, and returns its local path.
 */
export async function fetchDatabase(
  uri: string,
  compressed: boolean,
  workDir: string,
  entity: string,
): Promise<string> {
  const dir = join(workDir, `sqlite-${randomBytes(4).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  const name = basename(uri.replace(/[?#].*$/, "")) || "database";
  let path = join(dir, name);
  await download(uri, path, entity);
  if (compressed) path = await unpack(path, dir, uri, entity);
  await checkSqlite(path, uri, compressed, entity);
  return path;
}

interface SqliteDatabase {
  all(sql: string, values?: SqlValue[]): Record<string, SqlValue>[];
  close(): void;
}

interface SqliteModule {
  Database: new (path: string, options?: { readOnly?: boolean; fileMustExist?: boolean }) => SqliteDatabase;
}

let engine: Promise<SqliteModule> | undefined;

/** node-sqlite3-wasm, loaded on first use (compiling the WebAssembly takes a few hundred ms). */
export function sqliteEngine(): Promise<SqliteModule> {
  engine ??= import("node-sqlite3-wasm").then((m) => {
    const mod = m as unknown as { default?: SqliteModule } & Partial<SqliteModule>;
    return (mod.default ?? mod) as SqliteModule;
  });
  return engine;
}

/** Runs one query on a database file opened read-only; returns rows as objects keyed by column name. */
export async function runQuery(
  path: string,
  sql: string,
  params: SqlValue[],
  entity: string,
): Promise<Record<string, SqlValue>[]> {
  const { Database } = await sqliteEngine();
  let db: SqliteDatabase;
  try {
    db = new Database(path, { readOnly: true });
  } catch (err) {
    throw userError(
      "SQLITE_DB_OPEN",
      `cannot open the database: ${(err as Error).message}`,
      entity,
      "check that config.uri is an SQLite 3 database",
      err,
    );
  }
  try {
    return db.all(sql, params);
  } catch (err) {
    const msg = (err as Error).message;
    if (/not a database|malformed/i.test(msg)) {
      throw userError(
        "SQLITE_DB_NOT_SQLITE",
        `the database is not usable: ${msg}`,
        entity,
        "check config.uri",
        err,
      );
    }
    throw userError(
      "SQLITE_QUERY_FAILED",
      `the query failed: ${msg} (SQL: ${sql}; ${params.length} bound parameter${params.length === 1 ? "" : "s"})`,
      entity,
      "fix the query template (placeholders can stand only where a value can)",
      err,
    );
  } finally {
    db.close();
  }
}
