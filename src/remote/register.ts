/**
 * Registration: serialized entities into FlyteAdmin, as `flytectl register files` and
 * `pyflyte register` do it.
 *
 * - Order: every task first (concurrently), then workflows and launch plans, each as soon as the
 *   launch plans and workflows it references (from the same batch) are in. So a launch plan
 *   comes after its workflow, and a workflow that calls a launch plan after that launch plan.
 * - Identifiers: empty project, domain and version anywhere in a message are filled in
 *   (tsflyte packages leave them empty, pyflyte's say `{{ registration.project }}` etc.);
 *   fast-registration placeholders `{{ .remote_package_path }}` and `{{ .dest_dir }}` are
 *   replaced by the uploaded bundle's location and the destination folder, as flytectl does.
 * - Idempotent: an entity the admin already holds with identical content (`AlreadyExists`) counts
 *   as registered; different content under the same id fails with `ENTITY_CONFLICT` naming the
 *   entity, the version and the admin's diff. So a registration cut short (an admin restart, a
 *   lost connection) is finished by running it again.
 * - Version: by default a digest of the serialized entities (and of the code bundle), so the same
 *   code registers as the same version and any change gets a new one (see {@link contentVersion}).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { clone, type DescMessage, toBinary } from "@bufbuild/protobuf";
import {
  type LaunchPlan as LaunchPlanMessage,
  LaunchPlanSchema,
  LaunchPlanState,
} from "../proto/gen/flyteidl/admin/launch_plan_pb.js";
import { type TaskSpec, TaskSpecSchema } from "../proto/gen/flyteidl/admin/task_pb.js";
import { type WorkflowSpec, WorkflowSpecSchema } from "../proto/gen/flyteidl/admin/workflow_pb.js";
import { type Identifier, ResourceType } from "../proto/gen/flyteidl/core/identifier_pb.js";
import { DEST_DIR, REMOTE_PACKAGE_PATH, type SerializedEntity } from "../serialize/entities.js";
import type { AdminClient } from "./client.js";
import { FlyteRemoteError } from "./errors.js";

/** The kinds of registered entities, as the SDK names them. */
export type EntityKind = "task" | "workflow" | "launchPlan";

/** What happened to one entity. */
export interface RegisteredEntity {
  readonly kind: EntityKind;
  readonly name: string;
  /** The full identifier it is registered under. */
  readonly id: Identifier;
  /** `created`: new; `exists`: the admin already had it, identical. */
  readonly status: "created" | "exists";
}

/** Where and as what to register. */
export interface RegisterTarget {
  readonly project: string;
  readonly domain: string;
  readonly version: string;
}

/** Options of {@link registerSerialized}. */
export interface RegisterSerializedOptions extends RegisterTarget {
  /** Concurrent calls (default 8). */
  concurrency?: number | undefined;
  /** Progress lines. */
  log?: ((line: string) => void) | undefined;
  /** The uploaded bundle's URI, for `{{ .remote_package_path }}`. */
  distributionLocation?: string | undefined;
  /** Where the bundle is unpacked in the container, for `{{ .dest_dir }}` (default "."). */
  destinationDir?: string | undefined;
  /** Set every registered launch plan ACTIVE (schedules start running), as `pyflyte register --activate-launchplans`. */
  activateLaunchPlans?: boolean | undefined;
}

const KIND_OF = { 1: "task", 2: "workflow", 3: "launchPlan" } as const;
const KIND_WORDS: Record<EntityKind, string> = {
  task: "task",
  workflow: "workflow",
  launchPlan: "launch plan",
};

/** The identifier a serialized entity is registered under. */
export function entityId(e: SerializedEntity): Identifier | undefined {
  return e.kind === 1 ? e.message.template?.id : e.kind === 2 ? e.message.template?.id : e.message.id;
}

/** What pyflyte writes into identifiers for flytectl to fill in (as empty ones). */
const PROJECT_PATTERN = "{{ registration.project }}";
const DOMAIN_PATTERN = "{{ registration.domain }}";
const VERSION_PATTERN = "{{ registration.version }}";

/**
 * A copy of the entities with empty project, domain and version (or pyflyte's
 * `{{ registration.project }}` placeholders) filled in on every identifier,
 * and the fast-registration placeholders replaced (when `distributionLocation` is given). Throws
 * `FlyteRemoteError` `UPLOAD_FAILED` when placeholders remain and no bundle location is known.
 */
