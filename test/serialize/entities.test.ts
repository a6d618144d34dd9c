/**
 * Entity -> flyteidl, checked field by field against real flytekit 1.16 output (the goldens and
 * Flyte's snacks-core fixtures) wherever the field is not language-specific.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type DescMessage, fromBinary, toJson } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import type { DynamicTaskDef } from "../../src/core/dynamic.js";
import type { Entity } from "../../src/core/entity.js";
import { launchPlan } from "../../src/core/launch-plan.js";
import { task } from "../../src/core/task.js";
import { workflow } from "../../src/core/workflow.js";
import { ImageConfig } from "../../src/images/image-config.js";
import { LaunchPlanSchema } from "../../src/proto/gen/flyteidl/admin/launch_plan_pb.js";
import { TaskSpecSchema } from "../../src/proto/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema } from "../../src/proto/gen/flyteidl/admin/workflow_pb.js";
import { DynamicJobSpecSchema } from "../../src/proto/gen/flyteidl/core/dynamic_job_pb.js";
import {
  collectRegistrables,
  dynamicJobSpec,
  type SerializedEntity,
  serializeEntities,
} from "../../src/serialize/entities.js";
import { SDK_VERSION } from "../../src/serialize/serialization-context.js";
import { SerializationSettings } from "../../src/serialize/settings.js";
import { t } from "../../src/types/index.js";
import { entitiesOf, FLYTEKIT_FIXTURES, goldensSettings, SNACKS_CORE } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: JSON trees from toJson, walked freely by assertions
type Json = Record<string, any>;

const SCHEMAS: Record<number, DescMessage> = {
  1: TaskSpecSchema,
  2: WorkflowSpecSchema,
  3: LaunchPlanSchema,
};

function json(e: SerializedEntity): Json {
  return toJson(SCHEMAS[e.kind] as DescMessage, e.message as never) as Json;
}

function fixture(path: string): Json {
  const kind = Number(/_(\d)\.pb$/.exec(path)?.[1]);
  return toJson(
    SCHEMAS[kind] as DescMessage,
    fromBinary(SCHEMAS[kind] as DescMessage, new Uint8Array(readFileSync(path))) as never,
  ) as Json;
}

function golden(name: string): Json {
  return JSON.parse(readFileSync(join(FLYTEKIT_FIXTURES, "goldens", name), "utf8")) as Json;
}

let example: Map<string, Entity>;
let serialized: SerializedEntity[];
const byName = (kind: number, name: string): Json => {
  const e = serialized.find((x) => x.kind === kind && x.name === name);
  if (!e) throw new Error(`no ${kind} ${name} in ${serialized.map((x) => x.name).join(", ")}`);
  return json(e);
};

beforeAll(async () => {
  example = await entitiesOf("example.ts");
  serialized = await serializeEntities(example.values(), goldensSettings());
});

describe("task templates", () => {
  it("match flytekit's configured task in resources, retries, timeout, cache, interruptible, env, secrets, interface", () => {
    const ours = byName(1, "example.configured").template;
    const theirs = golden("00_goldens_wf.example.configured_1.json").template;
    expect(ours.container.resources).toEqual(theirs.container.resources);
    expect(ours.container.env).toEqual(theirs.container.env);
    expect(ours.container.image).toEqual(theirs.container.image);
    expect(ours.interface).toEqual(theirs.interface);
    expect(ours.securityContext).toEqual(theirs.securityContext);
    for (const k of ["retries", "timeout", "discoverable", "discoveryVersion", "interruptible"])
      expect(ours.metadata[k], k).toEqual(theirs.metadata[k]);
    expect(ours.id).toEqual({ resourceType: "TASK", name: "example.configured" });
  });

  it("runs tsflyte-execute with the default resolver and the module and export name", () => {
    const ours = byName(1, "example.configured").template;
    const theirs = golden("00_goldens_wf.example.configured_1.json").template;
    expect(ours.type).toBe("typescript-task");
    expect(ours.metadata.runtime).toEqual({ type: "FLYTE_SDK", version: SDK_VERSION, flavor: "typescript" });
    // Same command shape as pyflyte-execute, with our entrypoint, resolver and module.
    expect(ours.container.args.slice(1, 12)).toEqual(theirs.container.args.slice(1, 12));
    expect(ours.container.args).toEqual([
      "tsflyte-execute",
      ...theirs.container.args.slice(1, 12),
      "default",
      "--",
      "task-module",
      "example",
      "task-name",
      "configured",
    ]);
  });

  it("resolves image templates per task", () => {
    expect(byName(1, "example.square").template.container.image).toBe("ghcr.io/example/other:v2");
    expect(byName(1, "example.double").template.container.image).toBe("ghcr.io/example/goldens:v1");
  });

  it("gives dynamic tasks the serialized settings in _F_SS_C", () => {
    const env = byName(1, "example.fanOut").template.container.env as { key: string; value: string }[];
    const ctx = env.find((e) => e.key === "_F_SS_C");
    expect(ctx).toBeDefined();
    const again = SerializationSettings.fromSerializedContext(ctx!.value);
    expect(again.imageConfig.resolve(undefined, "x")).toBe("ghcr.io/example/goldens:v1");
  });

  it("wraps the command for fast registration with flytectl's placeholders", async () => {
    const fast = goldensSettings({ fastSerializationSettings: { enabled: true } });
    const [spec] = await serializeEntities([example.get("add") as Entity], fast);
    const args = json(spec!).template.container.args as string[];
    expect(args.slice(0, 6)).toEqual([
      "tsflyte-fast-execute",
      "--additional-distribution",
      "{{ .remote_package_path }}",
      "--dest-dir",
      "{{ .dest_dir }}",
      "--",
    ]);
    expect(args[6]).toBe("tsflyte-execute");
    const pinned = goldensSettings({
      fastSerializationSettings: {
        enabled: true,
        destinationDir: "/root",
        distributionLocation: "s3://b/fast.tar.gz",
      },
    });
    const [spec2] = await serializeEntities([example.get("add") as Entity], pinned);
    expect((json(spec2!).template.container.args as string[]).slice(0, 5)).toEqual([
      "tsflyte-fast-execute",
      "--additional-distribution",
      "s3://b/fast.tar.gz",
      "--dest-dir",
      "/root",
    ]);
  });

  it("fills project, domain and version into identifiers when the settings have them", async () => {
    const s = goldensSettings({ project: "flytesnacks", domain: "development", version: "v1" });
    const [spec] = await serializeEntities([example.get("add") as Entity], s);
    expect(json(spec!).template.id).toEqual({
      resourceType: "TASK",
      project: "flytesnacks",
      domain: "development",
      name: "example.add",
      version: "v1",
    });
  });

  it("asks for a stable name before writing a task the runtime could not find", async () => {
    const loose = task({ inputs: { x: t.int() } }, () => {});
    await expect(serializeEntities([loose], goldensSettings())).rejects.toMatchObject({
      code: "ENTITY_NO_STABLE_NAME",
    });
    const named = task({ name: "named.but.not.exported", inputs: { x: t.int() } }, () => {});
    await expect(serializeEntities([named], goldensSettings())).rejects.toMatchObject({
      code: "TASK_NOT_EXPORTED",
    });
  });
});

describe("the multi-image example equals flytekit's (snacks-core 000-003)", () => {
  let ours: SerializedEntity[];
  beforeAll(async () => {
    const mod = await entitiesOf("core/containerization/multi_images.ts");
    const settings = new SerializationSettings({
      imageConfig: ImageConfig.fromImages("ghcr.io/example/default:v9", {
        mindmeld:
          "ghcr.io/flyteorg/flytecookbook:core-with-sklearn-baa17ccf39aa667c5950bd713a4366ce7d5fccaf7f85e6be8c07fe4b522f92c3",
        borebuster:
          "ghcr.io/flyteorg/flytecookbook:multi-image-predict-98b125fd57d20594026941c2ebe7ef662e5acb7d6423660a65f493ca2d9aa267",
      }),
    });
    ours = await serializeEntities(mod.values(), settings);
  });
  const files = [
    "000_core.containerization.multi_images.svm_trainer_1.pb",
    "001_core.containerization.multi_images.svm_predictor_1.pb",
    "002_core.containerization.multi_images.my_workflow_2.pb",
    "003_core.containerization.multi_images.my_workflow_3.pb",
  ];
  it.each(files.slice(0, 2))("%s: id, resolved image, interface, resources, retries, timeout", (file) => {
    const theirs = fixture(join(SNACKS_CORE, file)).template;
    const mine = json(ours.find((e) => e.kind === 1 && e.name === theirs.id.name)!).template;
    expect(mine.id).toEqual(theirs.id);
    expect(mine.container.image).toBe(theirs.container.image);
    expect(mine.interface).toEqual(theirs.interface);
    expect(mine.container.resources ?? {}).toEqual(theirs.container.resources ?? {});
    expect(mine.metadata.retries).toEqual(theirs.metadata.retries);
    expect(mine.metadata.timeout).toEqual(theirs.metadata.timeout);
  });
  it("002: the workflow template is identical", () => {
    const theirs = fixture(join(SNACKS_CORE, files[2]!));
    const mine = json(ours.find((e) => e.kind === 2)!);
    expect(mine).toEqual(theirs);
  });
  it("003: the default launch plan is identical", () => {
    const theirs = fixture(join(SNACKS_CORE, files[3]!));
    const mine = json(ours.find((e) => e.kind === 3)!);
    expect(mine).toEqual(theirs);
  });
  it("the third task runs on the default image", () => {
    expect(json(ours.find((e) => e.name.endsWith(".summarize"))!).template.container.image).toBe(
      "ghcr.io/example/default:v9",
    );
  });
});

/** Drops what differs by language or naming (names, ids) so structures can be compared. */
function shape(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(shape);
  if (x && typeof x === "object") {
    const out: Json = {};
    for (const [k, v] of Object.entries(x)) {
      if (k === "name" || k === "id" || k === "description") continue;
      out[k] = shape(v);
    }
    return out;
  }
  return x;
}

