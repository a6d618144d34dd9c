/**
 * Files and directories (Flyte blobs), written the way flytekit writes `FlyteFile` and
 * `FlyteDirectory`: LiteralType `blob {format, dimensionality}` (format "" for a plain file or
 * directory), and a blob literal whose `uri` is where the data lives. A local file is uploaded to
 * `<rawDataPrefix>/<random>/<basename>`; a local directory to `<rawDataPrefix>/<random>/`.
 * Reading a literal is lazy: nothing is downloaded until the value's data is asked for.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve, sep } from "node:path";
import { describeValue } from "../errors.js";
import { joinUri, localPath, schemeOf, storage } from "../storage/index.js";
import { FlyteType, literalKind, registerTransformer, type TypeContext, typeError } from "./flyte-type.js";
import {
  BlobType_BlobDimensionality,
  blobLiteral,
  blobType,
  blobTypeOf,
  type Literal,
  type LiteralType,
} from "./literals.js";

/** A random path segment, like flytekit's `get_random_string()` (32 hex characters). */
export function randomSegment(): string {
  return randomBytes(16).toString("hex");
}

function isRemote(uri: string): boolean {
  return schemeOf(uri) !== "file";
}

/** The last path segment of a path or URI (ignoring a trailing slash). */
function tail(uri: string): string {
  return basename(uri.replace(/\/+$/, "")) || "data";
}