export function hydrateEntities(
  entities: readonly SerializedEntity[],
  target: RegisterTarget & { distributionLocation?: string | undefined; destinationDir?: string | undefined },
): SerializedEntity[] {
  return entities.map((e) => {
    const schema: DescMessage =
      e.kind === 1 ? TaskSpecSchema : e.kind === 2 ? WorkflowSpecSchema : LaunchPlanSchema;
    const message = clone(schema, e.message as never) as TaskSpec | WorkflowSpec | LaunchPlanMessage;
    let placeholder = false;
    walk(
      message,
      (node) => {
        if ((node as { $typeName?: string }).$typeName === "flyteidl.core.Identifier") {
          const id = node as Identifier;
          if (id.project === "" || id.project === PROJECT_PATTERN) id.project = target.project;
          if (id.domain === "" || id.domain === DOMAIN_PATTERN) id.domain = target.domain;
          if (id.version === "" || id.version === VERSION_PATTERN) id.version = target.version;
          return false;
        }
        return true;
      },
      (value) => {
        if (value === REMOTE_PACKAGE_PATH) {
          placeholder = true;
          return target.distributionLocation ?? value;
        }
        if (value === DEST_DIR) return target.destinationDir ?? ".";
        return value;
      },
    );
    if (placeholder && !target.distributionLocation) {
      throw new FlyteRemoteError(
        "UPLOAD_FAILED",
        `${KIND_WORDS[KIND_OF[e.kind]]} ${e.name} is serialized for fast registration ({{ .remote_package_path }}), but there is no code bundle to upload`,
        {
          entity: e.name,
          fix: "package with the bundle (tsflyte package --fast) or without fast registration",
        },
      );
    }
    return {
      kind: e.kind,
      name: e.name,
      message,
      bytes: toBinary(schema, message as never),
    } as SerializedEntity;
  });
}

/** Visits every message object; `onObject` returning false skips its children; `onString` may replace strings. */
function walk(value: unknown, onObject: (node: object) => boolean, onString: (s: string) => string): void {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      if (typeof v === "string") value[i] = onString(v);
      else walk(v, onObject, onString);
    }
    return;
  }
  if (!onObject(value)) return;
  const rec = value as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    const v = rec[key];
    if (typeof v === "string") {
      if (key !== "$typeName") rec[key] = onString(v);
    } else walk(v, onObject, onString);
  }
}

/**
 * The default version: `sha256` over every entity's kind, name and serialized bytes (serialized
 * with empty project, domain and version), plus the code bundle's digest, as 24 lower-case
 * base32 characters. The same code and settings give the same version in every project and
 * domain; any change to a task, workflow, launch plan, image, environment or bundle gives a new one.
 */
export function contentVersion(entities: readonly SerializedEntity[], bundleDigest?: string): string {
  const h = createHash("sha256");
  h.update("tsflyte-version-1\0");
  for (const e of entities) {
    h.update(`${e.kind}\0${e.name}\0`);
    h.update(e.bytes);
    h.update("\0");
  }
  if (bundleDigest) h.update(`bundle\0${bundleDigest}`);
  return base32(h.digest()).slice(0, 24);
}

function base32(bytes: Uint8Array): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let out = "";
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(acc << (5 - bits)) & 31];
  return out;
}

/**
 * The git commit of the tree at `dir` when it has no uncommitted changes (what
 * `--git-version` uses). Throws `FlyteRemoteError` `ADMIN_CONFIG` when `dir` is not in a git
 * repository or the tree is dirty.
 */
export function gitVersion(dir: string): string {
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  let commit: string;
  let dirty: string;
  try {
    commit = git("rev-parse", "HEAD");
    dirty = git("status", "--porcelain", "--untracked-files=normal", "--", ".");
  } catch (err) {
    throw new FlyteRemoteError("ADMIN_CONFIG", `${dir} is not in a git repository with a commit`, {
      entity: dir,
      fix: "drop --git-version (the default version is a digest of the serialized entities), or commit the code",
      cause: err,
    });
  }
  if (dirty !== "") {
    throw new FlyteRemoteError(
      "ADMIN_CONFIG",
      `${dir} has uncommitted changes (${dirty.split("\n").length} paths), so the commit ${commit.slice(0, 12)} does not describe the code`,
      { entity: dir, fix: "commit or stash the changes, or drop --git-version" },
    );
  }
  return commit;
}

/**
 * Registers already hydrated or still empty-identifier entities (see {@link hydrateEntities},
 * applied here) into `project`/`domain` under `version`. Returns what happened to each entity,
 * in the input order. Throws `FlyteRemoteError`: `ENTITY_CONFLICT`, `ADMIN_UNREACHABLE`, ... The
 * first failure stops new calls; calls in flight finish.
 */
