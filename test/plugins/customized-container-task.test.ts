// CustomizedContainerTask, ShimTaskExecutor and the template resolver: the serialized container
// (args, image, fast registration), executor locations (SDK module, project file, package,
// flytekit alias) and the one code path every run takes through the template.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FlyteDefinitionError, type FlyteError } from "../../src/errors.js";
import { sdkDefaultImage } from "../../src/images/image-config.js";
import { t, task, workflow } from "../../src/index.js";
import { TemplateShimTask } from "../../src/plugins/customized-container-task.js";
import { loadExecutor, parseExecutorLocation } from "../../src/plugins/executor-location.js";
import { SQLite3Task, SQLite3TaskExecutor } from "../../src/plugins/sqlite/index.js";
import { getResolver } from "../../src/runtime/resolvers.js";
import { readTaskTemplate, templateResolver } from "../../src/runtime/template-resolver.js";
import { SerializationSettings } from "../../src/serialize/settings.js";
import { taskTemplate } from "../../src/serialize/task-template.js";
import { toLiteralMap } from "../../src/types/literal-map.js";
import { ShoutTask } from "./fixtures/shout-executor.js";
import { root, taskContext, tempDir, writeTemplate } from "./helpers.js";

const settings = SerializationSettings.forImage("ghcr.io/acme/app:v1", "v1");

async function failure(p: Promise<unknown>): Promise<FlyteError> {
  try {
    await p;
  } catch (err) {
    return err as FlyteError;
  }
  throw new Error("expected a failure");
}