/** Whether a local path lies under a prefix that is local too (a plain path or file://). */
function isUnderLocalPrefix(path: string, prefix: string): boolean {
  if (isRemote(prefix)) return false;
  const root = resolve(localPath(prefix));
  const p = resolve(path);
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

let defaultWorkDir: string | undefined;
function fallbackWorkDir(): string {
  defaultWorkDir ??= join(tmpdir(), `flytekit-ts-${process.pid}-${randomSegment().slice(0, 8)}`);
  return defaultWorkDir;
}

/**
 * Where a file or directory is: local (`path`), remote (`uri`), or both once uploaded or
 * downloaded. The shared half of `FlyteFile` and `FlyteDirectory`.
 */
export abstract class BlobLocation {
  #path: string | undefined;
  #uri: string | undefined;
  readonly #workDir: string | undefined;
  readonly #downloads: string;
  #downloading: Promise<string> | undefined;

  /** `downloads` is the folder under the work dir that `download()` puts remote data in. */
  protected constructor(
    path: string | undefined,
    uri: string | undefined,
    workDir: string | undefined,
    downloads: string,
  ) {
    this.#path = path;
    this.#uri = uri;
    this.#workDir = workDir;
    this.#downloads = downloads;
  }

  /** The local path, when the data is local or has been downloaded. */
  get path(): string | undefined {
    return this.#path;
  }

  /** The remote location, when the data is remote or has been uploaded. */
  get uri(): string | undefined {
    return this.#uri;
  }

  /** Where the data is: its remote URI if it has one, else its local path. */
  get location(): string {
    return (this.#uri ?? this.#path)!;
  }

  /** Where `download()` puts remote data (unset: a temp folder of this process). */
  protected get workDir(): string | undefined {
    return this.#workDir;
  }

  /** Downloads remote data (once) and returns a local path; local data is returned as is. */
  download(): Promise<string> {
    if (this.#path !== undefined) return Promise.resolve(this.#path);
    this.#downloading ??= (async () => {
      const uri = this.#uri!;
      const dest = join(this.#workDir ?? fallbackWorkDir(), this.#downloads, randomSegment(), tail(uri));
      await storage.download(uri, dest);
      this.#path = dest;
      return dest;
    })();
    return this.#downloading;
  }

  /** @internal Records where the data was uploaded. */
  uploadedTo(uri: string): void {
    this.#uri = uri;
  }

  /** The location, for printing. */
  toString(): string {
    return this.location;
  }

  /** The location, for JSON. */
  toJSON(): string {
    return this.location;
  }
}

/**
 * A file: either local (`path`) or remote (`uri`), or both once uploaded or downloaded.
 * `FlyteFile.fromPath("data.csv")` for a local file, `FlyteFile.fromPath("s3://b/k.csv")` for a
 * remote one. Read it with `await f.text()`, `await f.bytes()`, or get a local copy with
 * `await f.download()`.
 */
export class FlyteFile extends BlobLocation {
  private constructor(path: string | undefined, uri: string | undefined, workDir?: string) {
    super(path, uri, workDir, "files");
  }

  /**
   * A file at a local path (relative paths resolve against the current directory), a
   * `file://` URI, or a remote URI such as `s3://bucket/key`.
   */
  static fromPath(path: string): FlyteFile {
    if (typeof path !== "string" || path === "") {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(path)} is not a file path`,
        path,
        "pass a local path or a URI such as s3://bucket/key",
      );
    }
    if (isRemote(path)) return new FlyteFile(undefined, path);
    return new FlyteFile(resolve(localPath(path)), undefined);
  }

  /** A file at a URI (remote or local). `workDir` is where `download()` puts remote files. */
  static fromUri(uri: string, options: { workDir?: string } = {}): FlyteFile {
    if (!isRemote(uri)) return new FlyteFile(resolve(localPath(uri)), undefined, options.workDir);
    return new FlyteFile(undefined, uri, options.workDir);
  }

  /** The file's contents. */
  async bytes(): Promise<Uint8Array> {
    if (this.path === undefined && this.uri !== undefined) return storage.get(this.uri);
    return storage.get(this.path!);
  }

  /** The file's contents as text (UTF-8). */
  async text(): Promise<string> {
    return Buffer.from(await this.bytes()).toString("utf8");
  }
}

async function walk(dir: string, root: string, out: string[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, root, out);
    else out.push(relative(root, p).split(sep).join("/"));
  }
}

/**
 * A directory: local (`path`) or remote (`uri`). `FlyteDirectory.fromPath("out/")`. List it
 * with `await d.list()`, open one file with `d.file("a/b.txt")`, or get a local copy with
 * `await d.download()`.
 */
export class FlyteDirectory extends BlobLocation {
  private constructor(path: string | undefined, uri: string | undefined, workDir?: string) {
    super(path, uri, workDir, "dirs");
  }

  /** A directory at a local path, a `file://` URI, or a remote prefix such as `s3://bucket/dir`. */
  static fromPath(path: string): FlyteDirectory {
    if (typeof path !== "string" || path === "") {
      throw typeError(
        "TYPE_INVALID_VALUE",
        `${describeValue(path)} is not a directory path`,
        path,
        "pass a local directory or a URI such as s3://bucket/prefix",
      );
    }
    if (isRemote(path)) return new FlyteDirectory(undefined, path.replace(/\/+$/, ""));
    return new FlyteDirectory(resolve(localPath(path)), undefined);
  }

  /** A directory at a URI (remote or local). `workDir` is where `download()` puts remote data. */
  static fromUri(uri: string, options: { workDir?: string } = {}): FlyteDirectory {
    if (!isRemote(uri)) return new FlyteDirectory(resolve(localPath(uri)), undefined, options.workDir);
    return new FlyteDirectory(undefined, uri.replace(/\/+$/, ""), options.workDir);
  }

  /** The paths of the files in the directory, relative to it, `/`-separated and sorted. */
  async list(): Promise<string[]> {
    if (this.path !== undefined) {
      const out: string[] = [];
      try {
        await walk(this.path, this.path, out);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw err;
      }
      return out.sort();
    }
    const base = `${this.uri!}/`;
    return (await storage.list(this.uri!)).map((u) => (u.startsWith(base) ? u.slice(base.length) : u)).sort();
  }

  /** One file of the directory, without downloading the rest. */
  file(relativePath: string): FlyteFile {
    const rel = relativePath.replace(/^\/+/, "");
    if (this.path !== undefined) return FlyteFile.fromPath(join(this.path, rel));
    return FlyteFile.fromUri(
      joinUri(this.uri!, rel),
      this.workDir === undefined ? {} : { workDir: this.workDir },
    );
  }
}

function readBlob(literal: Literal, typeName: string): { uri: string; multipart: boolean; format: string } {
  if (literal.value.case === "scalar") {
    const s = literal.value.value.value;
    if (s.case === "blob") {
      const t = s.value.metadata?.type;
      return {
        uri: s.value.uri,
        multipart: t?.dimensionality === BlobType_BlobDimensionality.MULTIPART,
        format: t?.format ?? "",
      };
    }
    if (s.case === "union" && s.value.value) return readBlob(s.value.value, typeName);
  }
  throw typeError(
    "TYPE_LITERAL_MISMATCH",
    `expected a blob literal for ${typeName}, got ${literalKind(literal)}`,
    literal,
    "check that the producer's output type is a file or directory",
  );
}

async function localKind(path: string): Promise<"file" | "dir" | "missing"> {
  try {
    return (await stat(path)).isDirectory() ? "dir" : "file";
  } catch {
    return "missing";
  }
}

/** What `blobToLiteral` says of a file or of a directory. */
const BLOB_KINDS = {
  file: {
    noun: "file",
    other: "directory",
    fix: "declare the type as t.directory() and pass a FlyteDirectory",
  },
  dir: { noun: "directory", other: "file", fix: "declare the type as t.file() and pass a FlyteFile" },
} as const;

/**
 * The blob literal of a file (`multipart` false) or directory: its uri if it has one, the local
 * path itself if it lies under a local raw-data prefix, else after uploading it. As flytekit, a
 * file goes to `<rawDataPrefix>/<random>/<basename>` and a directory's contents to a fresh
 * `<rawDataPrefix>/<random>`, which is the blob's uri.
 */
async function blobToLiteral(
  value: FlyteFile | FlyteDirectory,
  multipart: boolean,
  format: string,
  ctx: TypeContext,
): Promise<Literal> {
  const type = blobTypeOf(format, multipart);
  if (value.uri !== undefined) return blobLiteral(value.uri, type);
  const path = value.path!;
  const want = multipart ? BLOB_KINDS.dir : BLOB_KINDS.file;
  const kind = await localKind(path);
  if (kind === "missing") {
    throw typeError(
      "TYPE_FILE_NOT_FOUND",
      `${want.noun} ${JSON.stringify(path)} does not exist`,
      path,
      `create the ${want.noun} before returning it, or check the path`,
    );
  }
  if (kind !== (multipart ? "dir" : "file")) {
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${JSON.stringify(path)} is a ${want.other}, not a ${want.noun}`,
      path,
      want.fix,
    );
  }
  if (isUnderLocalPrefix(path, ctx.rawDataPrefix)) return blobLiteral(path, type);
  const uri = multipart
    ? joinUri(ctx.rawDataPrefix, randomSegment())
    : joinUri(ctx.rawDataPrefix, randomSegment(), basename(path));
  await storage.upload(path, uri);
  value.uploadedTo(uri);
  return blobLiteral(uri, type);
}

/** A single file (Flyte blob, SINGLE dimensionality) with an optional format such as `csv`. */
export class FileType extends FlyteType<FlyteFile> {
  readonly name: string;
  override readonly io = true;
  constructor(readonly format = "") {
    super();
    this.name = format ? `file(${format})` : "file";
  }
  protected makeLiteralType(): LiteralType {
    return blobType(this.format, false);
  }
  async toLiteral(value: FlyteFile, ctx: TypeContext): Promise<Literal> {
    return blobToLiteral(this.#coerce(value), false, this.format, ctx);
  }
  #coerce(value: unknown): FlyteFile {
    if (value instanceof FlyteFile) return value;
    if (typeof value === "string") return FlyteFile.fromPath(value);
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(value)} is not a FlyteFile`,
      value,
      "pass FlyteFile.fromPath(path) (or a path string)",
    );
  }
  fromLiteral(literal: Literal, ctx: TypeContext): FlyteFile {
    const b = readBlob(literal, this.name);
    if (b.multipart) {
      throw typeError(
        "TYPE_LITERAL_MISMATCH",
        `expected a file but the blob ${JSON.stringify(b.uri)} is a directory (MULTIPART)`,
        literal,
        "declare the input as t.directory()",
      );
    }
    return FlyteFile.fromUri(b.uri, { workDir: ctx.workDir });
  }
  fromJson(json: unknown): FlyteFile {
    if (json instanceof FlyteFile) return json;
    if (typeof json === "string" && json !== "") return FlyteFile.fromPath(json);
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not a file path or URI`,
      json,
      "give a local path or a URI such as s3://bucket/key",
    );
  }
  toJson(value: FlyteFile): unknown {
    return this.#coerce(value).location;
  }
  override parseText(text: string): FlyteFile {
    return this.fromJson(text.trim());
  }
}

/** A directory (Flyte blob, MULTIPART dimensionality) with an optional format. */
export class DirectoryType extends FlyteType<FlyteDirectory> {
  readonly name: string;
  override readonly io = true;
  constructor(readonly format = "") {
    super();
    this.name = format ? `directory(${format})` : "directory";
  }
  protected makeLiteralType(): LiteralType {
    return blobType(this.format, true);
  }
  async toLiteral(value: FlyteDirectory, ctx: TypeContext): Promise<Literal> {
    return blobToLiteral(this.#coerce(value), true, this.format, ctx);
  }
  #coerce(value: unknown): FlyteDirectory {
    if (value instanceof FlyteDirectory) return value;
    if (typeof value === "string") return FlyteDirectory.fromPath(value);
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(value)} is not a FlyteDirectory`,
      value,
      "pass FlyteDirectory.fromPath(path) (or a path string)",
    );
  }
  fromLiteral(literal: Literal, ctx: TypeContext): FlyteDirectory {
    const b = readBlob(literal, this.name);
    if (!b.multipart) {
      throw typeError(
        "TYPE_LITERAL_MISMATCH",
        `expected a directory but the blob ${JSON.stringify(b.uri)} is a single file`,
        literal,
        "declare the input as t.file()",
      );
    }
    return FlyteDirectory.fromUri(b.uri, { workDir: ctx.workDir });
  }
  fromJson(json: unknown): FlyteDirectory {
    if (json instanceof FlyteDirectory) return json;
    if (typeof json === "string" && json !== "") return FlyteDirectory.fromPath(json);
    throw typeError(
      "TYPE_INVALID_VALUE",
      `${describeValue(json)} is not a directory path or URI`,
      json,
      "give a local directory or a URI such as s3://bucket/prefix",
    );
  }
  toJson(value: FlyteDirectory): unknown {
    return this.#coerce(value).location;
  }
  override parseText(text: string): FlyteDirectory {
    return this.fromJson(text.trim());
  }
}

// ---- Python `bytes`: flytekit pickles them into a blob (format PythonPickle) ----

/** The blob format flytekit gives pickled values. */
export const PYTHON_PICKLE_FORMAT = "PythonPickle";
/** The `python_class_name` metadata flytekit writes on the LiteralType of `bytes`. */
export const PYTHON_BYTES_CLASS = "<class 'bytes'>";

/** Pickles a byte string the way Python reads it back as `bytes` (protocol 4, no framing). */
export function pickleBytes(data: Uint8Array): Uint8Array {
  const n = data.length;
  const head = n < 256 ? 2 : n < 2 ** 32 ? 5 : 9;
  const out = new Uint8Array(2 + 1 + (head - 1) + n + 1);
  out[0] = 0x80; // PROTO
  out[1] = 4;
  let o = 2;
  if (n < 256) {
    out[o++] = 0x43; // SHORT_BINBYTES
    out[o++] = n;
  } else if (n < 2 ** 32) {
    out[o++] = 0x42; // BINBYTES
    new DataView(out.buffer).setUint32(o, n, true);
    o += 4;
  } else {
    out[o++] = 0x8e; // BINBYTES8
    new DataView(out.buffer).setBigUint64(o, BigInt(n), true);
    o += 8;
  }
  out.set(data, o);
  out[o + n] = 0x2e; // STOP
  return out;
}

/** Reads a pickle of a Python `bytes` (or `bytearray`) object; anything else is an error. */
export function unpickleBytes(p: Uint8Array, where: string): Uint8Array {
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let o = 0;
  let result: Uint8Array | undefined;
  const fail = (why: string) =>
    typeError(
      "TYPE_PICKLE",
      `${where} is not a pickled bytes object (${why})`,
      where,
      "only Python bytes values can be read as t.bytes(); change the producer's output type",
    );
  while (o < p.length) {
    const op = p[o++]!;
    if (op === 0x80)
      o += 1; // PROTO n
    else if (op === 0x95)
      o += 8; // FRAME len
    else if (op === 0x94) {
      // MEMOIZE
    } else if (op === 0x43 || op === 0x42 || op === 0x8e || op === 0x96) {
      let n: number;
      if (op === 0x43) n = p[o++]!;
      else if (op === 0x42) {
        n = view.getUint32(o, true);
        o += 4;
      } else {
        n = Number(view.getBigUint64(o, true));
        o += 8;
      }
      if (o + n > p.length) throw fail("truncated");
      result = p.slice(o, o + n);
      o += n;
    } else if (op === 0x2e) {
      if (!result) throw fail("no bytes value");
      return result;
    } else throw fail(`opcode 0x${op.toString(16)}`);
  }
  throw fail("no STOP opcode");
}

/** Whether a LiteralType is flytekit's `bytes` (a pickle blob with the bytes class name). */
export function isPythonBytesType(lt: LiteralType): boolean {
  return (
    lt.type.case === "blob" &&
    lt.type.value.format === PYTHON_PICKLE_FORMAT &&
    (lt.metadata as { python_class_name?: unknown } | undefined)?.python_class_name === PYTHON_BYTES_CLASS
  );
}

/** Writes bytes as flytekit writes a Python `bytes` value: pickled, to `<rawDataPrefix>/<random>/<random>`. */
export async function writePickledBytes(data: Uint8Array, ctx: TypeContext): Promise<Literal> {
  const uri = joinUri(ctx.rawDataPrefix, randomSegment(), randomSegment());
  await storage.put(uri, pickleBytes(data));
  return blobLiteral(uri, blobTypeOf(PYTHON_PICKLE_FORMAT, false));
}

/** Reads a pickled-bytes blob literal. */
export async function readPickledBytes(literal: Literal): Promise<Uint8Array> {
  const b = readBlob(literal, "bytes");
  const data = isRemote(b.uri) ? await storage.get(b.uri) : new Uint8Array(await readFile(localPath(b.uri)));
  return unpickleBytes(data, b.uri);
}

registerTransformer((lt) => {
  if (lt.type.case !== "blob" || isPythonBytesType(lt)) return undefined;
  const { format, dimensionality } = lt.type.value;
  return (
    dimensionality === BlobType_BlobDimensionality.MULTIPART
      ? new DirectoryType(format)
      : new FileType(format)
  ) as FlyteType<unknown>;
});
