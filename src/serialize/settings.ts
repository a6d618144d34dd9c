/**
 * Serialization settings: what turning tasks and workflows into flyteidl messages needs to know
 * besides the entities themselves (project, domain, version, the images, environment variables,
 * where the SDK lives inside the image, fast registration).
 *
 * Settings are immutable. They travel into every task container as the environment variable
 * `_F_SS_C` (base64 of gzip of JSON, with flytekit's key names where the concepts match), from
 * which the runtime reads them back, e.g. to serialize the sub-workflow of a dynamic task.
 *
 * ```ts
 * const settings = SerializationSettings.forImage("ghcr.io/acme/app:v3", "v3")
 *   .newBuilder()
 *   .project("flytesnacks")
 *   .domain("development")
 *   .build()
 *   .withSerializedContext();
 * // in the container:
 * const again = SerializationSettings.fromEnvironment(process.env);
 * ```
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { describeValue, FlyteUsageError } from "../errors.js";
import { FlyteConfigError } from "../images/config-file.js";
import { ImageConfig, type ImageConfigJson } from "../images/image-config.js";

/** The environment variable that carries the serialized settings into containers (as in flytekit). */
export const SERIALIZED_CONTEXT_ENV_VAR = "_F_SS_C";

/** The SDK's entrypoint command inside an image (a `bin` of the flytekit-ts package, on `PATH`). */
export const DEFAULT_ENTRYPOINT = "tsflyte-execute";

/** Where `node` is in the official Node.js images. */
export const DEFAULT_NODE_INTERPRETER = "/usr/local/bin/node";

/** Where `npm install -g flytekit-ts` puts the SDK in the official Node.js images. */
export const DEFAULT_SDK_ROOT = "/usr/local/lib/node_modules/flytekit-ts";

/** Where the entrypoint program is inside the image. */
export interface EntrypointSettings {
  /** A command on `PATH` (default `tsflyte-execute`) or an absolute path. */
  readonly path: string;
}

/** Settings for fast registration: the user's code ships as a bundle instead of in the image. */
export interface FastSerializationSettings {
  /** Whether entities are serialized for fast registration. */
  readonly enabled: boolean;
  /** Where the bundle is unpacked inside the container. */
  readonly destinationDir?: string | undefined;
  /** Where the bundle was uploaded (e.g. an `s3://` URI). */
  readonly distributionLocation?: string | undefined;
}

/** What `SerializationSettings` is built from; everything but the image config has a default. */
export interface SerializationSettingsInit {
  /** Project to register under; absent when registration fills it in. */
  project?: string | undefined;
  /** Domain to register under; absent when registration fills it in. */
  domain?: string | undefined;
  /** Version to register under; absent when registration fills it in. */
  version?: string | undefined;
  /** The images; default `ImageConfig.autoDefaultImage()`. */
  imageConfig?: ImageConfig | undefined;
  /** Environment variables put in every task container. */
  env?: Readonly<Record<string, string>> | undefined;
  /** The entrypoint inside the image; default `{ path: "tsflyte-execute" }`. */
  entrypointSettings?: EntrypointSettings | undefined;
  /** The `node` executable inside the image; default `/usr/local/bin/node`. */
  nodeInterpreter?: string | undefined;
  /** Where the flytekit-ts package is inside the image; default `/usr/local/lib/node_modules/flytekit-ts`. */
  sdkRoot?: string | undefined;
  /** Fast registration; absent means off. */
  fastSerializationSettings?: FastSerializationSettings | undefined;
  /** The root of the user's source tree (module names are relative to it). */
  sourceRoot?: string | undefined;
}

/**
 * The JSON carried in `_F_SS_C`. Keys shared with flytekit's `SerializationSettings` keep its
 * names (`project`, `domain`, `version`, `image_config`, `env`, `fast_serialization_settings`
 * `{ enabled, destination_dir, distribution_location }`, `source_root`); Node-specific ones are
 * `node_interpreter` and `sdk_root` (flytekit's `python_interpreter` and
 * `flytekit_virtualenv_root`), and `entrypoint_settings` `{ path }`.
 */
export interface SerializationSettingsJson {
  image_config: ImageConfigJson;
  project: string | null;
  domain: string | null;
  version: string | null;
  env: Record<string, string> | null;
  node_interpreter: string;
  sdk_root: string;
  entrypoint_settings: { path: string };
  fast_serialization_settings: {
    enabled: boolean;
    destination_dir: string | null;
    distribution_location: string | null;
  } | null;
  source_root: string | null;
}

/** Options of `SerializationSettings.forImage`. */
export interface ForImageOptions {
  /** Project to register under. */
  project?: string | undefined;
  /** Domain to register under. */
  domain?: string | undefined;
  /** The `node` executable inside the image. */
  nodeInterpreter?: string | undefined;
  /** Where the SDK is inside the image. */
  sdkRoot?: string | undefined;
}

