/**
 * `tsflyte build`: the images a project needs, built with podman or docker from a generated
 * Containerfile, each tagged by a hash of everything in it so that an unchanged image is not
 * built again (`<engine> image exists`):
 *
 * - the project's default image: a base with Node.js, the SDK, the user's compiled modules and
 *   production dependencies at the working directory `/root`, `--env` variables;
 * - every image declared with `imageSpec()` in the modules: its base, system and npm packages,
 *   the SDK, its files and env (no user code: it is mounted locally and fast-registered remotely);
 * - the SDK's own image (`sdkDefaultImage()`, `ghcr.io/flytekit-ts/runtime:node<major>-<version>`)
 *   when a task of the modules runs in it, as pre-built task types (`SQLite3Task`,
 *   `HttpRequestTask`) do by default: the base and the SDK (its executors and their dependencies,
 *   node-sqlite3-wasm among them). Its tag is the SDK's version, not a content hash, so the
 *   content hash is a label and a stale image under that tag is built again.
 *
 * The base comes from configuration: `--base`, `$TSFLYTE_BASE_IMAGE`, or the spec's `base`.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import type { Entity } from "../../core/entity.js";
import { BaseTask } from "../../core/task.js";
import { FlyteUsageError } from "../../errors.js";
import { referenceProblem } from "../../images/image.js";
import { sdkDefaultImage, sdkVersion } from "../../images/image-config.js";
import {
  BASE_IMAGE_ENV_VAR,
  DEFAULT_BASE_IMAGE,
  declaredImageSpecs,
  IMAGE_RECIPE_VERSION,
  type ImageSpec,
  sdkDigest,
} from "../../images/image-spec.js";
import { loadEntities } from "../../serialize/modules.js";
import { collectRegistrables } from "../../serialize/registrable.js";
import { type ContainerEngine, detectEngine, FlyteContainerError } from "./engine.js";
import { linkTree, type Stage, stageApp, stageSdk } from "./stage.js";

/** Options of {@link buildImages}. */
export interface BuildOptions {
  /** `podman`, `docker`, a path, or an engine; default detected. */
  engine?: string | ContainerEngine | undefined;
  /** Base of the default image (and of specs without one); default `$TSFLYTE_BASE_IMAGE`, else a Node.js slim image. */
  base?: string | undefined;
  /** Repository path of the default image; default the project's package name. */
  name?: string | undefined;
  /** Registry of the default image; default `localhost`. */
  registry?: string | undefined;
  /** Environment variables of the default image. */
  env?: Readonly<Record<string, string>> | undefined;
  /** Project root (module names are relative to it); default the working directory. */
  sourceRoot?: string | undefined;
  /** Build the default image (default true). */
  defaultImage?: boolean | undefined;
  /** Build the image specs the modules declare (default true). */
  specs?: boolean | undefined;
  /**
   * Build the SDK's image (`sdkDefaultImage()`): true always, false never; by default when a task
   * of the modules runs in it and `specs` is not false.
   */
  sdkImage?: boolean | undefined;
  /** Add the project's production dependencies to the default image (default true). */
  dependencies?: boolean | undefined;
  /** Build even when an image with the same tag exists. */
  force?: boolean | undefined;
  /** Where build contexts are staged; default `~/.cache/flytekit-ts/build`. */
  cacheDir?: string | undefined;
  /** Progress lines. */
  log?: ((line: string) => void) | undefined;
  /** The engine's own build output, as it arrives. */
  onBuildOutput?: ((chunk: string) => void) | undefined;
}

/** One image `tsflyte build` made or found. */
export interface BuiltImage {
  /** `default` for the project image, `sdk` for the SDK's image, else the spec's name. */
  name: string;
  kind: "default" | "spec" | "sdk";
  /** `<registry>/<name>:<tag>`. */
  reference: string;
  /** False when it existed already. */
  built: boolean;
  /** Milliseconds spent (0 when skipped). */
  ms: number;
}

