/**
 * One interface over the places Flyte data lives: plain local paths, `file://` URIs and (added by
 * their own modules) remote schemes such as `s3://`. Everything that moves inputs, outputs, files
 * and code bundles goes through it.
 */
import { FlyteStorageError } from "../errors.js";

/** A backend for one or more URI schemes. */
export interface StorageBackend {
  /** Reads a whole object. */
  get(uri: string): Promise<Uint8Array>;
  /** Writes a whole object atomically: readers see the old object or the new one, never a part. */
  put(uri: string, data: Uint8Array): Promise<void>;
  /** Whether an object (or, for a prefix, any object under it) exists. */
  exists(uri: string): Promise<boolean>;
  /** Copies a local file or directory (recursively) to `uri`. */
  upload(localPath: string, uri: string): Promise<void>;
  /** Copies the object or the prefix at `uri` to a local file or directory. */
  download(uri: string, localPath: string): Promise<void>;
  /** Lists object URIs under a prefix. */
  list(prefix: string): Promise<string[]>;
}

const backends = new Map<string, StorageBackend>();

/** Registers the backend that serves a URI scheme (`"s3"`, `"gs"`, ...). */
export function registerStorageBackend(scheme: string, backend: StorageBackend): void {
  backends.set(scheme, backend);
}

/** The scheme of a URI, or `"file"` for plain paths. */
export function schemeOf(uri: string): string {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(uri);
  return m ? m[1]!.toLowerCase() : "file";
}

/** Joins URI or path segments with single slashes. */
export function joinUri(base: string, ...parts: string[]): string {
  let out = base.replace(/\/+$/, "");
  for (const p of parts) out += `/${p.replace(/^\/+|\/+$/g, "")}`;
  return out;
}

/** The storage facade: routes each call to the backend for the URI's scheme. */
export const storage: StorageBackend = {
  get: (uri) => backendFor(uri).get(uri),
  put: (uri, data) => backendFor(uri).put(uri, data),
  exists: (uri) => backendFor(uri).exists(uri),
  upload: (p, uri) => backendFor(uri).upload(p, uri),
  download: (uri, p) => backendFor(uri).download(uri, p),
  list: (prefix) => backendFor(prefix).list(prefix),
};

function backendFor(uri: string): StorageBackend {
  const scheme = schemeOf(uri);
  const b = backends.get(scheme);
  if (!b) {
    throw new FlyteStorageError("STORAGE_UNKNOWN_SCHEME", `no storage backend for scheme "${scheme}"`, {
      entity: uri,
      origin: "USER",
      recoverable: false,
      fix: `use a local path, file://, or a registered scheme (${[...backends.keys()].join(", ")})`,
    });
  }
  return b;
}