describe("workflow templates", () => {
  it("write branches as flytekit does (inputs `.x`, comparisons, conjunctions, else-fail)", () => {
    const mine = byName(2, "example.branchWf").template;
    const theirs = golden("21_goldens_wf.example.branch_wf_2.json").template;
    expect(shape(mine.nodes)).toEqual(shape(theirs.nodes));
    expect(mine.nodes[0].inputs).toEqual(theirs.nodes[0].inputs);
    expect(mine.nodes[0].branchNode.ifElse.error).toEqual(theirs.nodes[0].branchNode.ifElse.error);
    expect(mine.outputs).toEqual(theirs.outputs);
  });

  it("write a branch in the middle of a workflow as flytekit does", () => {
    const mine = byName(2, "example.branchMidWf").template;
    const theirs = golden("23_goldens_wf.example.branch_mid_wf_2.json").template;
    expect(shape(mine.nodes)).toEqual(shape(theirs.nodes));
    expect(mine.nodes[1].inputs).toEqual(theirs.nodes[1].inputs);
    expect(mine.nodes.map((n: Json) => n.upstreamNodeIds)).toEqual(
      theirs.nodes.map((n: Json) => n.upstreamNodeIds),
    );
  });

  it("write map tasks as an ArrayNode over a list-typed sub-task, as flytekit does", () => {
    const mine = byName(2, "example.mapWf").template.nodes[0];
    const theirs = golden("13_goldens_wf.example.map_wf_2.json").template.nodes[0];
    expect(mine.arrayNode.minSuccessRatio).toBe(1);
    expect(mine.arrayNode.parallelism).toBe(2);
    expect(mine.arrayNode.isOriginalSubNodeInterface).toBe(false);
    expect(mine.arrayNode.node.taskNode.referenceId).toEqual({
      resourceType: "TASK",
      name: "example.square_mapped",
    });
    const { parallelism: _p, ...rest } = mine.arrayNode;
    expect(shape(rest)).toEqual(shape(theirs.arrayNode));
    const sub = byName(1, "example.square_mapped").template;
    const theirSub = golden(
      "12_goldens_wf.example.map_square_6b3bd0353da5de6e84d7982921ead2b3-arraynode_1.json",
    ).template;
    expect(sub.interface).toEqual(theirSub.interface);
    expect(sub.taskTypeVersion).toBe(1);
    expect(sub.container.args.slice(12)).toEqual([
      "map",
      "--",
      "vars",
      "",
      "resolver",
      "default",
      "task-module",
      "example",
      "task-name",
      "square",
    ]);
    expect(sub.container.image).toBe("ghcr.io/example/other:v2");
  });

  it("give maps whose items may fail a template of their own with optional items, as flytekit does", () => {
    const node = byName(2, "example.mapWfOpts").template.nodes[0];
    expect(node.arrayNode.minSuccessRatio).toBe(0.5);
    expect(node.arrayNode.node.taskNode.referenceId.name).toBe("example.square_mapped_partial");
    const sub = byName(1, "example.square_mapped_partial").template;
    const theirs = golden(
      "15_goldens_wf.example.map_add_b941b77adff9cb1258feaf1efd95f4b4-arraynode_1.json",
    ).template;
    expect(sub.interface.outputs).toEqual(theirs.interface.outputs);
  });

  it("write sub-workflows, launch plan calls, overrides, list bindings and the failure node", () => {
    const spec = byName(2, "example.parentWf");
    const tpl = spec.template;
    expect(tpl.metadata).toEqual({ onFailure: "FAIL_AFTER_EXECUTABLE_NODES_COMPLETE" });
    expect(spec.subWorkflows.map((s: Json) => s.id.name)).toEqual(["example.simpleWf"]);
    const [sub, lp, twice, total] = tpl.nodes as Json[];
    expect(sub!.workflowNode).toEqual({
      subWorkflowRef: { resourceType: "WORKFLOW", name: "example.simpleWf" },
    });
    expect(sub!.metadata).toEqual({ name: "simpleWf", retries: { retries: 3 }, timeout: "3600s" });
    expect(sub!.inputs[1]).toEqual({
      var: "b",
      binding: { scalar: { primitive: { stringValue: "from-parent" } } },
    });
    expect(lp!.workflowNode).toEqual({ launchplanRef: { resourceType: "LAUNCH_PLAN", name: "map_wf_lp" } });
    expect(twice!.metadata).toEqual({ name: "twice", retries: { retries: 1 }, timeout: "300s" });
    expect(twice!.taskNode.overrides).toEqual({
      resources: {
        requests: [
          { name: "CPU", value: "2" },
          { name: "MEMORY", value: "1Gi" },
        ],
      },
      containerImage: "ghcr.io/example/other:v2",
    });
    expect(total!.inputs[0].binding.collection.bindings).toEqual([
      { promise: { var: "a" } },
      { promise: { nodeId: "n2", var: "o0" } },
      { scalar: { primitive: { integer: "3" } } },
    ]);
    expect(total!.upstreamNodeIds).toEqual(["n2"]);
    expect(tpl.failureNode).toEqual({
      id: "fn0",
      metadata: { name: "cleanup", retries: {} },
      inputs: [{ var: "a", binding: { promise: { var: "a" } } }],
      taskNode: { referenceId: { resourceType: "TASK", name: "example.cleanup" }, overrides: {} },
    });
  });
});

