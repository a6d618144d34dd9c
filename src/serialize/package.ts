/**
 * Packages as `pyflyte package` writes them and `flytectl register files` reads them: flat
 * entries `<idx>_<name>_<kind>.pb` (idx zero-padded to the digits the count needs, kind 1
 * TaskSpec, 2 WorkflowSpec, 3 LaunchPlan), dependencies first, as a folder or a `.tgz`.
 *
 * The archive is deterministic: entries sorted, mode 0644, mtime 0, no uid/gid or user names,
 * portable gzip header; the same entities give the same bytes. Files appear atomically (written
 * to a temporary name, then renamed).
 */
import { mkdir, readdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { EntryKind, SerializedEntity } from "./entities.js";
import { tarGzip, writeFileAtomic } from "./ustar.js";

/** A file added to a package besides the entities (e.g. a fast-registration bundle `fast<digest>.tar.gz`). */
export interface ExtraFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** The number of digits pyflyte pads entry indexes to: `ceil(log10(count))` (10 entries: 0-9; 11: 00-10). */
export function indexWidth(count: number): number {
  // Computed as flytekit does (math.log(n, 10)), so widths agree even where floating point rounds.
  return count <= 1 ? 0 : Math.ceil(Math.log(count) / Math.log(10));
}

/** The entry name `<idx>_<name>_<kind>.pb`. */
export function entryName(index: number, count: number, name: string, kind: EntryKind): string {
  return `${String(index).padStart(indexWidth(count), "0")}_${name}_${kind}.pb`;
}

/** The entries of a package in order: file name and bytes. */
export function packageEntries(entities: readonly SerializedEntity[]): { name: string; bytes: Uint8Array }[] {
  return entities.map((e, i) => ({ name: entryName(i, entities.length, e.name, e.kind), bytes: e.bytes }));
}

const ENTRY_RE = /^(\d+_)?.+_[123]\.pb$/;

/**
 * Writes the entities as `.pb` files into `dir` (created if needed). Package entries already in
 * the folder (`*_1.pb`, `*_2.pb`, `*_3.pb`) are removed first, so the folder holds one package.
 * Returns the file names written.
 */
export async function writePackageFolder(
  entities: readonly SerializedEntity[],
  dir: string,
  extra: readonly ExtraFile[] = [],
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  for (const f of await readdir(dir)) if (ENTRY_RE.test(f)) await rm(join(dir, f), { force: true });
  const files = [...packageEntries(entities), ...extra];
  for (const f of files) await writeFileAtomic(join(dir, f.name), f.bytes, 0o644);
  return files.map((f) => f.name);
}

/**
 * Writes the entities (and `extra` files) as a gzipped tar `file` (`flytectl register files`
 * input), built in memory by `tarGzip` (deterministic: sorted, mode 0644, mtime 0, no owners,
 * portable gzip header) and written atomically. Returns the entry names in archive order.
 */
export async function writePackageArchive(
  entities: readonly SerializedEntity[],
  file: string,
  extra: readonly ExtraFile[] = [],
): Promise<string[]> {
  const out = resolve(file);
  await mkdir(dirname(out), { recursive: true });
  const files = [...packageEntries(entities), ...extra];
  await writeFileAtomic(out, tarGzip(files));
  return files.map((f) => f.name).sort();
}
