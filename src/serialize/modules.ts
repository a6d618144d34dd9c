/**
 * From user modules to serialized entities, as `tsflyte serialize` and `tsflyte package` do it:
 * load each module (naming its exports relative to the source root), build the serialization
 * settings from `--image` flags and the Flyte config file, and serialize everything the
 * exported entities need.
 */
import { relative, resolve, sep } from "node:path";
import type { Entity } from "../core/entity.js";
import { loadModule } from "../core/loader.js";
import { FlyteUsageError } from "../errors.js";
import { readFlyteConfig } from "../images/config-file.js";
import { ImageConfig } from "../images/image-config.js";
import { type SerializedEntity, serializeEntities } from "./entities.js";
import { type FastSerializationSettings, SerializationSettings } from "./settings.js";

/** Options shared by `tsflyte serialize` and `tsflyte package`. */
export interface ModuleSerializationOptions {
  /** `--image` values: `name=ref` or a bare default `ref`. */
  images?: readonly string[];
  project?: string | undefined;
  domain?: string | undefined;
  version?: string | undefined;
  /** The root module names are relative to; default the working directory. */
  sourceRoot?: string | undefined;
  /** A Flyte config file (its `images:` map is used). */
  config?: string | undefined;
  /** Environment variables for every task container. */
  env?: Readonly<Record<string, string>> | undefined;
  /** Progress lines (default: none). */
  log?: ((line: string) => void) | undefined;
  /** Fast registration: the code ships as a bundle instead of in the image. */
  fast?: FastSerializationSettings | undefined;
}

/** The serialization settings for the options. */
export function settingsFromOptions(options: ModuleSerializationOptions): SerializationSettings {
  const configFile = readFlyteConfig(options.config === undefined ? {} : { configPath: options.config });
  const imageConfig = ImageConfig.fromSources({ configFile, cli: options.images ?? [] });
  return new SerializationSettings({
    project: options.project,
    domain: options.domain,
    version: options.version,
    imageConfig,
    env: options.env,
    sourceRoot: resolve(options.sourceRoot ?? process.cwd()),
    fastSerializationSettings: options.fast,
  });
}

/** Loads the modules and returns their exported entities (in file order, then by export name). */
export async function loadEntities(
  files: readonly string[],
  sourceRoot: string,
  log?: (line: string) => void,
): Promise<Entity[]> {
  const root = resolve(sourceRoot);
  const out: Entity[] = [];
  for (const file of files) {
    const abs = resolve(file);
    const rel = relative(root, abs);
    if (rel.startsWith(`..${sep}`) || rel === ".." || resolve(root, rel) !== abs) {
      throw new FlyteUsageError(
        "MODULE_OUTSIDE_SOURCE_ROOT",
        `${file} is not under the source root ${root}`,
        {
          entity: file,
          fix: "pass --source-root with a folder that contains every module",
        },
      );
    }
    log?.(`loading ${rel}`);
    const mod = await loadModule(abs, root);
    if (mod.entities.size === 0) log?.(`  ${rel} exports no tasks, workflows or launch plans`);
    // Export order is not the same under every loader (native ESM sorts namespace keys, some
    // transpilers keep source order): sort by export name so packages do not depend on it.
    out.push(
      ...[...mod.entities.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e),
    );
  }
  return out;
}

/** Loads the modules and serializes everything their exported entities need, dependencies first. */
export async function serializeModules(
  files: readonly string[],
  options: ModuleSerializationOptions = {},
): Promise<{ settings: SerializationSettings; entities: SerializedEntity[] }> {
  if (files.length === 0)
    throw new FlyteUsageError("NO_MODULES", "no modules given", {
      fix: "pass one or more .ts or .js files that export tasks and workflows",
    });
  const settings = settingsFromOptions(options);
  const entities = await loadEntities(files, settings.sourceRoot ?? process.cwd(), options.log);
  const kinds = {
    task: "task",
    mapTask: "map task",
    workflow: "workflow",
    launchPlan: "launch plan",
  } as const;
  const serialized = await serializeEntities(entities, settings, {
    onEntity: (r, i, n) => options.log?.(`[${i + 1}/${n}] ${kinds[r.kind]} ${r.name}`),
  });
  return { settings, entities: serialized };
}