/** The default folder for build contexts. */
export function defaultBuildCacheDir(): string {
  const base =
    process.env.FLYTEKIT_TS_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "flytekit-ts");
  return join(base, "build");
}

/** The base image from the option, `$TSFLYTE_BASE_IMAGE`, or the default. */
export function baseImage(base?: string): string {
  const b = base ?? process.env[BASE_IMAGE_ENV_VAR] ?? DEFAULT_BASE_IMAGE;
  const problem = referenceProblem(b);
  if (problem) {
    throw new FlyteUsageError(
      "IMAGE_REF_INVALID",
      `base image ${JSON.stringify(b)} is not valid: ${problem}`,
      {
        entity: "--base",
        fix: "write e.g. --base docker.io/library/node:20-bookworm-slim",
      },
    );
  }
  return b;
}

/** The default image's repository path: `--name`, else the package name, else the folder name. */
export function projectImageName(sourceRoot: string, name?: string): string {
  let n = name;
  if (n === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(join(sourceRoot, "package.json"), "utf8")) as { name?: string };
      n = pkg.name;
    } catch {
      n = undefined;
    }
    n = (n ?? basename(sourceRoot))
      .replace(/^@/, "")
      .toLowerCase()
      .replace(/[^a-z0-9._/-]+/g, "-");
  }
  if (referenceProblem(`localhost/${n}:x`)) {
    throw new FlyteUsageError(
      "IMAGE_NAME_INVALID",
      `image name ${JSON.stringify(n)} is not a repository path`,
      {
        entity: "--name",
        fix: "pass --name with lower-case letters, digits, '-', '_', '.' and '/'",
      },
    );
  }
  return n;
}

/**
 * Loads the modules (which declares their image specs), then builds the default image and the
 * specs. Returns what was built or found, default image first.
 */
export async function buildImages(
  files: readonly string[],
  options: BuildOptions = {},
): Promise<BuiltImage[]> {
  if (files.length === 0) {
    throw new FlyteUsageError("NO_MODULES", "no modules given", {
      fix: "pass the .ts or .js files that define your tasks, e.g. tsflyte build workflows/*.ts",
    });
  }
  const log = options.log ?? (() => {});
  const engine =
    typeof options.engine === "object" ? options.engine : await detectEngine(options.engine ?? undefined);
  const sourceRoot = resolve(options.sourceRoot ?? process.cwd());
  // Specs without a base of their own take the one given here, when they are declared.
  if (options.base !== undefined) process.env[BASE_IMAGE_ENV_VAR] = baseImage(options.base);
  const before = new Set(declaredImageSpecs());
  const entities = await loadEntities(files, sourceRoot, (l) => log(l));
  const specs = declaredImageSpecs().filter((s) => !before.has(s) || usedBy(entities, s));
  const contextDir = options.cacheDir ?? defaultBuildCacheDir();
  await mkdir(contextDir, { recursive: true });
  log(`engine: ${engine.name} ${engine.version}`);
  const sdk = await stageSdk(contextDir);
  log(`staged the SDK (${sdk.name})`);
  const out: BuiltImage[] = [];
  if (options.defaultImage !== false) {
    const app = await stageApp(files, contextDir, {
      sourceRoot,
      dependencies: options.dependencies !== false,
    });
    log(`compiled the modules (${app.name})`);
    const base = baseImage(options.base);
    const env = { ...(options.env ?? {}) };
    const name = projectImageName(sourceRoot, options.name);
    const registry = (options.registry ?? "localhost").replace(/\/+$/, "");
    const hash = createHash("sha256")
      .update(
        JSON.stringify({
          recipe: IMAGE_RECIPE_VERSION,
          kind: "default",
          base,
          sdk: sdk.digest,
          app: app.digest,
          env: Object.entries(env).sort(),
        }),
      )
      .digest("hex")
      .slice(0, 20);
    const reference = `${registry}/${name}:${hash}`;
    const lines = [
      `FROM ${base}`,
      `COPY ${sdk.name}/ /`,
      `COPY ${app.name}/ /root/`,
      ...envLines(env),
      "WORKDIR /root",
      `LABEL org.flytekit-ts.content-hash=${hash} org.flytekit-ts.kind=default`,
    ];
    out.push(await buildOne(engine, "default", "default", reference, lines, contextDir, options));
  }
  const wantSdk = options.sdkImage ?? (options.specs !== false && runsInSdkImage(entities));
  if (wantSdk) out.push(await buildSdkImage(engine, sdk, baseImage(options.base), contextDir, options));
  if (options.specs !== false) {
    for (const spec of specs) {
      const files = await stageFiles(spec, contextDir);
      out.push(
        await buildOne(
          engine,
          spec.name,
          "spec",
          spec.reference,
          specLines(spec, sdk, files),
          contextDir,
          options,
        ),
      );
    }
  }
  return out;
}

