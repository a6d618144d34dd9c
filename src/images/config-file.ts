/**
 * The Flyte config file (the YAML file `flytectl config init` writes), read once for everyone:
 * this module checks the `images:` section and hands back the whole document for the other
 * sections (`admin`, `storage`, ...), which their own readers check.
 *
 * The file is found by, in order: the `configPath` option (the CLI's `--config`), the
 * `FLYTECTL_CONFIG` environment variable, `~/.flyte/config.yaml`. A file named by the first two
 * must exist; the last one is optional.
 *
 * ```yaml
 * admin:
 *   endpoint: dns:///localhost:30080
 * images:
 *   default: ghcr.io/acme/app:v3
 *   spark: ghcr.io/acme/spark:3.5
 * ```
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type * as Yaml from "yaml";
import { describeValue, FlyteError, type FlyteErrorOptions } from "../errors.js";
import { DEFAULT_IMAGE_NAME, IMAGE_NAME_PATTERN, referenceProblem } from "./image.js";

let yaml: typeof Yaml | undefined;

/**
 * The `yaml` package, loaded the first time a config file is parsed: every program that imports
 * the SDK loads this module, a running task never parses a config file, and loading `yaml` costs
 * a cold start tens of milliseconds.
 */
function yamlModule(): typeof Yaml {
  yaml ??= createRequire(import.meta.url)("yaml") as typeof Yaml;
  return yaml;
}

/** The environment variable that names the config file (shared with flytectl and flytekit). */
export const FLYTECTL_CONFIG_ENV = "FLYTECTL_CONFIG";

/** Options of `FlyteConfigError`. */
export interface FlyteConfigErrorOptions extends FlyteErrorOptions {
  /** The config file involved. */
  file?: string;
  /** The key involved, as a dotted path, e.g. `images.spark`. */
  key?: string;
}

/** A configuration file or value is missing, unreadable or has the wrong shape. */
export class FlyteConfigError extends FlyteError {
  /** The config file involved, when there is one. */
  readonly file: string | undefined;
  /** The dotted key involved, e.g. `images.spark`, when there is one. */
  readonly key: string | undefined;

  constructor(code: string, message: string, options: FlyteConfigErrorOptions = {}) {
    const { file, key, ...rest } = options;
    const entity = rest.entity ?? file;
    super(code, message, entity === undefined ? rest : { ...rest, entity });
    this.file = file;
    this.key = key;
  }
}

/** How the config file was found. */
export type FlyteConfigOrigin = "configPath" | "FLYTECTL_CONFIG" | "home";

