/**
 * One attempt of one task template in a container, as propeller's pod would run it: the
 * template's image, command, args (with propeller's substitutions), environment and resources;
 * inputs.pb and the template file in a node folder, the data folder mounted at the same path
 * inside as outside (so `file://` URIs and plain paths in literals mean the same file on both
 * sides), the user's code read-only at the image's working directory, no network.
 *
 * Afterwards: `error.pb` becomes a `FlyteExecutionError` with the document's code, message and
 * origin; `futures.pb` is returned for the executor to run; `outputs.pb` is checked against the
 * template's interface. A failed attempt leaves nothing behind in its output prefix.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FlyteExecutionError } from "../../errors.js";
import { sdkDefaultImage } from "../../images/image-config.js";
import { type DynamicJobSpec, DynamicJobSpecSchema } from "../../proto/gen/flyteidl/core/dynamic_job_pb.js";
import { ContainerError_Kind, ErrorDocumentSchema } from "../../proto/gen/flyteidl/core/errors_pb.js";
import { ExecutionError_ErrorKind } from "../../proto/gen/flyteidl/core/execution_pb.js";
import { LiteralMapSchema } from "../../proto/gen/flyteidl/core/literals_pb.js";
import {
  Resources_ResourceName,
  type TaskTemplate,
  TaskTemplateSchema,
} from "../../proto/gen/flyteidl/core/tasks_pb.js";
import { type LiteralMap, literalMap } from "../../types/literals.js";
import { type ContainerEngine, FlyteContainerError } from "./engine.js";
import { substituteAll, type TemplateVars } from "./substitutions.js";

/** A host folder visible in the container. */
export interface Mount {
  /** Host path. */
  source: string;
  /** Path inside the container (default: the same). */
  target?: string;
  readOnly?: boolean;
}

/** How a raw container's inputs and outputs travel (Flyte's copilot data contract). */
export interface CopilotIO {
  /** Writes the inputs as files into `dir` (mounted at the task's input path). */
  writeInputs(inputs: LiteralMap, dir: string): Promise<void>;
  /** Reads the outputs from `dir` (mounted at the task's output path). */
  readOutputs(dir: string): Promise<LiteralMap>;
}

/** Everything one attempt needs. */
export interface AttemptSpec {
  template: TaskTemplate;
  inputs: LiteralMap;
  /** A fresh host folder for this attempt (inputs.pb, the template, the output prefix). */
  dir: string;
  /** Where the task writes large data (mounted). */
  rawOutputDataPrefix: string;
  /** The previous attempt's checkpoint folder, if any. */
  prevCheckpoint?: string | undefined;
  attempt: number;
  /** Node id, e.g. `n0` or `n1/dn0` (for the environment and error messages). */
  nodeId: string;
  /** The execution the attempt belongs to. */
  execution: { project: string; domain: string; name: string };
  /** Host folder of the user's code, mounted read-only at the image's working directory. */
  codeDir?: string | undefined;
  /** Data folders mounted at the same path inside. */
  mounts: readonly Mount[];
  /** More environment variables (map task index, secrets). */
  env?: Readonly<Record<string, string>>;
  /** Set for raw containers. */
  copilot?: CopilotIO | undefined;
  /** Kill the container after this long. */
  timeoutMs?: number | undefined;
  /** Called with the container's output as it arrives. */
  onLog?: ((chunk: string) => void) | undefined;
}

/** What an attempt produced. */
export type AttemptResult =
  | { kind: "outputs"; outputs: LiteralMap; image: string }
  | { kind: "futures"; spec: DynamicJobSpec; image: string };

/** The image of a template (the container's image). */
export function templateImage(template: TaskTemplate): string {
  return template.target.case === "container" ? template.target.value.image : "";
}

/**
 * The engine arguments (`run ...`) for an attempt, and the host folders it uses. Exposed for
 * tests and for measuring overhead; {@link runAttempt} runs them.
 */
