// Containers: `tsflyte build` from the offline base images, and container-mode runs where every
// node runs its serialized template in its own image (podman here). Skipped, with the reason
// printed, only when no container engine works or the base images are missing.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { DurationSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModule } from "../../src/core/loader.js";
import { sdkDefaultImage } from "../../src/images/image-config.js";
import type * as Containers from "../../src/local/containers/index.js";
import { substitute } from "../../src/local/containers/substitutions.js";
import {
  containerRunArgs,
  cpuCount,
  memoryBytes,
  resourceArgs,
} from "../../src/local/containers/task-container.js";
import type { NodeEvent } from "../../src/local/executor.js";
import { renderInputPlaceholders } from "../../src/plugins/input-placeholders.js";
import {
  ContainerSchema,
  Resources_ResourceName,
  TaskTemplateSchema,
} from "../../src/proto/gen/flyteidl/core/tasks_pb.js";
import { SimpleType } from "../../src/proto/gen/flyteidl/core/types_pb.js";
import {
  boolLiteral,
  collectionLiteral,
  datetimeLiteral,
  durationLiteral,
  floatLiteral,
  intLiteral,
  literalMap,
  mapLiteral,
  simpleType,
  stringLiteral,
  unionLiteral,
} from "../../src/types/literals.js";
import {
  containersUnavailable,
  DIST_CONTAINERS,
  NODE_BASE,
  PYTHON_IMAGE,
  root,
  run,
  tsflyte as runCli,
  VENV,
} from "./helpers.js";

describe("propeller's substitutions and container arguments (no engine needed)", () => {
  const vars = {
    input: "/d/inputs.pb",
    inputPrefix: "/d",
    outputPrefix: "/d/outputs",
    rawOutputDataPrefix: "/raw",
    checkpointOutputPrefix: "/d/checkpoint",
    prevCheckpointPrefix: '""',
    taskTemplatePath: "/d/task.pb",
    perRetryUniqueKey: "k",
    namespace: "local-development",
    inputs: { n: intLiteral(3n), name: stringLiteral("x y") },
  };
  it("substitutes every variable, ignoring case, with . or $ and spaces", () => {
    expect(substitute("{{.input}}", vars)).toBe("/d/inputs.pb");
    expect(substitute("{{ .OutputPrefix }}/x", vars)).toBe("/d/outputs/x");
    expect(substitute("{{$rawOutputDataPrefix}}", vars)).toBe("/raw");
    expect(substitute("{{.taskTemplatePath}} {{.prevCheckpointPrefix}}", vars)).toBe('/d/task.pb ""');
    expect(substitute("{{.Inputs.n}}-{{ .inputs.name }}", vars)).toBe("3-x y");
    expect(substitute("{{.unknown}} {{ .remote_package_path }} {{.inputs}}", vars)).toBe(
      "{{.unknown}} {{ .remote_package_path }} {{.inputs}}",
    );
  });
  it("writes {{.inputs.<name>}} with the plugins' renderer, as propeller does", () => {
    const inputs = {
      i: intLiteral(-2n),
      f: floatLiteral(1e6),
      g: floatLiteral(0.5),
      b: boolLiteral(false),
      d: datetimeLiteral(create(TimestampSchema, { seconds: 1714979289n, nanos: 120_000_000 })),
      dur: durationLiteral(create(DurationSchema, { seconds: 5400n })),
      xs: collectionLiteral([intLiteral(1n), intLiteral(2n)]),
      m: mapLiteral({ a: intLiteral(1n) }),
      o: unionLiteral(intLiteral(3n), simpleType(SimpleType.INTEGER)),
    };
    const v = { ...vars, inputs, entity: "t" };
    const line =
      "{{.inputs.i}} {{.inputs.f}} {{.inputs.g}} {{.inputs.b}} {{.inputs.d}} {{.inputs.dur}} {{.inputs.xs}}";
    const expected = "-2 1e+06 0.5 false 2024-05-06T07:08:09.12Z 1h30m0s [1,2]";
    expect(substitute(line, v)).toBe(expected);
    // The same text as the ContainerTask plugin renders: one renderer.
    expect(renderInputPlaceholders([line], literalMap(inputs))).toEqual([expected]);
    // Propeller fails the task on what it cannot write; container mode used to write "" for maps.
    expect(() => substitute("{{.inputs.m}}", v)).toThrow(
      expect.objectContaining({ code: "CONTAINER_PLACEHOLDER_TYPE", origin: "USER" }),
    );
    expect(() => substitute("{{.inputs.o}}", v)).toThrow(/CONTAINER_PLACEHOLDER_TYPE|cannot be written/);
    expect(() => substitute("{{.inputs.missing}}", v)).toThrow(
      expect.objectContaining({ code: "CONTAINER_INPUT_MISSING" }),
    );
    // A task without inputs keeps the text (propeller's rule for an empty input map).
    expect(substitute("{{.inputs.x}}", { ...vars, inputs: {} })).toBe("{{.inputs.x}}");
  });
  it("turns limits (or requests) into --cpus and --memory", () => {
    expect(cpuCount("500m")).toBe(0.5);
    expect(memoryBytes("512Mi")).toBe(512 * 2 ** 20);
    expect(memoryBytes("1G")).toBe(1e9);
    const template = create(TaskTemplateSchema, {
      id: { name: "t" },
      target: {
        case: "container",
        value: create(ContainerSchema, {
          image: "img:1",
          args: ["tsflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}"],
          env: [{ key: "A", value: "1" }],
          resources: {
            requests: [{ name: Resources_ResourceName.MEMORY, value: "256Mi" }],
            limits: [{ name: Resources_ResourceName.CPU, value: "500m" }],
          },
        }),
      },
    });
    expect(resourceArgs(template)).toEqual(["--cpus", "0.5", "--memory", String(256 * 2 ** 20)]);
    const args = containerRunArgs(
      {
        template,
        inputs: literalMap({}),
        dir: "/d",
        rawOutputDataPrefix: "/raw",
        attempt: 0,
        nodeId: "n0",
        execution: { project: "local", domain: "development", name: "e" },
        codeDir: "/code",
        mounts: [{ source: "/data" }],
      },
      "/root",
      "c1",
      {
        inputs: "/d/inputs.pb",
        template: "/d/task.pb",
        outputs: "/d/outputs",
        checkpoint: "/d/cp",
        copilotIn: "/d/in",
        copilotOut: "/d/out",
      },
    );
    expect(args.slice(0, 8)).toEqual(["run", "--rm", "--name", "c1", "--network", "none", "--pull", "never"]);
    expect(args).toContain("/data:/data");
    expect(args).toContain("/code:/root:ro");
    expect(args).toContain("A=1");
    expect(args).toContain("FLYTE_ATTEMPT_NUMBER=0");
    expect(args.slice(-6)).toEqual([
      "img:1",
      "tsflyte-execute",
      "--inputs",
      "/d/inputs.pb",
      "--output-prefix",
      "/d/outputs",
    ]);
  });
});

