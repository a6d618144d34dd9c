/**
 * What `tsflyte register` registers: entities from TypeScript modules (serialized here, with an
 * optional fast-registration code bundle) or a package (`tsflyte package` / `pyflyte package`
 * output, its bundle uploaded), into one project and domain under one version.
 *
 * Steps for modules: load them, build the code bundle (fast registration, the default),
 * serialize with empty project/domain/version, derive the version from that (unless given),
 * upload the bundle, serialize again with the project, domain, version and bundle location (so
 * `_F_SS_C` carries them for dynamic tasks), register.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { list as listTar } from "tar";
import type { Entity } from "../core/entity.js";
import { FlyteUsageError } from "../errors.js";
import { LaunchPlanSchema } from "../proto/gen/flyteidl/admin/launch_plan_pb.js";
import { TaskSpecSchema } from "../proto/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema } from "../proto/gen/flyteidl/admin/workflow_pb.js";
import { buildCodeBundle, type CodeBundle, digestOfBundleName } from "../serialize/bundle.js";
import { type SerializedEntity, serializeEntities } from "../serialize/entities.js";
import { loadEntities, type ModuleSerializationOptions, settingsFromOptions } from "../serialize/modules.js";
import { readPackage } from "../serialize/package-reader.js";
import type { SerializationSettings } from "../serialize/settings.js";
import type { AdminClient } from "./client.js";
import {
  contentVersion,
  gitVersion,
  type RegisteredEntity,
  registerSerialized,
  uploadBundle,
} from "./register.js";

/** The project pyflyte and tsflyte register into by default. */
export const DEFAULT_PROJECT = "flytesnacks";
/** The domain pyflyte and tsflyte register into by default. */
export const DEFAULT_DOMAIN = "development";
/** Where the code bundle is unpacked in the container by default (the image's working directory). */
export const DEFAULT_DEST_DIR = ".";

/** Options shared by every kind of registration. */
export interface RegisterOptions {
  /** Default `flytesnacks`. */
  project?: string | undefined;
  /** Default `development`. */
  domain?: string | undefined;
  /** Default: {@link contentVersion} of what is registered. */
  version?: string | undefined;
  /** Use the git commit of the source root as version (the tree must be clean). */
  gitVersion?: boolean | undefined;
  /** Concurrent admin calls (default 8). */
  concurrency?: number | undefined;
  /** Progress lines. */
  log?: ((line: string) => void) | undefined;
  /** Set registered launch plans ACTIVE. */
  activateLaunchPlans?: boolean | undefined;
  /** Where the code bundle is unpacked in the container (default "."). */
  destinationDir?: string | undefined;
}

/** Options of {@link registerModules} and {@link registerEntities}. */
export interface RegisterCodeOptions extends RegisterOptions {
  /** Ship the code as a bundle (fast registration; default true). False: the code must be in the image. */
  fast?: boolean | undefined;
}

/** What a registration did. */
export interface RegisterResult {
  readonly project: string;
  readonly domain: string;
  readonly version: string;
  /** Every entity, in registration input order (dependencies first). */
  readonly entities: readonly RegisteredEntity[];
  /** The uploaded code bundle's URI, for fast registration. */
  readonly distributionLocation: string | undefined;
  /** Wall time in milliseconds. */
  readonly ms: number;
}

/**
 * Loads the modules and registers everything their exported entities need. `options` also takes
 * the serialization options (`images`, `env`, `sourceRoot`, `config`).
 */
export async function registerModules(
  client: AdminClient,
  files: readonly string[],
  options: RegisterCodeOptions &
    Omit<ModuleSerializationOptions, "project" | "domain" | "version" | "fast" | "log"> = {},
): Promise<RegisterResult> {
  if (files.length === 0) {
    throw new FlyteUsageError("NO_MODULES", "nothing to register", {
      fix: "pass .ts or .js modules that export tasks and workflows, or a package (.tgz)",
    });
  }
  const settings = settingsFromOptions({
    images: options.images ?? [],
    sourceRoot: options.sourceRoot,
    config: options.config,
    env: options.env,
  });
  const entities = await loadEntities(files, settings.sourceRoot ?? process.cwd(), options.log);
  return registerEntities(client, entities, settings, options);
}

