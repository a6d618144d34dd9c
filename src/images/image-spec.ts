/**
 * Images declared in code (flytekit's `ImageSpec`): a base image plus system packages, npm
 * packages, files and environment variables, with the flytekit-ts SDK added. The image's tag is
 * a hash of all of it (file contents and the SDK's build included), so `tsflyte build` skips an
 * image whose spec did not change, and a task names it by that reference:
 *
 * ```ts
 * export const trainerImage = imageSpec({
 *   name: "acme/trainer",
 *   base: "docker.io/library/node:20-bookworm-slim",
 *   env: { OMP_NUM_THREADS: "1" },
 *   files: { "/opt/model/config.json": "model/config.json" },
 * });
 * export const train = task({ containerImage: trainerImage.reference, ... }, fn);
 * ```
 *
 * The user's own code is not part of such an image: it is mounted in container-mode local runs
 * and arrives with fast registration on a cluster.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FlyteDefinitionError } from "../errors.js";
import { referenceProblem } from "./image.js";

/** The environment variable naming the base image of images that do not name one. */
export const BASE_IMAGE_ENV_VAR = "TSFLYTE_BASE_IMAGE";

/** The base image when neither the spec, `--base` nor `TSFLYTE_BASE_IMAGE` names one. */
export const DEFAULT_BASE_IMAGE = "docker.io/library/node:20-bookworm-slim";

/** Bump when the way images are put together changes: every tag changes with it. */
export const IMAGE_RECIPE_VERSION = "1";

/** What an image spec is made of. */
export interface ImageSpecOptions {
  /** Repository path, e.g. `acme/trainer` (lower case; becomes `<registry>/<name>:<hash>`). */
  name: string;
  /** The base image; default `$TSFLYTE_BASE_IMAGE`, else a Node.js slim image. */
  base?: string;
  /** Debian packages installed with apt-get (needs network at build time). */
  systemPackages?: readonly string[];
  /** npm packages (`name@version`) installed where every module can import them (needs network and npm in the base). */
  npmPackages?: readonly string[];
  /** Files or folders to add: image path → host path (relative to the working directory). */
  files?: Readonly<Record<string, string>>;
  /** Environment variables of the image. */
  env?: Readonly<Record<string, string>>;
  /** Registry (with optional port and path); default `localhost`. */
  registry?: string;
}

/** An image declared in code. Immutable; its tag is computed when first asked for. */
export class ImageSpec {
  readonly name: string;
  readonly base: string;
  readonly systemPackages: readonly string[];
  readonly npmPackages: readonly string[];
  /** Image path → absolute host path. */
  readonly files: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, string>>;
  readonly registry: string;
  #tag: string | undefined;

