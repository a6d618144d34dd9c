/**
 * Where the runtime finds a pre-built task's executor: `"<module>:<ExportName>"`, written into
 * the task's container args (after `{{.taskTemplatePath}}`) and resolved inside the image.
 *
 * `<module>` is one of:
 * - `flytekit-ts/<subpath>`: a module of the SDK itself, e.g.
 *   `flytekit-ts/plugins/sqlite:SQLite3TaskExecutor`. Resolved inside whichever copy of the SDK
 *   is running (`dist/` in images, `src/` under tsx), so it needs no package `exports` entry and
 *   never loads a second copy of the SDK.
 * - a path starting with `./`, `../` or `/`: a file of the user's project (TypeScript or
 *   JavaScript), relative to the source root (`FLYTE_SOURCE_ROOT`, else the working directory),
 *   as the default resolver finds task modules. Ship it in the image or the fast-registration bundle.
 * - any other specifier: an installed npm package (`@acme/flyte-executors:MyExecutor`).
 *
 * The executor locations flytekit writes for its own executors (Python dotted paths such as
 * `flytekit.extras.sqlite3.task.SQLite3TaskExecutor`) are accepted for the executors flytekit-ts
 * reimplements, so a template serialized by flytekit runs unchanged.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describeValue, FlyteDefinitionError, FlyteExecutionError } from "../errors.js";
import { ShimTaskExecutor } from "./shim-executor.js";

/** The prefix of executor modules that belong to the SDK. */
export const SDK_MODULE_PREFIX = "flytekit-ts";

/** flytekit's executor locations and the flytekit-ts executors that run the same templates. */
export const FLYTEKIT_EXECUTOR_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  "flytekit.extras.sqlite3.task.SQLite3TaskExecutor": "flytekit-ts/plugins/sqlite:SQLite3TaskExecutor",
});

/** A parsed executor location. */
export interface ExecutorLocation {
  /** The text as written in the template. */
  readonly location: string;
  /** The module part. */
  readonly module: string;
  /** The export that holds the ShimTaskExecutor subclass. */
  readonly exportName: string;
  /** How the module is found: in the SDK, as a file of the project, or as a package. */
  readonly kind: "sdk" | "file" | "package";
}

const LOCATION_RE = /^([^:\s][^\s]*):([A-Za-z_$][A-Za-z0-9_$]*)$/;

/** Whether a module specifier is a file path (relative or absolute). */
function isFilePath(module: string): boolean {
  return module.startsWith("./") || module.startsWith("../") || isAbsolute(module);
}

/**
 * Parses `"<module>:<ExportName>"` (or a flytekit alias). Throws `FlyteDefinitionError`
 * `EXECUTOR_LOCATION_INVALID` naming the entity.
 */
export function parseExecutorLocation(location: string, entity = "task"): ExecutorLocation {
  const text = typeof location === "string" ? (FLYTEKIT_EXECUTOR_ALIASES[location] ?? location) : location;
  const m = typeof text === "string" ? LOCATION_RE.exec(text) : null;
  const module = m?.[1];
  const exportName = m?.[2];
  const sdkSub =
    module === SDK_MODULE_PREFIX || module?.startsWith(`${SDK_MODULE_PREFIX}/`)
      ? module.slice(SDK_MODULE_PREFIX.length + 1)
      : undefined;
  if (!module || !exportName || sdkSub?.split("/").includes("..")) {
    throw new FlyteDefinitionError(
      "EXECUTOR_LOCATION_INVALID",
      `executor location ${describeValue(location)} is not "<module>:<ExportName>"`,
      {
        entity,
        fix: 'write e.g. "flytekit-ts/plugins/sqlite:SQLite3TaskExecutor", "./executors/echo.ts:EchoExecutor" or "@acme/executors:EchoExecutor"',
      },
    );
  }
  const kind = sdkSub !== undefined ? "sdk" : isFilePath(module) ? "file" : "package";
  return { location: text as string, module, exportName, kind };
}

/** The SDK's own source folder (`src/` or `dist/`), where `flytekit-ts/<subpath>` modules live. */
const SDK_ROOT = fileURLToPath(new URL("../", import.meta.url));

