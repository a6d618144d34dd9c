// Registration, executions and the admin client against a REAL FlyteAdmin (scripts/peers/
// flyteadmin-start.sh: flyteadmin serve + PostgreSQL + moto S3, no Kubernetes). Skipped, saying
// why, only when the flyteadmin binary is absent.
//
// What stands in for the rest of a cluster: a TCP proxy that cuts connections, a TLS proxy in
// front of the admin, and (for the execution-lifecycle part) a stand-in Kubernetes API on
// 127.0.0.1:6443 that accepts the FlyteWorkflow objects the admin creates; the test then plays
// propeller by sending the admin workflow and node events. All in one file, so one process owns
// the admin's lifetime.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { clone, type DescMessage, equals, toJson } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { Entity } from "../../src/core/entity.js";
import { LaunchPlanSpecSchema, LaunchPlanState } from "../../src/proto/gen/flyteidl/admin/launch_plan_pb.js";
import { WorkflowExecution_Phase } from "../../src/proto/gen/flyteidl/core/execution_pb.js";
import { TaskTemplateSchema } from "../../src/proto/gen/flyteidl/core/tasks_pb.js";
import {
  type Node,
  type WorkflowTemplate,
  WorkflowTemplateSchema,
} from "../../src/proto/gen/flyteidl/core/workflow_pb.js";
import { AdminClient } from "../../src/remote/client.js";
import { type AdminConfig, adminConfig, parseAdminSection } from "../../src/remote/config.js";
import { FlyteRemoteError } from "../../src/remote/errors.js";
import type { RemoteNodeExecution } from "../../src/remote/execution.js";
import { hydrateEntities } from "../../src/remote/register.js";
import { type RegisterResult, registerModules, registerPackage } from "../../src/remote/register-sources.js";
import { FlyteRemote } from "../../src/remote/remote.js";
import { buildCodeBundle } from "../../src/serialize/bundle.js";
import { type SerializedEntity, serializeEntities } from "../../src/serialize/entities.js";
import { loadEntities, settingsFromOptions } from "../../src/serialize/modules.js";
import { writePackageArchive } from "../../src/serialize/package.js";
import { toLiteralMap } from "../../src/types/literal-map.js";
import { type OAuthServer, startOAuthServer } from "./oauth-server.js";
import {
  ADMIN_SKIP_REASON,
  type AdminPeer,
  type AdminReplica,
  AUTH_CLIENT,
  cuttableProxy,
  FLYTECTL_BIN,
  fakeKubernetes,
  flytectl,
  ROOT,
  selfSignedCertificate,
  startAdmin,
  startAdminReplica,
  stopAdminIfStartedHere,
  tlsProxy,
} from "./peers.js";
import { succeed, workflowEvent } from "./propeller.js";

const run = promisify(execFile);
const EXAMPLES = join(ROOT, "examples");
const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".ts"))
  .sort()
  .map((f) => join(EXAMPLES, f));
const IMAGES = [
  "ghcr.io/example/app:v1",
  "trainer=ghcr.io/example/trainer:v1",
  "predictor=ghcr.io/example/predictor:v1",
];
const PROJECT = "flytesnacks";
const DOMAIN = "development";
const CTX = { rawDataPrefix: "", workDir: "" };
/** Makes this run's content (so its version) new, so the first registration creates everything. */
const RUN_ENV = { TSFLYTE_TEST_RUN: randomBytes(6).toString("hex") };

let peer: AdminPeer;
let config: AdminConfig;
let client: AdminClient;
const quiet = () => {};

const adminAt = (endpoint: string, extra: Record<string, unknown> = {}) =>
  parseAdminSection({ endpoint, insecure: true, ...extra }, { file: "test" });

async function caught(p: Promise<unknown>): Promise<FlyteRemoteError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlyteRemoteError);
  return err as FlyteRemoteError;
}

/** The entities exactly as registerModules serialized them for `result`. */
async function serializedFor(result: RegisterResult, files = EXAMPLE_FILES): Promise<SerializedEntity[]> {
  const base = settingsFromOptions({ images: IMAGES, sourceRoot: EXAMPLES, env: RUN_ENV });
  const settings = base
    .newBuilder()
    .project(result.project)
    .domain(result.domain)
    .version(result.version)
    .fastSerializationSettings({
      enabled: true,
      destinationDir: ".",
      distributionLocation: result.distributionLocation,
    })
    .build();
  const entities = await loadEntities(files, EXAMPLES);
  return hydrateEntities(await serializeEntities(entities, settings), result);
}

/**
 * Undoes what propeller's compiler does to a workflow template, so the admin's compiled copy can
 * be compared with the template that was sent: it adds start-node and end-node, binds workflow
 * inputs to node "start-node" (flytekit and tsflyte write ""), and prefixes the ids of nodes
 * inside a branch with the branch node's id.
 */
