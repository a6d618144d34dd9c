/**
 * The entrypoint's work, as a function: read the inputs, find the task, run it, write
 * `outputs.pb` (or `futures.pb` for a dynamic task) or `error.pb`. Used by `tsflyte-execute`
 * inside containers and by the container-mode local executor's tests.
 */
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { DynamicTaskDef } from "../core/dynamic.js";
import { asUserError, type BaseTask, FunctionTask } from "../core/task.js";
import type { Checkpoint, TaskContext } from "../core/task-context.js";
import { readSecret } from "../core/task-context.js";
import { FlyteError, FlyteExecutionError, FlyteTypeError } from "../errors.js";
import { ErrorDocumentSchema } from "../proto/gen/flyteidl/core/errors_pb.js";
import { LiteralMapSchema } from "../proto/gen/flyteidl/core/literals_pb.js";
import "../storage/local.js";
import "../storage/s3.js";
import "./template-resolver.js";
import { joinUri, storage } from "../storage/storage.js";
import type { TypeContext } from "../types/flyte-type.js";
import {
  fromLiteralMap,
  fromLiteralMapBytes,
  type Schema,
  toLiteralMapBytes,
  type Values,
} from "../types/literal-map.js";
import { type LiteralMap, literalMap } from "../types/literals.js";
import { executionFromEnv, isUnset, readFileOrUndefined } from "./context.js";
import { errorDocument } from "./error-document.js";
import { argPairs, getResolver } from "./resolvers.js";

/** Arguments of `tsflyte-execute`. */
export interface ExecuteArgs {
  inputs: string;
  outputPrefix: string;
  rawOutputDataPrefix: string;
  checkpointPath?: string | undefined;
  prevCheckpoint?: string | undefined;
  resolver: string;
  resolverArgs: string[];
}

/** What the run produced. */
export interface ExecuteResult {
  ok: boolean;
  /** The file written: outputs.pb, futures.pb or error.pb. */
  written: string;
  error?: unknown;
}

/** Turns a DynamicTask's graph into a DynamicJobSpec; provided by the serializer. */
export type DynamicSpecWriter = (
  task: DynamicTaskDef,
  graph: ReturnType<DynamicTaskDef["compile"]>,
  inputs: LiteralMap,
  ctx: TypeContext,
) => Promise<Uint8Array>;

let dynamicWriter: DynamicSpecWriter | undefined;

/** Registers how dynamic tasks write `futures.pb` (done by the serializer module). */
export function setDynamicSpecWriter(w: DynamicSpecWriter): void {
  dynamicWriter = w;
}

const CHECKPOINT_FILE = "checkpoint.bin";

function checkpointFor(prev: string | undefined, next: string | undefined): Checkpoint {
  return {
    async read() {
      if (isUnset(prev)) return undefined;
      try {
        return await storage.get(joinUri(prev!, CHECKPOINT_FILE));
      } catch {
        return undefined;
      }
    },
    async write(data) {
      if (isUnset(next)) return;
      await storage.put(joinUri(next!, CHECKPOINT_FILE), data);
    },
  };
}

/** The bytes of `inputs.pb` (none when the task has no inputs file). */
async function readInputBytes(uri: string): Promise<Uint8Array> {
  if (isUnset(uri)) return new Uint8Array(0);
  try {
    return await storage.get(uri);
  } catch (err) {
    throw new FlyteExecutionError("INPUTS_UNREADABLE", `cannot read inputs: ${(err as Error).message}`, {
      entity: uri,
      origin: "SYSTEM",
      recoverable: true,
      cause: err,
    });
  }
}

function inputsCorrupt(uri: string, bytes: Uint8Array, err: unknown): FlyteExecutionError {
  return new FlyteExecutionError(
    "INPUTS_CORRUPT",
    `inputs are not a valid LiteralMap (${bytes.length} bytes): ${(err as Error).message}`,
    {
      entity: uri,
      origin: "SYSTEM",
      cause: err,
    },
  );
}