export function containerRunArgs(
  spec: AttemptSpec,
  workdir: string,
  containerName: string,
  paths: AttemptPaths,
): string[] {
  const template = spec.template;
  if (template.target.case !== "container") {
    throw new FlyteExecutionError(
      "TEMPLATE_NOT_CONTAINER",
      `the task template has no container (${template.target.case ?? "nothing"}) and cannot run in one`,
      {
        entity: template.id?.name ?? "task",
        origin: "USER",
        fix: "run plugin tasks of this type in process",
      },
    );
  }
  const container = template.target.value;
  const vars: TemplateVars = {
    input: paths.inputs,
    inputPrefix: spec.dir,
    outputPrefix: paths.outputs,
    rawOutputDataPrefix: spec.rawOutputDataPrefix,
    checkpointOutputPrefix: paths.checkpoint,
    prevCheckpointPrefix: spec.prevCheckpoint ?? '""',
    taskTemplatePath: paths.template,
    perRetryUniqueKey: `${spec.execution.name}-${spec.nodeId.replace(/[^A-Za-z0-9-]/g, "-")}-${spec.attempt}`,
    namespace: `${spec.execution.project}-${spec.execution.domain}`,
    inputs: spec.inputs.literals,
    entity: template.id?.name || "task",
  };
  const args = ["run", "--rm", "--name", containerName, "--network", "none", "--pull", "never"];
  for (const m of spec.mounts)
    args.push("-v", `${m.source}:${m.target ?? m.source}${m.readOnly ? ":ro" : ""}`);
  if (spec.codeDir) args.push("-v", `${spec.codeDir}:${workdir}:ro`, "--workdir", workdir);
  if (spec.copilot) {
    const dc = container.dataConfig;
    args.push("-v", `${paths.copilotIn}:${dc?.inputPath || "/var/inputs"}:ro`);
    args.push("-v", `${paths.copilotOut}:${dc?.outputPath || "/var/outputs"}`);
  }
  const env: Record<string, string> = {};
  for (const kv of container.env) env[kv.key] = kv.value;
  Object.assign(env, {
    FLYTE_INTERNAL_EXECUTION_PROJECT: spec.execution.project,
    FLYTE_INTERNAL_EXECUTION_DOMAIN: spec.execution.domain,
    FLYTE_INTERNAL_EXECUTION_ID: spec.execution.name,
    FLYTE_INTERNAL_TASK_PROJECT: template.id?.project || spec.execution.project,
    FLYTE_INTERNAL_TASK_DOMAIN: template.id?.domain || spec.execution.domain,
    FLYTE_INTERNAL_TASK_NAME: template.id?.name ?? "",
    FLYTE_INTERNAL_TASK_VERSION: template.id?.version || "local",
    FLYTE_INTERNAL_NODE_ID: spec.nodeId,
    FLYTE_ATTEMPT_NUMBER: String(spec.attempt),
    ...(spec.env ?? {}),
  });
  for (const [k, v] of Object.entries(env)) args.push("-e", `${k}=${v}`);
  args.push(...resourceArgs(template));
  const command = substituteAll(container.command, vars);
  if (command.length > 0) args.push("--entrypoint", JSON.stringify(command));
  args.push(container.image, ...substituteAll(container.args, vars));
  return args;
}

/** Host paths of one attempt. */
export interface AttemptPaths {
  inputs: string;
  template: string;
  /** The output prefix the container writes to. */
  outputs: string;
  checkpoint: string;
  copilotIn: string;
  copilotOut: string;
}

/** The host paths of an attempt folder. */
export function attemptPaths(dir: string): AttemptPaths {
  return {
    inputs: join(dir, "inputs.pb"),
    template: join(dir, "task.pb"),
    outputs: join(dir, "outputs"),
    checkpoint: join(dir, "checkpoint"),
    copilotIn: join(dir, "copilot-inputs"),
    copilotOut: join(dir, "copilot-outputs"),
  };
}

/** `--cpus` and `--memory` from the template's limits (or requests when there are no limits). */
export function resourceArgs(template: TaskTemplate): string[] {
  if (template.target.case !== "container") return [];
  const res = template.target.value.resources;
  const pick = (name: Resources_ResourceName) =>
    res?.limits.find((e) => e.name === name)?.value ?? res?.requests.find((e) => e.name === name)?.value;
  const out: string[] = [];
  const cpu = pick(Resources_ResourceName.CPU);
  if (cpu) {
    const n = Math.min(cpuCount(cpu), availableParallelism());
    if (n > 0) out.push("--cpus", String(Math.max(0.01, Math.round(n * 100) / 100)));
  }
  const mem = pick(Resources_ResourceName.MEMORY);
  if (mem) {
    const bytes = memoryBytes(mem);
    if (bytes > 0) out.push("--memory", String(Math.max(bytes, 6 * 1024 * 1024)));
  }
  return out;
}

/** A Kubernetes CPU quantity (`500m`, `2`, `1.5`) in CPUs. */
export function cpuCount(q: string): number {
  const m = /^([0-9.]+)(m?)$/.exec(q.trim());
  if (!m) return 0;
  return Number(m[1]) / (m[2] === "m" ? 1000 : 1);
}

const UNITS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes memory quantity (`512Mi`, `1G`, `1048576`) in bytes. */
export function memoryBytes(q: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q.trim());
  const unit = m ? UNITS[m[2]!] : undefined;
  if (!m || unit === undefined) return 0;
  return Math.floor(Number(m[1]) * unit);
}

