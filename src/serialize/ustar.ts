/**
 * A small in-memory writer of deterministic `.tar.gz` archives, for packages and fast-registration
 * bundles: the whole archive is built in one buffer and written with one atomic rename, instead
 * of staging every entry as a file and reading it back.
 *
 * ```ts
 * const bytes = tarGzip([{ name: "1_a_1.pb", bytes: spec }, { name: "src/b.js", bytes: code, mode: 0o755 }]);
 * await writeFileAtomic("out.tgz", bytes);
 * ```
 *
 * The bytes depend on nothing but the entries: sorted by name (JavaScript string order), regular
 * files only, mode 0644 unless given, mtime 0, no uid/gid and no user or group names, a gzip
 * header without time and with OS byte 255 ("unknown"). The archive is byte for byte what
 * node-tar 7 writes with `portable: true, mtime: new Date(0)` (the writer this one replaced, so
 * packages and bundle digests did not change): a path of 100 bytes or more goes to ustar's prefix
 * and name fields when it fits them, and a path that does not fit, or is not ASCII, also gets a
 * pax extended header (`path`, `mtime`, `size`). One exception: a name of exactly 100 bytes
 * without `/` fills the name field; node-tar gave it the prefix `.`, so it read back as `./name`.
 */
import { randomBytes } from "node:crypto";
import { chmod, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, posix } from "node:path";
import { constants, gzipSync } from "node:zlib";
import { FlyteUsageError } from "../errors.js";

/** One regular file of an archive. */
export interface TarEntry {
  /** The path inside the archive: relative, `/`-separated, no `.` or `..` segments. */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Permission bits; default 0o644. */
  readonly mode?: number | undefined;
}

const BLOCK = 512;
const NAME_SIZE = 100;
const PREFIX_SIZE = 155;
/** 11 octal digits: the largest size a ustar header holds without base-256 numbers. */
const MAX_SIZE = 0o77777777777;

/** Writes `value` in octal as node-tar does: zero-padded to `size - 2` digits, then space and NUL. */
function octal(buf: Buffer, offset: number, size: number, value: number): void {
  const digits = value.toString(8);
  const text = digits.length === size - 1 ? `${digits}\0` : `${digits.padStart(size - 2, "0")} \0`;
  buf.write(text, offset, size, "latin1");
}

function nameError(name: string, why: string): FlyteUsageError {
  return new FlyteUsageError("TAR_ENTRY_NAME", `archive entry ${JSON.stringify(name)} ${why}`, {
    entity: name,
    fix: "use a relative '/'-separated path without '.' or '..' segments",
  });
}

const bytesOf = (text: string) => Buffer.byteLength(text);

/**
 * Where node-tar puts a path: `[name, prefix, needsPax]`. Under 100 bytes the name field holds
 * it. Otherwise the folders go to the prefix field, handing components to the name field until
 * the prefix fits (the longest prefix that does); a name part still over 100 bytes is truncated
 * to 99 characters and the full path goes to a pax header. (For a longer path without `/` the
 * prefix is `.`, as node-tar writes it; readers use the pax path.)
 */
function splitPath(path: string): [string, string, boolean] {
  if (bytesOf(path) < NAME_SIZE) return [path, "", false];
  let prefix = posix.dirname(path);
  // node-tar writes prefix "." here, which readers turn into "./<path>": the one place we differ.
  if (prefix === "." && bytesOf(path) === NAME_SIZE) return [path, "", false];
  let name = posix.basename(path);
  do {
    if (bytesOf(name) <= NAME_SIZE && bytesOf(prefix) <= PREFIX_SIZE) return [name, prefix, false];
    if (bytesOf(prefix) <= PREFIX_SIZE) return [name.slice(0, NAME_SIZE - 1), prefix, true];
    name = posix.join(posix.basename(prefix), name);
    prefix = posix.dirname(prefix);
  } while (prefix !== ".");
  return [path.slice(0, NAME_SIZE - 1), "", true];
}

/** A pax record `<length> <key>=<value>\n`, where the length counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bytes = bytesOf(body);
  let length = bytes + String(bytes).length;
  if (String(length).length !== String(bytes).length) length = bytes + String(length).length;
  return `${length}${body}`;
}

/** Whether a text field cannot be stored as is (node-tar's test: not ASCII, or too long). */
const needsPax = (text: string, size: number) => text.length !== bytesOf(text) || text.length > size;

/** The fields every header shares (mtime 0, ustar magic, device numbers), and their byte sum. */
const TEMPLATE = (() => {
  const block = Buffer.alloc(BLOCK);
  octal(block, 136, 12, 0); // mtime
  block.write("ustar\u000000", 257, 8, "latin1");
  octal(block, 329, 8, 0); // devmajor
  octal(block, 337, 8, 0); // devminor
  // uid (108), gid (116), uname (265) and gname (297) stay empty, as node-tar leaves them
  let sum = 8 * 0x20; // the checksum field (148-155) counts as spaces
  for (const b of block) sum += b;
  return { block, sum };
})();