function decodeInputs(uri: string, bytes: Uint8Array): LiteralMap {
  if (bytes.length === 0) return literalMap({});
  try {
    return fromBinary(LiteralMapSchema, bytes);
  } catch (err) {
    throw inputsCorrupt(uri, bytes, err);
  }
}

const FUNCTION_TASK_BRAND = Symbol.for("flytekit-ts.class.FunctionTask");

/**
 * Function tasks run from bytes to bytes, unless a subclass (or the object) has its own
 * `executeLiterals`: the method must be FunctionTask's (of whichever copy of the SDK made the task).
 */
function runsOnBytes(task: BaseTask): task is FunctionTask {
  if (!(task instanceof FunctionTask)) return false;
  let proto: object | null = task;
  while (proto !== null && !Object.hasOwn(proto, "executeLiterals")) proto = Object.getPrototypeOf(proto);
  return proto !== null && Object.hasOwn(proto, FUNCTION_TASK_BRAND);
}

/**
 * What `FunctionTask.executeLiterals` does, from `inputs.pb` bytes straight to values and from
 * the outputs straight to `outputs.pb` bytes (`fromLiteralMapBytes`/`toLiteralMapBytes`),
 * without building Literal messages: the same values, bytes and errors, faster for large lists.
 */
async function executeOnBytes(
  task: FunctionTask,
  uri: string,
  bytes: Uint8Array,
  ctx: TaskContext & TypeContext,
): Promise<Uint8Array> {
  let values: Record<string, unknown>;
  try {
    values = await fromLiteralMapBytes(task.inputs, bytes, ctx, task.name, "input");
  } catch (err) {
    if (err instanceof FlyteTypeError && err.code === "LITERAL_MAP_CORRUPT")
      throw inputsCorrupt(uri, bytes, err.cause);
    throw err;
  }
  let outputs: Record<string, unknown>;
  try {
    outputs = await task.execute(values as Values<Schema>, ctx);
  } catch (err) {
    throw asUserError(err, task.name);
  }
  return toLiteralMapBytes(task.outputs, outputs, ctx, task.name, "output");
}

/** Picks item `index` of each mapped input (map tasks / ArrayNode). */
export function selectMapItem(inputs: LiteralMap, index: number, bound: ReadonlySet<string>): LiteralMap {
  const out: LiteralMap["literals"] = {};
  for (const [k, lit] of Object.entries(inputs.literals)) {
    if (bound.has(k)) {
      out[k] = lit;
      continue;
    }
    if (lit.value.case !== "collection") {
      throw new FlyteExecutionError("MAP_INPUT_NOT_LIST", `mapped input "${k}" is not a list`, {
        origin: "SYSTEM",
      });
    }
    const item = lit.value.value.literals[index];
    if (!item)
      throw new FlyteExecutionError(
        "MAP_INDEX_RANGE",
        `index ${index} is out of range for "${k}" (${lit.value.value.literals.length} items)`,
        { origin: "SYSTEM" },
      );
    out[k] = item;
  }
  return literalMap(out);
}

/** The array index of this sub-task, from the variables propeller sets for ArrayNode. */
export function mapIndex(env: NodeJS.ProcessEnv = process.env): number {
  const varName = env.BATCH_JOB_ARRAY_INDEX_VAR_NAME ?? "FLYTE_K8S_ARRAY_INDEX";
  const offset = Number(env.BATCH_JOB_ARRAY_INDEX_OFFSET ?? "0") || 0;
  const raw = env[varName];
  if (raw === undefined || !/^\d+$/.test(raw)) {
    throw new FlyteExecutionError("MAP_INDEX_MISSING", `array index variable ${varName} is not set`, {
      origin: "SYSTEM",
    });
  }
  return offset + Number(raw);
}