/**
 * Registers `entities` (and everything they reach, dependencies first) with `settings` (images,
 * env, source root; project, domain and version come from `options`).
 */
export async function registerEntities(
  client: AdminClient,
  entities: Iterable<Entity>,
  settings: SerializationSettings,
  options: RegisterCodeOptions = {},
): Promise<RegisterResult> {
  const t0 = performance.now();
  const project = options.project ?? DEFAULT_PROJECT;
  const domain = options.domain ?? DEFAULT_DOMAIN;
  const destinationDir = options.destinationDir ?? DEFAULT_DEST_DIR;
  const list = [...entities];
  const fast = options.fast !== false;
  const sourceRoot = settings.sourceRoot ?? process.cwd();
  let bundle: CodeBundle | undefined;
  if (fast) bundle = await buildCodeBundle({ sourceRoot, log: options.log });
  const base = settings
    .newBuilder()
    .project(undefined)
    .domain(undefined)
    .version(undefined)
    .fastSerializationSettings(fast ? { enabled: true, destinationDir } : undefined)
    .build();
  let version = options.version;
  if (version === undefined) {
    if (options.gitVersion) version = gitVersion(sourceRoot);
    else version = contentVersion(await serializeEntities(list, base), bundle?.digest);
  }
  let distributionLocation: string | undefined;
  if (bundle)
    distributionLocation = await uploadBundle(client, bundle, { project, domain, log: options.log });
  const final = base
    .newBuilder()
    .project(project)
    .domain(domain)
    .version(version)
    .fastSerializationSettings(fast ? { enabled: true, destinationDir, distributionLocation } : undefined)
    .build();
  const serialized = await serializeEntities(list, final);
  options.log?.(`registering ${serialized.length} entities in ${project}/${domain} as version ${version}`);
  const registered = await registerSerialized(client, serialized, {
    project,
    domain,
    version,
    concurrency: options.concurrency,
    log: options.log,
    distributionLocation,
    destinationDir,
    activateLaunchPlans: options.activateLaunchPlans,
  });
  return { project, domain, version, entities: registered, distributionLocation, ms: performance.now() - t0 };
}

/** A package read for registration: its entities in order and its code bundle, if any. */
export interface PackageContents {
  readonly entities: SerializedEntity[];
  readonly bundle: { readonly name: string; readonly bytes: Uint8Array; readonly digest: string } | undefined;
  /** Problems that do not stop registration (e.g. references to entities registered before). */
  readonly warnings: readonly string[];
}

const FATAL_PROBLEMS = new Set([
  "PACKAGE_NOT_FOUND",
  "PACKAGE_CORRUPT",
  "PACKAGE_EMPTY",
  "PACKAGE_ENTRY_NAME",
  "PACKAGE_BAD_PROTOBUF",
]);

/**
 * Reads a package (`.tgz`, `.tar.gz`, `.tar` or a folder of `.pb` files) for registration.
 * Throws `FlyteUsageError` `PACKAGE_INVALID` listing what is wrong.
 */
