/** Local files: plain paths and `file://` URIs. Writes are atomic (temp file + rename). */
import { randomBytes } from "node:crypto";
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { FlyteStorageError } from "../errors.js";
import { registerStorageBackend, type StorageBackend } from "./storage.js";

/** Turns a plain path or `file://` URI into a local path. */
export function localPath(uri: string): string {
  if (uri.startsWith("file://")) return fileURLToPath(uri);
  return uri;
}

/** Writes a file atomically: a temp file beside it, then a rename. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

function wrap(op: string, uri: string, err: unknown): FlyteStorageError {
  const code = (err as NodeJS.ErrnoException).code;
  const missing = code === "ENOENT";
  return new FlyteStorageError(
    missing ? "STORAGE_NOT_FOUND" : "STORAGE_IO",
    `${op} failed: ${String((err as Error).message ?? err)}`,
    {
      entity: uri,
      recoverable: !missing,
      fix: missing ? "check that the path exists and is readable" : "check permissions and free space",
      cause: err,
    },
  );
}

/** The local file system backend. */
export const localStorage: StorageBackend = {
  async get(uri) {
    try {
      return new Uint8Array(await readFile(localPath(uri)));
    } catch (err) {
      throw wrap("read", uri, err);
    }
  },
  async put(uri, data) {
    try {
      await writeFileAtomic(localPath(uri), data);
    } catch (err) {
      throw wrap("write", uri, err);
    }
  },
  async exists(uri) {
    try {
      await stat(localPath(uri));
      return true;
    } catch {
      return false;
    }
  },
  async upload(src, uri) {
    const dest = localPath(uri);
    if (dest === src) return;
    try {
      await mkdir(dirname(dest), { recursive: true });
      await cp(src, dest, { recursive: true });
    } catch (err) {
      throw wrap("upload", uri, err);
    }
  },
  async download(uri, dest) {
    const src = localPath(uri);
    if (dest === src) return;
    try {
      await mkdir(dirname(dest), { recursive: true });
      await cp(src, dest, { recursive: true });
    } catch (err) {
      throw wrap("download", uri, err);
    }
  },
  async list(prefix) {
    const root = localPath(prefix);
    try {
      const files = await walk(root);
      const base = prefix.replace(/\/+$/, "");
      return files.map((f) => `${base}/${relative(root, f)}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw wrap("list", prefix, err);
    }
  },
};

registerStorageBackend("file", localStorage);
