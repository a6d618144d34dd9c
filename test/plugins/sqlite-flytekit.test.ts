// SQLite3Task against real flytekit (1.16, with pandas and pyarrow; skipped without it):
// (a) flytekit serializes its SQLite3Task; our executor runs that template (in process and
//     through tsflyte-execute with flytekit's own executor location) and gives the rows
//     flytekit's executor gives; flytekit reads the `results` we wrote;
// (b) flytekit's SQLite3TaskExecutor.execute_from_model runs OUR template, and pyflyte-execute
//     with flytekit's template resolver runs it too; we read the outputs.pb flytekit wrote.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { toBinary, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { t } from "../../src/index.js";
import { TemplateShimTask } from "../../src/plugins/customized-container-task.js";
import { SQLite3Task, SQLite3TaskExecutor } from "../../src/plugins/sqlite/index.js";
import { TypedInterfaceSchema } from "../../src/proto/gen/flyteidl/core/interface_pb.js";
import { LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { SerializationSettings } from "../../src/serialize/settings.js";
import { taskTemplate } from "../../src/serialize/task-template.js";
import { fromLiteralMap, toLiteralMap } from "../../src/types/literal-map.js";
import { findPython } from "../types/python-peer.js";
import {
  makeDatabase,
  readTemplate,
  root,
  runEntrypoint,
  taskContext,
  tempDir,
  writeTemplate,
} from "./helpers.js";

const { python, reason } = findPython(["flytekit", "pandas", "pyarrow"]);
const helper = join(root, "test/plugins/flytekit_plugins.py");
const dir = tempDir("tsflyte-sqlite-fk-");
const db = makeDatabase(
  join(dir, "people.db"),
  `create table t (id integer, name text, score real);
   insert into t values (1, 'ann', 1.5), (2, 'bob', 2.25), (3, 'x''; DROP TABLE t; --', 3.0), (4, 'dee', -0.5);`,
);
const INPUTS = { min: 2, who: "dee" };
const EXPECTED = [
  { id: 2, name: "bob", score: 2.25 },
  { id: 3, name: "x'; DROP TABLE t; --", score: 3 },
];
const COLUMNS = t.dataframe({ id: t.int(), name: t.string(), score: t.float() });

function py(...args: string[]): string {
  return execFileSync(python!, [helper, ...args], {
    encoding: "utf8",
    env: { ...process.env, FLYTE_SDK_LOGGING_LEVEL: "40", PYTHONWARNINGS: "ignore" },
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** Our twin of the helper's flytekit task. */
function ours(name: string) {
  return new SQLite3Task({
    name,
    queryTemplate:
      "select id, name, score from t\n  where id >= {{ .inputs.min }} and name != '{{.inputs.who}}'",
    inputs: { min: t.int(), who: t.string() },
    outputSchema: COLUMNS,
    config: { uri: db },
  });
}

async function inputLiterals() {
  return toLiteralMap({ min: t.int(), who: t.string() }, INPUTS, taskContext(dir), "inputs");
}

describe.skipIf(!python)(`SQLite3Task interop with flytekit${python ? "" : ` (skipped: ${reason})`}`, () => {
  it("writes the template flytekit writes: task type, custom, interface", () => {
    const fk = join(dir, "fk_sd.pb");
    py("serialize", fk, db, "0", "sd");
    const theirs = readTemplate(fk);
    const mine = taskTemplate(
      ours("flytekit_sqlite_sd"),
      SerializationSettings.forImage("ghcr.io/example/app:v1", "v1"),
    );
    expect(mine.type).toBe(theirs.type);
    expect(theirs.type).toBe("sqlite");
    expect(mine.custom).toEqual(theirs.custom);
    expect(theirs.custom).toEqual({
      query_template:
        "select id, name, score from t where id >= {{ .inputs.min }} and name != '{{.inputs.who}}'",
      uri: db,
      compressed: false,
    });
    expect(toJson(TypedInterfaceSchema, mine.interface!)).toEqual(
      toJson(TypedInterfaceSchema, theirs.interface!),
    );
  });

  it("(a) runs flytekit's templates (structured dataset and legacy schema output) like flytekit's executor", async () => {
    for (const variant of ["sd", "schema"]) {
      const fk = join(dir, `fk_${variant}.pb`);
      py("serialize", fk, db, "0", variant);
      const theirRows = JSON.parse(py("execute-from-model", fk, JSON.stringify(INPUTS)));
      expect(theirRows, variant).toEqual(EXPECTED);
      // In process: the template and our executor, as the template resolver would run them.
      const shim = new TemplateShimTask(readTemplate(fk), new SQLite3TaskExecutor());
      const work = tempDir("tsflyte-sqlite-fk-run-");
      const out = await shim.executeLiterals(await inputLiterals(), taskContext(work));
      const lit = out.literals.results!;
      const kind = lit.value.case === "scalar" ? lit.value.value.value.case : undefined;
      expect(kind).toBe(variant === "sd" ? "structuredDataset" : "schema");
      // flytekit reads what we wrote, through its type engine.
      const outputs = join(work, "outputs.pb");
      writeFileSync(outputs, toBinary(LiteralMapSchema, out));
      expect(JSON.parse(py("read-results", outputs, fk)), variant).toEqual(theirRows);
    }
  });

  it("(a) runs flytekit's template through tsflyte-execute with flytekit's executor location", async () => {
    const fk = join(dir, "fk_sd_exec.pb");
    py("serialize", fk, db, "0", "sd");
    const location = (readTemplate(fk).target.value as { args: string[] }).args.at(-1)!;
    expect(location).toBe("flytekit.extras.sqlite3.task.SQLite3TaskExecutor");
    const work = join(dir, "fk-exec");
    const run = await runEntrypoint(work, await inputLiterals(), [fk, location]);
    expect(run.stderr).toBe("");
    expect(run.files).toEqual(["outputs.pb"]);
    const { results } = await fromLiteralMap({ results: COLUMNS }, run.outputs!, taskContext(work), "fk");
    expect(await results.rows()).toEqual(EXPECTED);
    expect(JSON.parse(py("read-results", join(work, "out/outputs.pb"), fk))).toEqual(EXPECTED);
  });

  it("(b) flytekit's SQLite3TaskExecutor.execute_from_model runs our template", async () => {
    const task = ours("ours_for_flytekit");
    const tpl = writeTemplate(
      join(dir, "ours.pb"),
      taskTemplate(task, SerializationSettings.forImage("ghcr.io/x/y:v1", "v1")),
    );
    const theirs = JSON.parse(py("execute-from-model", tpl, JSON.stringify(INPUTS)));
    expect(theirs).toEqual(EXPECTED);
    const mine = await (await task.run(INPUTS)).results.rows();
    expect(mine).toEqual(theirs);
  });

  it("(b) pyflyte-execute with flytekit's template resolver runs our template; we read its outputs.pb", async () => {
    const pyflyteExecute = join(dirname(python!), "pyflyte-execute");
    expect(existsSync(pyflyteExecute)).toBe(true);
    const task = ours("ours_in_pyflyte");
    const work = tempDir("tsflyte-sqlite-pyflyte-");
    const tpl = writeTemplate(
      join(work, "task.pb"),
      taskTemplate(task, SerializationSettings.forImage("ghcr.io/x/y:v1", "v1")),
    );
    writeFileSync(join(work, "inputs.pb"), toBinary(LiteralMapSchema, await inputLiterals()));
    execFileSync(
      pyflyteExecute,
      [
        "--inputs",
        join(work, "inputs.pb"),
        "--output-prefix",
        join(work, "out"),
        "--raw-output-data-prefix",
        join(work, "raw"),
        "--resolver",
        "flytekit.core.python_customized_container_task.default_task_template_resolver",
        "--",
        tpl,
        "flytekit.extras.sqlite3.task.SQLite3TaskExecutor",
      ],
      { cwd: work, env: { ...process.env, FLYTE_SDK_LOGGING_LEVEL: "40" }, stdio: "pipe" },
    );
    expect(existsSync(join(work, "out/error.pb"))).toBe(false);
    const outputs = (await import("@bufbuild/protobuf")).fromBinary(
      LiteralMapSchema,
      readFileSync(join(work, "out/outputs.pb")),
    );
    const { results } = await fromLiteralMap(task.outputs, outputs, taskContext(work), task.name);
    expect(await results.rows()).toEqual(EXPECTED);
  });
});