export async function readPackageContents(path: string): Promise<PackageContents> {
  const summary = await readPackage(path);
  const fatal = summary.problems.filter((p) => FATAL_PROBLEMS.has(p.code));
  if (fatal.length > 0) {
    throw new FlyteUsageError(
      "PACKAGE_INVALID",
      `${path} cannot be registered: ${fatal.map((p) => `${p.file ? `${p.file}: ` : ""}${p.message}`).join("; ")}`,
      { entity: path, fix: "re-create it with tsflyte package (or pyflyte package)" },
    );
  }
  const files = new Map<string, Uint8Array>();
  if ((await stat(path)).isDirectory()) {
    for (const f of await readdir(path)) {
      const p = join(path, f);
      if ((await stat(p)).isFile()) files.set(f, new Uint8Array(await readFile(p)));
    }
  } else {
    await listTar({
      file: path,
      onReadEntry: (entry) => {
        const chunks: Buffer[] = [];
        entry.on("data", (c: Buffer) => chunks.push(c));
        entry.on("end", () => {
          if (entry.type === "File" || entry.type === "OldFile")
            files.set(basename(entry.path), Buffer.concat(chunks));
        });
      },
    });
  }
  const entities: SerializedEntity[] = [];
  for (const e of summary.entities) {
    const bytes = files.get(basename(e.file));
    if (!bytes)
      throw new FlyteUsageError("PACKAGE_INVALID", `${e.file} is listed but cannot be read from ${path}`, {
        entity: path,
      });
    if (e.kind === "task")
      entities.push({ kind: 1, name: e.name, message: fromBinary(TaskSpecSchema, bytes), bytes });
    else if (e.kind === "workflow")
      entities.push({ kind: 2, name: e.name, message: fromBinary(WorkflowSpecSchema, bytes), bytes });
    else entities.push({ kind: 3, name: e.name, message: fromBinary(LaunchPlanSchema, bytes), bytes });
  }
  if (summary.bundles.length > 1) {
    throw new FlyteUsageError(
      "PACKAGE_INVALID",
      `${path} holds ${summary.bundles.length} code bundles; one is allowed`,
      {
        entity: path,
        fix: "re-create the package",
      },
    );
  }
  let bundle: PackageContents["bundle"];
  const b = summary.bundles[0];
  if (b) {
    const bytes = files.get(basename(b.file))!;
    const digest = createHash("sha256").update(bytes).digest("hex");
    const named = digestOfBundleName(basename(b.file));
    if (named !== undefined && named !== digest) {
      throw new FlyteUsageError(
        "PACKAGE_INVALID",
        `the code bundle ${b.file} has sha256 ${digest}, not the digest in its name`,
        { entity: path, fix: "re-create the package; the bundle was changed after packaging" },
      );
    }
    bundle = { name: basename(b.file), bytes, digest };
  }
  const warnings = summary.problems
    .filter((p) => !FATAL_PROBLEMS.has(p.code))
    .map((p) => `${p.file ? `${p.file}: ` : ""}${p.message}`);
  return { entities, bundle, warnings };
}

/** Registers a package (see {@link readPackageContents}); its code bundle, if any, is uploaded first. */
export async function registerPackage(
  client: AdminClient,
  path: string,
  options: RegisterOptions = {},
): Promise<RegisterResult> {
  const t0 = performance.now();
  const project = options.project ?? DEFAULT_PROJECT;
  const domain = options.domain ?? DEFAULT_DOMAIN;
  const contents = await readPackageContents(resolve(path));
  for (const w of contents.warnings) options.log?.(`warning: ${w}`);
  let version = options.version;
  if (version === undefined) {
    version = options.gitVersion
      ? gitVersion(process.cwd())
      : contentVersion(contents.entities, contents.bundle?.digest);
  }
  let distributionLocation: string | undefined;
  if (contents.bundle)
    distributionLocation = await uploadBundle(client, contents.bundle, { project, domain, log: options.log });
  options.log?.(
    `registering ${contents.entities.length} entities in ${project}/${domain} as version ${version}`,
  );
  const registered = await registerSerialized(client, contents.entities, {
    project,
    domain,
    version,
    concurrency: options.concurrency,
    log: options.log,
    distributionLocation,
    destinationDir: options.destinationDir ?? DEFAULT_DEST_DIR,
    activateLaunchPlans: options.activateLaunchPlans,
  });
  return { project, domain, version, entities: registered, distributionLocation, ms: performance.now() - t0 };
}