/** Immutable settings for serializing entities. Build with the constructor, `forImage` or a builder. */
export class SerializationSettings {
  /** Project to register under, if known. */
  readonly project: string | undefined;
  /** Domain to register under, if known. */
  readonly domain: string | undefined;
  /** Version to register under, if known. */
  readonly version: string | undefined;
  /** The images tasks may use; resolves each task's `containerImage`. */
  readonly imageConfig: ImageConfig;
  /** Environment variables put in every task container (frozen). */
  readonly env: Readonly<Record<string, string>>;
  /** The entrypoint inside the image. */
  readonly entrypointSettings: EntrypointSettings;
  /** The `node` executable inside the image. */
  readonly nodeInterpreter: string;
  /** Where the flytekit-ts package is inside the image. */
  readonly sdkRoot: string;
  /** Fast registration settings, if any. */
  readonly fastSerializationSettings: FastSerializationSettings | undefined;
  /** The root of the user's source tree, if known. */
  readonly sourceRoot: string | undefined;

  /** Checks and freezes the settings; throws `FlyteUsageError` `SETTINGS_INVALID` on a wrong value. */
  constructor(init: SerializationSettingsInit = {}) {
    this.project = optionalString(init.project, "project");
    this.domain = optionalString(init.domain, "domain");
    this.version = optionalString(init.version, "version");
    if (init.imageConfig !== undefined && !(init.imageConfig instanceof ImageConfig)) {
      throw invalidSetting(
        "imageConfig",
        init.imageConfig,
        "pass an ImageConfig, e.g. ImageConfig.fromImages(...)",
      );
    }
    this.imageConfig = init.imageConfig ?? ImageConfig.autoDefaultImage();
    this.env = checkEnv(init.env);
    const entrypoint =
      optionalString(init.entrypointSettings?.path, "entrypointSettings.path") ?? DEFAULT_ENTRYPOINT;
    this.entrypointSettings = Object.freeze({ path: nonEmpty(entrypoint, "entrypointSettings.path") });
    this.nodeInterpreter = nonEmpty(
      optionalString(init.nodeInterpreter, "nodeInterpreter") ?? DEFAULT_NODE_INTERPRETER,
      "nodeInterpreter",
    );
    this.sdkRoot = nonEmpty(optionalString(init.sdkRoot, "sdkRoot") ?? DEFAULT_SDK_ROOT, "sdkRoot");
    this.fastSerializationSettings = checkFast(init.fastSerializationSettings);
    this.sourceRoot = optionalString(init.sourceRoot, "sourceRoot");
    Object.freeze(this);
  }

  /** Settings for one default image (flytekit's `SerializationSettings.for_image`). */
  static forImage(image: string, version: string, options: ForImageOptions = {}): SerializationSettings {
    return new SerializationSettings({ ...options, version, imageConfig: ImageConfig.fromImages(image) });
  }