describe("serialization of a pre-built task", () => {
  it("runs tsflyte-execute with the template resolver, the template path and the executor location", () => {
    const tpl = taskTemplate(new ShoutTask(3), settings);
    expect(tpl.type).toBe("shout");
    expect(tpl.custom).toEqual({ times: 3 });
    expect(tpl.target.case).toBe("container");
    const c = tpl.target.value as { image: string; args: string[]; command: string[] };
    expect(c.command).toEqual([]);
    expect(c.args).toEqual([
      "tsflyte-execute",
      "--inputs",
      "{{.input}}",
      "--output-prefix",
      "{{.outputPrefix}}",
      "--raw-output-data-prefix",
      "{{.rawOutputDataPrefix}}",
      "--checkpoint-path",
      "{{.checkpointOutputPrefix}}",
      "--prev-checkpoint",
      "{{.prevCheckpointPrefix}}",
      "--resolver",
      "template",
      "--",
      "{{.taskTemplatePath}}",
      "./test/plugins/fixtures/shout-executor.ts:ShoutExecutor",
    ]);
    // The SDK's own image by default (it holds the SDK's executors), not the user's default image.
    expect(c.image).toBe(sdkDefaultImage());
    expect(Object.keys(tpl.interface!.outputs!.variables)).toEqual(["shout"]);
  });

  it("uses the given image, and the fast-registration prefix only for executors that are project files", () => {
    const fast = settings
      .newBuilder()
      .fastSerializationSettings({ enabled: true, destinationDir: "/root" })
      .build();
    const sql = new SQLite3Task({
      name: "q",
      queryTemplate: "select 1 as one",
      config: { uri: "/data/db.sqlite" },
      containerImage: "{{.image.default}}",
    });
    const sqlContainer = taskTemplate(sql, fast).target.value as { image: string; args: string[] };
    expect(sqlContainer.image).toBe("ghcr.io/acme/app:v1");
    expect(sqlContainer.args[0]).toBe("tsflyte-execute");
    const shout = taskTemplate(new ShoutTask(1), fast).target.value as { args: string[] };
    expect(shout.args.slice(0, 6)).toEqual([
      "tsflyte-fast-execute",
      "--additional-distribution",
      "{{ .remote_package_path }}",
      "--dest-dir",
      "/root",
      "--",
    ]);
  });

  it("checks the executor location when the task is defined", () => {
    for (const bad of ["no-colon", "mod:1abc", ":Export", "flytekit-ts/../x:Y"]) {
      let err: unknown;
      try {
        new ShoutTask(1, "bad", bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(FlyteDefinitionError);
      expect((err as FlyteError).code).toBe("EXECUTOR_LOCATION_INVALID");
    }
    expect(parseExecutorLocation("flytekit-ts/plugins/sqlite:SQLite3TaskExecutor").kind).toBe("sdk");
    expect(parseExecutorLocation("./x/y.ts:Z").kind).toBe("file");
    expect(parseExecutorLocation("@acme/executors:Z").kind).toBe("package");
    expect(parseExecutorLocation("flytekit.extras.sqlite3.task.SQLite3TaskExecutor")).toMatchObject({
      kind: "sdk",
      location: "flytekit-ts/plugins/sqlite:SQLite3TaskExecutor",
    });
  });
});

describe("executors", () => {
  it("loads SDK executors, project files and flytekit aliases; rejects what is not an executor", async () => {
    expect(await loadExecutor("flytekit-ts/plugins/sqlite:SQLite3TaskExecutor")).toBeInstanceOf(
      SQLite3TaskExecutor,
    );
    expect(await loadExecutor("flytekit.extras.sqlite3.task.SQLite3TaskExecutor")).toBeInstanceOf(
      SQLite3TaskExecutor,
    );
    const shout = await loadExecutor("./test/plugins/fixtures/shout-executor.ts:ShoutExecutor", root);
    expect(shout.constructor.name).toBe("ShoutExecutor");
    const missing = await failure(loadExecutor("flytekit-ts/plugins/nothing:X"));
    expect(missing.code).toBe("EXECUTOR_NOT_FOUND");
    expect(missing.origin).toBe("SYSTEM");
    const file = await failure(loadExecutor("./nowhere.ts:X", root));
    expect(file.code).toBe("EXECUTOR_NOT_FOUND");
    expect(file.fix).toContain("image");
    const pkg = await failure(loadExecutor("@acme/not-installed:X", root));
    expect(pkg.code).toBe("EXECUTOR_NOT_FOUND");
    const notOne = await failure(
      loadExecutor("./test/plugins/fixtures/shout-executor.ts:NotAnExecutor", root),
    );
    expect(notOne.code).toBe("EXECUTOR_INVALID");
  });

  it("runs in process through the task's own template: alone and in a workflow", async () => {
    const shout = new ShoutTask(2);
    expect(await shout.run({ text: "hey" })).toEqual({ shout: "HEYHEY" });
    const exclaim = task(
      { name: "exclaim", inputs: { s: t.string() }, outputs: t.string() },
      ({ s }) => `${s}!`,
    );
    const wf = workflow({ name: "shout_wf", inputs: { text: t.string() } }, ({ text }) =>
      exclaim({ s: shout({ text }).shout }),
    );
    expect(await wf.run({ text: "ho" })).toBe("HOHO!");
    // The local template is the serialized one (custom, interface), with local identifiers.
    const tpl = shout.templateForLocalRun();
    expect(tpl.custom).toEqual({ times: 2 });
    expect(tpl.id?.project).toBe("local");
  });

  it("turns an executor's own exception into a USER error, and checks its outputs", async () => {
    const boom = await failure(new ShoutTask(1).run({ text: "boom" }));
    expect(boom.code).toBe("USER_ERROR");
    expect(boom.origin).toBe("USER");
    expect(boom.message).toContain("TypeError: the executor blew up");
    const forgetful = new ShoutTask(
      1,
      "forgetful",
      "./test/plugins/fixtures/shout-executor.ts:ForgetfulExecutor",
    );
    const e = await failure(forgetful.run({ text: "x" }));
    expect(e.code).toBe("EXECUTOR_OUTPUTS_MISMATCH");
  });
});

describe("the template resolver", () => {
  it("is registered as `template` and loads a template file and its executor", async () => {
    expect(getResolver("template")).toBe(templateResolver);
    const dir = tempDir();
    const path = writeTemplate(join(dir, "task.pb"), taskTemplate(new ShoutTask(3, "from_file"), settings));
    const prev = process.env.FLYTE_SOURCE_ROOT;
    process.env.FLYTE_SOURCE_ROOT = root;
    try {
      const loaded = await templateResolver([
        `file://${path}`,
        "./test/plugins/fixtures/shout-executor.ts:ShoutExecutor",
      ]);
      expect(loaded).toBeInstanceOf(TemplateShimTask);
      expect(loaded.name).toBe("from_file");
      expect(loaded.taskType).toBe("shout");
      const ctx = taskContext(dir);
      const inputs = await toLiteralMap({ text: t.string() }, { text: "a" }, ctx, "t");
      const out = await loaded.executeLiterals(inputs, ctx);
      expect(out.literals.shout?.value.case).toBe("scalar");
      expect(JSON.stringify(out.literals.shout)).toContain("AAA");
    } finally {
      if (prev === undefined) delete process.env.FLYTE_SOURCE_ROOT;
      else process.env.FLYTE_SOURCE_ROOT = prev;
    }
  });

  it("reports unreadable and corrupt templates and wrong arguments as SYSTEM errors", async () => {
    const dir = tempDir();
    const missing = await failure(readTaskTemplate(join(dir, "none.pb")));
    expect(missing.code).toBe("TEMPLATE_UNREADABLE");
    expect(missing.origin).toBe("SYSTEM");
    const junk = join(dir, "junk.pb");
    (await import("node:fs")).writeFileSync(junk, Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect((await failure(readTaskTemplate(junk))).code).toBe("TEMPLATE_CORRUPT");
    const args = await failure(templateResolver(["only-one"]));
    expect(args.code).toBe("RESOLVER_ARGS");
  });
});
