/**
 * The `s3://` storage backend (AWS S3 and S3-compatible servers: MinIO, moto, Flyte sandboxes),
 * registered for the `s3` scheme when this module is imported:
 *
 * ```ts
 * import "../storage/s3.js"; // registers s3:// (the entrypoints tsflyte-execute and
 *                           // tsflyte-fast-execute import it)
 * await storage.put("s3://my-bucket/a/b.pb", bytes);
 * ```
 *
 * Importing it is cheap: the AWS SDK (`@aws-sdk/client-s3`, `@aws-sdk/lib-storage`) is loaded on
 * the first `s3://` call, so entrypoints that only see local paths never pay for it. Where it
 * connects and with which credentials comes from `s3Settings()` (./config.ts): flytekit's
 * `FLYTE_AWS_*` variables, the Flyte config file's `storage:` section, then the standard AWS ones.
 *
 * Behaviour:
 * - `put` is one PutObject: atomic, readers see the old object or the new one.
 * - `upload` of a local file streams it (multipart above `partSize`, parts uploaded in parallel);
 *   `upload` of a directory uploads every file under `<uri>/<relative path>`.
 * - `get` and `download` stream the body; a connection dropped mid-body is resumed with a
 *   `Range` request (pinned to the object's ETag), up to `maxAttempts` times.
 * - Requests are retried by the AWS SDK's standard strategy (exponential backoff with jitter) on
 *   throttling, 5xx and connection errors.
 * - Errors are `FlyteStorageError`s: `STORAGE_NOT_FOUND` (no such key or prefix; not
 *   recoverable), `STORAGE_S3_NO_BUCKET`, `STORAGE_S3_DENIED` (USER: check credentials),
 *   `STORAGE_S3_UNAVAILABLE` (SYSTEM, recoverable: names the endpoint, bucket and attempts),
 *   `STORAGE_S3_URI`, `STORAGE_IO` (a local file could not be written), `STORAGE_S3_ERROR` (anything
 *   else, with S3's code and HTTP status).
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { GetObjectCommandOutput, S3Client } from "@aws-sdk/client-s3";
import { FlyteStorageError } from "../errors.js";
import type { S3Settings } from "./config.js";
import { registerStorageBackend, type StorageBackend } from "./storage.js";

/** Tuning of an `s3://` backend. */
export interface S3BackendOptions {
  /** Connection settings; default `s3Settings()` (environment and Flyte config file), read on first use. */
  settings?: S3Settings | undefined;
  /** Multipart part size in bytes for `upload` (default 8 MiB; S3's minimum is 5 MiB). */
  partSize?: number | undefined;
  /** Parts or files uploaded at once (default 4). */
  concurrency?: number | undefined;
  /** Milliseconds to wait for a TCP connection (default 10 000). */
  connectTimeoutMs?: number | undefined;
  /** Milliseconds a socket may stay silent before the request fails and is retried (default 60 000). */
  socketTimeoutMs?: number | undefined;
}

/** An `s3://` backend; `close()` releases its connections. */
export interface S3Backend extends StorageBackend {
  /** The settings in use (resolving them on first call when they were not given). */
  settings(): Promise<S3Settings>;
  /** Closes the client's sockets; the backend reconnects if used again. */
  close(): void;
}

/** Where `readBody` writes an object's body. */
interface BodySink {
  readonly stream: NodeJS.WritableStream;
  /** Bytes from the start of the object the sink holds. */
  committed(): Promise<number>;
}

/** A parsed `s3://bucket/key` URI. */
export interface S3Location {
  /** The bucket. */
  readonly bucket: string;
  /** The key (no leading slash); `""` for the bucket itself. */
  readonly key: string;
}

/** Splits `s3://bucket/key` into bucket and key. Throws `STORAGE_S3_URI` for anything else. */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(uri);
  if (!m) {
    throw new FlyteStorageError("STORAGE_S3_URI", "not an s3:// URI with a bucket", {
      entity: uri,
      origin: "USER",
      recoverable: false,
      fix: "write s3://<bucket>/<key>",
    });
  }
  return { bucket: m[1]!, key: (m[2] ?? "").replace(/^\/+/, "") };
}

