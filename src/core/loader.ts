/**
 * Naming entities by where they are exported: the loader imports a user module and gives each
 * exported task, workflow and launch plan the stable name `<module>.<export name>`, which the
 * runtime uses to find the task again inside the container.
 */
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

/** Registers tsx's loader once, the first time a TypeScript module is imported. */
function ensureTypeScriptLoader(): Promise<void> {
  tsLoader ??= import("tsx/esm/api").then(({ register }) => {
    register();
  });
  return tsLoader;
}

/** Imports a module (TypeScript through tsx, registered on demand) and names its entities. */
export async function loadModule(file: string, sourceRoot = process.cwd()): Promise<LoadedModule> {
  const abs = resolve(file);
  let exports: Record<string, unknown>;
  if (/\.(m|c)?tsx?$/.test(abs) && !process.execArgv.join(" ").includes("tsx"))
    await ensureTypeScriptLoader();
  try {
    exports = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes(abs)) {
      throw new FlyteUsageError("MODULE_NOT_FOUND", `cannot find ${file}`, {
        entity: file,
        fix: "check the path",
      });
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
