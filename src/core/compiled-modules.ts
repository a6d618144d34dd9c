/**
 * TypeScript user modules without loader hooks: each module is compiled once with esbuild (the
 * options tsx uses) into `<package>/.tsflyte/modules/<path>.mjs`, and the module loader imports
 * that file. tsx's hooks run on a separate thread and every import crosses it; a plain `.mjs`
 * import does not, which is most of the time `tsflyte package` spent loading 50 modules.
 *
 * What keeps the compiled module the same program as the source under tsx:
 * - the cache is in the package folder (beside its `package.json`, outside `node_modules`), so
 *   Node resolves bare imports (`flytekit-ts`, other packages, `#imports`) from it exactly as from
 *   the source: same package scope, same `node_modules` folders (a module with a `node_modules`
 *   folder between it and its package is left to tsx), same files, so one instance of the SDK;
 * - relative imports are rewritten: to the compiled file for TypeScript modules (resolved as tsx
 *   does: `./a.js` -> `a.ts`, `./a` -> `a.ts`, `./dir` -> `dir/index.ts`), to the original file's
 *   URL for anything else (`.js`, `.json`, ...);
 * - `import.meta.url`, `dirname` and `filename` are the source's; inline source maps point at the
 *   source, so stack traces (and entity source files) name the `.ts` file.
 *
 * The cache is keyed by content: a compiled file records the hash of its source and options and
 * how each relative import resolved; if any of these changed it is compiled again (esbuild is
 * imported only then). Whatever this does not handle exactly as tsx would is reported as a
 * `reason`, and the loader uses tsx for that module: CommonJS packages (`.cts`, `.ts` without
 * `"type": "module"`), tsconfig `extends` or `paths`, other `import.meta` uses, computed dynamic
 * imports, unresolvable relative imports, a source tree where the cache cannot be written.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { findTsconfig, tsconfigApplies } from "./tsconfig.js";

/** Bumped whenever the compiled output would change for the same source. */
const FORMAT = 1;
/** The cache folder inside a package. */
export const CACHE_DIR = ".tsflyte";
const MODULES_DIR = "modules";
const TRAILER = "//tsflyte-module:";
const TS_EXTS = new Set([".ts", ".tsx", ".mts"]);
/** tsx's candidates for an import written with a JavaScript extension. */
const JS_TO_TS: Readonly<Record<string, readonly string[]>> = {
  ".js": [".ts", ".tsx", ".js", ".jsx"],
  ".jsx": [".tsx", ".ts", ".jsx", ".js"],
  ".mjs": [".mts", ".mjs"],
  ".cjs": [".cts", ".cjs"],
};
/** tsx's extensions for an import written without one. */
const IMPLICIT = [".ts", ".tsx", ".jsx", ".js", ".json"];

/** The TypeScript modules reachable from an entry, and the compiled entry's URL when all compiled. */
export interface CompiledGraph {
  /** Real paths of the TypeScript modules reached through relative imports, the entry first. */
  readonly modules: readonly string[];
  /** The compiled entry to import, or `undefined` when `reason` says why tsx must load it. */
  readonly url: string | undefined;
  readonly reason: string | undefined;
}

interface Prepared {
  readonly url: string | undefined;
  readonly deps: readonly string[];
  readonly reason: string | undefined;
}

const prepared = new Map<string, Promise<Prepared>>();
const scopes = new Map<string, { root: string; type: string | undefined } | undefined>();
let toolVersion: string | undefined;

// ---- package scopes ----

/** The folder of the nearest package.json and its `type`, as Node finds it (not past node_modules). */
function scopeOf(dir: string): { root: string; type: string | undefined } | undefined {
  if (scopes.has(dir)) return scopes.get(dir);
  let found: { root: string; type: string | undefined } | undefined;
  const pj = join(dir, "package.json");
  if (basename(dir) !== "node_modules" && existsSync(pj)) {
    let type: string | undefined;
    try {
      const parsed = JSON.parse(readFileSync(pj, "utf8")) as { type?: unknown };
      type = typeof parsed.type === "string" ? parsed.type : undefined;
    } catch {
      type = "invalid";
    }
    found = { root: dir, type };
  } else if (basename(dir) !== "node_modules" && dirname(dir) !== dir) found = scopeOf(dirname(dir));
  scopes.set(dir, found);
  return found;
}

// ---- resolution ----

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/**
 * Where a relative import of `from` leads, trying candidates in tsx's order; `undefined` when
 * nothing matches (tsx may still know better: the caller then leaves the module to tsx).
 */