  /** Reads the `_F_SS_C` text (base64 of gzip of JSON) back into settings; also reads flytekit's. */
  static fromSerializedContext(text: string): SerializationSettings {
    const trimmed = typeof text === "string" ? text.trim() : "";
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) {
      throw invalidContext(`it is not base64 (${describeValue(text)})`);
    }
    let json: string;
    try {
      json = gunzipSync(Buffer.from(trimmed, "base64"), { maxOutputLength: 16 * 1024 * 1024 }).toString(
        "utf8",
      );
    } catch (err) {
      throw invalidContext(`it is not gzip data (${(err as Error).message})`, err);
    }
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (err) {
      throw invalidContext(`it does not hold JSON (${(err as Error).message})`, err);
    }
    return SerializationSettings.fromJSON(value);
  }

  /** The settings carried in `env._F_SS_C`, or `undefined` when the variable is not set. */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): SerializationSettings | undefined {
    const text = env[SERIALIZED_CONTEXT_ENV_VAR];
    return text === undefined || text === "" ? undefined : SerializationSettings.fromSerializedContext(text);
  }

  /**
   * Reads the JSON form (`toJSON`, or flytekit's `SerializationSettings.to_json()`: its
   * Python-only keys are ignored). Throws `FlyteConfigError` `SERIALIZED_CONTEXT_INVALID`.
   */
  static fromJSON(json: unknown): SerializationSettings {
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw invalidContext(`the JSON is ${describeValue(json)}, not an object`);
    }
    const rec = json as Record<string, unknown>;
    const str = (key: string): string | undefined => {
      const v = rec[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== "string") throw invalidContext(`${key} is ${describeValue(v)}, not a string`);
      return v;
    };
    const env = rec.env ?? null;
    if (env !== null && (typeof env !== "object" || Array.isArray(env)))
      throw invalidContext(`env is ${describeValue(env)}, not an object`);
    const ep = rec.entrypoint_settings ?? null;
    if (ep !== null && (typeof ep !== "object" || Array.isArray(ep))) {
      throw invalidContext(`entrypoint_settings is ${describeValue(ep)}, not an object`);
    }
    const epPath = (ep as { path?: unknown } | null)?.path;
    if (epPath !== undefined && epPath !== null && typeof epPath !== "string") {
      throw invalidContext(`entrypoint_settings.path is ${describeValue(epPath)}, not a string`);
    }
    const fast = rec.fast_serialization_settings ?? null;
    let fastSettings: FastSerializationSettings | undefined;
    if (fast !== null) {
      if (typeof fast !== "object" || Array.isArray(fast))
        throw invalidContext(`fast_serialization_settings is ${describeValue(fast)}, not an object`);
      const f = fast as Record<string, unknown>;
      const enabled = f.enabled ?? false;
      if (typeof enabled !== "boolean")
        throw invalidContext(
          `fast_serialization_settings.enabled is ${describeValue(enabled)}, not a boolean`,
        );
      for (const key of ["destination_dir", "distribution_location"]) {
        const v = f[key];
        if (v !== undefined && v !== null && typeof v !== "string") {
          throw invalidContext(`fast_serialization_settings.${key} is ${describeValue(v)}, not a string`);
        }
      }
      fastSettings = {
        enabled,
        destinationDir: (f.destination_dir as string | null | undefined) ?? undefined,
        distributionLocation: (f.distribution_location as string | null | undefined) ?? undefined,
      };
    }
    const imageJson = rec.image_config;
    try {
      return new SerializationSettings({
        project: str("project"),
        domain: str("domain"),
        version: str("version"),
        imageConfig:
          imageJson === undefined || imageJson === null ? undefined : ImageConfig.fromJSON(imageJson),
        env: (env ?? undefined) as Record<string, string> | undefined,
        entrypointSettings: typeof epPath === "string" ? { path: epPath } : undefined,
        nodeInterpreter: str("node_interpreter"),
        sdkRoot: str("sdk_root"),
        fastSerializationSettings: fastSettings,
        sourceRoot: str("source_root"),
      });
    } catch (err) {
      if (err instanceof FlyteConfigError && err.code === "SERIALIZED_CONTEXT_INVALID") throw err;
      const detail =
        err instanceof FlyteConfigError || err instanceof FlyteUsageError ? err.message : String(err);
      throw invalidContext(detail, err);
    }
  }

  /** A builder holding a copy of these settings. */
  newBuilder(): SerializationSettingsBuilder {
    return new SerializationSettingsBuilder(this);
  }

  /** Whether entities are serialized for fast registration. */
  shouldFastSerialize(): boolean {
    return this.fastSerializationSettings?.enabled === true;
  }

  /** The JSON form (see `SerializationSettingsJson`); `env` leaves out `_F_SS_C` itself. */
  toJSON(): SerializationSettingsJson {
    const env = Object.fromEntries(
      Object.entries(this.env).filter(([k]) => k !== SERIALIZED_CONTEXT_ENV_VAR),
    );
    const fast = this.fastSerializationSettings;
    return {
      image_config: this.imageConfig.toJSON(),
      project: this.project ?? null,
      domain: this.domain ?? null,
      version: this.version ?? null,
      env,
      node_interpreter: this.nodeInterpreter,
      sdk_root: this.sdkRoot,
      entrypoint_settings: { path: this.entrypointSettings.path },
      fast_serialization_settings: fast
        ? {
            enabled: fast.enabled,
            destination_dir: fast.destinationDir ?? null,
            distribution_location: fast.distributionLocation ?? null,
          }
        : null,
      source_root: this.sourceRoot ?? null,
    };
  }

  /**
   * These settings as the value of `_F_SS_C`: base64 of gzip (mtime 0, so the same settings
   * always give the same text) of `toJSON()`. Always computed from the settings themselves.
   */
  get serializedContext(): string {
    return gzipSync(Buffer.from(JSON.stringify(this.toJSON()), "utf8")).toString("base64");
  }

  /** Settings whose `env` also holds `_F_SS_C` with these settings (replacing any earlier value). */
  withSerializedContext(): SerializationSettings {
    const context = this.serializedContext;
    if (this.env[SERIALIZED_CONTEXT_ENV_VAR] === context) return this;
    return this.newBuilder().addEnv(SERIALIZED_CONTEXT_ENV_VAR, context).build();
  }
}

/** A mutable copy of settings; `build()` makes new immutable settings. Every setter returns the builder. */
export class SerializationSettingsBuilder {
  #init: SerializationSettingsInit;

