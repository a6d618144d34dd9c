/**
 * Packages against the real tools: `flytectl compile` (propeller's compiler, offline) must
 * accept every package made from the test entities and the examples and reject Flyte's invalid
 * fixtures; flytekit (Python) must load every TaskSpec, WorkflowSpec and LaunchPlan we write.
 *
 * flytectl comes from scripts/setup/flytectl.sh and the venv from scripts/setup/flytekit.sh;
 * each part is skipped (saying so) when its tool is not there.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import type { DynamicTaskDef } from "../../src/core/dynamic.js";
import { ImageConfig } from "../../src/images/image-config.js";
import { TaskSpecSchema } from "../../src/proto/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema } from "../../src/proto/gen/flyteidl/admin/workflow_pb.js";
import { WorkflowTemplateSchema } from "../../src/proto/gen/flyteidl/core/workflow_pb.js";
import {
  dynamicJobSpec,
  identifier,
  type SerializedEntity,
  serializeEntities,
  typedInterface,
} from "../../src/serialize/entities.js";
import { serializeModules } from "../../src/serialize/modules.js";
import { writePackageArchive, writePackageFolder } from "../../src/serialize/package.js";
import { readPackage } from "../../src/serialize/package-reader.js";
import { SerializationSettings } from "../../src/serialize/settings.js";
import { entitiesOf, FLYTE_FIXTURES, FLYTECTL, FLYTEKIT_PYTHON, goldensSettings } from "./helpers.js";

const REPO = join(import.meta.dirname, "../..");
const EXAMPLES = join(REPO, "examples");
const exampleFiles = existsSync(EXAMPLES)
  ? readdirSync(EXAMPLES)
      .filter((f) => f.endsWith(".ts"))
      .sort()
  : [];
const EXAMPLE_IMAGES = [
  "ghcr.io/example/app:v1",
  "trainer=ghcr.io/example/trainer:v1",
  "predictor=ghcr.io/example/predictor:v1",
];

const tmp = () => mkdtempSync(join(tmpdir(), "tsflyte-peers-"));

/** Packages made from the test entities and every example: name -> .tgz path, plus the folders. */
const packages = new Map<string, { tgz: string; dir: string }>();

beforeAll(async () => {
  const out = tmp();
  const add = async (name: string, entities: Awaited<ReturnType<typeof serializeEntities>>) => {
    const tgz = join(out, `${name}.tgz`);
    const dir = join(out, name);
    await writePackageArchive(entities, tgz);
    await writePackageFolder(entities, dir);
    packages.set(name, { tgz, dir });
  };
  await add("example", await serializeEntities((await entitiesOf("example.ts")).values(), goldensSettings()));
  await add(
    "multi_images",
    await serializeEntities(
      (await entitiesOf("core/containerization/multi_images.ts")).values(),
      new SerializationSettings({
        imageConfig: ImageConfig.fromImages("ghcr.io/example/default:v9", {
          mindmeld: "ghcr.io/example/mindmeld:v1",
          borebuster: "ghcr.io/example/borebuster:v1",
        }),
      }),
    ),
  );
  const fast = goldensSettings({
    fastSerializationSettings: { enabled: true },
    project: "flytesnacks",
    domain: "development",
    version: "v1",
  });
  await add("example-fast", await serializeEntities((await entitiesOf("example.ts")).values(), fast));
  for (const f of exampleFiles) {
    const { entities } = await serializeModules([join(EXAMPLES, f)], {
      images: EXAMPLE_IMAGES,
      sourceRoot: REPO,
    });
    await add(`examples-${f.replace(/\.ts$/, "")}`, entities);
  }
});