/** Whether a task of the entities (or of the workflows they hold) names the SDK's image. */
export function runsInSdkImage(entities: Iterable<Entity>): boolean {
  const sdkImage = sdkDefaultImage();
  return collectRegistrables(entities, { defaultLaunchPlans: false }).some(
    (r) =>
      (r.kind === "task" && r.task.settings.containerImage === sdkImage) ||
      (r.kind === "mapTask" && r.map.task.settings.containerImage === sdkImage),
  );
}

/** The Containerfile lines of the SDK's image: the base and the SDK, nothing of the project. */
export function sdkImageLines(base: string, sdk: Stage, hash: string): string[] {
  return [
    `FROM ${base}`,
    `COPY ${sdk.name}/ /`,
    "WORKDIR /root",
    `LABEL ${CONTENT_HASH_LABEL}=${hash} org.flytekit-ts.kind=sdk org.flytekit-ts.sdk=${sdkDigest().slice(0, 16)} org.flytekit-ts.sdk-version=${sdkVersion()}`,
  ];
}

/** The label holding an image's content hash. */
export const CONTENT_HASH_LABEL = "org.flytekit-ts.content-hash";

/**
 * Builds the SDK's image under `sdkDefaultImage()`. The tag names the SDK's version, so whether
 * it is up to date is decided by its content-hash label (the base and the staged SDK).
 */
async function buildSdkImage(
  engine: ContainerEngine,
  sdk: Stage,
  base: string,
  contextDir: string,
  options: BuildOptions,
): Promise<BuiltImage> {
  const hash = createHash("sha256")
    .update(JSON.stringify({ recipe: IMAGE_RECIPE_VERSION, kind: "sdk", base, sdk: sdk.digest }))
    .digest("hex")
    .slice(0, 20);
  const reference = sdkDefaultImage();
  const lines = sdkImageLines(base, sdk, hash);
  return buildOne(engine, "sdk", "sdk", reference, lines, contextDir, options, hash);
}

function usedBy(entities: readonly unknown[], spec: ImageSpec): boolean {
  return entities.some((e) => e instanceof BaseTask && e.settings.containerImage === spec.reference);
}

function envLines(env: Readonly<Record<string, string>>): string[] {
  const entries = Object.entries(env).sort();
  if (entries.length === 0) return [];
  return [`ENV ${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ")}`];
}

/** The Containerfile lines of an image spec. */
export function specLines(spec: ImageSpec, sdk: Stage, files: Stage | undefined): string[] {
  const lines = [`FROM ${spec.base}`];
  if (spec.systemPackages.length > 0) {
    lines.push(
      `RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${spec.systemPackages.join(" ")} && rm -rf /var/lib/apt/lists/*`,
    );
  }
  lines.push(`COPY ${sdk.name}/ /`);
  if (spec.npmPackages.length > 0) {
    lines.push(
      `RUN cd / && npm install --no-save --no-package-lock --omit=dev ${spec.npmPackages.join(" ")}`,
    );
  }
  if (files) lines.push(`COPY ${files.name}/ /`);
  lines.push(...envLines(spec.env), "WORKDIR /root");
  lines.push(
    `LABEL org.flytekit-ts.content-hash=${spec.tag} org.flytekit-ts.kind=spec org.flytekit-ts.sdk=${sdkDigest().slice(0, 16)}`,
  );
  return lines;
}