export async function registerSerialized(
  client: AdminClient,
  entities: readonly SerializedEntity[],
  options: RegisterSerializedOptions,
): Promise<RegisteredEntity[]> {
  const hydrated = hydrateEntities(entities, options);
  const log = options.log;
  const total = hydrated.length;
  const results: (RegisteredEntity | undefined)[] = new Array(total);
  let done = 0;
  let failure: unknown;
  const limit = Math.max(1, options.concurrency ?? 8);
  let running = 0;
  const waiters: (() => void)[] = [];
  const slot = async () => {
    while (running >= limit) await new Promise<void>((r) => waiters.push(r));
    running++;
  };
  const release = () => {
    running--;
    waiters.shift()?.();
  };

  const registerOne = async (i: number): Promise<void> => {
    const e = hydrated[i]!;
    if (failure) return;
    await slot();
    try {
      if (failure) return;
      const status = await createEntity(client, e);
      const kind = KIND_OF[e.kind];
      results[i] = { kind, name: e.name, id: entityId(e)!, status };
      done++;
      log?.(
        `[${done}/${total}] ${KIND_WORDS[kind]} ${e.name}: ${status === "created" ? "registered" : "already registered"}`,
      );
    } catch (err) {
      failure ??= err;
    } finally {
      release();
    }
  };

  // Tasks first, all at once (bounded by the slots).
  await Promise.all(hydrated.map((e, i) => (e.kind === 1 ? registerOne(i) : undefined)));
  if (failure) throw failure;

  // Then workflows and launch plans, each after what it references from this batch.
  const indexByKey = new Map<string, number>();
  hydrated.forEach((e, i) => {
    const id = entityId(e);
    if (id && e.kind !== 1) indexByKey.set(idKey(id), i);
  });
  const promises = new Map<number, Promise<void>>();
  const schedule = (i: number): Promise<void> => {
    let p = promises.get(i);
    if (p) return p;
    const deps = dependencies(hydrated[i]!)
      .map((id) => indexByKey.get(idKey(id)))
      .filter((j): j is number => j !== undefined && j < i);
    p = Promise.all(deps.map(schedule)).then(() => registerOne(i));
    promises.set(i, p);
    return p;
  };
  await Promise.all(hydrated.map((e, i) => (e.kind === 1 ? undefined : schedule(i))));
  if (failure) throw failure;

  if (options.activateLaunchPlans) {
    for (const r of results) {
      if (r?.kind !== "launchPlan") continue;
      await client.admin.updateLaunchPlan({ id: r.id, state: LaunchPlanState.ACTIVE });
      log?.(`activated launch plan ${r.name}`);
    }
  }
  return results as RegisteredEntity[];
}

function idKey(id: Identifier): string {
  return `${id.resourceType}/${id.project}/${id.domain}/${id.name}/${id.version}`;
}

/** The launch plans and workflows a workflow or launch plan references. */
function dependencies(e: SerializedEntity): Identifier[] {
  if (e.kind === 3) return e.message.spec?.workflowId ? [e.message.spec.workflowId] : [];
  if (e.kind !== 2) return [];
  const out: Identifier[] = [];
  const self = e.message.template?.id;
  walk(
    e.message,
    (node) => {
      if ((node as { $typeName?: string }).$typeName === "flyteidl.core.Identifier") {
        const id = node as Identifier;
        if (
          (id.resourceType === ResourceType.LAUNCH_PLAN || id.resourceType === ResourceType.WORKFLOW) &&
          !(self && idKey(self) === idKey(id))
        )
          out.push(id);
        return false;
      }
      return true;
    },
    (s) => s,
  );
  return out;
}