describe("launch plans", () => {
  it("write schedule, default and fixed inputs as flytekit does", () => {
    const mine = byName(3, "cron_lp");
    const theirs = golden("27_cron_lp_3.json");
    for (const k of ["defaultInputs", "fixedInputs", "rawOutputDataConfig"])
      expect(mine.spec[k], k).toEqual(theirs.spec[k]);
    expect(mine.spec.entityMetadata.schedule).toEqual(theirs.spec.entityMetadata.schedule);
    expect(mine.closure).toEqual(theirs.closure);
    expect(mine.spec.labels).toEqual({ values: { team: "flyte" } });
    expect(mine.spec.maxParallelism).toBe(7);
    expect(mine.spec.entityMetadata.notifications).toEqual([
      { phases: ["FAILED"], email: { recipientsEmail: ["a@example.com"] } },
    ]);
  });
  it("write default launch plans with the workflow's defaults", () => {
    const mine = byName(3, "example.dynWf");
    const theirs = golden("20_goldens_wf.example.dyn_wf_3.json");
    expect(mine.spec.defaultInputs).toEqual(theirs.spec.defaultInputs);
    expect(mine.closure).toEqual(theirs.closure);
  });
  it("write fixed-rate schedules", () => {
    expect(byName(3, "rate_lp").spec.entityMetadata.schedule).toEqual({ rate: { value: 10 } });
  });
});

