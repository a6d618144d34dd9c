/**
 * Fast registration's code bundle: the user's project compiled to JavaScript and packed into a
 * deterministic `fast<sha256>.tar.gz`, which `tsflyte-fast-execute` downloads and unpacks in
 * the task's container before running the task (so code changes need no image rebuild).
 *
 * ```ts
 * const bundle = await buildCodeBundle({ sourceRoot: "." });
 * // bundle.path = /tmp/.../fast3f5c...e1.tar.gz, bundle.digest = "3f5c...e1"
 * ```
 *
 * What goes in (paths relative to the source root, `/`-separated, directory layout kept):
 * - TypeScript and JavaScript sources, compiled one by one with esbuild (no bundling, `keepNames`,
 *   target node20.10, the source root's `tsconfig.json` compiler options, inline source maps
 *   without sources): `.ts`/`.tsx`/`.jsx`/`.js` -> `.js`, `.mts`/`.mjs` -> `.mjs`,
 *   `.cts`/`.cjs` -> `.cjs`. Relative import specifiers are rewritten to the compiled files
 *   (`./lib.ts` -> `./lib.js`, `./lib` -> `./lib.js`, `./dir` -> `./dir/index.js`), so
 *   `task-module <relative path>` resolves inside the bundle.
 * - every other file, as is (JSON, SQL, templates...);
 * - a `package.json` at the root: the source root's own, or `{"type": ...}` copied from the
 *   nearest one above it, so Node reads the `.js` files as the same kind of module.
 *
 * What stays out (`DEFAULT_BUNDLE_EXCLUDES`, plus the lines of a `.flyteignore` file at the source
 * root and the `exclude` option): `node_modules`, dot-files and dot-directories (`.git`, `.env`,
 * ...), `dist`, `coverage`, tests (`*.test.*`, `*.spec.*`, `__tests__`), declaration files,
 * source maps, archives (`*.tgz`, `*.tar.gz`), lock files, logs, and symbolic links (their
 * targets may lie outside the project). Patterns are gitignore-like: `*`, `?` and `**` globs; a
 * pattern with a `/` is matched against the whole relative path, one without against each name;
 * a trailing `/` matches directories only. `!` negations are not supported.
 *
 * Determinism: the same tree (wherever it is, whatever its timestamps and owners) gives the same
 * bytes: sorted entries, regular files only (no directory entries), mode 0644 (0755 for
 * owner-executable files), mtime 0, no uid/gid or user names, a gzip header without time or OS
 * (`tarGzip` in `ustar.ts`, built in memory). The digest is the sha256 of the archive; the name
 * carries it.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, realpath } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import type { Loader, TransformOptions } from "esbuild";
import { FlyteUsageError } from "../errors.js";
import { type TarEntry, tarGzip, writeFileAtomic } from "./ustar.js";

/** Names and patterns left out of every bundle (see the module comment). */
export const DEFAULT_BUNDLE_EXCLUDES: readonly string[] = Object.freeze([
  "node_modules/",
  ".*",
  "dist/",
  "coverage/",
  "__tests__/",
  "*.test.*",
  "*.spec.*",
  "*.d.ts",
  "*.d.mts",
  "*.d.cts",
  "*.map",
  "*.tgz",
  "*.tar.gz",
  "*.log",
  "*.tsbuildinfo",
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "bun.lockb",
]);

/** The file at the source root whose lines add exclusion patterns. */
export const IGNORE_FILE = ".flyteignore";

/** The esbuild target: the oldest Node.js the SDK supports (keeps `import ... with {}`). */
export const BUNDLE_TARGET = "node20.10";

/** Options of `buildCodeBundle`. */
export interface CodeBundleOptions {
  /** The project's root: module names (`task-module`) are relative to it. */
  sourceRoot: string;
  /** Where to write `fast<digest>.tar.gz` (created if needed); default a new temporary folder. */
  outDir?: string | undefined;
  /** More exclusion patterns, as in `.flyteignore`. */
  exclude?: readonly string[] | undefined;
  /** Receives progress lines. */
  log?: ((line: string) => void) | undefined;
}