/** Creates one entity; `exists` when the admin already holds it identically. */
async function createEntity(client: AdminClient, e: SerializedEntity): Promise<"created" | "exists"> {
  const id = entityId(e);
  if (!id) {
    throw new FlyteRemoteError("ADMIN_CONFIG", `${e.name} has no identifier`, {
      entity: e.name,
      fix: "re-create the package with tsflyte package or pyflyte package",
    });
  }
  try {
    if (e.kind === 1) await client.admin.createTask({ id, spec: e.message });
    else if (e.kind === 2) await client.admin.createWorkflow({ id, spec: e.message });
    else await client.admin.createLaunchPlan({ id, spec: e.message.spec });
    return "created";
  } catch (err) {
    if (err instanceof FlyteRemoteError && err.code === "ENTITY_EXISTS") return "exists";
    if (
      err instanceof FlyteRemoteError &&
      err.grpcCode === "InvalidArgument" &&
      /with different structure already exists/.test(err.message)
    ) {
      const kind = KIND_WORDS[KIND_OF[e.kind]];
      const diff = err.message
        .slice(err.message.indexOf("already exists") + "already exists".length)
        .replace(/^:\s*/, "")
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .slice(0, 8)
        .join("; ");
      throw new FlyteRemoteError(
        "ENTITY_CONFLICT",
        `${kind} ${id.name} version ${id.version} is already registered in ${id.project}/${id.domain} with different content${diff ? ` (${diff})` : ""}`,
        {
          entity: `${kind} ${id.name}@${id.version}`,
          endpoint: err.endpoint,
          grpcCode: err.grpcCode,
          fix: "bump the version (--version), or leave --version out so the version is a digest of the content",
          cause: err,
        },
      );
    }
    throw err;
  }
}

/** A code bundle to upload: a `fast<sha256>.tar.gz` file or its bytes. */
export interface BundleToUpload {
  /** The file name (`fast<digest>.tar.gz`). */
  readonly name: string;
  /** Its path, when `bytes` is not given. */
  readonly path?: string | undefined;
  /** Its bytes. */
  readonly bytes?: Uint8Array | undefined;
}

/**
 * Uploads a code bundle through the admin's DataProxy (`CreateUploadLocation`, then an HTTP PUT
 * to the signed URL) and returns its native URI (e.g. `s3://bucket/project/domain/<md5>/fast….tar.gz`).
 * The archive is uploaded as is (still gzipped: `tsflyte-fast-execute` checks its sha256 against
 * its name). Throws `FlyteRemoteError` `UPLOAD_FAILED`.
 */
export async function uploadBundle(
  client: AdminClient,
  bundle: BundleToUpload,
  target: { project: string; domain: string; log?: ((line: string) => void) | undefined },
): Promise<string> {
  const bytes = bundle.bytes ?? new Uint8Array(await readFile(bundle.path!));
  const md5 = createHash("md5").update(bytes).digest();
  let location: Awaited<ReturnType<AdminClient["dataProxy"]["createUploadLocation"]>>;
  try {
    location = await client.dataProxy.createUploadLocation({
      project: target.project,
      domain: target.domain,
      filename: bundle.name,
      contentMd5: md5,
      expiresIn: { seconds: 3600n, nanos: 0 },
    });
  } catch (err) {
    if (
      err instanceof FlyteRemoteError &&
      (err.code === "ADMIN_UNREACHABLE" || err.code === "ADMIN_TLS" || err.code === "ADMIN_UNAUTHENTICATED")
    )
      throw err;
    throw new FlyteRemoteError(
      "UPLOAD_FAILED",
      `the admin gave no upload location for the code bundle ${bundle.name}: ${(err as Error).message}`,
      {
        entity: bundle.name,
        endpoint: client.config.endpoint,
        fix: "register without fast registration (--no-fast, code baked into the image), or give FlyteAdmin object storage that signs URLs (S3, GCS, MinIO)",
        cause: err,
      },
    );
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(location.headers)) {
    // stow sets Content-Length to the length of the MD5 text, not of the body.
    if (k.toLowerCase() !== "content-length") headers[k] = v;
  }
  if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-md5"))
    headers["Content-MD5"] = md5.toString("base64");
  let res: Response;
  try {
    res = await fetch(location.signedUrl, { method: "PUT", headers, body: bytes });
  } catch (err) {
    throw new FlyteRemoteError(
      "UPLOAD_FAILED",
      `uploading ${bundle.name} failed: ${(err as Error).message}`,
      {
        entity: bundle.name,
        fix: `check that this machine reaches ${new URL(location.signedUrl).origin}, then run the command again`,
        cause: err,
      },
    );
  }
  if (!res.ok) {
    const text = (await res.text()).slice(0, 300);
    throw new FlyteRemoteError(
      "UPLOAD_FAILED",
      `uploading ${bundle.name} failed: HTTP ${res.status} ${text}`,
      {
        entity: bundle.name,
        fix: "check the blob store's permissions for the admin's signed URLs, then run the command again",
      },
    );
  }
  await res.arrayBuffer().catch(() => undefined);
  target.log?.(`uploaded ${bundle.name} (${bytes.length} bytes) to ${location.nativeUrl}`);
  return location.nativeUrl;
}
