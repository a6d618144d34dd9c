/**
 * Fast registration at run time: `tsflyte-fast-execute` fetches the code bundle the package
 * was registered with, unpacks it, and runs the task command inside it.
 *
 *   tsflyte-fast-execute --additional-distribution s3://b/fast<digest>.tar.gz --dest-dir /root
 *     -- tsflyte-execute --inputs ... --output-prefix ... --resolver default -- task-module m task-name t
 *
 * Steps, each failing with a clear error before anything runs:
 * 1. the bundle URI and destination must be real values, not flytectl's unsubstituted
 *    `{{ .remote_package_path }}` / `{{ .dest_dir }}` (`FAST_PLACEHOLDER`);
 * 2. the bundle is downloaded through storage (`FAST_BUNDLE_MISSING`, `FAST_BUNDLE_UNREADABLE`)
 *    and its sha256 must match the digest in its name `fast<digest>.tar.gz` (`FAST_BUNDLE_NAME`,
 *    `FAST_BUNDLE_DIGEST`);
 * 3. every entry is checked before anything is written (`FAST_BUNDLE_UNSAFE`, naming the entry):
 *    no absolute paths, no `..` segments, no devices or FIFOs, no symbolic or hard links that
 *    resolve outside the destination (links inside the bundle are followed when checking), no
 *    entry written through one of the bundle's symbolic links; so a bad bundle leaves the
 *    destination untouched;
 * 4. it is unpacked into the destination (created if needed); when the destination has no
 *    `node_modules/flytekit-ts`, one is linked to this SDK so `import ... from "flytekit-ts"` in
 *    the user's code loads the very SDK that runs it;
 * 5. the command runs with the destination as working directory and `FLYTE_SOURCE_ROOT`, stdio
 *    inherited, signals forwarded, its exit code returned (128 + n when killed by signal n). As
 *    flytekit does, `--dynamic-addl-distro <uri> --dynamic-dest-dir <dir>` is added before
 *    `--resolver` so dynamic tasks can fast-register the tasks they create.
 *
 * A failure in steps 1-4 (or a command that cannot start) is written as `error.pb` under the
 * wrapped command's `--output-prefix`, when it has one, and the exit code is 1.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { lstat, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { constants as osConstants, tmpdir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { extract as extractTar, list as listTar } from "tar";
import { type FlyteError, FlyteExecutionError, FlyteStorageError } from "../errors.js";
import "../storage/local.js";
import "../storage/s3.js";
import { joinUri, storage } from "../storage/storage.js";

/** Arguments of `tsflyte-fast-execute`. */
export interface FastExecuteArgs {
  /** Where the bundle is: `s3://...`, `file://...` or a local path. */
  readonly additionalDistribution: string;
  /** Where to unpack it; relative paths resolve against the working directory. */
  readonly destDir: string;
  /** The command to run inside it. */
  readonly command: readonly string[];
}

/** What unpacking a bundle did. */
export interface FetchedBundle {
  /** The bundle's sha256. */
  readonly digest: string;
  /** The destination, absolute. */
  readonly destDir: string;
  /** The entries written (files, directories, links), in archive order. */
  readonly entries: readonly string[];
  /** Milliseconds spent downloading and checking the digest. */
  readonly downloadMs: number;
  /** Milliseconds spent checking the entries and unpacking. */
  readonly extractMs: number;
}

const PLACEHOLDER_RE = /\{\{.*\}\}/;
const BUNDLE_NAME_RE = /^fast([0-9a-f]{64})\.tar\.gz$/;
const META_TYPES = new Set([
  "ExtendedHeader",
  "GlobalExtendedHeader",
  "NextFileHasLongPath",
  "NextFileHasLongLinkpath",
  "OldGnuLongPath",
]);
const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);

function fastError(
  code: string,
  message: string,
  options: ConstructorParameters<typeof FlyteError>[2] = {},
): FlyteExecutionError {
  return new FlyteExecutionError(code, message, { origin: "SYSTEM", ...options });
}

function unsafe(entry: string, why: string): FlyteExecutionError {
  return fastError(
    "FAST_BUNDLE_UNSAFE",
    `bundle entry ${JSON.stringify(entry)} ${why}; nothing was unpacked`,
    {
      entity: entry,
      origin: "USER",
      fix: "rebuild the bundle with `tsflyte package --fast` (it writes regular files only) and register it again",
    },
  );
}