/** Runs one attempt. Throws `FlyteExecutionError` (the task failed) or `FlyteContainerError` (it could not run). */
export async function runAttempt(engine: ContainerEngine, spec: AttemptSpec): Promise<AttemptResult> {
  const template = spec.template;
  const entity = template.id?.name || "task";
  const image = templateImage(template);
  const info = await engine.inspectImage(image);
  if (!info) throw imageMissing(image, entity, engine);
  const paths = attemptPaths(spec.dir);
  const name =
    `tsflyte-${spec.execution.name}-${spec.nodeId}-${spec.attempt}-${randomBytes(3).toString("hex")}`
      .replace(/[^A-Za-z0-9_.-]/g, "-")
      .slice(0, 120);
  // Propeller renders the command line before it starts anything: a bad placeholder fails here.
  const args = containerRunArgs(spec, info.workdir, name, paths);
  await rm(spec.dir, { recursive: true, force: true });
  await mkdir(paths.outputs, { recursive: true });
  await mkdir(spec.rawOutputDataPrefix, { recursive: true });
  await writeFile(paths.inputs, toBinary(LiteralMapSchema, spec.inputs));
  await writeFile(paths.template, toBinary(TaskTemplateSchema, template));
  if (spec.copilot) {
    await mkdir(paths.copilotIn, { recursive: true });
    await mkdir(paths.copilotOut, { recursive: true });
    await spec.copilot.writeInputs(spec.inputs, paths.copilotIn);
  }
  let timedOut = false;
  const timer =
    spec.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          void engine.exec(["kill", name]).catch(() => undefined);
        }, spec.timeoutMs);
  let result: Awaited<ReturnType<ContainerEngine["exec"]>>;
  try {
    result = await engine.exec(args, {
      maxOutput: 64 * 1024,
      ...(spec.onLog ? { onStderr: spec.onLog, onStdout: spec.onLog } : {}),
    });
  } finally {
    if (timer) clearTimeout(timer);
  }
  try {
    if (timedOut) {
      throw new FlyteExecutionError("TASK_TIMEOUT", `timed out after ${spec.timeoutMs} ms in ${image}`, {
        entity,
        origin: "USER",
        recoverable: true,
      });
    }
    const errorDoc = await readIfExists(join(paths.outputs, "error.pb"));
    if (errorDoc) throw fromErrorDocument(errorDoc, entity, image);
    if (spec.copilot) {
      if (result.code !== 0) throw exitError(result, entity, image);
      const outputs = await spec.copilot.readOutputs(paths.copilotOut);
      return { kind: "outputs", outputs: checkOutputs(template, outputs, entity), image };
    }
    if (result.code !== 0) throw exitError(result, entity, image);
    const futures = await readIfExists(join(paths.outputs, "futures.pb"));
    if (futures) return { kind: "futures", spec: fromBinary(DynamicJobSpecSchema, futures), image };
    const outputsPb = await readIfExists(join(paths.outputs, "outputs.pb"));
    let outputs: LiteralMap;
    if (outputsPb) outputs = fromBinary(LiteralMapSchema, outputsPb);
    else if (Object.keys(template.interface?.outputs?.variables ?? {}).length === 0) outputs = literalMap({});
    else {
      throw new FlyteExecutionError(
        "OUTPUTS_MISSING",
        `the container in ${image} exited 0 but wrote neither outputs.pb nor error.pb${tail(result.stderr)}`,
        { entity, origin: "SYSTEM", fix: "check that the image's entrypoint is a Flyte SDK entrypoint" },
      );
    }
    return { kind: "outputs", outputs: checkOutputs(template, outputs, entity), image };
  } catch (err) {
    // Nothing half-written stays behind in the output prefix or the raw data of a failed attempt.
    await rm(paths.outputs, { recursive: true, force: true });
    await rm(spec.rawOutputDataPrefix, { recursive: true, force: true });
    await rename(spec.dir, `${spec.dir}.failed`).catch(() => undefined);
    throw err;
  }
}

/**
 * The error for an image the engine does not have: `SDK_IMAGE_MISSING` for the SDK's own image
 * (which `tsflyte build` makes from the modules whose tasks use it), else `IMAGE_MISSING`.
 */