/** `tsflyte <args>` with the tests' own local cache folder. */
const tsflyte = (...args: string[]) => runCli(args, { TSFLYTE_CACHE_DIR: join(root, ".scratch/test-cache") });

const skipReason = await containersUnavailable();
if (skipReason) console.warn(`container tests skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)("tsflyte build and run --containers", () => {
  let c: typeof Containers;
  const images: Record<string, string> = {};

  beforeAll(async () => {
    c = (await import(DIST_CONTAINERS)) as typeof Containers;
    const app = await tsflyte(
      "build",
      "examples/multi-images.ts",
      "test/containers/fixtures/workflows.ts",
      "--base",
      NODE_BASE,
      "--name",
      "flytekit-ts-test/app",
      "--env",
      "FLYTEKIT_TS_IMAGE_MARKER=default",
      "--json",
    );
    expect(app.stderr).toBe("");
    expect(app.code).toBe(0);
    const specs = await tsflyte(
      "build",
      "test/containers/fixtures/images.ts",
      "--base",
      NODE_BASE,
      "--no-default-image",
      "--json",
    );
    expect(specs.code).toBe(0);
    for (const img of [...JSON.parse(app.stdout), ...JSON.parse(specs.stdout)] as Containers.BuiltImage[])
      images[img.kind === "default" ? "default" : img.name.split("/").pop()!] = img.reference;
  });

  afterAll(async () => {
    // Keep only the images of this run: older content tags of the test repositories go.
    const engine = await c.detectEngine();
    const listed = await engine.exec(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    const keep = new Set(Object.values(images));
    const old = listed.stdout
      .split("\n")
      .filter((r) => r.startsWith("localhost/flytekit-ts-test/") && !keep.has(r));
    if (old.length > 0) await engine.exec(["rmi", ...old]);
  });

  it("builds the default image and the declared specs, tagged by content; an unchanged spec is not rebuilt", async () => {
    expect(Object.keys(images).sort()).toEqual(["default", "predictor", "trainer"]);
    expect(images.default).toMatch(/^localhost\/flytekit-ts-test\/app:[0-9a-f]{20}$/);
    expect(images.trainer).toMatch(/^localhost\/flytekit-ts-test\/trainer:[0-9a-f]{20}$/);
    const again = await tsflyte(
      "build",
      "test/containers/fixtures/images.ts",
      "--base",
      NODE_BASE,
      "--no-default-image",
    );
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/up to date/);
    expect(again.stderr).not.toMatch(/STEP/);
    const { stdout } = await run("podman", [
      "run",
      "--rm",
      images.trainer!,
      "sh",
      "-c",
      "echo $FLYTEKIT_TS_IMAGE_MARKER; ls /usr/local/bin",
    ]);
    expect(stdout).toMatch(/^trainer\n/);
    expect(stdout).toMatch(/tsflyte-execute/);
  });

  const imageFlags = (swap = false) => [
    "--image",
    images.default!,
    "--image",
    `trainer=${swap ? images.predictor : images.trainer}`,
    "--image",
    `predictor=${swap ? images.trainer : images.predictor}`,
  ];

  it("runs the multi-image example with each task in its own image (tasks check their image)", async () => {
    const r = await tsflyte(
      "run",
      "examples/multi-images.ts",
      "withReport",
      "--containers",
      ...imageFlags(),
      "--env",
      "FLYTEKIT_TS_CHECK_IMAGE=1",
      "--json",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ o0: "accuracy: 100.0%" });
    const progress = await tsflyte(
      "run",
      "examples/multi-images.ts",
      "withReport",
      "--containers",
      ...imageFlags(),
      "--no-cache",
    );
    expect({ code: progress.code, stderr: progress.stderr }).toMatchObject({ code: 0 });
    expect(progress.stderr).toContain(`svmTrainer [${images.trainer}]`);
    expect(progress.stderr).toContain(`svmPredictor [${images.predictor}]`);
    expect(progress.stderr).toContain(`report [${images.default}]`);
  });

  it("fails when a task runs in the wrong image", async () => {
    const r = await tsflyte(
      "run",
      "examples/multi-images.ts",
      "withReport",
      "--containers",
      ...imageFlags(true),
      "--env",
      "FLYTEKIT_TS_CHECK_IMAGE=1",
      "--no-cache",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[USER:USER_ERROR\]/);
    expect(r.stderr).toContain("expected to run in the trainer image, but the image marker is predictor");
  });

  it("runs the code baked into the default image (no mount)", async () => {
    const mod = await loadModule(join(root, "examples/multi-images.ts"), root);
    const out = await c.runInContainers(
      mod.entities.get("report")!,
      { accuracy: 0.25 },
      {
        images: [images.default!],
        mountCode: false,
        cache: false,
      },
    );
    expect(out).toBe("accuracy: 25.0%");
  });

  it("map tasks run one container per item; dynamic tasks run the graph their container returns", async () => {
    const mod = await loadModule(join(root, "test/containers/fixtures/workflows.ts"), root);
    const events: NodeEvent[] = [];
    const opts = { images: [images.default!], cache: false, onEvent: (e: NodeEvent) => events.push(e) };
    expect(await c.runInContainers(mod.entities.get("squares")!, { xs: [1, 2, 3] }, opts)).toBe(14);
    expect(events.filter((e) => e.type === "end").map((e) => e.node)).toEqual(
      expect.arrayContaining(["n0[0]", "n0[1]", "n0[2]", "n1"]),
    );
    events.length = 0;
    expect(await c.runInContainers(mod.entities.get("chain")!, { n: 3 }, opts)).toBe(3);
    expect(events.filter((e) => e.type === "end").map((e) => e.node)).toEqual(["", "dn0", "dn1", "dn2"]);
    expect(events.every((e) => e.image === images.default)).toBe(true);
  });

  it("retries recoverable errors and surfaces error.pb with its code, message and USER origin", async () => {
    const mod = await loadModule(join(root, "test/containers/fixtures/workflows.ts"), root);
    const events: NodeEvent[] = [];
    const workDir = mkdtempSync(join(tmpdir(), "tsflyte-ctr-"));
    const opts = {
      images: [images.default!],
      cache: false,
      workDir,
      onEvent: (e: NodeEvent) => events.push(e),
    };
    expect(await c.runInContainers(mod.entities.get("flaky")!, { n: 5 }, opts)).toBe(5);
    expect(events.map((e) => e.type)).toEqual(["start", "retry", "start", "end"]);
    const err = await c
      .runInContainers(mod.entities.get("explode")!, { n: 3 }, { ...opts, workDir: join(workDir, "b") })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "FlyteExecutionError", code: "USER:USER_ERROR", origin: "USER" });
    expect((err as Error).message).toContain("Error: boom 3");
    // Nothing half-written: the failed attempt's output prefix is gone.
    const nodes = join(workDir, "b", "nodes", "task");
    expect(readdirSync(nodes)).toEqual(["0.failed"]);
    expect(existsSync(join(nodes, "0.failed", "outputs"))).toBe(false);
  });

  it("tsflyte build --sdk-image / --no-sdk-image force the SDK's image on and off", async () => {
    const build = (module: string, flag: string) =>
      tsflyte("build", module, flag, "--no-default-image", "--base", NODE_BASE, "--json");
    // hello-world has no task in the SDK's image: only --sdk-image builds it.
    const forced = await build("examples/hello-world.ts", "--sdk-image");
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual([
      expect.objectContaining({ kind: "sdk", reference: sdkDefaultImage() }),
    ]);
    // The SQLite example's query runs in it: --no-sdk-image leaves it out.
    const skipped = await build("examples/sqlite-pipeline.ts", "--no-sdk-image");
    expect(skipped.code).toBe(0);
    expect(JSON.parse(skipped.stdout)).toEqual([]);
  });

  it("a missing image is IMAGE_MISSING, with the fix", async () => {
    const mod = await loadModule(join(root, "test/containers/fixtures/workflows.ts"), root);
    const err = await c
      .runInContainers(mod.entities.get("nowhere")!, { n: 1 }, { images: [images.default!], cache: false })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "IMAGE_MISSING", origin: "USER" });
    expect((err as Error).message).toMatch(
      /tsflyte build .*podman pull localhost\/flytekit-ts-test\/does-not-exist:v1/,
    );
    const bad = await tsflyte(
      "run",
      "examples/multi-images.ts",
      "report",
      "--accuracy",
      "0.5",
      "--containers",
      "--engine",
      "nonesuch",
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/CONTAINER_ENGINE_UNKNOWN/);
  });

  it.skipIf(!existsSync(join(VENV, "bin/pyflyte")))(
    "mixed languages: TypeScript -> flytekit's pyflyte-execute in the Python image -> TypeScript",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "tsflyte-py-"));
      const src = join(dir, "project");
      await mkdir(join(src, "pystats"), { recursive: true });
      writeFileSync(join(src, "pystats/__init__.py"), "");
      writeFileSync(
        join(src, "pystats/tasks.py"),
        [
          "from dataclasses import dataclass",
          "from typing import Tuple",
          "",
          "import pandas as pd",
          "from flytekit import task",
          "",
          "",
          "@dataclass",
          "class Stats:",
          "    count: int",
          "    label: str",
          "",
          "",
          "@task",
          "def summarize(n: int, name: str, df: pd.DataFrame) -> Tuple[int, str, pd.DataFrame, Stats]:",
          '    out = df.assign(y=df["x"] * n)',
          "    return n * 2, name.upper(), out, Stats(count=len(df), label=name)",
          "",
        ].join("\n"),
      );
      await run(
        join(VENV, "bin/pyflyte"),
        ["--pkgs", "pystats", "package", "--image", PYTHON_IMAGE, "-o", join(dir, "py.tgz"), "--force"],
        { cwd: src, env: { ...process.env, PYTHONPATH: src, FLYTECTL_CONFIG: "/dev/null" } },
      );
      await loadModule(join(root, "test/containers/fixtures/mixed-tasks.ts"), root);
      const { mixedWorkflow } = await import("./fixtures/mixed.js");
      const wf = await mixedWorkflow(join(dir, "py.tgz"), src);
      const events: NodeEvent[] = [];
      const out = await c.runInContainers(
        wf,
        { n: 3 },
        {
          images: [images.default!],
          sourceRoot: root,
          cache: false,
          onEvent: (e) => events.push(e),
        },
      );
      expect(out).toBe("6|FLYTE|3,6,9|3:flyte");
      expect(events.filter((e) => e.type === "end").map((e) => [e.node, e.image])).toEqual([
        ["n0", images.default],
        ["n1", PYTHON_IMAGE],
        ["n2", images.default],
      ]);
    },
  );
});
