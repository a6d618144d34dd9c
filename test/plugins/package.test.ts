// The plugin task types in a package: serialized by `tsflyte package`'s code path, accepted by
// `flytectl compile` (propeller's compiler; skipped when flytectl is not built).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TaskSpecSchema } from "../../src/proto/gen/flyteidl/admin/task_pb.js";
import { serializeModules } from "../../src/serialize/modules.js";
import { writePackageArchive } from "../../src/serialize/package.js";
import { FLYTECTL } from "../serialize/helpers.js";
import { root, tempDir } from "./helpers.js";

describe("a package with SQLite3Task, HttpRequestTask and ContainerTask", () => {
  it("serializes each task type and passes flytectl compile", async () => {
    const { entities } = await serializeModules([join(root, "test/plugins/fixtures/pipeline.ts")], {
      images: ["ghcr.io/example/app:v1"],
      sourceRoot: root,
    });
    const dir = tempDir();
    const tgz = join(dir, "pipeline.tgz");
    await writePackageArchive(entities, tgz);
    const tasks = new Map<string, Record<string, unknown>>();
    for (const e of entities) {
      if (e.kind !== 1) continue;
      const spec = toJson(TaskSpecSchema, e.message) as { template: Record<string, unknown> };
      tasks.set((spec.template.id as { name: string }).name, spec.template);
    }
    const byName = (n: string) => tasks.get(`test.plugins.fixtures.pipeline.${n}`)!;
    expect(byName("people").type).toBe("sqlite");
    expect(byName("notify").type).toBe("http-request");
    expect(byName("notify").securityContext).toEqual({ secrets: [{ group: "hooks", key: "token" }] });
    expect(byName("square").type).toBe("raw-container");
    expect(byName("count").type).toBe("typescript-task");
    expect((byName("people").container as { args: string[] }).args.slice(-4)).toEqual([
      "template",
      "--",
      "{{.taskTemplatePath}}",
      "flytekit-ts/plugins/sqlite:SQLite3TaskExecutor",
    ]);
    if (!FLYTECTL) {
      console.warn("SKIP flytectl compile: run scripts/setup/flytectl.sh");
      return;
    }
    const r = spawnSync(FLYTECTL, ["compile", "--file", tgz], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, HOME: dir },
      timeout: 120_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  });
});
