/**
 * Local execution in process. A workflow runs as a graph: each node starts as soon as the nodes
 * it depends on have finished (bounded concurrency), data moves between nodes as Flyte literals
 * (so type checks and conversions are the cluster's), files go through a local raw-data folder.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamicTaskDef } from "../core/dynamic.js";
import type { Entity } from "../core/entity.js";
import { LaunchPlanDef } from "../core/launch-plan.js";
import { MapTaskDef } from "../core/map-task.js";
import type { BranchSpec, Node } from "../core/node.js";
import { type BindingValue, START_NODE } from "../core/promise.js";
import { BaseTask } from "../core/task.js";
import { type Checkpoint, readSecret, type TaskContext } from "../core/task-context.js";
import { WorkflowDef } from "../core/workflow.js";
import { describeValue, FlyteError, FlyteExecutionError } from "../errors.js";
import { ListType, MapType } from "../types/collections.js";
import type { FlyteType, TypeContext } from "../types/flyte-type.js";
import { fromLiteralMap, type Schema, toLiteralMap } from "../types/literal-map.js";
import {
  collectionLiteral,
  type Literal,
  type LiteralMap,
  literalMap,
  mapLiteral,
} from "../types/literals.js";
import { inputsHash, LocalCache } from "./cache.js";
import { evaluate } from "./conditions.js";

/** A progress event of a local run. */
export interface NodeEvent {
  type: "start" | "end" | "fail" | "cached" | "retry";
  /** Node path, e.g. `n0` or `n2/n0` inside a sub-workflow. */
  node: string;
  entity: string;
  /** Milliseconds, for end events. */
  ms?: number;
  error?: unknown;
  /** The image the node ran in (container mode). */
  image?: string;
}

/** Runs one task attempt. The default runs it in this process; container mode runs an image. */
export interface TaskRunner {
  runTask(
    task: BaseTask,
    inputs: LiteralMap,
    ctx: TaskContext & TypeContext,
    nodePath: string,
  ): Promise<LiteralMap>;
}

/** Options of a local run. */
export interface LocalRunOptions {
  /** Where files, directories and dataframes go. Default: a fresh folder under the OS temp dir. */
  rawDataPrefix?: string;
  /** Scratch folder. Default: beside the raw data. */
  workDir?: string;
  /** At most this many tasks run at once (default 16). */
  concurrency?: number;
  /** Use the local cache for tasks with `cache` set (default true). */
  cache?: boolean;
  /** Folder of the local cache. */
  cacheDir?: string;
  /** Progress callback. */
  onEvent?: (e: NodeEvent) => void;
  /** How tasks run (default: in process). */
  taskRunner?: TaskRunner;
  /** Execution name (default: random). */
  executionName?: string;
}

/** Runs tasks by calling their TypeScript code in this process. */
export const inProcessRunner: TaskRunner = {
  runTask(task, inputs, ctx) {
    return task.executeLiterals(inputs, ctx);
  },
};