function uncompile(template: WorkflowTemplate): WorkflowTemplate {
  const t = clone(WorkflowTemplateSchema, template);
  t.nodes = t.nodes.filter((n) => n.id !== "start-node" && n.id !== "end-node");
  const strip = (id: string, prefix: string | undefined) =>
    prefix !== undefined && id.startsWith(`${prefix}-`) ? id.slice(prefix.length + 1) : id;
  const fixRefs = (value: unknown, prefix: string | undefined): void => {
    if (value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      for (const v of value) fixRefs(v, prefix);
      return;
    }
    const rec = value as Record<string, unknown>;
    if (rec.$typeName === "flyteidl.core.OutputReference") {
      const ref = rec as { nodeId: string };
      ref.nodeId = ref.nodeId === "start-node" ? "" : strip(ref.nodeId, prefix);
      return;
    }
    if (rec.$typeName === "flyteidl.core.Node") return; // handled by fixNode
    for (const v of Object.values(rec)) fixRefs(v, prefix);
  };
  const fixNode = (node: Node, prefix: string | undefined): void => {
    const compiledId = node.id;
    node.id = strip(node.id, prefix);
    node.upstreamNodeIds = node.upstreamNodeIds.map((u) => strip(u, prefix));
    fixRefs(node.inputs, prefix);
    if (node.target.case === "branchNode") {
      const ifElse = node.target.value.ifElse!;
      const children = [ifElse.case?.thenNode, ...ifElse.other.map((b) => b.thenNode)];
      if (ifElse.default.case === "elseNode") children.push(ifElse.default.value);
      for (const c of children) if (c) fixNode(c, compiledId);
      fixRefs(ifElse.case?.condition, prefix);
      for (const b of ifElse.other) fixRefs(b.condition, prefix);
    }
    if (node.target.case === "arrayNode" && node.target.value.node) fixNode(node.target.value.node, prefix);
  };
  for (const n of t.nodes) fixNode(n, undefined);
  if (t.failureNode) fixNode(t.failureNode, undefined);
  fixRefs(t.outputs, undefined);
  return t;
}

function expectSame(schema: DescMessage, got: unknown, want: unknown, what: string): void {
  if (!equals(schema, got as never, want as never)) {
    // show a readable difference
    expect({ what, got: toJson(schema, got as never) }).toEqual({ what, got: toJson(schema, want as never) });
  }
}

