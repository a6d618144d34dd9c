/**
 * What `tsflyte build` copies into images, staged as folders laid out like the image's file
 * system (one `COPY <folder>/ /` each), content-addressed so an unchanged stage is reused:
 *
 * - the SDK: flytekit-ts (package.json, bin/, dist/, src/) at `/usr/local/lib/node_modules/flytekit-ts`
 *   with its production dependencies (found by walking `dependencies` the way Node resolves
 *   them, so no network and no `npm ci` in the image), its bins on PATH in `/usr/local/bin`, and
 *   `/node_modules/flytekit-ts` so user code anywhere in the image can `import "flytekit-ts"`;
 * - the app: the user's modules compiled to JavaScript by esbuild, same layout (relative imports
 *   of `.ts` files rewritten to `.js`), a `package.json` that makes them ES modules, and the
 *   project's production dependencies (`npm ls --omit=dev --parseable --all`).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import {
  copyFile,
  link,
  lstat,
  mkdir,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { FlyteUsageError } from "../../errors.js";
import { pathDigest } from "../../images/image-spec.js";
import { FlyteContainerError, runCommand } from "./engine.js";

/** Where the SDK lives in images built by `tsflyte build` (the settings' default `sdkRoot`). */
export const IMAGE_SDK_ROOT = "/usr/local/lib/node_modules/flytekit-ts";

/** The SDK's bins, linked into `/usr/local/bin`. */
export const SDK_BINS = ["tsflyte", "tsflyte-execute", "tsflyte-fast-execute"] as const;

/** The root folder of the running SDK (the one with its package.json). */
export function sdkPackageRoot(): string {
  return fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/+$/, "");
}

interface PackageJson {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
}