/** A built code bundle. */
export interface CodeBundle {
  /** The archive's absolute path. */
  readonly path: string;
  /** Its file name, `fast<digest>.tar.gz`. */
  readonly name: string;
  /** sha256 of the archive, 64 lower-case hex digits. */
  readonly digest: string;
  /** The archive's entries, sorted. */
  readonly files: readonly string[];
  /** Source-root-relative paths left out because they are symbolic links. */
  readonly skippedLinks: readonly string[];
  /** The archive's size in bytes. */
  readonly size: number;
}

const BUNDLE_NAME_RE = /^fast([0-9a-f]{64})\.tar\.gz$/;

/** The file name of a bundle with this digest. */
export function bundleName(digest: string): string {
  return `fast${digest}.tar.gz`;
}

/** The digest in a bundle's file name (`fast<64 hex>.tar.gz`), or `undefined` if it has none. */
export function digestOfBundleName(name: string): string | undefined {
  return BUNDLE_NAME_RE.exec(name)?.[1];
}

const SOURCE_EXT: Readonly<Record<string, { loader: Loader; out: string }>> = {
  ".ts": { loader: "ts", out: ".js" },
  ".tsx": { loader: "tsx", out: ".js" },
  ".mts": { loader: "ts", out: ".mjs" },
  ".cts": { loader: "ts", out: ".cjs" },
  ".js": { loader: "js", out: ".js" },
  ".jsx": { loader: "jsx", out: ".js" },
  ".mjs": { loader: "js", out: ".mjs" },
  ".cjs": { loader: "js", out: ".cjs" },
};
const RESOLVE_EXTS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];

function sourceExt(rel: string): string | undefined {
  const m = /\.[cm]?[jt]sx?$/.exec(rel);
  return m && SOURCE_EXT[m[0]] ? m[0] : undefined;
}

/** The bundle path of a source file: `a/b.ts` -> `a/b.js`; other files keep their path. */
export function bundlePathOf(rel: string): string {
  const ext = sourceExt(rel);
  return ext ? rel.slice(0, -ext.length) + SOURCE_EXT[ext]!.out : rel;
}

// ---- exclusion patterns ----

interface Pattern {
  readonly text: string;
  readonly re: RegExp;
  readonly anchored: boolean;
  readonly dirOnly: boolean;
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
        i += glob[i + 2] === "/" ? 2 : 1;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Parses exclusion patterns (`.flyteignore` lines). Throws `BUNDLE_IGNORE_PATTERN` for `!` lines. */
export function parseExcludePatterns(lines: readonly string[], origin = "exclude"): Pattern[] {
  const out: Pattern[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("!")) {
      throw new FlyteUsageError(
        "BUNDLE_IGNORE_PATTERN",
        `negated pattern ${JSON.stringify(line)} is not supported`,
        {
          entity: origin,
          fix: "list what to leave out only; move files you need out of excluded folders",
        },
      );
    }
    const dirOnly = line.endsWith("/");
    const body = line.replace(/^\/+/, "").replace(/\/+$/, "");
    if (body === "") continue;
    out.push({
      text: line,
      re: globToRegExp(body),
      anchored: body.includes("/") || line.startsWith("/"),
      dirOnly,
    });
  }
  return out;
}

function excluded(rel: string, isDir: boolean, patterns: readonly Pattern[]): boolean {
  const name = rel.slice(rel.lastIndexOf("/") + 1);
  for (const p of patterns) {
    if (p.dirOnly && !isDir) continue;
    if (p.re.test(p.anchored ? rel : name)) return true;
  }
  return false;
}

// ---- collecting ----