export function imageMissing(image: string, entity: string, engine: ContainerEngine): FlyteContainerError {
  if (image === sdkDefaultImage()) {
    return new FlyteContainerError(
      "SDK_IMAGE_MISSING",
      `the SDK's pre-built image ${image} (where pre-built task types such as SQLite3Task run by default, and every task when no default --image is given) is not available to ${engine.name}`,
      {
        entity,
        origin: "USER",
        fix: `build it with \`tsflyte build <the module that defines ${entity}>\` (add --base <image with node> on a machine without a registry), pull it with \`${engine.name} pull ${image}\`, or give the task another image (containerImage)`,
      },
    );
  }
  return new FlyteContainerError(
    "IMAGE_MISSING",
    `image ${image || "(none)"} is not available to ${engine.name}`,
    {
      entity,
      origin: "USER",
      fix: `build it with \`tsflyte build <your modules> ...\`, pull it with \`${engine.name} pull ${image}\`, or point the task at an existing image with --image <name>=<ref>`,
    },
  );
}

async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  if (!existsSync(path)) return undefined;
  return readFile(path);
}

function tail(text: string, lines = 12): string {
  const t = text.trim().split("\n").slice(-lines).join("\n");
  return t ? `; its last output:\n${t}` : "";
}

function exitError(
  result: { code: number; stderr: string; stdout: string },
  entity: string,
  image: string,
): FlyteExecutionError {
  const oom = result.code === 137;
  return new FlyteExecutionError(
    "CONTAINER_FAILED",
    `the container in ${image} exited with code ${result.code}${oom ? " (killed: out of memory or stopped)" : ""}${tail(result.stderr || result.stdout)}`,
    {
      entity,
      origin: "USER",
      recoverable: oom,
      ...(oom ? { fix: "raise the task's memory limit" } : {}),
    },
  );
}

/** The parts of an error document's message: both SDKs write `Trace:\n\n<trace>\n\nMessage:\n\n<message>`. */
export function splitErrorDocumentText(text: string): { message: string; trace: string } {
  const m = /^\s*Trace:\s*\n([\s\S]*?)\n\s*Message:\s*\n([\s\S]*)$/.exec(text);
  if (!m) return { message: text.trim(), trace: "" };
  return { message: dedent(m[2]!).trim(), trace: dedent(m[1]!).trim() };
}

function dedent(text: string): string {
  const lines = text.split("\n");
  const pad = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return Number.isFinite(pad) ? lines.map((l) => l.slice(pad)).join("\n") : text;
}

function indent(text: string, pad: string): string {
  return text
    .split("\n")
    .map((l) => (l.trim() ? pad + l : l))
    .join("\n");
}

/** A code an SDK chose for a known failure (`USER:SQLITE_DB_NOT_FOUND`), not an uncaught exception's. */
function isStableCode(code: string): boolean {
  return /^(USER|SYSTEM):[A-Z][A-Z0-9_]*$/.test(code) && !/:(USER_ERROR|UNKNOWN)$/.test(code);
}

/**
 * An error document from a container as a `FlyteExecutionError` with its code (`USER:SQLITE_DB_NOT_FOUND`,
 * `USER:USER_ERROR`, `USER:RuntimeError`, ...), message and origin, recoverable when the document
 * says so. The message is the document's `Message:` part; the trace follows it for uncaught
 * exceptions (a task's own error, a Python exception), and is always in the error's `stack`.
 */
export function fromErrorDocument(bytes: Uint8Array, entity: string, image: string): FlyteExecutionError {
  const doc = fromBinary(ErrorDocumentSchema, bytes);
  const e = doc.error;
  const origin = e?.origin === ExecutionError_ErrorKind.SYSTEM ? "SYSTEM" : "USER";
  const code = e?.code || `${origin}:Unknown`;
  const parts = splitErrorDocumentText(e?.message ?? "");
  // The document usually starts with the entity, which the error names already.
  let message = parts.message.startsWith(`${entity}: `)
    ? parts.message.slice(entity.length + 2)
    : parts.message;
  const trace = parts.trace ? `\n  trace:\n${indent(parts.trace, "    ")}` : "";
  if (!isStableCode(code)) message += trace;
  const err = new FlyteExecutionError(code, message || "(no message)", {
    entity: `${entity} [${image}]`,
    origin,
    recoverable: e?.kind === ContainerError_Kind.RECOVERABLE,
  });
  if (trace) err.stack = `${err.name}: ${err.message}${isStableCode(code) ? trace : ""}`;
  return err;
}

function checkOutputs(template: TaskTemplate, outputs: LiteralMap, entity: string): LiteralMap {
  const declared = Object.keys(template.interface?.outputs?.variables ?? {});
  const missing = declared.filter((k) => outputs.literals[k] === undefined);
  if (missing.length > 0) {
    throw new FlyteExecutionError(
      "OUTPUTS_INCOMPLETE",
      `the task wrote no value for output${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
      { entity, origin: "USER" },
    );
  }
  return outputs;
}