function byteSum(block: Buffer, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += block[i]!;
  return sum;
}

/** A ustar header block for `path`, and whether the path needs a pax header to be read whole. */
function header(path: string, mode: number, size: number, type: "0" | "x"): { block: Buffer; pax: boolean } {
  const [name, prefix, truncated] = splitPath(path);
  const block = Buffer.from(TEMPLATE.block);
  block.write(name, 0, NAME_SIZE, "utf8");
  octal(block, 100, 8, mode);
  octal(block, 124, 12, size);
  block.write(type, 156, 1, "latin1");
  block.write(prefix, 345, PREFIX_SIZE, "utf8");
  // Only the fields written above differ from the template.
  const sum =
    TEMPLATE.sum + byteSum(block, 0, 108) + byteSum(block, 124, 136) + block[156]! + byteSum(block, 345, 500);
  octal(block, 148, 8, sum);
  return { block, pax: truncated || needsPax(name, NAME_SIZE) || needsPax(prefix, PREFIX_SIZE) };
}

/** Two zero blocks: the end of an archive, and where padding is cut from. */
const ZEROS = Buffer.alloc(2 * BLOCK);

/** The zeros that fill `length` bytes up to a whole block. */
function padding(length: number): Buffer {
  return ZEROS.subarray(0, (BLOCK - (length % BLOCK)) % BLOCK);
}

function checkName(name: string): void {
  if (name === "" || name.startsWith("/") || name.includes("\\") || name.includes("\0"))
    throw nameError(name, "is not a relative '/'-separated path");
  for (const segment of name.split("/"))
    if (segment === "" || segment === "." || segment === "..")
      throw nameError(name, `has an empty, '.' or '..' segment`);
}

/** The blocks before one entry's data: a pax header first when the header cannot hold its path. */
function entryHeaders(entry: TarEntry): Buffer[] {
  const mode = entry.mode ?? 0o644;
  const size = entry.bytes.byteLength;
  if (size > MAX_SIZE)
    throw new FlyteUsageError("TAR_ENTRY_SIZE", `archive entry ${entry.name} has ${size} bytes`, {
      entity: entry.name,
      fix: "keep archive entries under 8 GiB",
    });
  const main = header(entry.name, mode, size, "0");
  if (!main.pax) return [main.block];
  // The records node-tar writes in portable mode: path, mtime and size.
  const body = Buffer.from(
    paxRecord("path", entry.name) + paxRecord("mtime", "0") + paxRecord("size", String(size)),
    "utf8",
  );
  const paxName = `PaxHeader/${posix.basename(entry.name)}`.slice(0, NAME_SIZE - 1);
  return [header(paxName, 0o644, body.length, "x").block, body, padding(body.length), main.block];
}

/**
 * The tar archive of `entries`, sorted by name, ending in two zero blocks. Throws
 * `FlyteUsageError` `TAR_ENTRY_NAME` (an absolute, empty or `..` path, or the same name twice)
 * and `TAR_ENTRY_SIZE` (an entry of 8 GiB or more).
 */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts: Buffer[] = [];
  let previous: string | undefined;
  for (const entry of sorted) {
    checkName(entry.name);
    if (entry.name === previous) throw nameError(entry.name, "appears twice");
    previous = entry.name;
    parts.push(...entryHeaders(entry));
    const data = Buffer.from(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength);
    parts.push(data);
    parts.push(padding(data.length));
  }
  parts.push(ZEROS);
  return Buffer.concat(parts);
}

/** Offset of the OS byte in a gzip header (RFC 1952). */
const GZIP_OS = 9;

/** Gzips `bytes` with a portable header: no file name, mtime 0, OS 255 (unknown). */
export function gzipPortable(bytes: Uint8Array): Buffer {
  const out = gzipSync(bytes, { level: constants.Z_DEFAULT_COMPRESSION });
  // zlib writes mtime 0 and no name already; only the OS byte names the platform.
  out[GZIP_OS] = 0xff;
  return out;
}

/** The deterministic `.tar.gz` of `entries` (see the module comment). */
export function tarGzip(entries: readonly TarEntry[]): Buffer {
  return gzipPortable(tarArchive(entries));
}

/**
 * Writes `bytes` to `path` atomically: to a temporary name in the same folder, then renamed, so
 * readers never see a partial file. With `mode` the file gets exactly that mode (whatever the
 * umask); without, the default of a new file. The temporary file is removed if anything fails.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, mode?: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, bytes, mode === undefined ? {} : { mode });
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
