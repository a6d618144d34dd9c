/**
 * `ImageConfig`: the images a serialization may use, a default one and any number of named ones,
 * and the resolution of a task's `containerImage` (a reference, an `{{.image...}}` template, or
 * nothing for the default image) against them.
 *
 * Images come from code (`ImageConfig.fromImages`), the Flyte config file (`images:`) and the
 * CLI's `--image` flags; `ImageConfig.fromSources` layers them, the CLI winning.
 *
 * ```ts
 * const images = ImageConfig.fromImages("ghcr.io/acme/app:v3", { spark: "ghcr.io/acme/spark:3.5" });
 * images.resolve("{{.image.spark.fqn}}:{{.image.spark.version}}", "wf.train"); // "ghcr.io/acme/spark:3.5"
 * images.resolve(undefined, "wf.train");                                     // "ghcr.io/acme/app:v3"
 * ```
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describeValue, FlyteDefinitionError, FlyteUsageError } from "../errors.js";
import {
  type FlyteConfig,
  FlyteConfigError,
  type FlyteConfigOptions,
  readFlyteConfig,
} from "./config-file.js";
import {
  DEFAULT_IMAGE_NAME,
  type FlyteErrorClass,
  Image,
  type ImageJson,
  parseImageReference,
  referenceProblem,
} from "./image.js";
import { hasImageTemplate, type ImageLookup, renderImageTemplates } from "./template.js";

/** The repository of the SDK's default images; the tag is `node<major>-<sdk version>`. */
export const SDK_IMAGE_REPOSITORY = "ghcr.io/flytekit-ts/runtime";

/** An `ImageConfig` as JSON, with flytekit's key names: every image, the default first, in `images`. */
export interface ImageConfigJson {
  default_image: ImageJson | null;
  images: ImageJson[] | null;
}

/** Where images come from, lowest precedence first; a later source replaces images of the same name. */
export interface ImageSources {
  /** Images declared in code: name to reference (`default` names the default), or an `ImageConfig`. */
  code?: Readonly<Record<string, string>> | ImageConfig | undefined;
  /** The Flyte config file (from `readFlyteConfig`), whose `images:` map is used. */
  configFile?: FlyteConfig | undefined;
  /** The values of the CLI's `--image` flags (`name=ref`, or a bare `ref` for the default). */
  cli?: readonly string[] | undefined;
}

/** Options of `sdkDefaultImage`. */
export interface SdkImageOptions {
  /** Node.js version, e.g. `20.11.1`; default the running one. */
  nodeVersion?: string;
  /** flytekit-ts version; default the one in package.json. */
  sdkVersion?: string;
}

/**
 * The SDK's default image for a Node.js major version and an SDK version:
 * `ghcr.io/flytekit-ts/runtime:node<major>-<version>`, e.g. `ghcr.io/flytekit-ts/runtime:node20-0.1.0`
 * (flytekit's counterpart is `cr.flyte.org/flyteorg/flytekit:py3.X-<version>`).
 */
export function sdkDefaultImage(options: SdkImageOptions = {}): string {
  const major = (options.nodeVersion ?? process.versions.node).replace(/^v/, "").split(".")[0];
  const version = (options.sdkVersion ?? sdkVersion()).replace(/^v/, "").replace(/[^\w.-]/g, "-");
  return `${SDK_IMAGE_REPOSITORY}:node${major}-${version}`;
}

let cachedSdkVersion: string | undefined;

/** The flytekit-ts version, read from its package.json. */
export function sdkVersion(): string {
  if (cachedSdkVersion === undefined) {
    const file = fileURLToPath(new URL("../../package.json", import.meta.url));
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown };
    cachedSdkVersion = typeof pkg.version === "string" ? pkg.version : "0.0.0";
  }
  return cachedSdkVersion;
}

/**
 * The images available to a serialization: one default image (always present, with a tag or
 * digest) and named images. Immutable. Names are matched without regard to case.
 */
export class ImageConfig implements ImageLookup {
  /** The default image (name `default`). */
  readonly defaultImage: Image;
  /** Every image, the default first (as in flytekit's `ImageConfig.images`). */
  readonly images: readonly Image[];