/** Finds a dependency's folder from a package folder, as Node's resolution walks up `node_modules`. */
function resolvePackage(from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The production dependency closure of a package folder (folders, without the package itself). */
export function dependencyClosure(root: string): string[] {
  const seen = new Set<string>();
  const visit = (dir: string, optional: boolean, from: string) => {
    let pkg: PackageJson;
    try {
      pkg = readPackage(dir);
    } catch (err) {
      if (optional) return;
      throw err;
    }
    const deps: [string, boolean][] = [
      ...Object.keys(pkg.dependencies ?? {}).map((n): [string, boolean] => [n, false]),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((n): [string, boolean] => [n, true]),
    ];
    for (const [name, opt] of deps) {
      const found = resolvePackage(dir, name);
      if (!found) {
        if (opt) continue;
        throw new FlyteContainerError(
          "SDK_DEPENDENCY_MISSING",
          `${name} (needed by ${pkg.name ?? dir}) is not installed`,
          {
            entity: from,
            fix: "run npm ci (or npm install) in the project first",
          },
        );
      }
      if (seen.has(found)) continue;
      seen.add(found);
      visit(found, opt, from);
    }
  };
  visit(root, false, root);
  return [...seen].sort();
}

/** A digest of package folders by name, version and place (installed packages do not change in place). */
function packagesDigest(base: string, dirs: readonly string[]): string {
  const h = createHash("sha256");
  for (const d of dirs) {
    const pkg = readPackage(d);
    h.update(`${relative(base, d)}\0${pkg.name}@${pkg.version}\n`);
  }
  return h.digest("hex");
}

/** Copies a tree, hard-linking files where it can (same file system), keeping symlinks. */
export async function linkTree(src: string, dest: string, filter?: (rel: string) => boolean): Promise<void> {
  const walk = async (s: string, d: string, rel: string): Promise<void> => {
    const st = await lstat(s);
    if (st.isSymbolicLink()) {
      await mkdir(dirname(d), { recursive: true });
      await symlink(await readlink(s), d);
    } else if (st.isDirectory()) {
      await mkdir(d, { recursive: true });
      for (const name of await readdir(s)) {
        const r = rel ? `${rel}/${name}` : name;
        if (filter && !filter(r)) continue;
        await walk(join(s, name), join(d, name), r);
      }
    } else if (st.isFile()) {
      await mkdir(dirname(d), { recursive: true });
      await link(s, d).catch(() => copyFile(s, d));
    }
  };
  await walk(src, dest, "");
}

/** Builds a folder once: `make` fills a temporary folder that is renamed into place when complete. */
async function stageOnce(dir: string, make: (tmp: string) => Promise<void>): Promise<boolean> {
  const marker = `${dir}.complete`;
  if (existsSync(marker) && existsSync(dir)) return false;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await make(tmp);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    await writeFile(marker, "");
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return true;
}

/** A staged folder and the digest of what it holds. */
export interface Stage {
  /** Folder name inside the build context. */
  name: string;
  dir: string;
  digest: string;
}

/** Stages the SDK (see the module comment) under `contextDir`. */
export async function stageSdk(contextDir: string): Promise<Stage> {
  const root = sdkPackageRoot();
  const pkg = readPackage(root);
  for (const need of ["dist", "bin"]) {
    if (!existsSync(join(root, need))) {
      throw new FlyteContainerError("SDK_NOT_BUILT", `the SDK at ${root} has no ${need}/`, {
        entity: root,
        fix: "run `npm run build` in the flytekit-ts checkout",
      });
    }
  }
  const deps = dependencyClosure(root);
  // Node resolves a package's dependencies in the node_modules folders above it: keep the
  // layout relative to the folder that holds the outermost node_modules.
  const anchor = root.includes(`${sep}node_modules${sep}`)
    ? root.slice(0, root.lastIndexOf(`${sep}node_modules${sep}`))
    : root;
  const imageAnchor = anchor === root ? IMAGE_SDK_ROOT : resolve(IMAGE_SDK_ROOT, relative(root, anchor));
  for (const d of deps) {
    if (!(d + sep).startsWith(anchor + sep)) {
      throw new FlyteContainerError("SDK_LAYOUT_UNSUPPORTED", `dependency ${d} is outside ${anchor}`, {
        entity: root,
        fix: "install flytekit-ts into the project's own node_modules (no workspaces hoisting above it)",
      });
    }
  }
  const h = createHash("sha256");
  h.update(`sdk-stage-1\0${pkg.version}\0`);
  for (const part of ["package.json", "bin", "dist", "src"])
    h.update(`${part}\0${pathDigest(join(root, part))}\0`);
  h.update(packagesDigest(anchor, deps));
  const digest = h.digest("hex");
  const name = `sdk-${digest.slice(0, 16)}`;
  const dir = join(contextDir, name);
  await stageOnce(dir, async (tmp) => {
    const sdkDir = join(tmp, IMAGE_SDK_ROOT);
    await mkdir(sdkDir, { recursive: true });
    await linkTree(join(root, "package.json"), join(sdkDir, "package.json"));
    for (const part of ["bin", "dist", "src"])
      if (existsSync(join(root, part)))
        await linkTree(join(root, part), join(sdkDir, part), (rel) => !/\.test\.ts$/.test(rel));
    for (const d of deps) await linkTree(d, join(tmp, imageAnchor, relative(anchor, d)), skipNested);
    await mkdir(join(tmp, "usr/local/bin"), { recursive: true });
    for (const b of SDK_BINS) await symlink(`${IMAGE_SDK_ROOT}/bin/${b}.mjs`, join(tmp, "usr/local/bin", b));
    await mkdir(join(tmp, "node_modules"), { recursive: true });
    await symlink(IMAGE_SDK_ROOT, join(tmp, "node_modules", "flytekit-ts"));
  });
  return { name, dir, digest };
}

/** Leaves out a dependency's own nested node_modules (the closure lists those packages separately). */
function skipNested(rel: string): boolean {
  return rel !== "node_modules";
}

/** Options of {@link stageApp}. */
export interface AppStageOptions {
  /** The project root: module paths are relative to it; its package.json names the dependencies. */
  sourceRoot: string;
  /** Include the project's production dependencies (default true). */
  dependencies?: boolean;
}

/**
 * Compiles the modules (and every local module they import) into a staged folder for the image's
 * working directory, keeping their layout; adds the project's production dependencies.
 */
export async function stageApp(
  files: readonly string[],
  contextDir: string,
  options: AppStageOptions,
): Promise<Stage> {
  const root = resolve(options.sourceRoot);
  const esbuild = await import("esbuild");
  const entryPoints = files.map((f) => resolve(f));
  for (const f of entryPoints) {
    if (!(f + sep).startsWith(root + sep)) {
      throw new FlyteUsageError("MODULE_OUTSIDE_SOURCE_ROOT", `${f} is not under the source root ${root}`, {
        entity: f,
        fix: "pass --source-root with a folder that contains every module",
      });
    }
  }
  // Which local files the modules reach: a bundle pass that only reads the graph.
  const graph = await esbuild.build({
    entryPoints,
    bundle: true,
    write: false,
    outdir: join(contextDir, ".esbuild-graph"),
    metafile: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
    absWorkingDir: root,
  });
  const inputs = Object.keys(graph.metafile?.inputs ?? {})
    .map((p) => resolve(root, p))
    .filter((p) => !p.includes(`${sep}node_modules${sep}`) && (p + sep).startsWith(root + sep))
    .sort();
  const code = inputs.filter((p) => /\.(m|c)?[jt]sx?$/.test(p));
  const other = inputs.filter((p) => !/\.(m|c)?[jt]sx?$/.test(p));
  const outName = (p: string) =>
    relative(root, p)
      .replace(/\.(m?)tsx?$/, ".$1js")
      .replace(/\.cts$/, ".cjs");
  const outputs = new Map<string, string>(code.map((p) => [p, outName(p)]));
  const compiled = new Map<string, string>();
  for (const p of code) {
    const result = await esbuild.transform(readFileSync(p, "utf8"), {
      loader: /\.tsx$/.test(p) ? "tsx" : /\.[mc]?ts$/.test(p) ? "ts" : /\.jsx$/.test(p) ? "jsx" : "js",
      format: "esm",
      platform: "node",
      target: "node20",
      sourcefile: relative(root, p),
      keepNames: true,
    });
    compiled.set(outputs.get(p)!, await rewriteImports(result.code, p, outputs, root));
  }
  let deps: string[] = [];
  const pkgFile = join(root, "package.json");
  const projectPkg = existsSync(pkgFile) ? readPackage(root) : undefined;
  if (options.dependencies !== false && projectPkg && projectPkg.name !== "flytekit-ts") {
    deps = (await npmProductionPackages(root)).filter((d) => readPackage(d).name !== "flytekit-ts");
  }
  const h = createHash("sha256");
  h.update("app-stage-1\0");
  for (const [rel, text] of [...compiled.entries()].sort()) h.update(`${rel}\0${text}\0`);
  for (const p of other) h.update(`${relative(root, p)}\0${readFileSync(p)}\0`);
  h.update(packagesDigest(root, deps));
  const digest = h.digest("hex");
  const name = `app-${digest.slice(0, 16)}`;
  const dir = join(contextDir, name);
  await stageOnce(dir, async (tmp) => {
    for (const [rel, text] of compiled) {
      await mkdir(dirname(join(tmp, rel)), { recursive: true });
      await writeFile(join(tmp, rel), text);
    }
    for (const p of other) await linkTree(p, join(tmp, relative(root, p)));
    await writeFile(
      join(tmp, "package.json"),
      `${JSON.stringify({ private: true, type: "module" }, null, 2)}\n`,
    );
    for (const d of deps) await linkTree(d, join(tmp, relative(root, d)), skipNested);
  });
  return { name, dir, digest };
}

/** Rewrites relative imports of compiled TypeScript files (`./a.ts`, `./a`) to the compiled `.js` files. */
async function rewriteImports(
  code: string,
  file: string,
  outputs: ReadonlyMap<string, string>,
  root: string,
): Promise<string> {
  const { init, parse } = await import("es-module-lexer");
  await init;
  const [imports] = parse(code);
  let out = "";
  let last = 0;
  for (const imp of imports) {
    const spec = imp.n;
    if (!spec || !(spec.startsWith("./") || spec.startsWith("../")) || imp.s < 0) continue;
    const base = resolve(dirname(file), spec);
    const candidates = [
      base,
      `${base}.ts`,
      `${base}.tsx`,
      `${base}.mts`,
      `${base}.js`,
      join(base, "index.ts"),
    ];
    if (/\.js$/.test(base)) candidates.push(base.replace(/\.js$/, ".ts"), base.replace(/\.js$/, ".tsx"));
    if (/\.mjs$/.test(base)) candidates.push(base.replace(/\.mjs$/, ".mts"));
    const target = candidates.find((c) => outputs.has(c));
    if (!target) continue;
    let rel = relative(dirname(join(root, outputs.get(file)!)), join(root, outputs.get(target)!));
    if (!rel.startsWith(".")) rel = `./${rel}`;
    if (rel === spec) continue;
    out += code.slice(last, imp.s) + rel;
    last = imp.e;
  }
  return out + code.slice(last);
}

/** The project's production packages: `npm ls --omit=dev --parseable --all`, without the project itself. */
export async function npmProductionPackages(root: string): Promise<string[]> {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = await runCommand(npm, ["ls", "--omit=dev", "--parseable", "--all"], { cwd: root });
  if (result.code !== 0 && result.stdout.trim() === "") {
    throw new FlyteContainerError(
      "NPM_LS_FAILED",
      `npm ls failed in ${root}: ${result.stderr.trim().split("\n").pop() ?? ""}`,
      {
        entity: root,
        origin: "USER",
        fix: "run npm ci in the project, or build with --no-dependencies",
      },
    );
  }
  return result.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && resolve(l) !== root && existsSync(join(l, "package.json")));
}
