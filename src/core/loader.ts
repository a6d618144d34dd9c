/**
 * Naming entities by where they are exported: the loader imports a user module and gives each
 * exported task, workflow and launch plan the stable name `<module>.<export name>`, which the
 * runtime uses to find the task again inside the container.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { FlyteUsageError } from "../errors.js";
import { Entity, moduleName } from "./entity.js";

/** The entities of a loaded module, by export name. */
export interface LoadedModule {
  readonly file: string;
  readonly module: string;
  readonly entities: ReadonlyMap<string, Entity>;
}

/** Names the entities among a module's exports. */
export function nameExports(
  file: string,
  sourceRoot: string,
  exports: Record<string, unknown>,
): LoadedModule {
  const module = moduleName(resolve(file), resolve(sourceRoot));
  const entities = new Map<string, Entity>();
  for (const [exportName, value] of Object.entries(exports)) {
    if (value instanceof Entity) {
      value.assignName(module, exportName);
      entities.set(exportName, value);
    }
  }
  return { file: resolve(file), module, entities };
}

let tsLoader: Promise<void> | undefined;

/** Registers tsx's loader once, the first time a TypeScript module needs it. */
function ensureTypeScriptLoader(): Promise<void> {
  tsLoader ??= import("tsx/esm/api").then(({ register }) => {
    register();
  });
  return tsLoader;
}

/** TypeScript modules imported from their compiled files (real paths). */
const compiled = new Set<string>();
/** Set once a TypeScript module went through tsx: later ones do too, so no module loads twice. */
let tsxInUse = false;

/**
 * Whether TypeScript modules may be loaded from compiled files (see `compiled-modules.ts`): not
 * with `TSFLYTE_TS_LOADER=tsx`, and not when another loader already handles TypeScript in this
 * process (this file itself runs as TypeScript, as under vitest, or tsx and the like are in the
 * Node flags): a module the caller imported through that loader would get a second instance.
 */
function compiledLoadingAllowed(): boolean {
  if (process.env.TSFLYTE_TS_LOADER === "tsx" || /\.[cm]?tsx?$/.test(import.meta.url)) return false;
  const flags = `${process.execArgv.join(" ")} ${process.env.NODE_OPTIONS ?? ""}`;
  return !/tsx|ts-node|@swc-node|esbuild-register|--loader|--experimental-loader/.test(flags);
}

/** Errors Node raises while resolving, loading or linking a module graph: before any code ran. */
const LINK_ERRORS = new Set([
  "ERR_MODULE_NOT_FOUND",
  "ERR_UNKNOWN_FILE_EXTENSION",
  "ERR_UNSUPPORTED_DIR_IMPORT",
  "ERR_PACKAGE_PATH_NOT_EXPORTED",
  "ERR_PACKAGE_IMPORT_NOT_DEFINED",
  "ERR_INVALID_MODULE_SPECIFIER",
  "ERR_UNSUPPORTED_ESM_URL_SCHEME",
  "ERR_IMPORT_ATTRIBUTE_MISSING",
  "ERR_IMPORT_ASSERTION_TYPE_MISSING",
]);

function debug(line: string): void {
  if (process.env.TSFLYTE_DEBUG) process.stderr.write(`[loader] ${line}\n`);
}

/**
 * Imports a TypeScript module: compiled with esbuild into the package's `.tsflyte/` cache when
 * that gives the same program, through tsx otherwise (and when compiled loading fails before
 * any module code ran, e.g. an import only tsx resolves).
 */
async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  if (!tsxInUse && compiledLoadingAllowed()) {
    const { compileModuleGraph } = await import("./compiled-modules.js");
    const graph = await compileModuleGraph(file);
    const shared = graph.modules.filter((m) => compiled.has(m));
    if (graph.url !== undefined) {
      for (const m of graph.modules) compiled.add(m);
      try {
        // The compiled files' source maps lead stack traces (and entity source files) to the sources.
        process.setSourceMapsEnabled(true);
        return (await import(graph.url)) as Record<string, unknown>;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const beforeRun = (e.code !== undefined && LINK_ERRORS.has(e.code)) || e instanceof SyntaxError;
        // Modules already loaded compiled would load a second time through tsx: keep the error.
        if (!beforeRun || shared.length > 0) throw err;
        for (const m of graph.modules) compiled.delete(m);
        debug(`${file}: compiled import failed (${e.message.split("\n")[0]}), retrying with tsx`);
      }
    } else {
      debug(`${file}: loaded with tsx: ${graph.reason}`);
      if (shared.length > 0) {
        throw new FlyteUsageError(
          "MODULE_LOADER_CONFLICT",
          `${file} must be loaded with tsx (${graph.reason}), but it imports ${shared[0]}, already loaded compiled`,
          {
            entity: file,
            fix: "set TSFLYTE_TS_LOADER=tsx to load every TypeScript module with tsx",
          },
        );
      }
    }
  }
  tsxInUse = true;
  if (!process.execArgv.join(" ").includes("tsx")) await ensureTypeScriptLoader();
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/**
 * Imports a module (TypeScript compiled on first use, or through tsx; see `importTypeScript`) and
 * names its entities. Throws `FlyteUsageError` `MODULE_NOT_FOUND` when the file does not exist
 * and `MODULE_IMPORT_NOT_FOUND` when it imports a package or file that cannot be found.
 */
export async function loadModule(file: string, sourceRoot = process.cwd()): Promise<LoadedModule> {
  const abs = resolve(file);
  if (!existsSync(abs)) {
    throw new FlyteUsageError("MODULE_NOT_FOUND", `cannot find ${file}`, {
      entity: file,
      fix: "check the path",
    });
  }
  let exports: Record<string, unknown>;
  try {
    exports = /\.(m|c)?tsx?$/.test(abs)
      ? await importTypeScript(abs)
      : ((await import(pathToFileURL(abs).href)) as Record<string, unknown>);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ERR_MODULE_NOT_FOUND") {
      // Node names the missing package or file; the module itself exists (checked above).
      const missing = /^Cannot find (?:package|module) '([^']+)'/.exec(String(e.message))?.[1];
      throw new FlyteUsageError(
        "MODULE_IMPORT_NOT_FOUND",
        `${file} imports ${missing ?? "a module"} which cannot be found (${e.message})`,
        {
          entity: file,
          fix: "install the package (npm install) or correct the import path",
          cause: err,
        },
      );
    }
    throw err;
  }
  return nameExports(abs, sourceRoot, exports);
}

/** Finds an entity by export name or Flyte name. */
export function findEntity(mod: LoadedModule, name: string): Entity {
  const byExport = mod.entities.get(name);
  if (byExport) return byExport;
  for (const e of mod.entities.values()) if (e.name === name) return e;
  throw new FlyteUsageError(
    "ENTITY_NOT_FOUND",
    `no task, workflow or launch plan named "${name}" in ${mod.file}`,
    {
      entity: name,
      fix: `export it from the module; found: ${[...mod.entities.keys()].join(", ") || "nothing"}`,
    },
  );
}
