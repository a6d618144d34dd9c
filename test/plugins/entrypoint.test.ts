// Pre-built tasks through the real entrypoint, as propeller runs them: the task template written
// to a file, `bin/tsflyte-execute.mjs ... --resolver template -- <template> <executor location>`,
// and the outputs.pb or error.pb it leaves. The bin runs dist/: build first (npm test does).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BaseTask } from "../../src/core/task.js";
import { t } from "../../src/index.js";
import { SQLITE_EXECUTOR_LOCATION, SQLite3Task } from "../../src/plugins/sqlite/index.js";
import { ContainerError_Kind } from "../../src/proto/gen/flyteidl/core/errors_pb.js";
import { ExecutionError_ErrorKind } from "../../src/proto/gen/flyteidl/core/execution_pb.js";
import { SerializationSettings } from "../../src/serialize/settings.js";
import { taskTemplate } from "../../src/serialize/task-template.js";
import { fromLiteralMap, toLiteralMap } from "../../src/types/literal-map.js";
import { ShoutTask } from "./fixtures/shout-executor.js";
import {
  makeDatabase,
  PEOPLE_SQL,
  root,
  runEntrypoint,
  taskContext,
  tempDir,
  writeTemplate,
} from "./helpers.js";

const settings = SerializationSettings.forImage("ghcr.io/acme/app:v1", "v1");
const dir = tempDir("tsflyte-prebuilt-exec-");
const db = makeDatabase(join(dir, "people.db"), PEOPLE_SQL);
const PEOPLE = t.dataframe({ id: t.int(), name: t.string(), score: t.float() });

function people(uri: string) {
  return new SQLite3Task({
    name: "people_since",
    queryTemplate:
      "select id, name, score from people where id >= {{.inputs.min}} and name != '{{.inputs.who}}' order by id",
    inputs: { min: t.int(), who: t.string() },
    outputSchema: PEOPLE,
    config: { uri },
  });
}

/** The executor location written in a template's args (what propeller would pass). */
function argsTail(task: BaseTask, file: string): [string, string] {
  const tpl = taskTemplate(task, settings);
  writeTemplate(file, tpl);
  const args = (tpl.target.value as { args: string[] }).args;
  expect(args.at(-2)).toBe("{{.taskTemplatePath}}");
  return [file, args.at(-1)!];
}

async function inputsOf(task: ReturnType<typeof people>, values: { min: number; who: string }) {
  return toLiteralMap(task.inputs, values, taskContext(dir), task.name);
}

describe("tsflyte-execute --resolver template", () => {
  it("runs a SQLite3Task template and writes outputs.pb with the results dataframe", async () => {
    const task = people(db);
    const work = join(dir, "ok");
    const [tpl, location] = argsTail(task, join(dir, "ok.pb"));
    expect(location).toBe(SQLITE_EXECUTOR_LOCATION);
    const run = await runEntrypoint(work, await inputsOf(task, { min: 1, who: "bob" }), [tpl, location]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.files).toEqual(["outputs.pb"]);
    const { results } = await fromLiteralMap(task.outputs, run.outputs!, taskContext(work), task.name);
    expect(results.uri?.startsWith(run.raw)).toBe(true);
    expect(await results.rows()).toEqual([
      { id: 1, name: "ann", score: 1.5 },
      { id: 3, name: "x'; DROP TABLE people; --", score: 3 },
    ]);
  });

  it("a missing database: error.pb with origin USER, non-recoverable, code USER:SQLITE_DB_NOT_FOUND, exit 0", async () => {
    const task = people(join(dir, "missing.db"));
    const [tpl, location] = argsTail(task, join(dir, "missing.pb"));
    const run = await runEntrypoint(join(dir, "missing"), await inputsOf(task, { min: 1, who: "" }), [
      tpl,
      location,
    ]);
    expect(run.code).toBe(0);
    expect(run.files).toEqual(["error.pb"]);
    const e = run.error!.error!;
    expect(e.code).toBe("USER:SQLITE_DB_NOT_FOUND");
    expect(e.origin).toBe(ExecutionError_ErrorKind.USER);
    expect(e.kind).toBe(ContainerError_Kind.NON_RECOVERABLE);
    expect(e.message).toContain("missing.db");
  });

  it("rows that do not fit: error.pb USER:SQLITE_RESULT_TYPE; FLYTE_FAIL_ON_ERROR exits 1", async () => {
    const task = new SQLite3Task({
      name: "misfit",
      queryTemplate: "select name as id from people",
      outputSchema: t.dataframe({ id: t.int() }),
      config: { uri: db },
    });
    const [tpl, location] = argsTail(task, join(dir, "misfit.pb"));
    const run = await runEntrypoint(
      join(dir, "misfit"),
      { $typeName: "flyteidl.core.LiteralMap", literals: {} } as never,
      [tpl, location],
      {
        FLYTE_FAIL_ON_ERROR: "true",
      },
    );
    expect(run.code).toBe(1);
    expect(run.error!.error!.code).toBe("USER:SQLITE_RESULT_TYPE");
    expect(run.error!.error!.origin).toBe(ExecutionError_ErrorKind.USER);
  });

  it("an executor the image does not have: error.pb with origin SYSTEM", async () => {
    const task = people(db);
    const [tpl] = argsTail(task, join(dir, "noexec.pb"));
    const run = await runEntrypoint(join(dir, "noexec"), await inputsOf(task, { min: 1, who: "" }), [
      tpl,
      "flytekit-ts/plugins/nothing:NothingExecutor",
    ]);
    expect(run.code).toBe(0);
    expect(run.error!.error!.code).toBe("SYSTEM:EXECUTOR_NOT_FOUND");
    expect(run.error!.error!.origin).toBe(ExecutionError_ErrorKind.SYSTEM);
  });

  it("a missing template: error.pb SYSTEM:TEMPLATE_UNREADABLE, recoverable", async () => {
    const task = people(db);
    const run = await runEntrypoint(join(dir, "notpl"), await inputsOf(task, { min: 1, who: "" }), [
      join(dir, "no-such-template.pb"),
      SQLITE_EXECUTOR_LOCATION,
    ]);
    expect(run.error!.error!.code).toBe("SYSTEM:TEMPLATE_UNREADABLE");
    expect(run.error!.error!.kind).toBe(ContainerError_Kind.RECOVERABLE);
  });

  it("runs an executor that is a TypeScript file of the project (from FLYTE_SOURCE_ROOT)", async () => {
    const task = new ShoutTask(2, "shout_file");
    const [tpl, location] = argsTail(task, join(dir, "shout.pb"));
    const inputs = await toLiteralMap(task.inputs, { text: "yo" }, taskContext(dir), task.name);
    const run = await runEntrypoint(join(dir, "shout"), inputs, [tpl, location], { FLYTE_SOURCE_ROOT: root });
    expect(run.stderr).toBe("");
    expect(run.files).toEqual(["outputs.pb"]);
    expect(await fromLiteralMap(task.outputs, run.outputs!, taskContext(dir), task.name)).toEqual({
      shout: "YOYO",
    });
  });
});