/** One entry of a tar archive, as far as safety checks go. */
export interface BundleEntry {
  /** The entry's path in the archive. */
  readonly path: string;
  /** node-tar's type name: `File`, `Directory`, `SymbolicLink`, `Link`, ... */
  readonly type: string;
  /** The link target of `SymbolicLink` and `Link` entries. */
  readonly linkpath?: string | undefined;
}

/**
 * Resolves `parts` (relative to the destination) following the bundle's own symbolic links;
 * `undefined` when the path leaves the destination.
 */
function resolveInside(
  parts: readonly string[],
  links: ReadonlyMap<string, string>,
  followLast: boolean,
  depth = 0,
): string[] | undefined {
  if (depth > 40) return undefined;
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const c = parts[i]!;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(c);
    const target = links.get(out.join("/"));
    if (target !== undefined && (followLast || i < parts.length - 1)) {
      if (isAbsolute(target)) return undefined;
      const resolved = resolveInside([...out.slice(0, -1), ...target.split("/")], links, true, depth + 1);
      if (!resolved) return undefined;
      out.splice(0, out.length, ...resolved);
    }
  }
  return out;
}

function splitEntryPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "" && s !== ".");
}

/**
 * Checks a bundle's entries before anything is unpacked; throws `FAST_BUNDLE_UNSAFE` naming the
 * first bad entry: an absolute path, a `..` segment, a type other than file, directory or link,
 * a link whose target leaves the destination (following the bundle's own links), or an entry
 * below one of the bundle's symbolic links.
 */
export function checkBundleEntries(entries: readonly BundleEntry[]): void {
  const links = new Map<string, string>();
  for (const e of entries) {
    if (e.type === "SymbolicLink" && e.linkpath !== undefined)
      links.set(splitEntryPath(e.path).join("/"), e.linkpath);
  }
  for (const e of entries) {
    if (META_TYPES.has(e.type)) continue;
    const p = e.path;
    if (p === "" || p.includes("\0")) throw unsafe(p, "has an empty or invalid path");
    if (isAbsolute(p) || /^[a-zA-Z]:/.test(p) || p.startsWith("\\")) throw unsafe(p, "has an absolute path");
    if (p.split(/[\\/]/).includes("..")) throw unsafe(p, "has a '..' path segment");
    if (!FILE_TYPES.has(e.type) && e.type !== "Directory" && e.type !== "SymbolicLink" && e.type !== "Link") {
      throw unsafe(p, `is a ${e.type}, not a file, directory or link`);
    }
    const parts = splitEntryPath(p);
    if (parts.length === 0) {
      if (e.type === "Directory") continue; // "./"
      throw unsafe(p, "has an empty path");
    }
    // Nothing is written through a link of the bundle (node-tar refuses to as well, mid-way).
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (links.has(dir))
        throw unsafe(p, `would be written through the symbolic link ${JSON.stringify(dir)}`);
    }
    if (e.type === "SymbolicLink") {
      const target = e.linkpath ?? "";
      if (target === "" || isAbsolute(target))
        throw unsafe(p, `is a symbolic link to the absolute path ${JSON.stringify(target)}`);
      if (!resolveInside([...parts.slice(0, -1), ...target.split("/")], links, true)) {
        throw unsafe(p, `is a symbolic link to ${JSON.stringify(target)}, outside the destination`);
      }
    }
    if (e.type === "Link") {
      const target = e.linkpath ?? "";
      if (target === "" || isAbsolute(target) || target.split(/[\\/]/).includes("..")) {
        throw unsafe(p, `is a hard link to ${JSON.stringify(target)}, outside the destination`);
      }
      if (!resolveInside(splitEntryPath(target), links, true))
        throw unsafe(p, `is a hard link to ${JSON.stringify(target)}, outside the destination`);
    }
  }
}

/** Reads a bundle's entries (headers only). */
export async function listBundleEntries(file: string): Promise<BundleEntry[]> {
  const entries: BundleEntry[] = [];
  await listTar({
    file,
    strict: true,
    onReadEntry: (e) => {
      entries.push({ path: e.path, type: e.type, linkpath: e.linkpath });
    },
  });
  return entries;
}