function sdkModuleFile(sub: string): string | undefined {
  const base = sub === "" ? join(SDK_ROOT, "index") : join(SDK_ROOT, sub);
  for (const candidate of [`${base}.js`, `${base}.ts`, join(base, "index.js"), join(base, "index.ts")]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

let tsLoader: Promise<void> | undefined;

/** Registers tsx once, for executors written in TypeScript (only outside tsx). */
function ensureTypeScriptLoader(file: string): Promise<void> {
  if (!/\.(m|c)?tsx?$/.test(file) || process.execArgv.join(" ").includes("tsx")) return Promise.resolve();
  tsLoader ??= import("tsx/esm/api").then(({ register }) => {
    register();
  });
  return tsLoader;
}

function notFound(loc: ExecutorLocation, detail: string, cause?: unknown): FlyteExecutionError {
  return new FlyteExecutionError("EXECUTOR_NOT_FOUND", `cannot load executor ${loc.location}: ${detail}`, {
    entity: loc.location,
    origin: "SYSTEM",
    fix:
      loc.kind === "file"
        ? "ship the executor's file in the image (or the fast-registration bundle) at that path under the source root"
        : loc.kind === "sdk"
          ? "use an image whose flytekit-ts has this executor (a matching flytekit-ts version)"
          : `install the package "${loc.module}" in the image`,
    ...(cause === undefined ? {} : { cause }),
  });
}

async function importModule(loc: ExecutorLocation, sourceRoot: string): Promise<Record<string, unknown>> {
  let url: string;
  if (loc.kind === "sdk") {
    const file = sdkModuleFile(loc.module.slice(SDK_MODULE_PREFIX.length + 1));
    if (!file) throw notFound(loc, `the SDK (${SDK_ROOT}) has no module ${loc.module}`);
    url = pathToFileURL(file).href;
  } else if (loc.kind === "file") {
    const file = resolve(sourceRoot, loc.module);
    if (!existsSync(file)) throw notFound(loc, `${file} does not exist`);
    await ensureTypeScriptLoader(file);
    url = pathToFileURL(file).href;
  } else {
    try {
      return (await import(loc.module)) as Record<string, unknown>;
    } catch (first) {
      try {
        url = pathToFileURL(createRequire(join(sourceRoot, "package.json")).resolve(loc.module)).href;
      } catch {
        throw notFound(loc, (first as Error).message, first);
      }
    }
  }
  return (await import(url)) as Record<string, unknown>;
}

const cache = new Map<string, Promise<ShimTaskExecutor>>();

/**
 * Loads the executor at `location` and creates it (once per location and source root).
 * Throws `FlyteExecutionError` `EXECUTOR_NOT_FOUND` (SYSTEM: the image lacks the code) or
 * `EXECUTOR_INVALID` (the export is not a ShimTaskExecutor subclass).
 */
export function loadExecutor(
  location: string,
  sourceRoot = process.env.FLYTE_SOURCE_ROOT ?? process.cwd(),
): Promise<ShimTaskExecutor> {
  const key = `${sourceRoot}\0${location}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = createExecutor(location, sourceRoot);
    hit.catch(() => cache.delete(key));
    cache.set(key, hit);
  }
  return hit;
}

async function createExecutor(location: string, sourceRoot: string): Promise<ShimTaskExecutor> {
  let loc: ExecutorLocation;
  try {
    loc = parseExecutorLocation(location, location);
  } catch (err) {
    const e = err as FlyteDefinitionError;
    throw new FlyteExecutionError(e.code, e.message, { origin: "SYSTEM", cause: err });
  }
  const mod = await importModule(loc, sourceRoot);
  const cls = mod[loc.exportName];
  const isSubclass =
    typeof cls === "function" && (cls as { prototype?: unknown }).prototype instanceof ShimTaskExecutor;
  if (!isSubclass) {
    throw new FlyteExecutionError(
      "EXECUTOR_INVALID",
      `${loc.module} exports ${describeValue(cls)} as "${loc.exportName}", not a ShimTaskExecutor subclass`,
      {
        entity: loc.location,
        origin: "USER",
        fix: `export class ${loc.exportName} extends ShimTaskExecutor { ... } from ${loc.module}`,
      },
    );
  }
  return new (cls as new () => ShimTaskExecutor)();
}