describe("registrables", () => {
  it("come dependencies first, each name once, with default launch plans after their workflows", () => {
    const rs = collectRegistrables(example.values());
    const pos = (kind: string, name: string) => rs.findIndex((r) => r.kind === kind && r.name === name);
    const names = rs.map((r) => `${r.kind}:${r.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(pos("task", "example.configured")).toBeLessThan(pos("workflow", "example.simpleWf"));
    expect(pos("workflow", "example.simpleWf")).toBeLessThan(pos("workflow", "example.parentWf"));
    expect(pos("launchPlan", "map_wf_lp")).toBeLessThan(pos("workflow", "example.parentWf"));
    expect(pos("task", "example.square")).toBeLessThan(pos("mapTask", "example.square_mapped"));
    expect(pos("task", "example.cleanup")).toBeLessThan(pos("workflow", "example.parentWf"));
    expect(pos("launchPlan", "example.parentWf")).toBe(pos("workflow", "example.parentWf") + 1);
  });
  it("reject two different entities with the same name, naming both", () => {
    const a = task({ name: "same.name" }, () => {});
    const b = task({ name: "same.name" }, () => {});
    expect(() => collectRegistrables([a, b])).toThrowError(
      expect.objectContaining({
        code: "ENTITY_NAME_CLASH",
        message: expect.stringMatching(/same\.name.*and.*same\.name/),
      }),
    );
    const wf1 = workflow({ name: "wf.same" }, () => {});
    const wf2 = workflow({ name: "wf.same" }, () => {});
    expect(() => collectRegistrables([wf1, launchPlan(wf2, { name: "lp" })])).toThrowError(
      expect.objectContaining({ code: "ENTITY_NAME_CLASH" }),
    );
  });
});

describe("dynamic job spec", () => {
  it("carries the nodes, outputs and the task templates they run", async () => {
    const fanOut = example.get("fanOut") as DynamicTaskDef;
    const graph = fanOut.compile({ n: 3 } as never, {} as never);
    const s = goldensSettings({ project: "flytesnacks", domain: "development", version: "v1" });
    const spec = toJson(DynamicJobSpecSchema, await dynamicJobSpec(graph, s, fanOut.outputs)) as Json;
    const theirs = JSON.parse(
      readFileSync(join(FLYTEKIT_FIXTURES, "../execute/dynamic/futures.json"), "utf8"),
    ) as Json;
    expect(spec.minSuccesses).toBe("3");
    expect(shape(spec.nodes)).toEqual(shape(theirs.nodes));
    expect(spec.nodes.map((n: Json) => [n.id, n.inputs, n.upstreamNodeIds])).toEqual(
      theirs.nodes.map((n: Json) => [n.id, n.inputs, n.upstreamNodeIds]),
    );
    expect(spec.tasks.map((x: Json) => x.id)).toEqual([
      {
        resourceType: "TASK",
        project: "flytesnacks",
        domain: "development",
        name: "example.add",
        version: "v1",
      },
    ]);
    expect(spec.outputs).toEqual(theirs.outputs);
  });
});