function checkPlaceholders(args: FastExecuteArgs): void {
  for (const [flag, value] of [
    ["--additional-distribution", args.additionalDistribution],
    ["--dest-dir", args.destDir],
  ] as const) {
    if (PLACEHOLDER_RE.test(value)) {
      throw fastError(
        "FAST_PLACEHOLDER",
        `${flag} is ${JSON.stringify(value)}: the template was never filled in`,
        {
          entity: flag,
          origin: "USER",
          fix: "register the package with `flytectl register files` (it uploads the bundle and fills in {{ .remote_package_path }} and {{ .dest_dir }}), or serialize with an explicit distribution location",
        },
      );
    }
    if (value === "") {
      throw fastError("FAST_PLACEHOLDER", `${flag} is empty`, {
        entity: flag,
        origin: "USER",
        fix: `pass ${flag} <value>`,
      });
    }
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/** Where this SDK's package root is (the folder with its package.json). */
export function sdkRoot(): string {
  return fileURLToPath(new URL("../..", import.meta.url)).replace(/\/+$/, "");
}

async function linkSdk(destDir: string): Promise<void> {
  const link = join(destDir, "node_modules", "flytekit-ts");
  try {
    await lstat(link);
    return; // the bundle or the image provides it
  } catch {
    // absent: link it
  }
  const root = sdkRoot();
  let name: string | undefined;
  try {
    name = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name?: string }).name;
  } catch {
    name = undefined;
  }
  if (name !== "flytekit-ts") return;
  try {
    await mkdir(join(destDir, "node_modules"), { recursive: true });
    await symlink(root, link, "dir");
  } catch (err) {
    process.stderr.write(
      `tsflyte-fast-execute: could not link ${link} -> ${root}: ${(err as Error).message}\n`,
    );
  }
}

/**
 * Downloads, checks and unpacks a bundle into `destDir` (steps 1-4 of the module comment).
 * Throws `FlyteExecutionError`s with the codes listed there.
 */
export async function fetchBundle(uri: string, destDir: string): Promise<FetchedBundle> {
  checkPlaceholders({ additionalDistribution: uri, destDir, command: [] });
  const name = basename(uri.replace(/\/+$/, ""));
  const expected = BUNDLE_NAME_RE.exec(name)?.[1];
  if (!expected) {
    throw fastError(
      "FAST_BUNDLE_NAME",
      `the bundle's name ${JSON.stringify(name)} does not carry its digest`,
      {
        entity: uri,
        origin: "USER",
        fix: "bundles are named fast<sha256>.tar.gz; build it with `tsflyte package --fast`",
      },
    );
  }
  const dest = resolve(destDir);
  const work = await mkdtemp(join(tmpdir(), "tsflyte-fast-"));
  try {
    const t0 = performance.now();
    const file = join(work, name);
    try {
      await storage.download(uri, file);
    } catch (err) {
      const storageErr = err instanceof FlyteStorageError ? err : undefined;
      const missing = storageErr?.code === "STORAGE_NOT_FOUND";
      throw fastError(
        missing ? "FAST_BUNDLE_MISSING" : "FAST_BUNDLE_UNREADABLE",
        `cannot fetch the code bundle: ${(err as Error).message}`,
        {
          entity: uri,
          recoverable: storageErr?.recoverable ?? false,
          fix: missing
            ? "register the package again so the bundle is uploaded, and check the bucket it was uploaded to"
            : (storageErr?.fix ?? "check the storage configuration"),
          cause: err,
        },
      );
    }
    const actual = await sha256File(file);
    if (actual !== expected) {
      throw fastError(
        "FAST_BUNDLE_DIGEST",
        `the bundle's sha256 is ${actual}, but its name says ${expected}`,
        {
          entity: uri,
          fix: "the bundle was changed or damaged after it was built: package and register again",
        },
      );
    }
    const downloadMs = performance.now() - t0;
    const t1 = performance.now();
    let entries: BundleEntry[];
    try {
      entries = await listBundleEntries(file);
    } catch (err) {
      throw fastError(
        "FAST_BUNDLE_CORRUPT",
        `the bundle is not a readable .tar.gz: ${(err as Error).message}`,
        {
          entity: uri,
          fix: "package and register again",
          cause: err,
        },
      );
    }
    checkBundleEntries(entries);
    await mkdir(dest, { recursive: true });
    await extractTar({
      file,
      cwd: dest,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      noMtime: true,
    });
    await linkSdk(dest);
    return {
      digest: actual,
      destDir: dest,
      entries: entries.filter((e) => !META_TYPES.has(e.type)).map((e) => e.path),
      downloadMs,
      extractMs: performance.now() - t1,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The value of `--output-prefix` in a `tsflyte-execute` command, if any. */
export function outputPrefixOf(command: readonly string[]): string | undefined {
  const sep = command.indexOf("--");
  const flags = sep === -1 ? command : command.slice(0, sep);
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    if (f === "--output-prefix") return flags[i + 1];
    if (f.startsWith("--output-prefix=")) return f.slice("--output-prefix=".length);
  }
  return undefined;
}

/** Adds `--dynamic-addl-distro` and `--dynamic-dest-dir` before `--resolver`, as flytekit does. */
export function withDynamicDistribution(command: readonly string[], uri: string, destDir: string): string[] {
  const sep = command.indexOf("--");
  const flags = sep === -1 ? command : command.slice(0, sep);
  const at = flags.indexOf("--resolver");
  if (at === -1 || flags.includes("--dynamic-addl-distro")) return [...command];
  return [
    ...command.slice(0, at),
    "--dynamic-addl-distro",
    uri,
    "--dynamic-dest-dir",
    destDir,
    ...command.slice(at),
  ];
}

const FORWARDED: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** Runs a command in `cwd` with inherited stdio and forwarded signals; resolves with its exit code. */
export function runCommand(command: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd, env, stdio: "inherit" });
    const handlers = new Map<NodeJS.Signals, () => void>();
    for (const sig of FORWARDED) {
      const h = () => {
        child.kill(sig);
      };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    const cleanup = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    child.once("error", (err) => {
      cleanup();
      reject(err);
    });
    child.once("exit", (code, signal) => {
      cleanup();
      if (code !== null) resolvePromise(code);
      else resolvePromise(128 + (signal ? (osConstants.signals[signal] ?? 1) : 1));
    });
  });
}

