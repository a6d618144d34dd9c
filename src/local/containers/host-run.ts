/**
 * A task template's command run on this machine instead of in its image: how an in-process local
 * run executes a task of another SDK (a `foreignTask`, e.g. flytekit's `pyflyte-execute ...`).
 * Everything else is as in a container: inputs.pb and the template in a fresh folder, propeller's
 * substitutions in the command line, the `FLYTE_INTERNAL_*` environment, and afterwards
 * `error.pb` (a `FlyteExecutionError` with the document's code and origin) or `outputs.pb`.
 * The program must be installed here (e.g. `pip install flytekit` for `pyflyte-execute`).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FlyteExecutionError } from "../../errors.js";
import type { ExecutorContext } from "../../plugins/shim-executor.js";
import { LiteralMapSchema } from "../../proto/gen/flyteidl/core/literals_pb.js";
import { type TaskTemplate, TaskTemplateSchema } from "../../proto/gen/flyteidl/core/tasks_pb.js";
import { joinUri } from "../../storage/storage.js";
import { type LiteralMap, literalMap } from "../../types/literals.js";
import { runCommand } from "./engine.js";
import { substituteAll, type TemplateVars } from "./substitutions.js";
import { fromErrorDocument } from "./task-container.js";

/** Where a template runs on this machine. */
export interface HostRunOptions {
  /** The working directory (a foreign task's `sourceDir`); default this process's. */
  cwd?: string | undefined;
}

/** The program a template's container starts: the first word of `command`, else of `args`. */
export function templateProgram(template: TaskTemplate): string | undefined {
  if (template.target.case !== "container") return undefined;
  const c = template.target.value;
  return c.command[0] ?? c.args[0];
}

/** Finds a program as the shell would: a path as it is, a name on `PATH`. */
export function findProgram(program: string, path = process.env.PATH ?? ""): string | undefined {
  if (program.includes("/")) return existsSync(program) ? program : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir && isAbsolute(dir) && existsSync(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

/**
 * Runs the template's command here on `inputs`. Throws `FOREIGN_TASK_IN_PROCESS` when the program
 * is not installed, the error document's code when the task fails, `FOREIGN_TASK_FAILED` when it
 * exits non-zero without one.
 */
export async function runTemplateOnHost(
  template: TaskTemplate,
  inputs: LiteralMap,
  ctx: ExecutorContext,
  options: HostRunOptions = {},
): Promise<LiteralMap> {
  const entity = template.id?.name || "task";
  const program = templateProgram(template);
  if (template.target.case !== "container" || program === undefined || !findProgram(program)) {
    throw new FlyteExecutionError(
      "FOREIGN_TASK_IN_PROCESS",
      `this ${template.type} task runs ${program ?? "a container"}, which is not installed on this machine`,
      {
        entity,
        fix: `install it here and put it on PATH (pyflyte-execute comes with pip install flytekit) to run in process, or run the workflow in containers: tsflyte run --containers (runInContainers())`,
      },
    );
  }
  const container = template.target.value;
  const dir = join(ctx.workDir, `host-${randomBytes(4).toString("hex")}`);
  const outputs = join(dir, "outputs");
  await mkdir(outputs, { recursive: true });
  await writeFile(join(dir, "inputs.pb"), toBinary(LiteralMapSchema, inputs));
  await writeFile(join(dir, "task.pb"), toBinary(TaskTemplateSchema, template));
  const ex = ctx.execution;
  const vars: TemplateVars = {
    input: join(dir, "inputs.pb"),
    inputPrefix: dir,
    outputPrefix: outputs,
    rawOutputDataPrefix: joinUri(ctx.rawDataPrefix, `host-${randomBytes(4).toString("hex")}`),
    checkpointOutputPrefix: join(dir, "checkpoint"),
    prevCheckpointPrefix: '""',
    taskTemplatePath: join(dir, "task.pb"),
    perRetryUniqueKey: `${ex.name}-${ex.nodeId ?? "n0"}-${ctx.attempt}`.replace(/[^A-Za-z0-9-]/g, "-"),
    namespace: `${ex.project}-${ex.domain}`,
    inputs: inputs.literals,
    entity,
  };
  const argv = substituteAll([...container.command, ...container.args], vars);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const kv of container.env) env[kv.key] = kv.value;
  Object.assign(env, {
    FLYTE_INTERNAL_EXECUTION_PROJECT: ex.project,
    FLYTE_INTERNAL_EXECUTION_DOMAIN: ex.domain,
    FLYTE_INTERNAL_EXECUTION_ID: ex.name,
    FLYTE_INTERNAL_TASK_PROJECT: template.id?.project || ex.project,
    FLYTE_INTERNAL_TASK_DOMAIN: template.id?.domain || ex.domain,
    FLYTE_INTERNAL_TASK_NAME: entity,
    FLYTE_INTERNAL_TASK_VERSION: template.id?.version || "local",
    FLYTE_INTERNAL_NODE_ID: ex.nodeId ?? "n0",
    FLYTE_ATTEMPT_NUMBER: String(ctx.attempt),
  });
  const result = await runCommand(argv[0]!, argv.slice(1), {
    env,
    maxOutput: 64 * 1024,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const errorPath = join(outputs, "error.pb");
  if (existsSync(errorPath)) throw fromErrorDocument(await readFile(errorPath), entity, "this machine");
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-12).join("\n");
    throw new FlyteExecutionError(
      "FOREIGN_TASK_FAILED",
      `${program} exited with code ${result.code} without an error document${tail ? `; its last output:\n${tail}` : ""}`,
      { entity, origin: "USER" },
    );
  }
  const outputsPath = join(outputs, "outputs.pb");
  if (existsSync(outputsPath)) return fromBinary(LiteralMapSchema, await readFile(outputsPath));
  if (existsSync(join(outputs, "futures.pb"))) {
    throw new FlyteExecutionError(
      "FOREIGN_DYNAMIC_IN_PROCESS",
      "the task returned a dynamic graph (futures.pb), which in-process runs do not execute",
      { entity, origin: "USER", fix: "run the workflow in containers: tsflyte run --containers" },
    );
  }
  if (Object.keys(template.interface?.outputs?.variables ?? {}).length === 0) return literalMap({});
  throw new FlyteExecutionError(
    "OUTPUTS_MISSING",
    `${program} exited 0 but wrote neither outputs.pb nor error.pb`,
    {
      entity,
      origin: "SYSTEM",
      fix: "check that the template's command is a Flyte SDK entrypoint",
    },
  );
}