type Sdk = typeof import("@aws-sdk/client-s3");
type LibStorage = typeof import("@aws-sdk/lib-storage");

let sdkPromise: Promise<[Sdk, LibStorage]> | undefined;
function loadSdk(): Promise<[Sdk, LibStorage]> {
  // The SDK warns on every Node < 22 start that its releases after January 2027 will need
  // Node 22; the pinned version runs on Node 20, so that warning is noise in task logs.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  sdkPromise ??= Promise.all([import("@aws-sdk/client-s3"), import("@aws-sdk/lib-storage")]);
  return sdkPromise;
}

const NOT_FOUND = new Set(["NoSuchKey", "NotFound"]);
const DENIED = new Set([
  "AccessDenied",
  "Forbidden",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "AllAccessDisabled",
  "AccountProblem",
  "CredentialsProviderError",
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
  "UND_ERR_SOCKET",
]);
const TRANSIENT_NAMES = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "ServiceUnavailable",
  "InternalError",
  "BodyIncomplete",
]);

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** The Node.js error code of an error or of one of its causes (AggregateError included). */
function networkCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 5) return undefined;
  const e = err as ErrorShape;
  if (e.code && NETWORK_CODES.has(e.code)) return e.code;
  for (const inner of e.errors ?? []) {
    const c = networkCode(inner, depth + 1);
    if (c) return c;
  }
  return networkCode(e.cause, depth + 1);
}

/** Whether an error is worth another attempt (network, throttling, 5xx). */
export function isTransientS3Error(err: unknown): boolean {
  const e = (err ?? {}) as ErrorShape;
  const status = e.$metadata?.httpStatusCode ?? 0;
  return (
    networkCode(err) !== undefined || TRANSIENT_NAMES.has(e.name ?? "") || status === 429 || status >= 500
  );
}

interface ErrorContext {
  op: string;
  uri: string;
  bucket: string;
  settings: S3Settings;
  attempts?: number | undefined;
}

/** Turns an AWS SDK or network error into the matching `FlyteStorageError`. */
export function s3Error(err: unknown, ctx: ErrorContext): FlyteStorageError {
  if (err instanceof FlyteStorageError) return err;
  const e = (err ?? {}) as ErrorShape;
  const name = e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode;
  const attempts = ctx.attempts ?? e.$metadata?.attempts;
  const endpoint = ctx.settings.endpoint ?? `AWS S3 (${ctx.settings.region})`;
  const detail = `${name}${status ? ` (HTTP ${status})` : ""}: ${e.message ?? String(err)}`;
  if (name === "NoSuchBucket") {
    return new FlyteStorageError(
      "STORAGE_S3_NO_BUCKET",
      `${ctx.op} failed: bucket "${ctx.bucket}" does not exist at ${endpoint}`,
      {
        entity: ctx.uri,
        origin: "USER",
        recoverable: false,
        fix: `create the bucket or correct the URI (endpoint from ${ctx.settings.sources.endpoint})`,
        cause: err,
      },
    );
  }
  if (NOT_FOUND.has(name) || status === 404) {
    return new FlyteStorageError(
      "STORAGE_NOT_FOUND",
      `${ctx.op} failed: no such object in bucket "${ctx.bucket}" at ${endpoint}`,
      {
        entity: ctx.uri,
        recoverable: false,
        fix: "check that the object was written and that the URI is spelled right",
        cause: err,
      },
    );
  }
  if (DENIED.has(name) || status === 403) {
    return new FlyteStorageError(
      "STORAGE_S3_DENIED",
      `${ctx.op} was refused by ${endpoint} for bucket "${ctx.bucket}": ${detail}`,
      {
        entity: ctx.uri,
        origin: "USER",
        recoverable: false,
        fix: `check the credentials (taken from ${ctx.settings.sources.credentials}) and that they may access the bucket`,
        cause: err,
      },
    );
  }
  if (isTransientS3Error(err)) {
    const why = networkCode(err) ?? detail;
    return new FlyteStorageError(
      "STORAGE_S3_UNAVAILABLE",
      `${ctx.op} failed: S3 endpoint ${endpoint} (bucket "${ctx.bucket}") was unavailable${attempts ? ` after ${attempts} attempt${attempts === 1 ? "" : "s"}` : ""}: ${why}`,
      {
        entity: ctx.uri,
        recoverable: true,
        fix: `check that the endpoint (from ${ctx.settings.sources.endpoint}) is reachable; set FLYTE_AWS_ENDPOINT or storage.connection.endpoint to change it`,
        cause: err,
      },
    );
  }
  return new FlyteStorageError("STORAGE_S3_ERROR", `${ctx.op} failed at ${endpoint}: ${detail}`, {
    entity: ctx.uri,
    recoverable: status === undefined || status >= 500,
    fix: "see S3's error code above",
    cause: err,
  });
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(5_000, 100 * 2 ** attempt);
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs tasks with at most `limit` at once; rejects with the first error. */
async function pool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!);
  });
  await Promise.all(workers);
}