  /** Starts from `from` (settings or their parts), or from the defaults. */
  constructor(from: SerializationSettings | SerializationSettingsInit = {}) {
    this.#init = {
      project: from.project,
      domain: from.domain,
      version: from.version,
      imageConfig: from.imageConfig,
      env: { ...(from.env ?? {}) },
      entrypointSettings: from.entrypointSettings,
      nodeInterpreter: from.nodeInterpreter,
      sdkRoot: from.sdkRoot,
      fastSerializationSettings: from.fastSerializationSettings,
      sourceRoot: from.sourceRoot,
    };
  }

  /** Sets the project. */
  project(project: string | undefined): this {
    this.#init.project = project;
    return this;
  }

  /** Sets the domain. */
  domain(domain: string | undefined): this {
    this.#init.domain = domain;
    return this;
  }

  /** Sets the version. */
  version(version: string | undefined): this {
    this.#init.version = version;
    return this;
  }

  /** Sets the images. */
  imageConfig(imageConfig: ImageConfig): this {
    this.#init.imageConfig = imageConfig;
    return this;
  }

  /** Replaces all environment variables. */
  env(env: Readonly<Record<string, string>>): this {
    this.#init.env = { ...env };
    return this;
  }

  /** Adds or replaces one environment variable. */
  addEnv(name: string, value: string): this {
    this.#init.env = { ...(this.#init.env ?? {}), [name]: value };
    return this;
  }

  /** Sets the entrypoint. */
  entrypointSettings(entrypointSettings: EntrypointSettings | undefined): this {
    this.#init.entrypointSettings = entrypointSettings;
    return this;
  }

  /** Sets the `node` executable inside the image. */
  nodeInterpreter(path: string | undefined): this {
    this.#init.nodeInterpreter = path;
    return this;
  }

  /** Sets where the SDK is inside the image. */
  sdkRoot(path: string | undefined): this {
    this.#init.sdkRoot = path;
    return this;
  }

  /** Sets (or with `undefined` clears) fast registration. */
  fastSerializationSettings(settings: FastSerializationSettings | undefined): this {
    this.#init.fastSerializationSettings = settings;
    return this;
  }

  /** Sets the source root. */
  sourceRoot(path: string | undefined): this {
    this.#init.sourceRoot = path;
    return this;
  }

  /** New immutable settings from the builder's values. */
  build(): SerializationSettings {
    return new SerializationSettings(this.#init);
  }
}

function optionalString(value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalidSetting(key, value, `pass a string for ${key}`);
  return value;
}

function nonEmpty(value: string, key: string): string {
  if (value === "") throw invalidSetting(key, value, `leave ${key} out for the default, or give a path`);
  return value;
}

function checkEnv(env: unknown): Readonly<Record<string, string>> {
  if (env === undefined || env === null) return Object.freeze({});
  if (typeof env !== "object" || Array.isArray(env))
    throw invalidSetting("env", env, "pass an object of name: value strings");
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name === "" || name.includes("="))
      throw invalidSetting(`env name ${JSON.stringify(name)}`, name, "use names without '='");
    if (typeof value !== "string")
      throw invalidSetting(`env.${name}`, value, `write ${name}: "${String(value)}"`);
    out[name] = value;
  }
  return Object.freeze(out);
}

function checkFast(fast: FastSerializationSettings | undefined): FastSerializationSettings | undefined {
  if (fast === undefined) return undefined;
  if (fast === null || typeof fast !== "object")
    throw invalidSetting(
      "fastSerializationSettings",
      fast,
      "pass { enabled, destinationDir, distributionLocation }",
    );
  if (typeof fast.enabled !== "boolean")
    throw invalidSetting("fastSerializationSettings.enabled", fast.enabled, "pass true or false");
  return Object.freeze({
    enabled: fast.enabled,
    destinationDir: optionalString(fast.destinationDir, "fastSerializationSettings.destinationDir"),
    distributionLocation: optionalString(
      fast.distributionLocation,
      "fastSerializationSettings.distributionLocation",
    ),
  });
}

function invalidSetting(key: string, value: unknown, fix: string): FlyteUsageError {
  return new FlyteUsageError("SETTINGS_INVALID", `${key} = ${describeValue(value)} is not valid`, {
    entity: "SerializationSettings",
    fix,
  });
}

function invalidContext(problem: string, cause?: unknown): FlyteConfigError {
  return new FlyteConfigError(
    "SERIALIZED_CONTEXT_INVALID",
    `the serialized settings in ${SERIALIZED_CONTEXT_ENV_VAR} cannot be read: ${problem}`,
    {
      entity: SERIALIZED_CONTEXT_ENV_VAR,
      key: SERIALIZED_CONTEXT_ENV_VAR,
      origin: "SYSTEM",
      fix: `set ${SERIALIZED_CONTEXT_ENV_VAR} only from SerializationSettings.withSerializedContext() (or unset it)`,
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