async function reportFailure(err: unknown, command: readonly string[]): Promise<void> {
  process.stderr.write(`tsflyte-fast-execute: ${(err as Error).message ?? String(err)}\n`);
  const prefix = outputPrefixOf(command);
  if (prefix === undefined || PLACEHOLDER_RE.test(prefix) || prefix === "") return;
  const { writeErrorDocument } = await import("./execute.js");
  await writeErrorDocument(joinUri(prefix, "error.pb"), err, "SYSTEM");
}

/**
 * `tsflyte-fast-execute`'s work: fetch and unpack the bundle, then run the command in it.
 * Returns the exit code: the command's, or 1 when the bundle could not be set up (after writing
 * `error.pb` under the command's `--output-prefix`).
 */
export async function fastExecute(
  args: FastExecuteArgs,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let fetched: FetchedBundle;
  try {
    fetched = await fetchBundle(args.additionalDistribution, args.destDir);
  } catch (err) {
    await reportFailure(err, args.command);
    return 1;
  }
  if (env.FLYTE_FAST_EXECUTE_VERBOSE === "1") {
    process.stderr.write(
      `tsflyte-fast-execute: unpacked ${fetched.entries.length} entries of fast${fetched.digest}.tar.gz into ${fetched.destDir} (download ${fetched.downloadMs.toFixed(0)} ms, unpack ${fetched.extractMs.toFixed(0)} ms)\n`,
    );
  }
  const command = withDynamicDistribution(args.command, args.additionalDistribution, fetched.destDir);
  const nodeOptions = [env.NODE_OPTIONS, "--enable-source-maps"].filter(Boolean).join(" ");
  try {
    return await runCommand(command, fetched.destDir, {
      ...env,
      FLYTE_SOURCE_ROOT: fetched.destDir,
      NODE_OPTIONS: nodeOptions,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    await reportFailure(
      fastError("FAST_COMMAND_START", `cannot start ${JSON.stringify(command[0])}: ${e.message}`, {
        entity: command[0] ?? "",
        fix:
          e.code === "ENOENT"
            ? "check that the command is installed in the image and on PATH"
            : "check the command",
        cause: err,
      }),
      args.command,
    );
    return 1;
  }
}
