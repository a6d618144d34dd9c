/**
 * The local cache of task outputs: one file per (task, cache version, input hash), holding the
 * outputs LiteralMap. Like Flyte's data catalog, but on disk.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "../proto/gen/flyteidl/core/literals_pb.js";
import { writeFileAtomic } from "../storage/local.js";
import type { LiteralMap } from "../types/literals.js";
import { literalMap } from "../types/literals.js";

/** The default cache folder: `$XDG_CACHE_HOME/flytekit-ts/local-cache` or `~/.cache/...`. */
export function defaultCacheDir(): string {
  return (
    process.env.TSFLYTE_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "flytekit-ts", "local-cache")
  );
}

/** A content hash of inputs: sorted keys, protobuf bytes. */
export function inputsHash(inputs: LiteralMap, ignore: readonly string[] = []): string {
  const keys = Object.keys(inputs.literals)
    .filter((k) => !ignore.includes(k))
    .sort();
  const sorted: Record<string, (typeof inputs.literals)[string]> = {};
  for (const k of keys) sorted[k] = inputs.literals[k]!;
  return createHash("sha256")
    .update(toBinary(LiteralMapSchema, literalMap(sorted)))
    .digest("hex");
}

/** An on-disk cache of task outputs. */
export class LocalCache {
  constructor(readonly dir: string = defaultCacheDir()) {}

  #path(task: string, version: string, key: string): string {
    const safe = task.replace(/[^A-Za-z0-9_.-]/g, "_");
    return join(this.dir, safe, createHash("sha256").update(version).digest("hex").slice(0, 12), `${key}.pb`);
  }

  /** The cached outputs, or undefined. */
  async get(task: string, version: string, key: string): Promise<LiteralMap | undefined> {
    try {
      return fromBinary(LiteralMapSchema, await readFile(this.#path(task, version, key)));
    } catch {
      return undefined;
    }
  }

  /** Stores outputs (atomically). */
  async put(task: string, version: string, key: string, outputs: LiteralMap): Promise<void> {
    await writeFileAtomic(this.#path(task, version, key), toBinary(LiteralMapSchema, outputs));
  }
}