export function resolveRelative(from: string, spec: string): string | undefined {
  if (/[?#]/.test(spec)) return undefined;
  const base = spec.startsWith("file:") ? fileURLToPath(spec) : resolve(dirname(from), spec);
  const ext = extname(base);
  const candidates: string[] = [];
  const mapped = JS_TO_TS[ext];
  if (mapped) candidates.push(...mapped.map((e) => base.slice(0, -ext.length) + e));
  else if (TS_EXTS.has(ext) || ext === ".cts" || ext === ".json" || ext === ".node") candidates.push(base);
  else {
    candidates.push(...IMPLICIT.map((e) => base + e), base);
    candidates.push(...IMPLICIT.map((e) => join(base, `index${e}`)));
  }
  return candidates.find(isFile);
}

// ---- compiling ----

function versionOfTools(): string {
  if (toolVersion === undefined) {
    const require = createRequire(import.meta.url);
    const version = (pkg: string) =>
      (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")) as { version: string })
        .version;
    toolVersion = `${FORMAT}/esbuild@${version("esbuild")}/${process.versions.node}`;
  }
  return toolVersion;
}

/** Where the compiled file of `file` (a real path) lives, or why it cannot be compiled. */
function cacheFileOf(file: string): { path: string; root: string } | { reason: string } {
  const ext = extname(file);
  if (!TS_EXTS.has(ext)) return { reason: `${file} is not an ES module in TypeScript (${ext})` };
  if (file.split(sep).includes("node_modules")) return { reason: `${file} is inside node_modules` };
  const scope = scopeOf(dirname(file));
  if (!scope) return { reason: `${file} has no package.json above it` };
  if (ext !== ".mts" && scope.type !== "module")
    return { reason: `${join(scope.root, "package.json")} does not say "type": "module"` };
  for (let dir = dirname(file); dir !== scope.root; dir = dirname(dir))
    if (existsSync(join(dir, "node_modules"))) return { reason: `${dir} has its own node_modules` };
  const root = join(scope.root, CACHE_DIR);
  return { path: `${join(root, MODULES_DIR, relative(scope.root, file))}.mjs`, root };
}

interface Trailer {
  readonly key: string;
  /** Each relative specifier and the file it resolved to. */
  readonly imports: readonly (readonly [string, string])[];
  /** Set when the module is left to tsx (the file then holds no code). */
  readonly reason?: string;
}

function readTrailer(path: string): Trailer | undefined {
  try {
    const text = readFileSync(path, "utf8");
    const at = text.startsWith(TRAILER) ? 0 : text.lastIndexOf(`\n${TRAILER}`) + 1;
    return at === 0 && !text.startsWith(TRAILER)
      ? undefined
      : (JSON.parse(text.slice(at + TRAILER.length)) as Trailer);
  } catch {
    return undefined;
  }
}

function writeAtomically(root: string, path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const ignore = join(root, ".gitignore");
  if (!existsSync(ignore)) writeFileSync(ignore, "# written by flytekit-ts: compiled modules\n*\n");
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

type Esbuild = typeof import("esbuild");
type Lexer = typeof import("es-module-lexer");
let tools: Promise<{ esbuild: Esbuild; lexer: Lexer }> | undefined;

function loadTools(): Promise<{ esbuild: Esbuild; lexer: Lexer }> {
  tools ??= Promise.all([import("esbuild"), import("es-module-lexer")]).then(async ([esbuild, lexer]) => {
    await lexer.init;
    return { esbuild, lexer };
  });
  return tools;
}

async function transform(file: string, source: string, applies: boolean | undefined): Promise<string> {
  const { esbuild } = await loadTools();
  const url = pathToFileURL(file).href;
  const options = (compilerOptions: Record<string, unknown> | undefined) => ({
    loader: extname(file) === ".tsx" ? ("tsx" as const) : ("ts" as const),
    format: "esm" as const,
    target: `node${process.versions.node}`,
    keepNames: true,
    sourcemap: "inline" as const,
    sourcesContent: false,
    sourcefile: file,
    define: {
      "import.meta.url": JSON.stringify(url),
      "import.meta.dirname": JSON.stringify(dirname(file)),
      "import.meta.filename": JSON.stringify(file),
    },
    ...(compilerOptions ? { tsconfigRaw: { compilerOptions } } : {}),
  });
  const config = findTsconfig().config;
  const withConfig = config && applies !== false ? config.compilerOptions : undefined;
  const code = (await esbuild.transform(source, options(withConfig))).code;
  // Where tsx's choice of tsconfig depends on globs, the output must not depend on it.
  if (
    withConfig &&
    applies === undefined &&
    (await esbuild.transform(source, options(undefined))).code !== code
  )
    throw new Error(`whether ${config?.dir}/tsconfig.json applies to ${file} decides the output`);
  return code;
}

function isTypeScript(file: string): boolean {
  return TS_EXTS.has(extname(file)) || extname(file) === ".cts";
}

function realOrSame(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The TypeScript modules among resolved imports, by real path. */
function tsDeps(imports: Trailer["imports"]): string[] {
  return imports
    .map(([, to]) => to)
    .filter(isTypeScript)
    .map(realOrSame);
}

/**
 * Compiles `file` (or finds it compiled) and lists the TypeScript modules it imports. A module
 * left to tsx is recorded too (a trailer without code), so it is not compiled again to find out.
 */
async function prepare(file: string): Promise<Prepared> {
  const target = cacheFileOf(file);
  if ("reason" in target) return { url: undefined, deps: [], reason: target.reason };
  const config = findTsconfig();
  if (config.reason) return { url: undefined, deps: [], reason: config.reason };
  const applies = config.config ? tsconfigApplies(config.config, file) : false;
  const source = readFileSync(file, "utf8");
  const key = createHash("sha256")
    .update(
      `${versionOfTools()}\0${file}\0${applies}\0${applies === false ? "" : (config.config?.raw ?? "")}\0`,
    )
    .update(source)
    .digest("hex");
  const url = pathToFileURL(target.path).href;
  const cached = readTrailer(target.path);
  if (cached?.key === key && cached.imports.every(([spec, to]) => resolveRelative(file, spec) === to))
    return {
      url: cached.reason === undefined ? url : undefined,
      deps: tsDeps(cached.imports),
      reason: cached.reason,
    };

  try {
    // A read-only source tree (an image's code) is found out before paying for esbuild.
    mkdirSync(dirname(target.path), { recursive: true });
    accessSync(dirname(target.path), constants.W_OK);
  } catch (err) {
    return { url: undefined, deps: [], reason: `cannot write ${target.path}: ${(err as Error).message}` };
  }
  let code: string;
  try {
    code = await transform(file, source, applies);
  } catch (err) {
    // Syntax errors included: tsx reports them the way users know.
    return { url: undefined, deps: [], reason: `esbuild: ${(err as Error).message.split("\n")[0]}` };
  }
  const { lexer } = await loadTools();
  const imports: [string, string][] = [];
  const edits: { s: number; e: number; text: string }[] = [];
  let reason: string | undefined;
  for (const imp of lexer.parse(code, file)[0]) {
    if (imp.t === 3) reason ??= `${file} uses import.meta beyond url, dirname and filename`;
    else if (imp.t !== 1 && imp.t !== 2) reason ??= `${file} has a source or defer phase import`;
    const spec = imp.n;
    if (imp.t === 2 && spec === undefined) reason ??= `${file} imports a computed specifier`;
    if (spec === undefined || !/^(\.\.?\/|\/|file:)/.test(spec)) continue;
    const to = resolveRelative(file, spec);
    if (to === undefined) {
      reason ??= `${file}: "${spec}" does not resolve to a file`;
      continue;
    }
    imports.push([spec, to]);
    const dep = isTypeScript(to) ? cacheFileOf(realOrSame(to)) : undefined;
    if (dep && "reason" in dep) reason ??= dep.reason;
    const next = pathToFileURL(dep && "path" in dep ? dep.path : to).href;
    const raw = code.slice(imp.s, imp.e);
    const quoted = raw.startsWith('"') || raw.startsWith("'") || raw.startsWith("`");
    edits.push({ s: imp.s, e: imp.e, text: quoted ? JSON.stringify(next) : next });
  }
  for (const edit of edits.sort((a, b) => b.s - a.s))
    code = code.slice(0, edit.s) + edit.text + code.slice(edit.e);
  const trailer: Trailer = reason === undefined ? { key, imports } : { key, imports, reason };
  const text = reason === undefined ? `${code}${code.endsWith("\n") ? "" : "\n"}` : "";
  try {
    writeAtomically(target.root, target.path, `${text}${TRAILER}${JSON.stringify(trailer)}\n`);
  } catch (err) {
    reason ??= `cannot write ${target.path}: ${(err as Error).message}`;
  }
  return { url: reason === undefined ? url : undefined, deps: tsDeps(imports), reason };
}

/**
 * Compiles the TypeScript module `file` and every TypeScript module it reaches through relative
 * imports (or finds them compiled). Never throws for a module it cannot compile: the result's
 * `reason` says why tsx must load it instead.
 */
export async function compileModuleGraph(file: string): Promise<CompiledGraph> {
  let entry: string;
  try {
    entry = realpathSync(file);
  } catch (err) {
    return { modules: [], url: undefined, reason: (err as Error).message };
  }
  const seen = new Set([entry]);
  const queue = [entry];
  let reason: string | undefined;
  let url: string | undefined;
  // One wave per import depth, compiled concurrently (esbuild works in parallel).
  for (let start = 0; start < queue.length; ) {
    const wave = queue.slice(start);
    start = queue.length;
    const done = await Promise.all(
      wave.map((m) => {
        let p = prepared.get(m);
        if (!p) {
          p = prepare(m);
          prepared.set(m, p);
        }
        return p;
      }),
    );
    done.forEach((d, i) => {
      if (wave[i] === entry) url = d.url;
      reason ??= d.reason;
      for (const dep of d.deps) {
        if (!seen.has(dep)) {
          seen.add(dep);
          queue.push(dep);
        }
      }
    });
  }
  return { modules: queue, url: reason === undefined ? url : undefined, reason };
}