function compile(pkg: string): { code: number | null; out: string } {
  // An empty working directory: flytectl must not pick up config or files from the repo.
  const r = spawnSync(FLYTECTL as string, ["compile", "--file", pkg], {
    cwd: tmp(),
    encoding: "utf8",
    env: { ...process.env, HOME: tmp() },
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe.skipIf(!FLYTECTL)(
  `flytectl compile (${FLYTECTL ?? "flytectl not built: run scripts/setup/flytectl.sh"})`,
  () => {
    it("has packages of the test entities and of every example", () => {
      expect([...packages.keys()]).toEqual([
        "example",
        "multi_images",
        "example-fast",
        ...exampleFiles.map((f) => `examples-${f.replace(/\.ts$/, "")}`),
      ]);
    });

    it("accepts every package we make", () => {
      const failures: string[] = [];
      for (const [name, { tgz }] of packages) {
        const r = compile(tgz);
        if (r.code !== 0) failures.push(`${name}: exit ${r.code}\n${r.out}`);
      }
      expect(failures).toEqual([]);
    });

    it("accepts a dynamic task's DynamicJobSpec, compiled as propeller does (a workflow of its nodes)", async () => {
      const ex = await entitiesOf("example.ts");
      const fanOut = ex.get("fanOut") as DynamicTaskDef;
      const settings = goldensSettings();
      const spec = await dynamicJobSpec(
        fanOut.compile({ n: 4 } as never, {} as never),
        settings,
        fanOut.outputs,
      );
      const wf = create(WorkflowSpecSchema, {
        template: create(WorkflowTemplateSchema, {
          id: identifier("workflow", "dynamic.fanOut", settings),
          interface: typedInterface(fanOut.inputs, fanOut.outputs),
          nodes: spec.nodes,
          outputs: spec.outputs,
        }),
        subWorkflows: spec.subworkflows,
      });
      const entries: SerializedEntity[] = [
        ...spec.tasks.map((template) => {
          const message = create(TaskSpecSchema, { template });
          return {
            kind: 1 as const,
            name: template.id?.name ?? "",
            message,
            bytes: toBinary(TaskSpecSchema, message),
          };
        }),
        { kind: 2, name: "dynamic.fanOut", message: wf, bytes: toBinary(WorkflowSpecSchema, wf) },
      ];
      const tgz = join(tmp(), "dynamic.tgz");
      await writePackageArchive(entries, tgz);
      const r = compile(tgz);
      expect(r.code, r.out).toBe(0);
    });

    it("accepts flytekit's package of the same workflows", () => {
      const r = compile(join(import.meta.dirname, "../fixtures/flytekit/packages/goldens.tgz"));
      expect(r.code, r.out).toBe(0);
    });

    it.each([
      "invalid.tgz",
      "invalidtask.tgz",
      "invalidworkflow.tgz",
      "invalidlaunchplan.tgz",
      "bad-workflow-package.tgz",
    ])("rejects Flyte's invalid %s, which our reader reports too", async (f) => {
      const path = join(FLYTE_FIXTURES, "flytectl/cmd/compile/testdata", f);
      expect(compile(path).code).not.toBe(0);
      expect((await readPackage(path)).problems.length).toBeGreaterThan(0);
    });
  },
);

interface Loaded {
  file: string;
  kind?: string;
  name?: string;
  error?: string;
  trace?: string;
  [k: string]: unknown;
}

function loadWithFlytekit(...dirs: string[]): Loaded[] {
  const r = spawnSync(
    FLYTEKIT_PYTHON as string,
    [join(import.meta.dirname, "load_with_flytekit.py"), ...dirs],
    {
      encoding: "utf8",
      timeout: 300_000,
    },
  );
  if (r.status !== 0) throw new Error(`python exited ${r.status}: ${r.stderr}`);
  return r.stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Loaded);
}

describe.skipIf(!FLYTEKIT_PYTHON)(
  `flytekit loads our entities (${FLYTEKIT_PYTHON ?? "no venv: run scripts/setup/flytekit.sh"})`,
  () => {
    it("loads every TaskSpec, WorkflowSpec and LaunchPlan of every package", () => {
      const dirs = [...packages.values()].map((p) => p.dir);
      const loaded = loadWithFlytekit(...dirs);
      for (const dir of dirs) {
        const files = readdirSync(dir).filter((f) => f.endsWith(".pb"));
        expect(loaded.filter((l) => l.folder === dir).map((l) => l.file)).toEqual(files.sort());
      }
      expect(loaded.filter((l) => l.error)).toEqual([]);
      expect(loaded.length).toBeGreaterThan(50);
    });

    it("reads names, images, interfaces, nodes and schedules as we wrote them", () => {
      const loaded = loadWithFlytekit((packages.get("example") as { dir: string }).dir);
      const get = (kind: string, name: string) =>
        loaded.find((l) => l.kind === kind && l.name === name) as Loaded;
      expect(get("task", "example.configured")).toMatchObject({
        type: "typescript-task",
        image: "ghcr.io/example/goldens:v1",
        retries: 2,
        inputs: { a: "<class 'int'>", b: "<class 'str'>" },
        outputs: { o0: "<class 'str'>" },
      });
      expect(get("task", "example.square_mapped_partial")).toMatchObject({
        outputs: { o0: "typing.List[typing.Optional[int]]" },
      });
      expect(get("task", "example.square_mapped")).toMatchObject({
        inputs: { x: "typing.List[int]" },
        image: "ghcr.io/example/other:v2",
      });
      // flytekit's FlyteWorkflow lists the failure node with the four others.
      expect(get("workflow", "example.parentWf")).toMatchObject({
        nodes: 5,
        sub_workflows: ["example.simpleWf"],
        failure_node: "fn0",
      });
      expect(get("launchPlan", "cron_lp")).toMatchObject({
        workflow: "example.chainWf",
        schedule: "0 * * * *",
        defaults: ["b", "kickoff"],
        fixed: ["a"],
      });
    });
  },
);