/** Runs at most `n` async jobs at once; the others wait in order. */
export class Semaphore {
  #free: number;
  #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = Math.max(1, n);
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((r) => this.#waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

const memoryCheckpoint = (): Checkpoint => {
  let saved: Uint8Array | undefined;
  return {
    read: async () => saved,
    write: async (d) => {
      saved = d;
    },
  };
};

/** One local execution: shared settings, cache and concurrency limit. */
export class LocalExecution {
  readonly name: string;
  readonly ctx: TypeContext;
  readonly #sem: Semaphore;
  readonly #cache: LocalCache | undefined;
  readonly #runner: TaskRunner;
  readonly #onEvent: (e: NodeEvent) => void;

  constructor(readonly options: LocalRunOptions = {}) {
    this.name = options.executionName ?? `local-${randomBytes(5).toString("hex")}`;
    const base = join(tmpdir(), "flytekit-ts", this.name);
    this.ctx = {
      rawDataPrefix: options.rawDataPrefix ?? join(base, "raw"),
      workDir: options.workDir ?? join(base, "work"),
    };
    this.#sem = new Semaphore(options.concurrency ?? 16);
    this.#cache = options.cache === false ? undefined : new LocalCache(options.cacheDir);
    this.#runner = options.taskRunner ?? inProcessRunner;
    this.#onEvent = options.onEvent ?? (() => {});
  }

  /** Runs any entity on a LiteralMap of inputs. */
  async execute(entity: Entity, inputs: LiteralMap, path: string): Promise<LiteralMap> {
    if (entity instanceof WorkflowDef) return this.#runWorkflow(entity, inputs, path);
    if (entity instanceof LaunchPlanDef)
      return this.#runWorkflow(entity.workflow, await withLaunchPlanInputs(entity, inputs, this.ctx), path);
    if (entity instanceof DynamicTaskDef) return this.#runDynamic(entity, inputs, path);
    if (entity instanceof MapTaskDef) return this.#runMap(entity, inputs, path);
    if (entity instanceof BaseTask) return this.#runTask(entity, inputs, path);
    throw new FlyteExecutionError("ENTITY_UNSUPPORTED", `cannot run ${describeValue(entity)}`, {
      origin: "SYSTEM",
    });
  }

  #taskContext(task: BaseTask, attempt: number, path: string): TaskContext & TypeContext {
    const dir = join(this.ctx.workDir, path.replace(/\//g, "_"), String(attempt));
    let made = false;
    return {
      taskName: task.name,
      execution: { project: "local", domain: "development", name: this.name, nodeId: path },
      attempt,
      rawDataPrefix: this.ctx.rawDataPrefix,
      // Created on first use: most tasks never touch their scratch folder.
      get workDir() {
        if (!made) {
          mkdirSync(dir, { recursive: true });
          made = true;
        }
        return dir;
      },
      checkpoint: memoryCheckpoint(),
      secret: (group, key) =>
        readSecret(group, key, (p) => {
          try {
            return readFileSync(p, "utf8");
          } catch {
            return undefined;
          }
        }),
    };
  }

  async #runTask(task: BaseTask, inputs: LiteralMap, path: string): Promise<LiteralMap> {
    const cache = task.settings.cache && this.#cache;
    const key = cache ? inputsHash(inputs, task.settings.cache?.ignoreInputs) : "";
    if (cache) {
      const hit = await cache.get(task.name, task.settings.cache!.version, key);
      if (hit) {
        this.#onEvent({ type: "cached", node: path, entity: task.name });
        return hit;
      }
    }
    const attempts = task.settings.retries + 1;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      this.#onEvent({ type: "start", node: path, entity: task.name });
      try {
        const ctx = this.#taskContext(task, attempt, path);
        const out = await this.#sem.run(() =>
          withTimeout(this.#runner.runTask(task, inputs, ctx, path), task.settings.timeoutMs, task.name),
        );
        this.#onEvent({ type: "end", node: path, entity: task.name, ms: performance.now() - started });
        if (cache) await cache.put(task.name, task.settings.cache!.version, key, out);
        return out;
      } catch (err) {
        const retryable =
          attempt + 1 < attempts && !(err instanceof FlyteError && err.code.startsWith("TYPE_"));
        this.#onEvent({ type: retryable ? "retry" : "fail", node: path, entity: task.name, error: err });
        if (!retryable) throw err;
      }
    }
  }

  async #runDynamic(task: DynamicTaskDef, inputs: LiteralMap, path: string): Promise<LiteralMap> {
    this.#onEvent({ type: "start", node: path, entity: task.name });
    const started = performance.now();
    const ctx = this.#taskContext(task, 0, path);
    const values = await fromLiteralMap(task.inputs, inputs, ctx, task.name);
    const graph = task.compile(values, ctx);
    const out = await this.#runGraph(
      task.name,
      graph.nodes,
      graph.outputs,
      task.outputs,
      literalMap({}),
      path,
      "immediate",
    );
    this.#onEvent({ type: "end", node: path, entity: task.name, ms: performance.now() - started });
    return out;
  }

  async #runMap(map: MapTaskDef, inputs: LiteralMap, path: string): Promise<LiteralMap> {
    const names = Object.keys(map.inputs);
    const lists = names.map((n) => {
      const l = inputs.literals[n];
      if (!l || l.value.case !== "collection") {
        throw new FlyteExecutionError("MAP_INPUT_NOT_LIST", `map input "${n}" is not a list`, {
          entity: map.name,
        });
      }
      return l.value.value.literals;
    });
    const size = lists[0]?.length ?? 0;
    lists.forEach((l, i) => {
      if (l.length !== size) {
        throw new FlyteExecutionError(
          "MAP_INPUT_LENGTHS",
          `map inputs have different lengths (${names[0]}: ${size}, ${names[i]}: ${l.length})`,
          {
            entity: map.name,
            fix: "pass lists of equal length",
          },
        );
      }
    });
    const limit = new Semaphore(
      map.concurrency && map.concurrency > 0 ? map.concurrency : Number.MAX_SAFE_INTEGER,
    );
    const results = await Promise.allSettled(
      Array.from({ length: size }, (_, i) =>
        limit.run(() => {
          const item: Record<string, Literal> = {};
          names.forEach((n, k) => {
            item[n] = lists[k]![i]!;
          });
          return this.#runTask(map.task, literalMap(item), `${path}[${i}]`);
        }),
      ),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const needed = map.minSuccesses ?? Math.ceil((map.minSuccessRatio ?? 1) * size);
    if (ok < needed) {
      const firstErr = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      throw new FlyteExecutionError(
        "MAP_TOO_FEW_SUCCESSES",
        `${ok} of ${size} items succeeded, ${needed} needed; first error: ${(firstErr.reason as Error)?.message}`,
        {
          entity: map.name,
          cause: firstErr.reason,
        },
      );
    }
    const out: Record<string, Literal> = {};
    for (const name of Object.keys(map.outputs)) {
      out[name] = collectionLiteral(
        results.map((r) => (r.status === "fulfilled" ? r.value.literals[name]! : noneLiteralFor())),
      );
    }
    return literalMap(out);
  }

  async #runWorkflow(wf: WorkflowDef, inputs: LiteralMap, path: string): Promise<LiteralMap> {
    try {
      return await this.#runGraph(
        wf.name,
        wf.graph.nodes,
        wf.graph.outputs,
        wf.outputs,
        inputs,
        path,
        wf.failurePolicy,
      );
    } catch (err) {
      if (wf.onFailure) {
        const declared: Record<string, Literal> = {};
        for (const k of Object.keys(wf.onFailure.inputs))
          if (inputs.literals[k]) declared[k] = inputs.literals[k]!;
        try {
          await this.#runTask(wf.onFailure, literalMap(declared), `${path ? `${path}/` : ""}on-failure`);
        } catch {
          // the workflow's own error is the one reported
        }
      }
      throw err;
    }
  }

  async #runGraph(
    entity: string,
    nodes: readonly Node[],
    outputBindings: Readonly<Record<string, BindingValue>>,
    outputSchema: Schema,
    inputs: LiteralMap,
    path: string,
    policy: "immediate" | "afterExecutableNodes",
  ): Promise<LiteralMap> {
    const results = new Map<string, LiteralMap>([[START_NODE, inputs]]);
    const pending = new Map<Node, number>();
    const downstream = new Map<Node, Node[]>();
    for (const n of nodes) {
      pending.set(n, n.upstream.size);
      for (const u of n.upstream) {
        const list = downstream.get(u) ?? [];
        list.push(n);
        downstream.set(u, list);
      }
    }
    let firstError: unknown;
    await new Promise<void>((resolveAll) => {
      let running = 0;
      let remaining = nodes.length;
      if (remaining === 0) return resolveAll();
      const start = (n: Node) => {
        running++;
        const nodePath = path ? `${path}/${n.id}` : n.id;
        this.#runNode(entity, n, results, nodePath).then(
          (out) => {
            results.set(n.id, out);
            running--;
            remaining--;
            if (firstError === undefined || policy === "afterExecutableNodes") {
              for (const d of downstream.get(n) ?? []) {
                const left = pending.get(d)! - 1;
                pending.set(d, left);
                if (left === 0) start(d);
              }
            }
            if (remaining === 0 || running === 0) resolveAll();
          },
          (err) => {
            firstError ??= err;
            running--;
            remaining--;
            if (running === 0) resolveAll();
          },
        );
      };
      for (const n of nodes) if (n.upstream.size === 0) start(n);
    });
    if (firstError !== undefined) throw firstError;
    const out: Record<string, Literal> = {};
    for (const [k, b] of Object.entries(outputBindings)) {
      out[k] = await this.#resolve(b, outputSchema[k]!, results, entity);
    }
    return literalMap(out);
  }

  async #runNode(
    entity: string,
    n: Node,
    results: Map<string, LiteralMap>,
    nodePath: string,
  ): Promise<LiteralMap> {
    const target = n.target;
    if (target.kind === "branch") return this.#runBranch(entity, n, target, results, nodePath);
    const lits: Record<string, Literal> = {};
    for (const [k, b] of Object.entries(n.bindings))
      lits[k] = await this.#resolve(b, target.inputs[k]!, results, entity);
    return this.execute(target as Entity, literalMap(lits), nodePath);
  }

  async #runBranch(
    entity: string,
    n: Node,
    spec: BranchSpec,
    results: Map<string, LiteralMap>,
    nodePath: string,
  ): Promise<LiteralMap> {
    const lits: Record<string, Literal> = {};
    for (const [k, b] of Object.entries(n.bindings)) {
      if (b.kind === "promise") lits[k] = await this.#resolve(b, b.promise.type, results, entity);
    }
    const condInputs = literalMap(lits);
    const chosen = spec.cases.find((c) => evaluate(c.condition, condInputs))?.node ?? spec.elseNode;
    if (!chosen) {
      throw new FlyteExecutionError(
        "BRANCH_FAILED",
        spec.elseFail ?? `no case of conditional "${spec.name}" matched`,
        { entity: `${entity} -> conditional "${spec.name}"` },
      );
    }
    return this.#runNode(entity, chosen, results, `${nodePath}/${chosen.id}`);
  }

  async #resolve(
    b: BindingValue,
    type: FlyteType<unknown>,
    results: Map<string, LiteralMap>,
    entity: string,
  ): Promise<Literal> {
    switch (b.kind) {
      case "promise": {
        const lit = results.get(b.promise.nodeId)?.literals[b.promise.variable];
        if (!lit) {
          throw new FlyteExecutionError(
            "BINDING_UNRESOLVED",
            `${b.promise.nodeId}.${b.promise.variable} has no value`,
            { entity, origin: "SYSTEM" },
          );
        }
        return lit;
      }
      case "value":
        return (await toLiteralMap({ v: type }, { v: b.value }, this.ctx, entity)).literals.v!;
      case "list": {
        const el = type instanceof ListType ? (type.element as FlyteType<unknown>) : type;
        return collectionLiteral(
          await Promise.all(b.items.map((i) => this.#resolve(i, el, results, entity))),
        );
      }
      case "map": {
        const vt = type instanceof MapType ? (type.value as FlyteType<unknown>) : type;
        const out: Record<string, Literal> = {};
        for (const [k, v] of Object.entries(b.entries)) out[k] = await this.#resolve(v, vt, results, entity);
        return mapLiteral(out);
      }
    }
  }
}

function noneLiteralFor(): Literal {
  return {
    $typeName: "flyteidl.core.Literal",
    value: {
      case: "scalar",
      value: {
        $typeName: "flyteidl.core.Scalar",
        value: { case: "noneType", value: { $typeName: "flyteidl.core.Void" } },
      },
    },
    hash: "",
    metadata: {},
  } as Literal;
}

async function withTimeout<T>(p: Promise<T>, ms: number | undefined, entity: string): Promise<T> {
  if (!ms) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new FlyteExecutionError("TASK_TIMEOUT", `timed out after ${ms} ms`, { entity, recoverable: true }),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Adds a launch plan's default and fixed inputs to the inputs a caller gave. */
async function withLaunchPlanInputs(
  lp: LaunchPlanDef,
  inputs: LiteralMap,
  ctx: TypeContext,
): Promise<LiteralMap> {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(lp.defaultInputs)) if (!inputs.literals[k]) extra[k] = v;
  for (const [k, v] of Object.entries(lp.fixedInputs)) if (!inputs.literals[k]) extra[k] = v;
  const schema: Schema = {};
  for (const k of Object.keys(extra)) schema[k] = lp.inputs[k]!;
  const converted = await toLiteralMap(schema, extra, ctx, lp.name);
  return literalMap({ ...inputs.literals, ...converted.literals });
}

/** Fixed inputs of a launch plan cannot be given by the caller. */
export function checkNotFixed(lp: LaunchPlanDef, values: Record<string, unknown>): void {
  for (const k of Object.keys(lp.fixedInputs)) {
    if (values[k] !== undefined) {
      throw new FlyteExecutionError(
        "LAUNCHPLAN_FIXED_INPUT",
        `input "${k}" is fixed by the launch plan and cannot be given`,
        {
          entity: lp.name,
          fix: "leave it out, or use a launch plan that does not fix it",
        },
      );
    }
  }
}

/** Converts values to literals for an entity's inputs, applying defaults (workflows, launch plans). */
export async function inputsToLiterals(
  entity: Entity,
  values: Record<string, unknown>,
  ctx: TypeContext,
): Promise<LiteralMap> {
  let merged = values;
  if (entity instanceof WorkflowDef) merged = { ...entity.defaults, ...values };
  if (entity instanceof LaunchPlanDef) {
    checkNotFixed(entity, values);
    merged = { ...entity.defaultInputs, ...values, ...entity.fixedInputs };
  }
  return toLiteralMap(entity.inputs, merged, ctx, entity.name, "input");
}

/** Converts output literals to the shape the entity's function returns. */
export async function outputsFromLiterals(
  entity: Entity,
  outputs: LiteralMap,
  ctx: TypeContext,
): Promise<unknown> {
  const values = await fromLiteralMap(entity.outputs, outputs, ctx, entity.name, "output");
  if (entity.singleOutput) return (values as Record<string, unknown>).o0;
  if (Object.keys(entity.outputs).length === 0) return undefined;
  return values;
}

/** Runs a task, workflow or launch plan locally with TypeScript values; returns typed outputs. */
export async function runLocally(
  entity: Entity,
  values: Record<string, unknown>,
  options: LocalRunOptions = {},
): Promise<unknown> {
  const exec = new LocalExecution(options);
  try {
    const inputs = await inputsToLiterals(entity, values, exec.ctx);
    const outputs = await exec.execute(entity, inputs, "");
    return await outputsFromLiterals(entity, outputs, exec.ctx);
  } finally {
    // Scratch folders go; raw data (files and dataframes the outputs point at) stays.
    if (options.workDir === undefined) await rm(exec.ctx.workDir, { recursive: true, force: true });
  }
}
