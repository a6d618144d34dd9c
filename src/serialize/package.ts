/**
 * Packages as `pyflyte package` writes them and `flytectl register files` reads them: flat
 * entries `<idx>_<name>_<kind>.pb` (idx zero-padded to the digits the count needs, kind 1
 * TaskSpec, 2 WorkflowSpec, 3 LaunchPlan), dependencies first, as a folder or a `.tgz`.
 *
 * The archive is deterministic: entries sorted, mode 0644, mtime 0, uid/gid 0, no user names,
 * portable gzip header; the same entities give the same bytes. Files appear atomically (written
 * to a temporary name, then renamed).
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { create as createTar } from "tar";
import type { EntryKind, SerializedEntity } from "./entities.js";

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

async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, bytes, { mode: 0o644 });
    await chmod(tmp, 0o644);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
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
  for (const f of files) await writeAtomic(join(dir, f.name), f.bytes);
  return files.map((f) => f.name);
}

/**
 * Writes the entities as a gzipped tar `file` (`flytectl register files` input), deterministically
 * and atomically. Returns the entry names in archive order.
 */
export async function writePackageArchive(
  entities: readonly SerializedEntity[],
  file: string,
  extra: readonly ExtraFile[] = [],
): Promise<string[]> {
  const out = resolve(file);
  await mkdir(dirname(out), { recursive: true });
  const staging = await mkdtemp(join(tmpdir(), "tsflyte-package-"));
  const tmp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const files = [...packageEntries(entities), ...extra];
    for (const f of files) {
      await writeFile(join(staging, f.name), f.bytes);
      await chmod(join(staging, f.name), 0o644);
    }
    const names = files.map((f) => f.name).sort();
    await createTar(
      {
        gzip: { portable: true },
        portable: true,
        mtime: new Date(0),
        cwd: staging,
        file: tmp,
        noDirRecurse: true,
      },
      names,
    );
    await rename(tmp, out);
    return names;
  } finally {
    await rm(tmp, { force: true });
    await rm(staging, { recursive: true, force: true });
  }
}