  /**
   * Builds a config from a default image and named images. Throws `FlyteDefinitionError`
   * `IMAGE_REF_NO_VERSION` when the default has no tag or digest, `IMAGE_DUPLICATE_NAME` when two
   * images share a name (ignoring case), `IMAGE_DUPLICATE_DEFAULT` when a named image is called
   * `default` but differs from the default image.
   */
  constructor(defaultImage: Image, images: Iterable<Image> = []) {
    const def =
      defaultImage.name === DEFAULT_IMAGE_NAME ? defaultImage : defaultImage.withName(DEFAULT_IMAGE_NAME);
    if (def.version === undefined) {
      throw new FlyteDefinitionError(
        "IMAGE_REF_NO_VERSION",
        `the default image ${def.full} has no tag or digest`,
        {
          entity: "image default",
          fix: `add a tag, e.g. ${def.fqn}:v1`,
        },
      );
    }
    const all = [def];
    const seen = new Map<string, Image>([[DEFAULT_IMAGE_NAME, def]]);
    for (const img of images) {
      const key = img.name.toLowerCase();
      const prior = seen.get(key);
      if (prior && key === DEFAULT_IMAGE_NAME) {
        if (prior.full === img.full) continue;
        throw new FlyteDefinitionError(
          "IMAGE_DUPLICATE_DEFAULT",
          `two default images: ${prior.full} and ${img.full}`,
          {
            entity: "image default",
            fix: "give one default image; name the others (name=ref)",
          },
        );
      }
      if (prior) {
        if (prior.full === img.full && prior.name === img.name) continue;
        throw new FlyteDefinitionError(
          "IMAGE_DUPLICATE_NAME",
          `two images named ${prior.name === img.name ? prior.name : `${prior.name} and ${img.name}`}: ${prior.full} and ${img.full}`,
          {
            entity: `image ${img.name}`,
            fix: "give each image its own name (names ignore case)",
          },
        );
      }
      seen.set(key, img);
      all.push(img);
    }
    this.defaultImage = def;
    this.images = Object.freeze(all);
    Object.freeze(this);
  }

  /** Only the SDK's default image (see `sdkDefaultImage`). */
  static autoDefaultImage(options: SdkImageOptions = {}): ImageConfig {
    return new ImageConfig(parseImageReference(sdkDefaultImage(options), { requireVersion: true }));
  }

  /**
   * The default image `image` (else the config file's `images.default`, else the SDK's), plus
   * the named images of the Flyte config file (found as `readFlyteConfig` does; pass
   * `readConfig: false` to skip it).
   */
  static auto(image?: string, options: FlyteConfigOptions & { readConfig?: boolean } = {}): ImageConfig {
    const configFile = options.readConfig === false ? undefined : readFlyteConfig(options);
    const base = ImageConfig.fromSources({ configFile });
    return image === undefined ? base : base.withImages({ [DEFAULT_IMAGE_NAME]: image });
  }

  /**
   * A config from code: the default image and named images (`name: reference`). Named images
   * may leave out the tag (they then borrow the default image's tag in templates).
   * Throws `FlyteDefinitionError` (`IMAGE_REF_INVALID`, `IMAGE_REF_NO_VERSION`, `IMAGE_NAME_INVALID`, ...).
   */
  static fromImages(defaultImage: string, namedImages: Readonly<Record<string, string>> = {}): ImageConfig {
    return new ImageConfig(
      parseImageReference(defaultImage, { requireVersion: true }),
      namedFrom(namedImages, FlyteDefinitionError),
    );
  }

  /**
   * The CLI's `--image` semantics: `name=ref` names an image, a bare `ref` (or `default=ref`) is
   * the default, repeated flags accumulate, every reference needs a tag or digest; without a
   * default the SDK's default image is used. Throws `FlyteUsageError` (`IMAGE_DUPLICATE_DEFAULT`
   * for two defaults, `IMAGE_DUPLICATE_NAME`, `IMAGE_REF_INVALID`, `IMAGE_REF_NO_VERSION`, `IMAGE_NAME_INVALID`).
   */
  static validateImage(values: string | readonly string[]): ImageConfig {
    const { defaultImage, named } = parseCliImages(typeof values === "string" ? [values] : values);
    return new ImageConfig(defaultImage ?? ImageConfig.autoDefaultImage().defaultImage, named);
  }