describe.skipIf(ADMIN_SKIP_REASON !== undefined)("against a real FlyteAdmin", () => {
  beforeAll(async () => {
    peer = await startAdmin();
    config = adminAt(`dns:///${peer.grpc}`);
    client = AdminClient.connect(config);
  });
  afterAll(async () => {
    client?.close();
    await stopAdminIfStartedHere();
  });

  describe("registration", () => {
    let first: RegisterResult;
    const lines: string[] = [];

    it("registers every example (tasks, then workflows and launch plans), fast: code bundle uploaded", async () => {
      first = await registerModules(client, EXAMPLE_FILES, {
        images: IMAGES,
        env: RUN_ENV,
        sourceRoot: EXAMPLES,
        project: PROJECT,
        domain: DOMAIN,
        log: (l) => lines.push(l),
      });
      console.log(
        `registered ${first.entities.length} entities of ${EXAMPLE_FILES.length} examples in ${first.ms.toFixed(0)} ms (version ${first.version})`,
      );
      expect(first.version).toMatch(/^[a-z2-7]{24}$/);
      expect(first.entities.length).toBeGreaterThan(20);
      expect(first.entities.every((e) => e.status === "created")).toBe(true);
      expect(first.distributionLocation).toMatch(
        /^s3:\/\/flyte\/flytesnacks\/development\/[A-Z2-7=]+\/fast[0-9a-f]{64}\.tar\.gz$/,
      );
      // every task before any workflow or launch plan; each launch plan after its workflow
      const progress = lines.filter((l) => /^\[\d+\/\d+\] /.test(l));
      const order = progress.map((l) => l.replace(/^\[\d+\/\d+\] /, "").replace(/: registered$/, ""));
      expect(order.findLastIndex((l) => l.startsWith("task "))).toBeLessThan(
        order.findIndex((l) => !l.startsWith("task ")),
      );
      for (const e of first.entities.filter((x) => x.kind === "launchPlan")) {
        const lp = order.indexOf(`launch plan ${e.name}`);
        const wf = order.indexOf(`workflow ${e.name}`);
        if (wf >= 0) expect(wf).toBeLessThan(lp);
      }
      expect(lines.some((l) => /^uploaded fast[0-9a-f]{64}\.tar\.gz \(\d+ bytes\) to s3:\/\//.test(l))).toBe(
        true,
      );
    });

    it("reads every entity back equal to what was serialized (the admin fills in project, domain, version)", async () => {
      const ours = await serializedFor(first);
      expect(ours.map((e) => e.name)).toEqual(first.entities.map((e) => e.name));
      for (const e of ours) {
        if (e.kind === 1) {
          const got = await client.admin.getTask({ id: e.message.template!.id });
          expect(got.id).toEqual(e.message.template!.id);
          expectSame(TaskTemplateSchema, got.closure!.compiledTask!.template, e.message.template, e.name);
        } else if (e.kind === 2) {
          const got = await client.admin.getWorkflow({ id: e.message.template!.id });
          expectSame(
            WorkflowTemplateSchema,
            uncompile(got.closure!.compiledWorkflow!.primary!.template!),
            e.message.template,
            e.name,
          );
          expect(got.closure!.compiledWorkflow!.subWorkflows.length).toBe(e.message.subWorkflows.length);
        } else {
          const got = await client.admin.getLaunchPlan({ id: e.message.id });
          expectSame(LaunchPlanSpecSchema, got.spec, e.message.spec, e.name);
        }
      }
      // fast registration: the container runs the bundle the admin's store holds
      const task = ours.find((e) => e.kind === 1)!;
      const args =
        task.kind === 1 && task.message.template!.target.case === "container"
          ? task.message.template!.target.value.args
          : [];
      expect(args.slice(0, 6)).toEqual([
        "tsflyte-fast-execute",
        "--additional-distribution",
        first.distributionLocation,
        "--dest-dir",
        ".",
        "--",
      ]);
    });

    it("stored the code bundle unchanged (still gzipped, sha256 = the digest in its name)", async () => {
      if (!peer.s3) return; // local storage: no bundle upload
      const url = new URL(first.distributionLocation!.replace(/^s3:/, "http:"));
      const s3 = new S3Client({
        endpoint: peer.s3,
        forcePathStyle: true,
        region: "us-east-1",
        credentials: { accessKeyId: "flytekit-ts", secretAccessKey: "flytekit-ts-secret" },
      });
      const obj = await s3.send(new GetObjectCommand({ Bucket: url.host, Key: url.pathname.slice(1) }));
      const bytes = await obj.Body!.transformToByteArray();
      const digest = createHash("sha256").update(bytes).digest("hex");
      expect(first.distributionLocation).toContain(`fast${digest}.tar.gz`);
      s3.destroy();
    });

    it("registers again idempotently: same version, everything already there", async () => {
      const again = await registerModules(client, EXAMPLE_FILES, {
        images: IMAGES,
        env: RUN_ENV,
        sourceRoot: EXAMPLES,
        log: quiet,
      });
      expect(again.version).toBe(first.version);
      expect(again.entities.map((e) => [e.name, e.status])).toEqual(
        first.entities.map((e) => [e.name, "exists"]),
      );
    });

    it("fails with ENTITY_CONFLICT when different content is registered under the same version", async () => {
      const files = [join(EXAMPLES, "hello-world.ts")];
      const version = `conflict-${randomBytes(4).toString("hex")}`;
      await registerModules(client, files, {
        images: IMAGES,
        sourceRoot: EXAMPLES,
        version,
        fast: false,
        log: quiet,
      });
      const err = await caught(
        registerModules(client, files, {
          images: ["ghcr.io/example/app:v2"],
          sourceRoot: EXAMPLES,
          version,
          fast: false,
          log: quiet,
        }),
      );
      expect(err.code).toBe("ENTITY_CONFLICT");
      expect(err.entity).toMatch(new RegExp(`^task hello-world\\.(count|greet)@${version}$`));
      expect(err.message).toMatch(
        new RegExp(
          `version ${version} is already registered in flytesnacks/development with different content`,
        ),
      );
      expect(err.message).toMatch(/ghcr\.io\/example\/app:v1 -> ghcr\.io\/example\/app:v2/);
      expect(err.message).toMatch(/Fix: bump the version/);
    });

    it("activates launch plans when asked (--activate-launch-plans)", async () => {
      const r = await registerModules(client, [join(EXAMPLES, "hello-world.ts")], {
        images: IMAGES,
        sourceRoot: EXAMPLES,
        version: `active-${randomBytes(4).toString("hex")}`,
        fast: false,
        activateLaunchPlans: true,
        log: quiet,
      });
      const lp = r.entities.find((e) => e.kind === "launchPlan")!;
      const got = await client.admin.getLaunchPlan({ id: lp.id });
      expect(got.closure?.state).toBe(LaunchPlanState.ACTIVE);
    });

    it("is seen by flytectl (get task / workflow / launchplan -o json)", async (ctx) => {
      if (!existsSync(FLYTECTL_BIN)) ctx.skip();
      const task = first.entities.find((e) => e.kind === "task")!;
      const out = JSON.parse(
        await flytectl(
          peer,
          "get",
          "task",
          "-p",
          PROJECT,
          "-d",
          DOMAIN,
          task.name,
          "--version",
          first.version,
          "-o",
          "json",
        ),
      );
      expect(out.id).toMatchObject({
        resourceType: "TASK",
        project: PROJECT,
        domain: DOMAIN,
        name: task.name,
        version: first.version,
      });
      expect(out.closure.compiledTask.template.container.args[0]).toBe("tsflyte-fast-execute");
      // the command of the issue: every version of the task
      const versions = JSON.parse(
        await flytectl(peer, "get", "task", "-p", PROJECT, "-d", DOMAIN, task.name, "-o", "json"),
      ) as { id: { version: string } }[] | { id: { version: string } };
      // (one object when there is one version, a list otherwise)
      expect([versions].flat().map((v) => v.id.version)).toContain(first.version);
      const wf = first.entities.find((e) => e.kind === "workflow")!;
      const wfOut = JSON.parse(
        await flytectl(
          peer,
          "get",
          "workflow",
          "-p",
          PROJECT,
          "-d",
          DOMAIN,
          wf.name,
          "--version",
          first.version,
          "-o",
          "json",
        ),
      );
      expect(wfOut.id.name).toBe(wf.name);
      const lp = first.entities.find((e) => e.kind === "launchPlan")!;
      const lpOut = JSON.parse(
        await flytectl(
          peer,
          "get",
          "launchplan",
          "-p",
          PROJECT,
          "-d",
          DOMAIN,
          lp.name,
          "--version",
          first.version,
          "-o",
          "json",
        ),
      );
      expect(lpOut.spec.workflowId.name).toBe(lp.name);
    });
  });

  describe("packages", () => {
    it("registers a tsflyte package with its code bundle (placeholders filled like flytectl)", async () => {
      const base = settingsFromOptions({ images: IMAGES, sourceRoot: EXAMPLES });
      const fastSettings = base.newBuilder().fastSerializationSettings({ enabled: true }).build();
      const entities = await serializeEntities(
        await loadEntities([join(EXAMPLES, "map-task.ts")], EXAMPLES),
        fastSettings,
      );
      const bundle = await buildCodeBundle({ sourceRoot: EXAMPLES });
      const tgz = join(await mkdtemp(join(tmpdir(), "tsflyte-pkg-")), "p.tgz");
      await writePackageArchive(entities, tgz, [{ name: bundle.name, bytes: await readFile(bundle.path) }]);
      const result = await registerPackage(client, tgz, { log: quiet });
      expect(result.entities.length).toBe(entities.length);
      expect(result.distributionLocation).toContain(bundle.name);
      const task = result.entities.find((e) => e.kind === "task")!;
      const got = await client.admin.getTask({ id: task.id });
      const container = got.closure!.compiledTask!.template!.target;
      expect(container.case === "container" && container.value.args.slice(0, 5)).toEqual([
        "tsflyte-fast-execute",
        "--additional-distribution",
        result.distributionLocation,
        "--dest-dir",
        ".",
      ]);
    });

    it("registers what flytectl registered as the same entities (already there, no conflict)", async (ctx) => {
      if (!existsSync(FLYTECTL_BIN)) ctx.skip();
      const entities = await serializeEntities(
        await loadEntities([join(EXAMPLES, "conditions.ts")], EXAMPLES),
        settingsFromOptions({ images: IMAGES, sourceRoot: EXAMPLES }),
      );
      const dir = await mkdtemp(join(tmpdir(), "tsflyte-pkg-"));
      const tgz = join(dir, "conditions.tgz");
      await writePackageArchive(entities, tgz);
      const version = `flytectl-${randomBytes(4).toString("hex")}`;
      await flytectl(
        peer,
        "register",
        "files",
        tgz,
        "--archive",
        "-p",
        PROJECT,
        "-d",
        DOMAIN,
        "--version",
        version,
      );
      const ours = await registerPackage(client, tgz, { version, log: quiet });
      expect(ours.entities.map((e) => e.status)).toEqual(entities.map(() => "exists"));
    });

    it("registers a pyflyte package (flytesnacks core from Flyte's own test data)", async () => {
      const pkg = join(
        ROOT,
        "test/fixtures/flyte-v1.16.8/flytectl/cmd/register/testdata/flytesnacks-core.tgz",
      );
      const result = await registerPackage(client, pkg, {
        version: `snacks-${randomBytes(3).toString("hex")}`,
        log: quiet,
      });
      expect(result.entities.length).toBeGreaterThan(50);
      // the package holds one task twice (same id and content): one copy is created, the other "exists"
      const byId = new Map<string, string[]>();
      for (const e of result.entities)
        byId.set(`${e.kind}/${e.name}`, [...(byId.get(`${e.kind}/${e.name}`) ?? []), e.status]);
      for (const statuses of byId.values())
        expect(statuses.sort()).toEqual(["created", ...statuses.slice(1).map(() => "exists")]);
    });
  });

  describe("connections", () => {
    it("names an unreachable endpoint (ADMIN_UNREACHABLE) after the retries", async () => {
      const closed = await cuttableProxy("127.0.0.1:9");
      await closed.close();
      const c = AdminClient.connect(
        adminAt(`dns:///127.0.0.1:${closed.port}`, { maxRetries: 2, maxBackoffDelay: "100ms" }),
      );
      const err = await caught(c.admin.getVersion({}));
      c.close();
      expect(err.code).toBe("ADMIN_UNREACHABLE");
      expect(err.message).toMatch(
        new RegExp(
          `cannot reach FlyteAdmin at 127\\.0\\.0\\.1:${closed.port} after 3 attempts \\(GetVersion\\): .*ECONNREFUSED`,
        ),
      );
      expect(err.message).toMatch(/Fix: check that FlyteAdmin is running/);
      expect(err.origin).toBe("SYSTEM");
    });

    it("retries while the admin is away and carries on when it is back", async () => {
      const proxy = await cuttableProxy(peer.grpc);
      const retries: string[] = [];
      const c = AdminClient.connect(
        adminAt(`127.0.0.1:${proxy.port}`, { maxRetries: 8, maxBackoffDelay: "500ms" }),
        {
          onRetry: (r) => retries.push(r.call),
        },
      );
      try {
        await proxy.pause();
        setTimeout(() => void proxy.resume(), 1200);
        const v = await c.admin.getVersion({});
        expect(v.controlPlaneVersion?.Version).toBeTruthy();
        expect(retries.length).toBeGreaterThan(0);
      } finally {
        c.close();
        await proxy.close();
      }
    });

    it("finishes a registration cut short by a lost connection when run again", async () => {
      const proxy = await cuttableProxy(peer.grpc);
      const c = AdminClient.connect(adminAt(`127.0.0.1:${proxy.port}`, { maxRetries: 0 }));
      const files = [join(EXAMPLES, "multi-images.ts"), join(EXAMPLES, "data-pipeline.ts")];
      const version = `resume-${randomBytes(4).toString("hex")}`;
      let done = 0;
      try {
        const err = await caught(
          registerModules(c, files, {
            images: IMAGES,
            sourceRoot: EXAMPLES,
            version,
            fast: false,
            concurrency: 1,
            log: (l) => {
              if (/^\[\d+\/\d+\]/.test(l) && ++done === 3) void proxy.pause();
            },
          }),
        );
        expect(err.code).toBe("ADMIN_UNREACHABLE");
        await proxy.resume();
        const again = await registerModules(c, files, {
          images: IMAGES,
          sourceRoot: EXAMPLES,
          version,
          fast: false,
          log: quiet,
        });
        const statuses = again.entities.map((e) => e.status);
        expect(statuses.filter((s) => s === "exists").length).toBeGreaterThanOrEqual(3);
        expect(statuses.filter((s) => s === "created").length).toBeGreaterThan(0);
        for (const e of again.entities) {
          if (e.kind === "task") await c.admin.getTask({ id: e.id });
        }
      } finally {
        c.close();
        await proxy.close();
      }
    });

    it("finishes a registration cut short by an admin restart when run again", async () => {
      const replica = await startAdminReplica(peer);
      const c = AdminClient.connect(adminAt(`dns:///${replica.grpc}`, { maxRetries: 0 }));
      const files = [join(EXAMPLES, "multi-images.ts"), join(EXAMPLES, "dynamic.ts")];
      const version = `restart-${randomBytes(4).toString("hex")}`;
      const opts = { images: IMAGES, sourceRoot: EXAMPLES, version, fast: false } as const;
      let done = 0;
      let stopped: Promise<void> | undefined;
      try {
        const err = await caught(
          registerModules(c, files, {
            ...opts,
            concurrency: 1,
            log: (l) => {
              if (/^\[\d+\/\d+\]/.test(l) && ++done === 3) stopped = replica.stop();
            },
          }),
        );
        await stopped;
        expect(err.code).toBe("ADMIN_UNREACHABLE");
        expect(err.message).toContain(replica.grpc);
        await replica.start();
        const again = await registerModules(c, files, { ...opts, log: quiet });
        expect(again.entities.filter((e) => e.status === "exists").length).toBeGreaterThanOrEqual(3);
        expect(again.entities.filter((e) => e.status === "created").length).toBeGreaterThan(0);
      } finally {
        c.close();
        await stopped?.catch(() => {});
        await replica.stop();
      }
    });

    it("rides out an admin restart within its retries", async () => {
      const replica = await startAdminReplica(peer);
      const retries: string[] = [];
      const c = AdminClient.connect(
        adminAt(`dns:///${replica.grpc}`, { maxRetries: 10, maxBackoffDelay: "1s" }),
        {
          onRetry: (r) => retries.push(r.call),
        },
      );
      let restarted: Promise<void> | undefined;
      let done = 0;
      try {
        const result = await registerModules(
          c,
          [join(EXAMPLES, "map-task.ts"), join(EXAMPLES, "conditions.ts")],
          {
            images: IMAGES,
            sourceRoot: EXAMPLES,
            version: `ride-${randomBytes(4).toString("hex")}`,
            fast: false,
            concurrency: 1,
            log: (l) => {
              if (/^\[\d+\/\d+\]/.test(l) && ++done === 2)
                restarted = replica.stop().then(() => replica.start());
            },
          },
        );
        await restarted;
        expect(result.entities.length).toBeGreaterThan(5);
        expect(retries.length).toBeGreaterThan(0);
      } finally {
        c.close();
        await restarted?.catch(() => {});
        await replica.stop();
      }
    });

    describe("TLS", () => {
      let tls: { key: Buffer; cert: Buffer; certFile: string };
      let proxy: { port: number; close(): Promise<void> };
      beforeAll(async () => {
        tls = selfSignedCertificate();
        proxy = await tlsProxy(peer.grpc, tls);
      });
      afterAll(() => proxy?.close());

      const call = async (section: Record<string, unknown>) => {
        const c = AdminClient.connect(
          parseAdminSection({ maxRetries: 0, ...section }, { file: "test-config.yaml" }),
        );
        try {
          return await c.admin.getVersion({});
        } finally {
          c.close();
        }
      };

      it("talks TLS with a private CA (caCertFilePath)", async () => {
        const v = await call({ endpoint: `dns:///127.0.0.1:${proxy.port}`, caCertFilePath: tls.certFile });
        expect(v.controlPlaneVersion?.Version).toBeTruthy();
      });

      it("talks TLS without verification when asked (insecureSkipVerify)", async () => {
        const v = await call({ endpoint: `127.0.0.1:${proxy.port}`, insecureSkipVerify: true });
        expect(v.controlPlaneVersion?.Version).toBeTruthy();
      });

      it("ADMIN_TLS: untrusted certificate", async () => {
        const err = await caught(call({ endpoint: `127.0.0.1:${proxy.port}` }));
        expect(err.code).toBe("ADMIN_TLS");
        expect(err.message).toMatch(
          /the TLS connection to FlyteAdmin at 127\.0\.0\.1:\d+ failed: self-signed certificate/,
        );
        expect(err.message).toMatch(/admin\.caCertFilePath in test-config\.yaml/);
      });

      it("ADMIN_TLS: TLS against the plaintext admin", async () => {
        const err = await caught(call({ endpoint: `dns:///${peer.grpc}`, insecure: false }));
        expect(err.code).toBe("ADMIN_TLS");
        expect(err.message).toMatch(/does not speak TLS .*but admin\.insecure is false/);
        expect(err.message).toMatch(/set admin\.insecure: true/);
      });

      it("ADMIN_TLS: plaintext against a TLS endpoint", async () => {
        const err = await caught(call({ endpoint: `127.0.0.1:${proxy.port}`, insecure: true }));
        expect(err.code).toBe("ADMIN_TLS");
        expect(err.message).toMatch(
          /did not answer gRPC over plaintext HTTP\/2 .*admin\.insecure is true, but the endpoint probably expects TLS/,
        );
      });
    });

    it("says when the endpoint is the HTTP port, not gRPC", async () => {
      const err = await caught(
        AdminClient.connect(adminAt(peer.http.replace(/^http:\/\//, ""), { maxRetries: 0 })).admin.getVersion(
          {},
        ),
      );
      expect(["ADMIN_CALL_FAILED", "ADMIN_TLS", "ADMIN_UNREACHABLE"]).toContain(err.code);
      console.log(`gRPC call to the admin's HTTP port: [${err.code}] ${err.message}`);
    });
  });

  describe("executions (no Kubernetes cluster)", () => {
    let remote: FlyteRemote;
    let hello: Map<string, Entity>;
    beforeAll(async () => {
      remote = new FlyteRemote(client, {
        settings: settingsFromOptions({ images: IMAGES, sourceRoot: EXAMPLES }),
        log: quiet,
      });
      hello = new Map(
        (await loadEntities([join(EXAMPLES, "hello-world.ts")], EXAMPLES)).map((e) => [e.name, e]),
      );
    });

    it("CreateExecution returns an id; the admin records it FAILED because no cluster takes the workflow", async (ctx) => {
      if (await portOpen(6443)) ctx.skip(); // something plays Kubernetes right now
      const wf = hello.get("hello-world.helloWorld")!;
      const started = await remote.execute(wf, { name: "Flyte" });
      expect(started.id).toMatchObject({ project: PROJECT, domain: DOMAIN });
      expect(started.name).toMatch(/^[a-z][a-z0-9]{19}$/);
      expect(started.url).toBe(
        `http://${peer.grpc}/console/projects/${PROJECT}/domains/${DOMAIN}/executions/${started.name}`,
      );
      expect(started.phase).toBe("FAILED");
      expect(started.error).toMatchObject({ code: "Internal", kind: "SYSTEM" });
      expect(started.error!.message).toMatch(
        /^failed to create workflow in propeller Post "https:\/\/127\.0\.0\.1:6443\/apis\/flyte\.lyft\.com\/v1alpha1\/namespaces\/flytesnacks-development\/flyteworkflows\?timeout=30s": dial tcp 127\.0\.0\.1:6443: connect: connection refused$/,
      );
      // the inputs were recorded as sent
      const data = await client.admin.getExecutionData({ id: started.id });
      expect(data.fullInputs?.literals.name?.value.case).toBe("scalar");
      const waited = await remote.wait(started, { timeoutMs: 5000 });
      expect(waited.isDone).toBe(true);
      const err = await caught(remote.outputs(waited));
      expect(err.code).toBe("EXECUTION_FAILED");
      expect(err.message).toMatch(/is FAILED: failed to create workflow in propeller/);
    });

    it("a single-task execution is refused by the admin (Internal: no cluster)", async (ctx) => {
      if (await portOpen(6443)) ctx.skip();
      const err = await caught(remote.execute(hello.get("hello-world.greet")!, { name: "x" }));
      expect(err.code).toBe("ADMIN_CALL_FAILED");
      expect(err.grpcCode).toBe("Internal");
      expect(err.message).toMatch(/CreateExecution with Internal: failed to create workflow in propeller/);
    });

    it("rejects wrong inputs before calling the admin", async () => {
      const wf = hello.get("hello-world.helloWorld")!;
      await expect(remote.execute(wf, { name: 3 })).rejects.toMatchObject({
        code: expect.stringMatching(/TYPE/),
      });
      await expect(remote.execute(wf, { nome: "x" })).rejects.toMatchObject({ code: "INPUT_UNKNOWN" });
    });

    it("fetches what was registered (latest version) with types from its interface", async () => {
      const lp = await remote.fetchLaunchPlan("hello-world.helloWorld");
      expect(Object.keys(lp.inputs)).toEqual(["name"]);
      expect(lp.defaultInputs).toEqual(["name"]);
      expect(Object.keys(lp.outputs).sort()).toEqual(["greeting", "length"]);
      const task = await remote.fetchTask("hello-world.count");
      expect(task.inputs.text?.name).toBe("string");
      const wf = await remote.fetchWorkflow("hello-world.helloWorld", lp.id.version);
      expect(wf.template?.nodes.length).toBeGreaterThan(0);
      const missing = await caught(remote.fetchTask("no-such-task"));
      expect(missing.code).toBe("ENTITY_NOT_FOUND");
    });
  });

  describe("execution lifecycle (a stand-in Kubernetes API takes the workflow; the test plays propeller)", () => {
    let kube: Awaited<ReturnType<typeof fakeKubernetes>>;
    let remote: FlyteRemote;
    let hello: Map<string, Entity>;
    beforeAll(async () => {
      kube = await fakeKubernetes();
      remote = new FlyteRemote(client, {
        settings: settingsFromOptions({ images: IMAGES, sourceRoot: EXAMPLES }),
        log: quiet,
      });
      hello = new Map(
        (await loadEntities([join(EXAMPLES, "hello-world.ts")], EXAMPLES)).map((e) => [e.name, e]),
      );
    });
    afterAll(() => kube?.close());

    it("starts, follows node progress, and reads typed outputs", async (ctx) => {
      if (!kube) ctx.skip();
      const wf = hello.get("hello-world.helloWorld")!;
      const started = await remote.execute(wf, { name: "Flyte" });
      expect(["UNDEFINED", "QUEUED"]).toContain(started.phase);
      const cr = await kube!.waitForCreate(started.name);
      expect(cr.namespace).toBe("flytesnacks-development");
      const outputs = await toLiteralMap(
        wf.outputs as never,
        { greeting: "Hello, Flyte!", length: 13 },
        CTX,
        wf.name,
      );
      const nodes: RemoteNodeExecution[] = [];
      const phases: string[] = [];
      const [done] = await Promise.all([
        remote.wait(started, {
          pollIntervalMs: 100,
          maxPollIntervalMs: 300,
          timeoutMs: 60_000,
          onNode: (n) => nodes.push(n),
          onPhase: (e) => phases.push(e.phase),
        }),
        succeed(client, started.id, ["n0", "n1"], outputs),
      ]);
      expect(done.phase).toBe("SUCCEEDED");
      expect(phases.at(-1)).toBe("SUCCEEDED");
      expect(
        nodes
          .filter((n) => n.phase === "SUCCEEDED")
          .map((n) => n.nodeId)
          .sort(),
      ).toEqual(["n0", "n1"]);
      expect(await remote.outputs(done)).toEqual({ greeting: "Hello, Flyte!", length: 13 });
      // a remote that never saw the entity types the outputs from the launch plan's interface
      // (an integer whose declared TS type is unknown reads as a bigint: int64 without loss)
      const other = new FlyteRemote(client, { log: quiet });
      expect(await other.outputs(await other.fetchExecution(started.name))).toEqual({
        greeting: "Hello, Flyte!",
        length: 13n,
      });
    });

    it("runs a single task and unwraps its single output", async (ctx) => {
      if (!kube) ctx.skip();
      const task = hello.get("hello-world.count")!;
      const started = await remote.execute(task, { text: "four" });
      expect(started.launchPlan?.resourceType).toBe(1); // TASK
      await kube!.waitForCreate(started.name);
      await succeed(
        client,
        started.id,
        [],
        await toLiteralMap(task.outputs as never, { o0: 4 }, CTX, task.name),
        0,
      );
      const done = await remote.wait(started, { pollIntervalMs: 100 });
      expect(await remote.outputs(done)).toBe(4);
    });

    it("terminates (the admin deletes the workflow) and relaunches", async (ctx) => {
      if (!kube) ctx.skip();
      const started = await remote.execute(hello.get("hello-world.helloWorld")!, {});
      await kube!.waitForCreate(started.name);
      await workflowEvent(client, started.id, WorkflowExecution_Phase.RUNNING);
      const aborting = await remote.terminate(started, "stopped by the test");
      expect(aborting.phase).toBe("ABORTING");
      expect(kube!.deleted).toContain(started.name);
      await workflowEvent(client, started.id, WorkflowExecution_Phase.ABORTED);
      const aborted = await remote.fetchExecution(started.name);
      expect(aborted.phase).toBe("ABORTED");
      expect(aborted.abortCause).toBe("stopped by the test");
      const again = await remote.relaunch(aborted);
      expect(again.name).not.toBe(started.name);
      expect(again.launchPlan).toEqual(started.launchPlan);
      await kube!.waitForCreate(again.name);
      const data = await client.admin.getExecutionData({ id: again.id });
      expect(data.fullInputs?.literals.name).toBeDefined();
    });

    it("tsflyte run --remote --wait prints the execution, its URL, node progress and the outputs", async (ctx) => {
      if (!kube) ctx.skip();
      const before = kube!.created.length;
      const stopChild = new AbortController();
      onTestFinished(() => stopChild.abort());
      const child = run(
        process.execPath,
        [
          "--import",
          "tsx",
          join(ROOT, "test/remote/cli.mts"),
          "run",
          "hello-world.ts",
          "helloWorld",
          "--name",
          "CLI",
          "--remote",
          "--wait",
          "--endpoint",
          `dns:///${peer.grpc}`,
          "--insecure",
          "--image",
          IMAGES[0]!,
          "--json",
          "--wait-timeout",
          "100",
        ],
        { cwd: EXAMPLES, timeout: 120_000, signal: stopChild.signal },
      );
      child.catch(() => {});
      // play propeller once the admin has created the workflow
      const cr = await Promise.race([
        new Promise<{ name: string }>((resolve, reject) => {
          const started = Date.now();
          const poll = setInterval(() => {
            if (kube!.created.length > before) {
              clearInterval(poll);
              resolve(kube!.created[before]!);
            } else if (Date.now() - started > 60_000) {
              clearInterval(poll);
              reject(new Error("the CLI started no execution within 60 s"));
            }
          }, 100);
        }),
        child.then(
          (r) => Promise.reject(new Error(`the CLI ended before its execution was created: ${r.stderr}`)),
          (e: { stderr?: string }) => Promise.reject(new Error(`the CLI failed: ${e.stderr ?? String(e)}`)),
        ),
      ]);
      const id = { project: PROJECT, domain: DOMAIN, name: cr.name } as never;
      const wf = hello.get("hello-world.helloWorld")!;
      await succeed(
        client,
        id,
        ["n0", "n1"],
        await toLiteralMap(wf.outputs as never, { greeting: "Hello, CLI!", length: 11 }, CTX, wf.name),
      );
      const { stdout, stderr } = await child;
      expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toEqual({ greeting: "Hello, CLI!", length: 11 });
      expect(stderr).toMatch(
        new RegExp(`started execution ${cr.name} of flytesnacks/development/hello-world\\.helloWorld@`),
      );
      expect(stderr).toMatch(/✓ n0/);
      expect(stderr).toMatch(new RegExp(`execution ${cr.name}: SUCCEEDED`));
    });
  });

  describe("authentication (a second flyteadmin replica with useAuth and its own OAuth2 server)", () => {
    let oidc: OAuthServer;
    let authAdmin: AdminReplica;
    let secretFile: string;
    let configFile: string;
    beforeAll(async () => {
      oidc = await startOAuthServer({ clientId: "unused", clientSecret: "unused" });
      authAdmin = await startAdminReplica(peer, { auth: { openIdBaseUrl: oidc.url } });
      const dir = await mkdtemp(join(tmpdir(), "tsflyte-auth-"));
      secretFile = join(dir, "client_secret");
      await writeFile(secretFile, `${AUTH_CLIENT.secret}\n`);
      configFile = join(dir, "config.yaml");
      await writeFile(
        configFile,
        [
          "admin:",
          `  endpoint: dns:///${authAdmin.grpc}`,
          "  insecure: true",
          "  authType: ClientSecret",
          `  clientId: ${AUTH_CLIENT.id}`,
          `  clientSecretLocation: ${secretFile}`,
          "images:",
          `  default: ${IMAGES[0]}`,
          "",
        ].join("\n"),
      );
    });
    afterAll(async () => {
      await authAdmin?.stop();
      await oidc?.close();
    });

    it("gets a token with the client secret at the token endpoint the admin publishes, then calls with it", async () => {
      const c = AdminClient.connect(adminConfig({ config: configFile, env: {} }));
      try {
        const meta = await c.authMetadata.getOAuth2Metadata({});
        expect(meta.tokenEndpoint).toBe(`${authAdmin.http}/oauth2/token`);
        const projects = await c.admin.listProjects({});
        expect(projects.projects.map((p) => p.id)).toContain(PROJECT);
        expect(c.tokens.current()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/); // a JWT from flyteadmin
        // registration (with the bundle upload through DataProxy) works under auth
        const r = await registerModules(c, [join(EXAMPLES, "hello-world.ts")], {
          images: IMAGES,
          sourceRoot: EXAMPLES,
          env: RUN_ENV,
          log: quiet,
        });
        expect(r.entities.length).toBe(4);
      } finally {
        c.close();
      }
    });

    it("ADMIN_UNAUTHENTICATED for a wrong client secret", async () => {
      const c = AdminClient.connect(
        adminAt(`dns:///${authAdmin.grpc}`, { clientId: AUTH_CLIENT.id, clientSecretEnvVar: "WRONG_SECRET" }),
        { env: { WRONG_SECRET: "not-the-secret" } },
      );
      const err = await caught(c.admin.listProjects({}));
      c.close();
      expect(err.code).toBe("ADMIN_UNAUTHENTICATED");
      expect(err.message).toMatch(
        new RegExp(
          `the token endpoint ${authAdmin.http}/oauth2/token refused client "${AUTH_CLIENT.id}" \\(401\\): invalid_client`,
        ),
      );
    });

    it("ADMIN_UNAUTHENTICATED when the admin refuses the token", async () => {
      const c = AdminClient.connect(
        adminAt(`dns:///${authAdmin.grpc}`, { authType: "ExternalCommand", command: ["echo", "not-a-jwt"] }),
      );
      const err = await caught(c.admin.listProjects({}));
      c.close();
      expect(err.code).toBe("ADMIN_UNAUTHENTICATED");
      expect(err.message).toMatch(/refused the credentials of ListProjects/);
    });

    it("AUTH_FAILED naming the secret file when there is none (flytectl's default location)", async () => {
      const c = AdminClient.connect(
        adminAt(`dns:///${authAdmin.grpc}`, { clientSecretLocation: "/nonexistent/client_secret" }),
      );
      const err = await caught(c.admin.listProjects({}));
      c.close();
      expect(err.code).toBe("AUTH_FAILED");
      expect(err.message).toMatch(/client secret file \/nonexistent\/client_secret/);
    });

    it("one config file serves tsflyte register and flytectl", async (ctx) => {
      const { stdout, stderr } = await run(
        process.execPath,
        [
          "--import",
          "tsx",
          join(ROOT, "test/remote/cli.mts"),
          "register",
          "conditions.ts",
          "--config",
          configFile,
          "--no-fast",
        ],
        { cwd: EXAMPLES, timeout: 120_000 },
      );
      expect(stderr).toMatch(/registered \d+ entities/);
      const version = stdout.trim();
      if (!existsSync(FLYTECTL_BIN)) ctx.skip();
      const { stdout: out } = await run(
        FLYTECTL_BIN,
        [
          "-c",
          configFile,
          "get",
          "task",
          "-p",
          PROJECT,
          "-d",
          DOMAIN,
          "conditions.square",
          "--version",
          version,
          "-o",
          "json",
        ],
        { timeout: 60_000 },
      );
      expect(JSON.parse(out).id.version).toBe(version);
    });
  });

  describe("tsflyte register (CLI)", () => {
    const cli = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await run(
          process.execPath,
          ["--import", "tsx", join(ROOT, "test/remote/cli.mts"), ...args],
          {
            cwd: EXAMPLES,
            timeout: 120_000,
          },
        );
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };

    it("registers modules, prints the version; again: nothing new", async () => {
      const a = await cli(
        "register",
        "hello-world.ts",
        "dynamic.ts",
        "--endpoint",
        `dns:///${peer.grpc}`,
        "--insecure",
        "-i",
        IMAGES[0]!,
      );
      expect(a.code).toBe(0);
      expect(a.stdout.trim()).toMatch(/^[a-z2-7]{24}$/);
      expect(a.stderr).toMatch(
        /registered \d+ entities \(\d+ new, \d+ already there\) in flytesnacks\/development/,
      );
      const b = await cli(
        "register",
        "hello-world.ts",
        "dynamic.ts",
        "--endpoint",
        `dns:///${peer.grpc}`,
        "--insecure",
        "-i",
        IMAGES[0]!,
        "--json",
      );
      expect(b.code).toBe(0);
      const summary = JSON.parse(b.stdout);
      expect(summary.version).toBe(a.stdout.trim());
      expect(summary.entities.every((e: { status: string }) => e.status === "exists")).toBe(true);
    });

    it("exits 3 with ADMIN_UNREACHABLE naming the endpoint", async () => {
      const r = await cli(
        "register",
        "hello-world.ts",
        "--endpoint",
        "dns:///127.0.0.1:9",
        "--insecure",
        "-i",
        IMAGES[0]!,
        "--no-fast",
      );
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        /error \[ADMIN_UNREACHABLE\]: 127\.0\.0\.1:9: cannot reach FlyteAdmin at 127\.0\.0\.1:9 after 5 attempts/,
      );
    });
  });
});

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