/** Runs one task as the container entrypoint does. Never throws: failures become error.pb. */
export async function executeTask(args: ExecuteArgs): Promise<ExecuteResult> {
  const errorUri = joinUri(args.outputPrefix, "error.pb");
  try {
    let resolverName = args.resolver;
    let resolverArgs = args.resolverArgs;
    let mapItem: number | undefined;
    let bound = new Set<string>();
    if (resolverName === "map") {
      // map -- vars <bound inputs, comma-separated> resolver <inner resolver> <inner args...>
      const pairs = argPairs(resolverArgs.slice(0, 4));
      bound = new Set((pairs.get("vars") ?? "").split(",").filter(Boolean));
      resolverName = pairs.get("resolver") ?? "default";
      resolverArgs = resolverArgs.slice(4);
      mapItem = mapIndex();
    }
    const [task, inputBytes] = await Promise.all([
      loadTask(resolverName, resolverArgs),
      readInputBytes(args.inputs),
    ]);
    const outputsUri = joinUri(args.outputPrefix, "outputs.pb");
    if (mapItem === undefined && runsOnBytes(task)) {
      const ctx = await taskContext(task, args);
      await storage.put(outputsUri, await executeOnBytes(task, args.inputs, inputBytes, ctx));
      return { ok: true, written: outputsUri };
    }
    const allInputs = decodeInputs(args.inputs, inputBytes);
    const inputs = mapItem === undefined ? allInputs : selectMapItem(allInputs, mapItem, bound);
    const ctx = await taskContext(task, args);
    if (task instanceof DynamicTaskDef) {
      if (!dynamicWriter) await import("./dynamic.js");
      if (!dynamicWriter)
        throw new FlyteExecutionError("DYNAMIC_UNSUPPORTED", "this build cannot write dynamic job specs", {
          origin: "SYSTEM",
        });
      const values = await fromLiteralMap(task.inputs, inputs, ctx, task.name);
      const graph = task.compile(values, ctx);
      const uri = joinUri(args.outputPrefix, "futures.pb");
      await storage.put(uri, await dynamicWriter(task, graph, inputs, ctx));
      return { ok: true, written: uri };
    }
    const outputs = await task.executeLiterals(inputs, ctx);
    await storage.put(outputsUri, toBinary(LiteralMapSchema, outputs));
    return { ok: true, written: outputsUri };
  } catch (err) {
    await writeErrorDocument(errorUri, err);
    return { ok: false, written: errorUri, error: err };
  }
}

/** Writes error.pb for an error (best effort: a failing write is reported on stderr). */
export async function writeErrorDocument(
  uri: string,
  err: unknown,
  origin: "USER" | "SYSTEM" = "USER",
): Promise<void> {
  try {
    await storage.put(uri, toBinary(ErrorDocumentSchema, errorDocument(err, origin)));
  } catch (writeErr) {
    process.stderr.write(`tsflyte-execute: could not write ${uri}: ${(writeErr as Error).message}\n`);
  }
}

async function loadTask(resolver: string, args: string[]): Promise<BaseTask> {
  try {
    return await getResolver(resolver)(args);
  } catch (err) {
    if (err instanceof FlyteError) throw err;
    // The user's module threw while being imported.
    throw new FlyteExecutionError(
      "TASK_MODULE_IMPORT",
      `importing the task's module failed: ${(err as Error).message}`,
      { origin: "USER", cause: err },
    );
  }
}

async function taskContext(task: BaseTask, args: ExecuteArgs): Promise<TaskContext & TypeContext> {
  const info = executionFromEnv();
  const workDir = await mkdtemp(join(tmpdir(), "tsflyte-task-"));
  await mkdir(workDir, { recursive: true });
  return {
    taskName: task.name,
    execution: info,
    attempt: info.attempt,
    rawDataPrefix: isUnset(args.rawOutputDataPrefix) ? join(workDir, "raw") : args.rawOutputDataPrefix,
    workDir,
    checkpoint: checkpointFor(args.prevCheckpoint, args.checkpointPath),
    secret: (group, key) => readSecret(group, key, readFileOrUndefined),
  };
}