  /**
   * Layers images from code, the config file and `--image` flags (in that order of precedence,
   * the CLI winning): an image of the same name (ignoring case) in a later source replaces the
   * earlier one; without any default image the SDK's default image is used.
   */
  static fromSources(sources: ImageSources): ImageConfig {
    const layers: Array<{ defaultImage: Image | undefined; named: Image[] }> = [];
    const code = sources.code;
    if (code instanceof ImageConfig)
      layers.push({ defaultImage: code.defaultImage, named: code.images.slice(1) });
    else if (code) layers.push(splitDefault(namedFrom(code, FlyteDefinitionError, true)));
    if (sources.configFile) {
      const file = sources.configFile;
      layers.push(
        splitDefault(
          namedFrom(file.images, FlyteConfigError, true, (name) => `${file.path} (images.${name})`),
        ),
      );
    }
    if (sources.cli && sources.cli.length > 0) layers.push(parseCliImages(sources.cli));
    let defaultImage: Image | undefined;
    const named = new Map<string, Image>();
    for (const layer of layers) {
      if (layer.defaultImage) defaultImage = layer.defaultImage;
      for (const img of layer.named) named.set(img.name.toLowerCase(), img);
    }
    return new ImageConfig(defaultImage ?? ImageConfig.autoDefaultImage().defaultImage, named.values());
  }

  /**
   * Reads the JSON form (`toJSON`, or flytekit's `image_config`). Without a `default_image`,
   * the `images` entry named `default` is used, else the SDK's default image. Throws
   * `FlyteConfigError` `IMAGE_CONFIG_INVALID` naming the key at fault (under `source`).
   */
  static fromJSON(json: unknown, source = "image_config"): ImageConfig {
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw imageJsonError(
        source,
        `must be an object with default_image and images, not ${describeValue(json)}`,
      );
    }
    const rec = json as Record<string, unknown>;
    const list = rec.images ?? null;
    if (list !== null && !Array.isArray(list))
      throw imageJsonError(`${source}.images`, `must be a list or null, not ${describeValue(list)}`);
    const images = (list ?? []).map((v, i) => imageFromJson(v, `${source}.images[${i}]`));
    const defaultJson = rec.default_image ?? null;
    const defaultImage =
      defaultJson === null
        ? (images.find((i) => i.name === DEFAULT_IMAGE_NAME) ?? ImageConfig.autoDefaultImage().defaultImage)
        : imageFromJson(defaultJson, `${source}.default_image`);
    try {
      return new ImageConfig(
        defaultImage,
        images.filter((i) => i.name !== DEFAULT_IMAGE_NAME),
      );
    } catch (err) {
      throw imageJsonError(source, (err as Error).message, err);
    }
  }

  /** The image with this name (ignoring case); `default` gives the default image. */
  findImage(name: string): Image | undefined {
    const key = name.toLowerCase();
    return this.images.find((img) => img.name.toLowerCase() === key);
  }

  /** The names of every image, `default` first. */
  get names(): string[] {
    return this.images.map((img) => img.name);
  }

  /** The images as `name (reference)`, comma-separated, for messages. */
  describeImages(): string {
    return this.images.map((img) => `${img.name} (${img.full})`).join(", ");
  }

  /**
   * The image a task runs in: `undefined` gives the default image; a string with
   * `{{.image.<name>[.fqn|.version]}}` templates has them replaced; a plain reference is
   * returned unchanged (after checking it is well formed). `entity` (the task's name) is
   * named in errors: `IMAGE_NOT_FOUND` (listing the images that exist), `IMAGE_TEMPLATE_INVALID`,
   * `IMAGE_TEMPLATE_ATTRIBUTE`, `IMAGE_REF_INVALID` (all `FlyteDefinitionError`).
   */
  resolve(containerImage: string | undefined, entity: string): string {
    if (containerImage === undefined) return this.defaultImage.full;
    if (typeof containerImage === "string" && hasImageTemplate(containerImage)) {
      return renderImageTemplates(containerImage, entity, this);
    }
    const problem = referenceProblem(containerImage);
    if (problem) {
      throw new FlyteDefinitionError(
        "IMAGE_REF_INVALID",
        `container image ${describeValue(containerImage)} is not a valid image reference: ${problem}`,
        {
          entity,
          fix: "write <registry>/<path>:<tag>, an image template such as {{.image.spark}}, or leave containerImage out for the default image",
        },
      );
    }
    return containerImage;
  }

  /**
   * A copy with these images added or replaced (`default` replaces the default image).
   * Throws like `fromImages`.
   */
  withImages(images: Readonly<Record<string, string>>): ImageConfig {
    const { defaultImage, named } = splitDefault(namedFrom(images, FlyteDefinitionError, true));
    const merged = new Map(this.images.slice(1).map((img) => [img.name.toLowerCase(), img]));
    for (const img of named) merged.set(img.name.toLowerCase(), img);
    return new ImageConfig(defaultImage ?? this.defaultImage, merged.values());
  }

  /** flytekit's JSON shape: `{ default_image, images }`, `images` holding every image, the default first. */
  toJSON(): ImageConfigJson {
    return { default_image: this.defaultImage.toJSON(), images: this.images.map((img) => img.toJSON()) };
  }
}