/** A Flyte config file, read and with its `images:` section checked. */
export interface FlyteConfig {
  /** The absolute path of the file. */
  readonly path: string;
  /** How the file was found: the `configPath` option, `FLYTECTL_CONFIG`, or `~/.flyte/config.yaml`. */
  readonly origin: FlyteConfigOrigin;
  /** The `images:` map, name to reference (each reference checked); empty when absent. */
  readonly images: Readonly<Record<string, string>>;
  /** The whole document, for the other sections (`admin`, `storage`, ...). */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Options of `readFlyteConfig` and `locateFlyteConfig`. */
export interface FlyteConfigOptions {
  /** An explicit file (the CLI's `--config`); relative to the working directory; `~/` expands. */
  configPath?: string | undefined;
  /** The environment to read `FLYTECTL_CONFIG` and `HOME` from; default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * Where the config file is: `{ path, origin }`, or `undefined` when no option or variable names
 * one and `~/.flyte/config.yaml` does not exist. Does not check that a named file exists.
 */
export function locateFlyteConfig(
  options: FlyteConfigOptions = {},
): { path: string; origin: FlyteConfigOrigin } | undefined {
  const env = options.env ?? process.env;
  if (options.configPath !== undefined && options.configPath !== "") {
    return { path: expandPath(options.configPath, env), origin: "configPath" };
  }
  const fromEnv = env[FLYTECTL_CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== "")
    return { path: expandPath(fromEnv, env), origin: "FLYTECTL_CONFIG" };
  const home = join(homeOf(env), ".flyte", "config.yaml");
  return existsSync(home) ? { path: home, origin: "home" } : undefined;
}

/**
 * Reads the Flyte config file (see `locateFlyteConfig` for where it is looked for) and checks
 * its `images:` section. Returns `undefined` when there is no file to read. Throws
 * `FlyteConfigError`: `CONFIG_NOT_FOUND` (a file named by `configPath` or `FLYTECTL_CONFIG`
 * does not exist), `CONFIG_UNREADABLE`, `CONFIG_NOT_YAML`, `CONFIG_SHAPE` (not a mapping at the
 * top), `CONFIG_IMAGES_SHAPE`, `CONFIG_IMAGE_VALUE`, `IMAGE_NAME_INVALID`, `IMAGE_REF_INVALID`,
 * `IMAGE_REF_NO_VERSION`; each names the file and the key.
 */
export function readFlyteConfig(options: FlyteConfigOptions = {}): FlyteConfig | undefined {
  const located = locateFlyteConfig(options);
  if (!located) return undefined;
  let text: string;
  try {
    text = readFileSync(located.path, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const namedBy = located.origin === "configPath" ? "--config" : `$${located.origin}`;
    if (e.code === "ENOENT") {
      throw new FlyteConfigError(
        "CONFIG_NOT_FOUND",
        `the Flyte config file ${located.path} (named by ${namedBy}) does not exist`,
        {
          file: located.path,
          fix: `create it (flytectl config init writes one) or point ${namedBy} at an existing file`,
          cause: err,
        },
      );
    }
    throw new FlyteConfigError(
      "CONFIG_UNREADABLE",
      `cannot read the Flyte config file ${located.path}: ${e.message}`,
      {
        file: located.path,
        fix: "check that it is a readable file",
        cause: err,
      },
    );
  }
  return parseFlyteConfig(text, located.path, located.origin);
}

/** Parses the text of a Flyte config file; `path` is used in errors. Throws like `readFlyteConfig`. */
export function parseFlyteConfig(
  text: string,
  path: string,
  origin: FlyteConfigOrigin = "configPath",
): FlyteConfig {
  let doc: unknown;
  try {
    doc = yamlModule().parse(text);
  } catch (err) {
    const where = lineOf(err);
    const detail = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new FlyteConfigError(
      "CONFIG_NOT_YAML",
      `the Flyte config file is not valid YAML${where}: ${detail}`,
      {
        file: path,
        fix: "fix the YAML syntax (a mapping of sections such as admin:, storage:, images:)",
        cause: err,
      },
    );
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isMapping(doc)) {
    throw new FlyteConfigError(
      "CONFIG_SHAPE",
      `the Flyte config file must be a mapping of sections, not ${kindOf(doc)}`,
      {
        file: path,
        fix: "write sections at the top level, e.g. admin:, storage:, images:",
      },
    );
  }
  const raw = deepFreeze(doc);
  return Object.freeze({ path, origin, images: checkImages(raw.images, path), raw });
}

/**
 * One section of the config file as a mapping (e.g. `configSection(cfg, "admin")`), or
 * `undefined` when absent or empty. Throws `FlyteConfigError` `CONFIG_SHAPE` when it is not a mapping.
 */
export function configSection(
  config: FlyteConfig,
  key: string,
): Readonly<Record<string, unknown>> | undefined {
  const value = config.raw[key];
  if (value === undefined || value === null) return undefined;
  if (!isMapping(value)) {
    throw new FlyteConfigError("CONFIG_SHAPE", `section ${key} must be a mapping, not ${kindOf(value)}`, {
      file: config.path,
      key,
      fix: `write ${key}: followed by indented key: value lines`,
    });
  }
  return value;
}

function checkImages(value: unknown, file: string): Readonly<Record<string, string>> {
  if (value === undefined || value === null) return Object.freeze({});
  if (!isMapping(value)) {
    throw new FlyteConfigError(
      "CONFIG_IMAGES_SHAPE",
      `images must be a mapping of image name to reference, not ${kindOf(value)}`,
      {
        file,
        key: "images",
        fix: "write images: followed by lines such as   spark: ghcr.io/acme/spark:3.5",
      },
    );
  }
  const images: Record<string, string> = {};
  for (const [name, ref] of Object.entries(value)) {
    const key = `images.${name}`;
    if (!IMAGE_NAME_PATTERN.test(name)) {
      throw new FlyteConfigError(
        "IMAGE_NAME_INVALID",
        `image name ${JSON.stringify(name)} may only contain letters, digits, '_' and '-'`,
        {
          file,
          key,
          fix: "rename the image, e.g. spark or my-image (templates refer to it as {{.image.<name>}})",
        },
      );
    }
    if (typeof ref !== "string") {
      const found = ref === null ? "it is empty" : `not ${kindOf(ref)} ${describeValue(ref)}`;
      throw new FlyteConfigError("CONFIG_IMAGE_VALUE", `${key} must be an image reference string; ${found}`, {
        file,
        key,
        fix: `write ${name}: <registry>/<path>:<tag>`,
      });
    }
    const problem = referenceProblem(ref);
    if (problem) {
      throw new FlyteConfigError(
        "IMAGE_REF_INVALID",
        `${key} = ${JSON.stringify(ref)} is not a valid image reference: ${problem}`,
        {
          file,
          key,
          fix: "write <registry>/<path>:<tag> or <registry>/<path>@sha256:<digest>, e.g. ghcr.io/acme/app:v1",
        },
      );
    }
    if (name.toLowerCase() === DEFAULT_IMAGE_NAME && !hasVersion(ref)) {
      throw new FlyteConfigError(
        "IMAGE_REF_NO_VERSION",
        `${key} = ${JSON.stringify(ref)} has no tag or digest; the default image needs one`,
        {
          file,
          key,
          fix: `add a tag, e.g. ${ref}:v1`,
        },
      );
    }
    images[name] = ref;
  }
  return Object.freeze(images);
}

function hasVersion(ref: string): boolean {
  return ref.includes("@") || ref.lastIndexOf(":") > ref.lastIndexOf("/");
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Map);
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `a ${typeof value}`;
}

function lineOf(err: unknown): string {
  const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
  return pos ? ` at line ${pos.line}, column ${pos.col}` : "";
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME || env.USERPROFILE || homedir();
}

function expandPath(path: string, env: NodeJS.ProcessEnv): string {
  if (path === "~") return homeOf(env);
  if (path.startsWith("~/")) return join(homeOf(env), path.slice(2));
  return resolve(path);
}