async function collect(
  root: string,
  patterns: readonly Pattern[],
): Promise<{ files: string[]; links: string[]; modes: Map<string, number> }> {
  const files: string[] = [];
  const links: string[] = [];
  const modes = new Map<string, number>();
  async function walk(dirRel: string): Promise<void> {
    const entries = await readdir(join(root, dirRel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const rel = dirRel ? `${dirRel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) {
        if (!excluded(rel, false, patterns)) links.push(rel);
        continue;
      }
      if (e.isDirectory()) {
        if (!excluded(rel, true, patterns)) await walk(rel);
      } else if (e.isFile() && !excluded(rel, false, patterns)) {
        files.push(rel);
        modes.set(rel, (await lstat(join(root, rel))).mode);
      }
    }
  }
  await walk("");
  return { files, links, modes };
}

// ---- compiling ----

function nearestPackageType(root: string): "module" | "commonjs" {
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    const p = join(dir, "package.json");
    if (existsSync(p)) {
      try {
        return (JSON.parse(readFileSync(p, "utf8")) as { type?: string }).type === "module"
          ? "module"
          : "commonjs";
      } catch {
        return "commonjs";
      }
    }
    if (dirname(dir) === dir) return "commonjs";
  }
}

/** Resolves a relative specifier to a file of the bundle, the way TypeScript's bundler mode and tsx do. */
function resolveSpecifier(fromRel: string, spec: string, sources: ReadonlySet<string>): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(fromRel), spec));
  if (base.startsWith("../")) return undefined;
  const candidates: string[] = [];
  const ext = sourceExt(base);
  if (ext) {
    candidates.push(base);
    // `./lib.js` written for `lib.ts` (TypeScript's NodeNext convention)
    if (ext === ".js" || ext === ".jsx")
      candidates.push(`${base.slice(0, -ext.length)}.ts`, `${base.slice(0, -ext.length)}.tsx`);
    if (ext === ".mjs") candidates.push(`${base.slice(0, -4)}.mts`);
    if (ext === ".cjs") candidates.push(`${base.slice(0, -4)}.cts`);
  } else {
    for (const e of RESOLVE_EXTS) candidates.push(base + e);
    for (const e of RESOLVE_EXTS) candidates.push(`${base}/index${e}`);
  }
  return candidates.find((c) => sources.has(c));
}

function relativeSpecifier(fromRel: string, toRel: string): string {
  const r = posix.relative(posix.dirname(fromRel), toRel);
  return r.startsWith(".") ? r : `./${r}`;
}

async function compile(
  esbuild: typeof import("esbuild"),
  lexer: typeof import("es-module-lexer"),
  root: string,
  rel: string,
  sources: ReadonlySet<string>,
  tsconfigRaw: string | undefined,
): Promise<string> {
  const ext = sourceExt(rel)!;
  const code = await readFile(join(root, rel), "utf8");
  const options: TransformOptions = {
    loader: SOURCE_EXT[ext]!.loader,
    sourcefile: posix.basename(rel),
    keepNames: true,
    target: BUNDLE_TARGET,
    charset: "utf8",
    sourcemap: "inline",
    sourcesContent: false,
    ...(tsconfigRaw !== undefined ? { tsconfigRaw } : {}),
  };
  let out: string;
  try {
    out = (await esbuild.transform(code, options)).code;
  } catch (err) {
    const first = (err as { errors?: { text: string; location?: { line: number; column: number } }[] })
      .errors?.[0];
    const where = first?.location ? `:${first.location.line}:${first.location.column}` : "";
    throw new FlyteUsageError(
      "BUNDLE_COMPILE",
      `cannot compile ${rel}${where}: ${first?.text ?? (err as Error).message}`,
      {
        entity: rel,
        fix: "fix the syntax error, or exclude the file in .flyteignore",
        cause: err,
      },
    );
  }
  if (SOURCE_EXT[ext]!.out === ".cjs") return out;
  // Rewrite relative specifiers to the compiled files, from the end so offsets stay valid.
  let imports: readonly { n: string | undefined; s: number; e: number }[];
  try {
    imports = lexer.parse(out, rel)[0];
  } catch {
    return out; // not parseable as a module (e.g. CommonJS in a .js file): left as compiled
  }
  for (const imp of [...imports].sort((a, b) => b.s - a.s)) {
    const spec = imp.n;
    if (!spec || !(spec.startsWith("./") || spec.startsWith("../"))) continue;
    const target = resolveSpecifier(rel, spec, sources);
    if (!target) continue;
    const next = relativeSpecifier(rel, bundlePathOf(target));
    if (next === spec) continue;
    const raw = out.slice(imp.s, imp.e);
    const quoted = raw.startsWith('"') || raw.startsWith("'");
    out = out.slice(0, imp.s) + (quoted ? JSON.stringify(next) : next) + out.slice(imp.e);
  }
  return out;
}

async function pool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

/**
 * Builds the code bundle of the project at `sourceRoot` (see the module comment for what goes in
 * and why the output is deterministic). Throws `FlyteUsageError`: `BUNDLE_SOURCE_ROOT` (not a
 * directory), `BUNDLE_EMPTY` (nothing to bundle), `BUNDLE_OUTPUT_CLASH` (two sources compile to
 * one file, e.g. `a.ts` and `a.js`), `BUNDLE_COMPILE` (a syntax error, naming file and line),
 * `BUNDLE_IGNORE_PATTERN`.
 */
export async function buildCodeBundle(options: CodeBundleOptions): Promise<CodeBundle> {
  const t0 = performance.now();
  let root: string;
  try {
    root = await realpath(resolve(options.sourceRoot));
    if (!(await lstat(root)).isDirectory()) throw new Error("not a directory");
  } catch (err) {
    throw new FlyteUsageError(
      "BUNDLE_SOURCE_ROOT",
      `the source root ${options.sourceRoot} is not a directory`,
      {
        entity: options.sourceRoot,
        fix: "pass the folder that holds the project's code (--source-root)",
        cause: err,
      },
    );
  }
  const ignorePath = join(root, IGNORE_FILE);
  const patterns = [
    ...parseExcludePatterns(DEFAULT_BUNDLE_EXCLUDES, "DEFAULT_BUNDLE_EXCLUDES"),
    ...(existsSync(ignorePath)
      ? parseExcludePatterns(readFileSync(ignorePath, "utf8").split("\n"), ignorePath)
      : []),
    ...parseExcludePatterns(options.exclude ?? []),
  ];
  const { files, links, modes } = await collect(root, patterns);
  if (!files.some((f) => sourceExt(f))) {
    throw new FlyteUsageError("BUNDLE_EMPTY", `no TypeScript or JavaScript files under ${root}`, {
      entity: root,
      fix: "point --source-root at the project (check .flyteignore and the default exclusions)",
    });
  }
  const outputs = new Map<string, string>();
  for (const f of files) {
    const out = bundlePathOf(f);
    const other = outputs.get(out);
    if (other !== undefined) {
      throw new FlyteUsageError(
        "BUNDLE_OUTPUT_CLASH",
        `${other} and ${f} would both become ${out} in the bundle`,
        {
          entity: f,
          fix: "rename one of them, or exclude one in .flyteignore",
        },
      );
    }
    outputs.set(out, f);
  }
  const sources = new Set(files.filter((f) => sourceExt(f)));
  const tsconfig = join(root, "tsconfig.json");
  const tsconfigRaw = existsSync(tsconfig) ? readFileSync(tsconfig, "utf8") : undefined;
  const [esbuild, lexer] = await Promise.all([import("esbuild"), import("es-module-lexer")]);
  await lexer.init;

  const outDir = resolve(options.outDir ?? (await mkdtemp(join(tmpdir(), "tsflyte-fast-"))));
  await mkdir(outDir, { recursive: true });
  const entries: TarEntry[] = [];
  if (!outputs.has("package.json")) {
    entries.push({
      name: "package.json",
      bytes: Buffer.from(`${JSON.stringify({ type: nearestPackageType(root) })}\n`),
    });
  }
  await pool([...outputs.keys()], 16, async (out) => {
    const src = outputs.get(out)!;
    const bytes = sourceExt(src)
      ? Buffer.from(await compile(esbuild, lexer, root, src, sources, tsconfigRaw))
      : await readFile(join(root, src));
    entries.push({ name: out, bytes, mode: (modes.get(src)! & 0o100) !== 0 ? 0o755 : 0o644 });
  });
  // tarGzip sorts the entries; the archive does not depend on the order they were compiled in.
  const bytes = tarGzip(entries);
  const names = entries.map((e) => e.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const digest = createHash("sha256").update(bytes).digest("hex");
  const name = bundleName(digest);
  const path = join(outDir, name);
  await writeFileAtomic(path, bytes);
  options.log?.(
    `bundled ${names.length} files from ${root} into ${name} (${bytes.length} bytes) in ${(performance.now() - t0).toFixed(0)} ms`,
  );
  if (links.length > 0)
    options.log?.(
      `left out ${links.length} symbolic link(s): ${links.slice(0, 5).join(", ")}${links.length > 5 ? ", ..." : ""}`,
    );
  return Object.freeze({
    path,
    name,
    digest,
    files: Object.freeze(names),
    skippedLinks: Object.freeze(links),
    size: bytes.length,
  });
}