  /** Checks the spec; throws `FlyteDefinitionError` `IMAGE_SPEC_INVALID`. */
  constructor(options: ImageSpecOptions) {
    const entity = `imageSpec ${String(options?.name)}`;
    const bad = (what: string, fix: string) =>
      new FlyteDefinitionError("IMAGE_SPEC_INVALID", what, { entity, fix });
    if (
      typeof options?.name !== "string" ||
      !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(
        options.name,
      )
    )
      throw bad(
        `name ${JSON.stringify(options?.name)} is not a lower-case repository path`,
        'use e.g. "acme/trainer"',
      );
    this.name = options.name;
    this.base = options.base ?? process.env[BASE_IMAGE_ENV_VAR] ?? DEFAULT_BASE_IMAGE;
    const baseProblem = referenceProblem(this.base);
    if (baseProblem)
      throw bad(
        `base ${JSON.stringify(this.base)} is not an image reference: ${baseProblem}`,
        "write e.g. node:20-bookworm-slim",
      );
    this.registry = (options.registry ?? "localhost").replace(/\/+$/, "");
    const refProblem = referenceProblem(`${this.registry}/${this.name}:x`);
    if (refProblem)
      throw bad(
        `registry ${JSON.stringify(this.registry)} does not form a reference: ${refProblem}`,
        "write e.g. ghcr.io/acme",
      );
    const strings = (v: unknown, key: string): string[] => {
      if (v === undefined) return [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x === "" || /\s/.test(x)))
        throw bad(`${key} must be a list of package names`, `write ${key}: ["name", ...]`);
      return [...(v as string[])];
    };
    this.systemPackages = Object.freeze(strings(options.systemPackages, "systemPackages"));
    this.npmPackages = Object.freeze(strings(options.npmPackages, "npmPackages"));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== "string")
        throw bad(`env ${k} must be a NAME: "string value"`, `write env: { ${k}: "value" }`);
      env[k] = v;
    }
    this.env = Object.freeze(env);
    const files: Record<string, string> = {};
    for (const [dest, src] of Object.entries(options.files ?? {})) {
      if (!dest.startsWith("/") || typeof src !== "string" || src === "")
        throw bad(
          `files maps image paths (absolute) to host paths; got ${dest} → ${String(src)}`,
          'write files: { "/opt/x.json": "x.json" }',
        );
      files[dest] = resolve(src);
    }
    this.files = Object.freeze(files);
    Object.freeze(this.systemPackages);
  }

  /** The tag: a hash of the recipe, base, packages, env, file contents and the SDK's build. */
  get tag(): string {
    this.#tag ??= this.contentHash().slice(0, 20);
    return this.#tag;
  }

  /** `<registry>/<name>:<tag>`: what tasks put in `containerImage`. */
  get reference(): string {
    return `${this.registry}/${this.name}:${this.tag}`;
  }

  /** The full content hash (hex). */
  contentHash(): string {
    const h = createHash("sha256");
    h.update(
      JSON.stringify({
        recipe: IMAGE_RECIPE_VERSION,
        kind: "spec",
        base: this.base,
        systemPackages: this.systemPackages,
        npmPackages: this.npmPackages,
        env: Object.entries(this.env).sort(),
        sdk: sdkDigest(),
      }),
    );
    for (const [dest, src] of Object.entries(this.files).sort())
      h.update(`\0file ${dest}\0${pathDigest(src)}`);
    return h.digest("hex");
  }

  /** The reference. */
  toString(): string {
    return this.reference;
  }
}

const REGISTRY_KEY = Symbol.for("flytekit-ts.imageSpecs");

function registry(): Map<string, ImageSpec> {
  const g = globalThis as unknown as Record<symbol, Map<string, ImageSpec> | undefined>;
  g[REGISTRY_KEY] ??= new Map();
  return g[REGISTRY_KEY];
}

/**
 * Declares an image (see the module comment). Every spec declared while modules load is
 * remembered, so `tsflyte build <modules>` finds and builds them. Two different specs with the
 * same registry and name are an error (`IMAGE_SPEC_DUPLICATE`).
 */
export function imageSpec(options: ImageSpecOptions): ImageSpec {
  const spec = new ImageSpec(options);
  const key = `${spec.registry}/${spec.name}`;
  const prior = registry().get(key);
  if (prior && prior !== spec && JSON.stringify(describe(prior)) !== JSON.stringify(describe(spec))) {
    throw new FlyteDefinitionError("IMAGE_SPEC_DUPLICATE", `two different image specs are named ${key}`, {
      entity: `imageSpec ${spec.name}`,
      fix: "give each image spec its own name",
    });
  }
  registry().set(key, spec);
  return spec;
}

function describe(s: ImageSpec): unknown {
  return [s.base, s.systemPackages, s.npmPackages, s.env, s.files];
}

/** The image specs declared so far (in declaration order). */
export function declaredImageSpecs(): ImageSpec[] {
  return [...registry().values()];
}

let sdkDigestValue: string | undefined;

/** A digest of the SDK as it is installed here: its version and the contents of its compiled code. */
export function sdkDigest(): string {
  if (sdkDigestValue === undefined) {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const h = createHash("sha256");
    h.update(readFileSync(join(root, "package.json")));
    for (const dir of ["dist", "bin"]) h.update(`\0${dir}\0${pathDigest(join(root, dir))}`);
    sdkDigestValue = h.digest("hex");
  }
  return sdkDigestValue;
}

/** A digest of a file's or folder's contents (names and bytes, sorted); `missing` when absent. */
export function pathDigest(path: string): string {
  if (!existsSync(path)) return "missing";
  const h = createHash("sha256");
  const walk = (p: string, rel: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name), `${rel}/${name}`);
    } else {
      h.update(`\0${rel}\0${st.mode & 0o111 ? "x" : "-"}\0`);
      h.update(readFileSync(p));
    }
  };
  walk(path, "");
  return h.digest("hex");
}