async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walkFiles(p)));
    else if (e.isFile()) out.push(p);
    else if (e.isSymbolicLink() && (await stat(p)).isFile()) out.push(p);
  }
  return out.sort();
}

/** The local path for a key under a prefix; refuses keys that would land outside `dest`. */
function localTarget(dest: string, rel: string, uri: string): string {
  const target = resolve(dest, ...rel.split("/").filter((s) => s !== ""));
  const root = resolve(dest);
  if (target !== root && !target.startsWith(root + sep)) {
    throw new FlyteStorageError("STORAGE_S3_UNSAFE_KEY", `the key would be written outside ${dest}`, {
      entity: uri,
      origin: "USER",
      recoverable: false,
      fix: "remove keys with '..' segments from the prefix",
    });
  }
  return target;
}

function tmpBeside(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * Creates an `s3://` backend. The module registers one (`s3Storage`) for the `s3` scheme; make
 * another for a different endpoint or tuning and pass it to `registerStorageBackend`.
 */
export function createS3Backend(options: S3BackendOptions = {}): S3Backend {
  const partSize = Math.max(5 * 1024 * 1024, options.partSize ?? 8 * 1024 * 1024);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  let settingsPromise: Promise<S3Settings> | undefined = options.settings
    ? Promise.resolve(options.settings)
    : undefined;
  let clientPromise: Promise<S3Client> | undefined;

  function settings(): Promise<S3Settings> {
    settingsPromise ??= import("./config.js").then((m) => m.s3Settings());
    return settingsPromise;
  }

  function client(): Promise<S3Client> {
    clientPromise ??= (async () => {
      const [[sdk], s] = await Promise.all([loadSdk(), settings()]);
      return new sdk.S3Client({
        region: s.region,
        ...(s.endpoint ? { endpoint: s.endpoint } : {}),
        forcePathStyle: s.forcePathStyle,
        ...(s.credentials
          ? {
              credentials: {
                accessKeyId: s.credentials.accessKeyId,
                secretAccessKey: s.credentials.secretAccessKey,
                ...(s.credentials.sessionToken ? { sessionToken: s.credentials.sessionToken } : {}),
              },
            }
          : {}),
        maxAttempts: s.maxAttempts,
        retryMode: "standard",
        // Checksums only where S3 requires them: older S3-compatible servers reject the rest.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
        requestHandler: {
          connectionTimeout: options.connectTimeoutMs ?? 10_000,
          requestTimeout: options.socketTimeoutMs ?? 60_000,
        },
      });
    })();
    clientPromise.catch(() => {
      clientPromise = undefined;
    });
    return clientPromise;
  }

  /** Runs one SDK call, mapping its errors. */
  async function call<T>(
    op: string,
    uri: string,
    bucket: string,
    fn: (c: S3Client, sdk: Sdk, lib: LibStorage) => Promise<T>,
  ): Promise<T> {
    let s: S3Settings | undefined;
    try {
      s = await settings();
      const [[sdk, lib], c] = await Promise.all([loadSdk(), client()]);
      return await fn(c, sdk, lib);
    } catch (err) {
      if (!s) throw err;
      throw s3Error(err, { op, uri, bucket, settings: s });
    }
  }

  /**
   * Streams an object's body into a sink, resuming with a Range request after a dropped
   * connection. `open(start)` is called before each attempt with the offset the body starts at
   * (0 for the whole object) and returns the writable to pipe into and `committed()`, the number
   * of bytes from the start of the object the sink really holds (what an attempt that failed
   * half-way left behind).
   */
  async function readBody(
    op: string,
    uri: string,
    open: (start: number) => Promise<BodySink>,
  ): Promise<number> {
    const { bucket, key } = parseS3Uri(uri);
    const s = await settings();
    let offset = 0;
    let etag: string | undefined;
    let total: number | undefined;
    let lastError: unknown;
    for (let attempt = 1; attempt <= s.maxAttempts; attempt++) {
      if (attempt > 1) await backoff(attempt - 1);
      let res: GetObjectCommandOutput;
      const resuming = offset > 0 && etag !== undefined;
      try {
        res = await call(op, uri, bucket, (c, sdk) =>
          c.send(
            new sdk.GetObjectCommand({
              Bucket: bucket,
              Key: key,
              ...(resuming ? { Range: `bytes=${offset}-`, IfMatch: etag } : {}),
            }),
          ),
        );
      } catch (err) {
        const cause = (err as FlyteStorageError).cause as ErrorShape | undefined;
        if (resuming && (cause?.name === "PreconditionFailed" || cause?.$metadata?.httpStatusCode === 412)) {
          // The object changed between attempts: start over.
          offset = 0;
          etag = undefined;
          lastError = err;
          continue;
        }
        throw err;
      }
      if (!(resuming && res.ContentRange !== undefined)) {
        // A whole body (first attempt, or a server that ignored Range): start from 0.
        offset = 0;
        etag = res.ETag;
        total = res.ContentLength;
      }
      const sink = await open(offset);
      try {
        await pipeline(res.Body as NodeJS.ReadableStream, sink.stream);
      } catch (err) {
        offset = await sink.committed();
        const local = err as NodeJS.ErrnoException;
        if (local.syscall !== undefined && local.path !== undefined && networkCode(err) === undefined) {
          throw new FlyteStorageError("STORAGE_IO", `${op} failed writing ${local.path}: ${local.message}`, {
            entity: uri,
            fix: "check permissions and free space",
            cause: err,
          });
        }
        if (!isTransientS3Error(err)) throw s3Error(err, { op, uri, bucket, settings: s });
        lastError = err;
        continue;
      }
      offset = await sink.committed();
      if (total === undefined || offset >= total) return offset;
      lastError = Object.assign(new Error(`the body ended after ${offset} of ${total} bytes`), {
        name: "BodyIncomplete",
      });
    }
    throw s3Error(lastError, { op, uri, bucket, settings: s, attempts: s.maxAttempts });
  }

  async function downloadFile(uri: string, dest: string): Promise<void> {
    await mkdir(dirname(dest), { recursive: true });
    const tmp = tmpBeside(dest);
    try {
      await readBody("download", uri, async (start) => {
        const stream = createWriteStream(tmp, { flags: start > 0 ? "r+" : "w", start });
        const closed = new Promise<void>((r) => stream.once("close", () => r()));
        return {
          stream,
          // What reached the disk: the file's length once the stream has closed.
          committed: async () => {
            await closed;
            return (await stat(tmp).catch(() => ({ size: 0 }))).size;
          },
        };
      });
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async function headExists(uri: string): Promise<boolean> {
    const { bucket, key } = parseS3Uri(uri);
    if (key === "" || key.endsWith("/")) return false;
    try {
      await call("exists", uri, bucket, (c, sdk) =>
        c.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key })),
      );
      return true;
    } catch (err) {
      if ((err as FlyteStorageError).code === "STORAGE_NOT_FOUND") return false;
      throw err;
    }
  }

  async function listKeys(prefixUri: string, limit?: number): Promise<string[]> {
    const { bucket, key } = parseS3Uri(prefixUri);
    const prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await call("list", prefixUri, bucket, (c, sdk) =>
        c.send(
          new sdk.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ...(token ? { ContinuationToken: token } : {}),
            ...(limit ? { MaxKeys: limit } : {}),
          }),
        ),
      );
      for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith("/")) keys.push(o.Key);
      token = page.IsTruncated && !(limit && keys.length >= limit) ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async function uploadFile(path: string, uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    if (key === "" || key.endsWith("/")) {
      throw new FlyteStorageError(
        "STORAGE_S3_URI",
        "a file needs a key, not a bucket or a prefix ending in /",
        {
          entity: uri,
          origin: "USER",
          recoverable: false,
          fix: "write s3://<bucket>/<key>",
        },
      );
    }
    await call("upload", uri, bucket, async (c, _sdk, lib) => {
      const up = new lib.Upload({
        client: c,
        params: { Bucket: bucket, Key: key, Body: createReadStream(path) },
        partSize,
        queueSize: concurrency,
        leavePartsOnError: false,
      });
      await up.done();
    });
  }

  return {
    settings,
    close() {
      const p = clientPromise;
      clientPromise = undefined;
      void p?.then((c) => c.destroy()).catch(() => undefined);
    },

    async get(uri) {
      const chunks: Buffer[] = [];
      let size = 0;
      await readBody("read", uri, async (start) => {
        // Keep the first `start` bytes (all of what arrived when resuming, none when restarting).
        while (size > start) {
          const last = chunks.pop()!;
          size -= last.length;
          if (size < start) {
            chunks.push(last.subarray(0, start - size));
            size = start;
          }
        }
        return {
          stream: new Writable({
            write(chunk: Buffer, _enc, cb) {
              chunks.push(chunk);
              size += chunk.length;
              cb();
            },
          }),
          committed: async () => size,
        };
      });
      const out = Buffer.concat(chunks, size);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    },

    async put(uri, data) {
      const { bucket, key } = parseS3Uri(uri);
      await call("write", uri, bucket, (c, sdk) =>
        c.send(
          new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.byteLength }),
        ),
      );
    },

    async exists(uri) {
      if (await headExists(uri)) return true;
      return (await listKeys(uri, 1)).length > 0;
    },

    async upload(localPath, uri) {
      let info: Awaited<ReturnType<typeof stat>>;
      try {
        info = await stat(localPath);
      } catch (err) {
        throw new FlyteStorageError(
          "STORAGE_NOT_FOUND",
          `upload failed: cannot read ${localPath}: ${(err as Error).message}`,
          {
            entity: localPath,
            recoverable: false,
            fix: "check that the local file or directory exists",
            cause: err,
          },
        );
      }
      if (!info.isDirectory()) return uploadFile(localPath, uri);
      const base = uri.replace(/\/+$/, "");
      const files = await walkFiles(localPath);
      await pool(files, concurrency, (f) =>
        uploadFile(f, `${base}/${relative(localPath, f).split(sep).join("/")}`),
      );
    },

    async download(uri, localPath) {
      if (!uri.endsWith("/") && (await headExists(uri))) return downloadFile(uri, localPath);
      const { bucket, key } = parseS3Uri(uri);
      const keys = await listKeys(uri);
      if (keys.length === 0) {
        const s = await settings();
        throw s3Error(Object.assign(new Error("no object or prefix"), { name: "NotFound" }), {
          op: "download",
          uri,
          bucket,
          settings: s,
        });
      }
      const prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
      await mkdir(localPath, { recursive: true });
      await pool(keys, concurrency, (k) =>
        downloadFile(
          `s3://${bucket}/${k}`,
          localTarget(localPath, k.slice(prefix.length), `s3://${bucket}/${k}`),
        ),
      );
    },

    async list(prefix) {
      const { bucket } = parseS3Uri(prefix);
      return (await listKeys(prefix)).map((k) => `s3://${bucket}/${k}`);
    },
  };
}

/** The backend registered for `s3://`, configured from the environment and the Flyte config file. */
export const s3Storage: S3Backend = createS3Backend();

registerStorageBackend("s3", s3Storage);