async function stageFiles(spec: ImageSpec, contextDir: string): Promise<Stage | undefined> {
  const entries = Object.entries(spec.files);
  if (entries.length === 0) return undefined;
  for (const [dest, src] of entries) {
    if (!existsSync(src)) {
      throw new FlyteUsageError("IMAGE_SPEC_FILE_MISSING", `${src} (for ${dest}) does not exist`, {
        entity: `imageSpec ${spec.name}`,
        fix: "fix the path in files (host paths are relative to the working directory)",
      });
    }
  }
  const name = `files-${spec.tag}`;
  const dir = join(contextDir, name);
  if (!existsSync(dir)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    for (const [dest, src] of entries) await linkTree(src, join(tmp, dest));
    await rename(tmp, dir);
  }
  return { name, dir, digest: spec.tag };
}

/**
 * Builds one image unless it exists; with `contentHash` (a tag that does not change with the
 * content), unless it exists with that hash in its label. A replaced image is removed when no
 * container uses it.
 */
async function buildOne(
  engine: ContainerEngine,
  name: string,
  kind: BuiltImage["kind"],
  reference: string,
  lines: readonly string[],
  contextDir: string,
  options: BuildOptions,
  contentHash?: string,
): Promise<BuiltImage> {
  const log = options.log ?? (() => {});
  let replaced: string | undefined;
  if (contentHash === undefined) {
    if (!options.force && (await engine.imageExists(reference))) {
      log(`○ ${reference} is up to date`);
      return { name, kind, reference, built: false, ms: 0 };
    }
  } else {
    engine.forget(reference);
    const info = await engine.inspectImage(reference);
    if (!options.force && info?.labels[CONTENT_HASH_LABEL] === contentHash) {
      log(`○ ${reference} is up to date`);
      return { name, kind, reference, built: false, ms: 0 };
    }
    if (info) {
      replaced = info.id;
      log(`${reference} holds other content (${info.labels[CONTENT_HASH_LABEL] ?? "no content hash"})`);
    }
  }
  log(`building ${reference}`);
  const t0 = performance.now();
  const file = join(contextDir, `Containerfile.${reference.replace(/[^A-Za-z0-9_.-]/g, "_")}`);
  await writeFile(file, `${lines.join("\n")}\n`);
  let pending = "";
  const r = await engine.exec(["build", "--layers", "-f", file, "-t", reference, contextDir], {
    maxOutput: 64 * 1024,
    onStdout: (chunk) => {
      options.onBuildOutput?.(chunk);
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const p of parts) if (/^STEP \d+\/\d+/.test(p)) log(`  ${p}`);
    },
    ...(options.onBuildOutput ? { onStderr: options.onBuildOutput } : {}),
  });
  if (r.code !== 0) {
    const tail = (r.stderr || r.stdout).trim().split("\n").slice(-15).join("\n");
    throw new FlyteContainerError(
      "IMAGE_BUILD_FAILED",
      `${engine.name} build of ${reference} failed (exit ${r.code}):\n${tail}`,
      {
        entity: reference,
        origin: "USER",
        fix: `check the base image exists locally or can be pulled (${engine.name} pull <base>), and the Containerfile ${file}`,
      },
    );
  }
  engine.forget(reference);
  // The tag moved to the new image; the old one goes unless a container still uses it.
  if (replaced && (await engine.inspectImage(reference))?.id !== replaced)
    await engine.exec(["rmi", replaced]).catch(() => undefined);
  const ms = performance.now() - t0;
  log(`✓ ${reference} built in ${(ms / 1000).toFixed(1)} s`);
  return { name, kind, reference, built: true, ms };
}