/** Parses `name: ref` pairs into images; a `default` entry needs a tag or digest. */
function namedFrom(
  map: Readonly<Record<string, string>>,
  errorClass: FlyteErrorClass,
  allowDefault = false,
  entityOf: (name: string) => string = (name) => `image ${name}`,
): Image[] {
  const out: Image[] = [];
  for (const [name, ref] of Object.entries(map)) {
    if (name.toLowerCase() === DEFAULT_IMAGE_NAME && !allowDefault) {
      throw new errorClass(
        "IMAGE_DUPLICATE_DEFAULT",
        `the named images include "default" (${String(ref)}), but the default image is given separately`,
        {
          entity: entityOf(name),
          fix: "pass the default image as the first argument only",
        },
      );
    }
    out.push(
      parseImageReference(ref, {
        name,
        requireVersion: name.toLowerCase() === DEFAULT_IMAGE_NAME,
        entity: entityOf(name),
        errorClass,
      }),
    );
  }
  return out;
}

function splitDefault(images: Image[]): { defaultImage: Image | undefined; named: Image[] } {
  return {
    defaultImage: images.find((i) => i.name === DEFAULT_IMAGE_NAME),
    named: images.filter((i) => i.name !== DEFAULT_IMAGE_NAME),
  };
}

/** `--image` values: `name=ref` or a bare `ref` (the default). */
function parseCliImages(values: readonly string[]): { defaultImage: Image | undefined; named: Image[] } {
  let defaultImage: Image | undefined;
  const named = new Map<string, Image>();
  for (const value of values) {
    const entity = `--image ${value}`;
    const eq = value.indexOf("=");
    const name = eq >= 0 ? value.slice(0, eq) : DEFAULT_IMAGE_NAME;
    const ref = eq >= 0 ? value.slice(eq + 1) : value;
    const img = parseImageReference(ref, { name, requireVersion: true, entity, errorClass: FlyteUsageError });
    if (img.name === DEFAULT_IMAGE_NAME) {
      if (defaultImage) {
        throw new FlyteUsageError(
          "IMAGE_DUPLICATE_DEFAULT",
          `two default images: ${defaultImage.full} and ${img.full}`,
          {
            entity,
            fix: "pass one bare --image <ref> (the default) and name the others: --image <name>=<ref>",
          },
        );
      }
      defaultImage = img;
      continue;
    }
    const prior = named.get(img.name.toLowerCase());
    if (prior && prior.full !== img.full) {
      throw new FlyteUsageError(
        "IMAGE_DUPLICATE_NAME",
        `two images named ${img.name}: ${prior.full} and ${img.full}`,
        {
          entity,
          fix: "give each --image its own name",
        },
      );
    }
    named.set(img.name.toLowerCase(), img);
  }
  return { defaultImage, named: [...named.values()] };
}

function imageFromJson(value: unknown, key: string): Image {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw imageJsonError(key, `must be an object { name, fqn, tag, digest }, not ${describeValue(value)}`);
  }
  const rec = value as Record<string, unknown>;
  for (const field of ["name", "fqn"] as const) {
    if (typeof rec[field] !== "string")
      throw imageJsonError(`${key}.${field}`, `must be a string, not ${describeValue(rec[field])}`);
  }
  for (const field of ["tag", "digest"] as const) {
    const v = rec[field];
    if (v !== undefined && v !== null && typeof v !== "string") {
      throw imageJsonError(`${key}.${field}`, `must be a string or null, not ${describeValue(v)}`);
    }
  }
  try {
    return new Image({
      name: rec.name as string,
      fqn: rec.fqn as string,
      tag: (rec.tag as string | null | undefined) ?? undefined,
      digest: (rec.digest as string | null | undefined) ?? undefined,
    });
  } catch (err) {
    throw imageJsonError(key, (err as Error).message, err);
  }
}

function imageJsonError(key: string, problem: string, cause?: unknown): FlyteConfigError {
  return new FlyteConfigError("IMAGE_CONFIG_INVALID", `${key} ${problem}`, {
    key,
    fix: "write image_config as { default_image: { name, fqn, tag, digest }, images: [...] }",
    ...(cause === undefined ? {} : { cause }),
  });
}
