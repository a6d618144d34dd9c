/**
 * Container-mode local runs: the entity is serialized as for the cluster (task templates,
 * workflow templates, launch plans) and that serialized form is what runs. Each task node runs
 * its template in its own image ({@link runAttempt}); workflows, sub-workflows, launch plans,
 * branches, ArrayNodes (one container per item, `FLYTE_K8S_ARRAY_INDEX` set) and the graphs
 * dynamic tasks return in `futures.pb` are walked here the way propeller walks them: a node
 * starts as soon as the nodes it depends on have finished, data moves as literals.
 *
 * Differences from in-process runs, on purpose (they are the cluster's rules): only recoverable
 * errors are retried, and the user's function never runs in this process.
 */

import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Entity } from "../../core/entity.js";
import { LaunchPlanDef } from "../../core/launch-plan.js";
import { MapTaskDef } from "../../core/map-task.js";
import { BaseTask } from "../../core/task.js";
import { WorkflowDef } from "../../core/workflow.js";
import { describeValue, FlyteError, FlyteExecutionError } from "../../errors.js";
import { readFlyteConfig } from "../../images/config-file.js";
import { ImageConfig } from "../../images/image-config.js";
import {
  type CopilotTask,
  copilotInputs,
  copilotOutputs,
  type MetadataFormat,
} from "../../plugins/copilot.js";
import { templateLocalFiles } from "../../plugins/local-files.js";
import type { LaunchPlan } from "../../proto/gen/flyteidl/admin/launch_plan_pb.js";
import type { DynamicJobSpec } from "../../proto/gen/flyteidl/core/dynamic_job_pb.js";
import type { Binding, BindingData } from "../../proto/gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../proto/gen/flyteidl/core/tasks_pb.js";
import {
  type ArrayNode,
  type Node,
  type TaskNodeOverrides,
  WorkflowMetadata_OnFailurePolicy,
  type WorkflowTemplate,
} from "../../proto/gen/flyteidl/core/workflow_pb.js";
import { selectMapItem } from "../../runtime/execute.js";
import {
  collectRegistrables,
  launchPlanMessage,
  mapTaskTemplate,
  mapTaskTemplateName,
  taskTemplate,
  workflowSpec,
} from "../../serialize/entities.js";
import { SerializationSettings } from "../../serialize/settings.js";
import { typeForLiteralType } from "../../types/flyte-type.js";
import type { Schema } from "../../types/literal-map.js";
import type { LiteralType } from "../../types/literals.js";
import {
  collectionLiteral,
  type Literal,
  type LiteralMap,
  literalMap,
  mapLiteral,
  noneLiteral,
  scalarLiteral,
  unionLiteral,
} from "../../types/literals.js";
import { inputsHash, LocalCache } from "../cache.js";
import { inputsToLiterals, type NodeEvent, outputsFromLiterals, Semaphore } from "../executor.js";
import { evaluateCondition } from "./conditions.js";
import { type ContainerEngine, detectEngine } from "./engine.js";
import { ForeignTask } from "./python-task.js";
import { type CopilotIO, type Mount, runAttempt, templateImage } from "./task-container.js";

/** Options of container-mode runs. */
export interface ContainerRunOptions {
  /** `podman`, `docker`, a path to one, or an engine already detected; default: detected. */
  engine?: string | ContainerEngine | undefined;
  /** `--image` values (`name=ref`, a bare ref for the default image). */
  images?: readonly string[] | undefined;
  /** A Flyte config file whose `images:` map is used. */
  config?: string | undefined;
  /** Environment variables for every task container (serialized into the templates). */
  env?: Readonly<Record<string, string>> | undefined;
  /** Settings to serialize with (instead of images, config and env). */
  settings?: SerializationSettings | undefined;
  /** The folder module names are relative to, mounted read-only at each image's working directory; default the working directory. */
  sourceRoot?: string | undefined;
  /** Mount the source root into the containers (default true); false runs the code baked into the images. */
  mountCode?: boolean | undefined;
  /** Folder of this execution's data (mounted at the same path); default under the OS temp dir. */
  workDir?: string | undefined;
  /** Where large data goes; default `<workDir>/raw`. */
  rawDataPrefix?: string | undefined;
  /** At most this many containers at once (default 4). */
  concurrency?: number | undefined;
  /** Use the local cache for tasks with `cache` set (default true). */
  cache?: boolean | undefined;
  /** Folder of the local cache. */
  cacheDir?: string | undefined;
  /** Progress callback (events carry the image each node ran in). */
  onEvent?: ((e: NodeEvent) => void) | undefined;
  /** The containers' output, as it arrives. */
  onLog?: ((node: string, chunk: string) => void) | undefined;
  /** Execution name (default: random). */
  executionName?: string | undefined;
}

/** The templates an execution may run, by name; a dynamic graph adds its own. */
class Catalog {
  readonly tasks = new Map<string, TaskTemplate>();
  readonly workflows = new Map<string, WorkflowTemplate>();
  readonly launchPlans = new Map<string, LaunchPlan>();
  readonly entities = new Map<string, BaseTask>();
  constructor(readonly parent?: Catalog) {}
  task(name: string, entity: string): TaskTemplate {
    const t = this.tasks.get(name) ?? this.parent?.task(name, entity);
    if (!t) throw unknownReference("task", name, entity);
    return t;
  }
  workflow(name: string, entity: string): WorkflowTemplate {
    const w = this.workflows.get(name) ?? this.parent?.workflow(name, entity);
    if (!w) throw unknownReference("workflow", name, entity);
    return w;
  }
  launchPlan(name: string, entity: string): LaunchPlan {
    const lp = this.launchPlans.get(name) ?? this.parent?.launchPlan(name, entity);
    if (!lp) throw unknownReference("launch plan", name, entity);
    return lp;
  }
  entity(name: string): BaseTask | undefined {
    return this.entities.get(name) ?? this.parent?.entity(name);
  }
}

function unknownReference(kind: string, name: string, entity: string): FlyteExecutionError {
  return new FlyteExecutionError(
    "REFERENCE_UNKNOWN",
    `the graph refers to ${kind} "${name}", which it does not carry`,
    {
      entity,
      origin: "SYSTEM",
    },
  );
}

interface TaskRunOptions {
  retries?: number | undefined;
  env?: Readonly<Record<string, string>>;
  /** Inputs the cache key is computed from (a map item's slice), default the inputs. */
  cacheInputs?: LiteralMap;
}

/** The settings container-mode runs serialize with: images from flags and the config file. */
export function containerSettings(options: ContainerRunOptions = {}): SerializationSettings {
  if (options.settings) return options.settings;
  const configFile = readFlyteConfig(options.config === undefined ? {} : { configPath: options.config });
  return new SerializationSettings({
    project: "local",
    domain: "development",
    version: "local",
    imageConfig: ImageConfig.fromSources({ configFile, cli: options.images ?? [] }),
    env: options.env,
    sourceRoot: resolve(options.sourceRoot ?? process.cwd()),
  });
}

/** One container-mode execution. */
export class ContainerExecution {
  readonly name: string;
  /** The execution's data folder (mounted into every container at the same path). */
  readonly root: string;
  readonly rawDataPrefix: string;
  readonly settings: SerializationSettings;
  readonly #engine: ContainerEngine;
  readonly #options: ContainerRunOptions;
  readonly #sem: Semaphore;
  readonly #cache: LocalCache | undefined;
  readonly #emit: (e: NodeEvent) => void;
  readonly #codeDir: string | undefined;

  constructor(engine: ContainerEngine, options: ContainerRunOptions = {}) {
    this.#engine = engine;
    this.#options = options;
    this.name = options.executionName ?? `local-${randomBytes(5).toString("hex")}`;
    this.root = resolve(options.workDir ?? join(tmpdir(), "flytekit-ts", this.name));
    this.rawDataPrefix = resolve(options.rawDataPrefix ?? join(this.root, "raw"));
    this.settings = containerSettings(options);
    this.#sem = new Semaphore(options.concurrency ?? 4);
    this.#cache = options.cache === false ? undefined : new LocalCache(options.cacheDir);
    this.#emit = options.onEvent ?? (() => {});
    this.#codeDir =
      options.mountCode === false
        ? undefined
        : resolve(options.sourceRoot ?? this.settings.sourceRoot ?? ".");
  }

  /** A new execution with the engine detected (or chosen) from the options. */
  static async create(options: ContainerRunOptions = {}): Promise<ContainerExecution> {
    const engine =
      typeof options.engine === "object" ? options.engine : await detectEngine(options.engine ?? undefined);
    return new ContainerExecution(engine, options);
  }

  /** The engine the containers run in. */
  get engine(): ContainerEngine {
    return this.#engine;
  }

  /** The type context for converting values (files go under the raw data prefix). */
  get ctx(): { rawDataPrefix: string; workDir: string } {
    return { rawDataPrefix: this.rawDataPrefix, workDir: join(this.root, "work") };
  }

  /** Runs a task, map task, workflow or launch plan on literal inputs. */
  async execute(entity: Entity, inputs: LiteralMap): Promise<LiteralMap> {
    const catalog = await this.#catalog(entity);
    await mkdir(this.rawDataPrefix, { recursive: true });
    if (entity instanceof WorkflowDef)
      return this.#runWorkflow(catalog.workflow(entity.name, entity.name), inputs, "", catalog);
    if (entity instanceof LaunchPlanDef)
      return this.#runLaunchPlan(catalog.launchPlan(entity.name, entity.name), inputs, "", catalog);
    if (entity instanceof MapTaskDef) {
      const template = catalog.task(mapTaskTemplateName(entity), entity.name);
      return this.#runArray(template, inputs, "", catalog, {
        parallelism: entity.concurrency,
        minSuccesses: entity.minSuccesses,
        minSuccessRatio: entity.minSuccessRatio,
        bound: new Set(),
        retries: entity.task.settings.retries,
      });
    }
    if (entity instanceof BaseTask)
      return this.#runTask(catalog.task(entity.name, entity.name), inputs, "", catalog);
    throw new FlyteExecutionError("ENTITY_UNSUPPORTED", `cannot run ${describeValue(entity)} in containers`, {
      origin: "USER",
    });
  }

  async #catalog(entity: Entity): Promise<Catalog> {
    const c = new Catalog();
    for (const r of collectRegistrables([entity], { defaultLaunchPlans: false })) {
      switch (r.kind) {
        case "task":
          c.entities.set(r.name, r.task);
          c.tasks.set(
            r.name,
            r.task instanceof ForeignTask ? r.task.template : taskTemplate(r.task, this.settings),
          );
          break;
        case "mapTask":
          c.tasks.set(r.name, mapTaskTemplate(r.map, this.settings));
          c.entities.set(r.name, r.map.task);
          break;
        case "workflow": {
          const spec = await workflowSpec(r.workflow, this.settings);
          if (spec.template) c.workflows.set(r.name, spec.template);
          for (const s of spec.subWorkflows) if (s.id) c.workflows.set(s.id.name, s);
          break;
        }
        case "launchPlan":
          c.launchPlans.set(r.name, await launchPlanMessage(r.launchPlan, this.settings));
          break;
      }
    }
    return c;
  }

  // ---- workflows and nodes ----

  async #runWorkflow(
    wf: WorkflowTemplate,
    inputs: LiteralMap,
    path: string,
    catalog: Catalog,
  ): Promise<LiteralMap> {
    const name = wf.id?.name ?? "workflow";
    const policy =
      wf.metadata?.onFailure === WorkflowMetadata_OnFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
        ? "afterExecutableNodes"
        : "immediate";
    try {
      return await this.#runGraph(name, wf.nodes, wf.outputs, inputs, path, catalog, policy);
    } catch (err) {
      if (wf.failureNode) {
        const results = new Map<string, LiteralMap>([["", inputs]]);
        await this.#runNode(name, wf.failureNode, results, join2(path, wf.failureNode.id), catalog).catch(
          () => undefined,
        );
      }
      throw err;
    }
  }

  async #runGraph(
    entity: string,
    nodes: readonly Node[],
    outputs: readonly Binding[],
    inputs: LiteralMap,
    path: string,
    catalog: Catalog,
    policy: "immediate" | "afterExecutableNodes" = "immediate",
  ): Promise<LiteralMap> {
    const results = new Map<string, LiteralMap>([
      ["", inputs],
      ["start-node", inputs],
    ]);
    const deps = new Map<Node, Set<string>>();
    const ids = new Set(nodes.map((n) => n.id));
    for (const n of nodes) {
      const d = new Set(n.upstreamNodeIds.filter((id) => ids.has(id)));
      for (const b of n.inputs) for (const id of promiseNodes(b.binding)) if (ids.has(id)) d.add(id);
      deps.set(n, d);
    }
    let firstError: unknown;
    const done = new Set<string>();
    const started = new Set<Node>();
    await new Promise<void>((finish) => {
      let running = 0;
      const startReady = () => {
        for (const n of nodes) {
          if (started.has(n)) continue;
          if ([...deps.get(n)!].every((d) => done.has(d))) {
            if (firstError !== undefined && policy === "immediate") continue;
            started.add(n);
            running++;
            this.#runNode(entity, n, results, join2(path, n.id), catalog).then(
              (out) => {
                results.set(n.id, out);
                done.add(n.id);
                running--;
                startReady();
                if (running === 0) finish();
              },
              (err) => {
                firstError ??= err;
                running--;
                if (running === 0) finish();
              },
            );
          }
        }
      };
      startReady();
      if (running === 0) finish();
    });
    if (firstError !== undefined) throw firstError;
    const out: Record<string, Literal> = {};
    for (const b of outputs) out[b.var] = resolveBinding(b.binding, results, entity);
    return literalMap(out);
  }

  async #runNode(
    entity: string,
    node: Node,
    results: Map<string, LiteralMap>,
    path: string,
    catalog: Catalog,
  ): Promise<LiteralMap> {
    const lits: Record<string, Literal> = {};
    for (const b of node.inputs) lits[b.var] = resolveBinding(b.binding, results, entity);
    const inputs = literalMap(lits);
    const target = node.target;
    switch (target.case) {
      case "taskNode": {
        const ref = target.value.reference.value;
        let template = catalog.task(ref?.name ?? "", entity);
        template = withOverrides(template, target.value.overrides);
        const retries = node.metadata?.retries?.retries;
        return this.#runTask(template, inputs, path, catalog, { retries });
      }
      case "workflowNode": {
        const ref = target.value.reference;
        if (ref.case === "subWorkflowRef")
          return this.#runWorkflow(catalog.workflow(ref.value.name, entity), inputs, path, catalog);
        if (ref.case === "launchplanRef")
          return this.#runLaunchPlan(catalog.launchPlan(ref.value.name, entity), inputs, path, catalog);
        break;
      }
      case "branchNode": {
        const ifElse = target.value.ifElse;
        const cases = [ifElse?.case, ...(ifElse?.other ?? [])];
        const chosen =
          cases.find((c) => c && evaluateCondition(c.condition, lits, `${entity} node ${node.id}`))
            ?.thenNode ?? (ifElse?.default.case === "elseNode" ? ifElse.default.value : undefined);
        if (!chosen) {
          const msg = ifElse?.default.case === "error" ? ifElse.default.value.message : "no case matched";
          throw new FlyteExecutionError("BRANCH_FAILED", msg, {
            entity: `${entity} -> conditional "${node.metadata?.name ?? node.id}"`,
          });
        }
        return this.#runNode(entity, chosen, results, join2(path, chosen.id), catalog);
      }
      case "arrayNode":
        return this.#runArrayNode(target.value, inputs, path, catalog, entity);
      default:
        break;
    }
    throw new FlyteExecutionError(
      "NODE_UNSUPPORTED",
      `node ${node.id} (${target.case ?? "empty"}) cannot run locally in containers`,
      { entity, origin: "USER", fix: "gate nodes and approvals run only on a cluster" },
    );
  }

  async #runLaunchPlan(
    lp: LaunchPlan,
    inputs: LiteralMap,
    path: string,
    catalog: Catalog,
  ): Promise<LiteralMap> {
    const lits: Record<string, Literal> = {};
    for (const [k, p] of Object.entries(lp.spec?.defaultInputs?.parameters ?? {}))
      if (p.behavior.case === "default") lits[k] = p.behavior.value;
    Object.assign(lits, inputs.literals, lp.spec?.fixedInputs?.literals ?? {});
    const wfName = lp.spec?.workflowId?.name ?? "";
    return this.#runWorkflow(
      catalog.workflow(wfName, lp.id?.name ?? wfName),
      literalMap(lits),
      path,
      catalog,
    );
  }

  async #runArrayNode(
    array: ArrayNode,
    inputs: LiteralMap,
    path: string,
    catalog: Catalog,
    entity: string,
  ): Promise<LiteralMap> {
    const sub = array.node;
    const ref = sub?.target.case === "taskNode" ? sub.target.value.reference.value : undefined;
    if (!sub || !ref) {
      throw new FlyteExecutionError("NODE_UNSUPPORTED", "only ArrayNodes over a task run locally", {
        entity,
        origin: "USER",
      });
    }
    const template = withOverrides(
      catalog.task(ref.name, entity),
      sub.target.case === "taskNode" ? sub.target.value.overrides : undefined,
    );
    return this.#runArray(template, inputs, path, catalog, {
      parallelism: array.parallelismOption.case === "parallelism" ? array.parallelismOption.value : undefined,
      minSuccesses: array.successCriteria.case === "minSuccesses" ? array.successCriteria.value : undefined,
      minSuccessRatio:
        array.successCriteria.case === "minSuccessRatio" ? array.successCriteria.value : undefined,
      bound: new Set(array.boundInputs),
      retries: sub.metadata?.retries?.retries,
    });
  }

  async #runArray(
    template: TaskTemplate,
    inputs: LiteralMap,
    path: string,
    catalog: Catalog,
    o: {
      parallelism: number | undefined;
      minSuccesses: number | undefined;
      minSuccessRatio: number | undefined;
      bound: ReadonlySet<string>;
      retries: number | undefined;
    },
  ): Promise<LiteralMap> {
    const entity = template.id?.name ?? "map task";
    let size: number | undefined;
    for (const [k, lit] of Object.entries(inputs.literals)) {
      if (o.bound.has(k)) continue;
      if (lit.value.case !== "collection") {
        throw new FlyteExecutionError("MAP_INPUT_NOT_LIST", `map input "${k}" is not a list`, { entity });
      }
      const n = lit.value.value.literals.length;
      if (size !== undefined && n !== size) {
        throw new FlyteExecutionError(
          "MAP_INPUT_LENGTHS",
          `map inputs have different lengths (${size} and ${n})`,
          {
            entity,
            fix: "pass lists of equal length",
          },
        );
      }
      size = n;
    }
    const count = size ?? 0;
    const limit = new Semaphore(o.parallelism && o.parallelism > 0 ? o.parallelism : Number.MAX_SAFE_INTEGER);
    const results = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        limit.run(() =>
          this.#runTask(template, inputs, `${path}[${i}]`, catalog, {
            retries: o.retries,
            env: {
              BATCH_JOB_ARRAY_INDEX_VAR_NAME: "FLYTE_K8S_ARRAY_INDEX",
              FLYTE_K8S_ARRAY_INDEX: String(i),
            },
            cacheInputs: selectMapItem(inputs, i, o.bound),
          }),
        ),
      ),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const needed = o.minSuccesses ?? Math.ceil((o.minSuccessRatio ?? 1) * count);
    if (ok < needed) {
      const first = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      if (count === 1 || needed === count) throw first.reason;
      throw new FlyteExecutionError(
        "MAP_TOO_FEW_SUCCESSES",
        `${ok} of ${count} items succeeded, ${needed} needed; first error: ${(first.reason as Error)?.message}`,
        { entity, cause: first.reason },
      );
    }
    const out: Record<string, Literal> = {};
    for (const name of Object.keys(template.interface?.outputs?.variables ?? {})) {
      out[name] = collectionLiteral(
        results.map((r) => (r.status === "fulfilled" ? r.value.literals[name]! : noneLiteral())),
      );
    }
    return literalMap(out);
  }

  // ---- tasks ----

  async #runTask(
    template: TaskTemplate,
    inputs: LiteralMap,
    path: string,
    catalog: Catalog,
    o: TaskRunOptions = {},
  ): Promise<LiteralMap> {
    const name = template.id?.name ?? "task";
    const image = templateImage(template);
    const md = template.metadata;
    const cache = md?.discoverable ? this.#cache : undefined;
    const version = md?.discoveryVersion ?? "";
    const key = cache ? inputsHash(o.cacheInputs ?? inputs, md?.cacheIgnoreInputVars ?? []) : "";
    if (cache) {
      const hit = await cache.get(name, version, key);
      if (hit) {
        this.#emit({ type: "cached", node: path, entity: name, image });
        return hit;
      }
    }
    const attempts = (o.retries ?? md?.retries?.retries ?? 0) + 1;
    const timeoutMs = md?.timeout ? Number(md.timeout.seconds) * 1000 + md.timeout.nanos / 1e6 : undefined;
    const nodeKey = path === "" ? "task" : path.replace(/\//g, ".").replace(/\[(\d+)\]/g, "-$1");
    const entity = catalog.entity(name);
    const codeDir = entity instanceof ForeignTask ? entity.sourceDir : this.#codeDir;
    let prevCheckpoint: string | undefined;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      this.#emit({ type: "start", node: path, entity: name, image });
      const dir = join(this.root, "nodes", nodeKey, String(attempt));
      try {
        const copilot = await copilotFor(template, entity);
        const result = await this.#sem.run(async () =>
          runAttempt(this.#engine, {
            template,
            inputs,
            dir,
            rawOutputDataPrefix: join(this.rawDataPrefix, nodeKey, String(attempt)),
            prevCheckpoint,
            attempt,
            nodeId: path || "n0",
            execution: { project: "local", domain: "development", name: this.name },
            codeDir,
            mounts: this.#mounts(inputs, templateLocalFiles(template, entity)),
            env: o.env ?? {},
            copilot,
            timeoutMs,
            onLog: this.#options.onLog ? (chunk) => this.#options.onLog?.(path, chunk) : undefined,
          }),
        );
        let out: LiteralMap;
        if (result.kind === "futures") {
          this.#emit({ type: "end", node: path, entity: name, image, ms: performance.now() - started });
          out = await this.#runDynamic(result.spec, path, catalog, name);
        } else {
          out = result.outputs;
          this.#emit({ type: "end", node: path, entity: name, image, ms: performance.now() - started });
        }
        if (cache) await cache.put(name, version, key, out);
        return out;
      } catch (err) {
        const retryable = attempt + 1 < attempts && err instanceof FlyteError && err.recoverable;
        this.#emit({ type: retryable ? "retry" : "fail", node: path, entity: name, image, error: err });
        if (!retryable) throw err;
        prevCheckpoint = join(dir, "checkpoint");
        if (!existsSync(prevCheckpoint)) prevCheckpoint = undefined;
      }
    }
  }

  async #runDynamic(
    spec: DynamicJobSpec,
    path: string,
    parent: Catalog,
    entity: string,
  ): Promise<LiteralMap> {
    const catalog = new Catalog(parent);
    for (const t of spec.tasks) if (t.id) catalog.tasks.set(t.id.name, t);
    for (const w of spec.subworkflows) if (w.id) catalog.workflows.set(w.id.name, w);
    return this.#runGraph(entity, spec.nodes, spec.outputs, literalMap({}), path, catalog);
  }

  /**
   * The data folder (read-write), and read-only mounts for local files outside it that the
   * inputs name or the template reads by itself (`templateLocalFiles`, e.g. a SQLite database).
   */
  #mounts(inputs: LiteralMap, templateFiles: readonly string[] = []): Mount[] {
    const rw = [this.root];
    if (!within(this.rawDataPrefix, this.root)) rw.push(this.rawDataPrefix);
    const mounts: Mount[] = rw.map((source) => ({ source }));
    const extra = new Set<string>(templateFiles.map((p) => resolve(p)));
    for (const lit of Object.values(inputs.literals)) collectLocalPaths(lit, extra);
    for (const p of extra) {
      if (rw.some((r) => within(p, r)) || !existsSync(p)) continue;
      mounts.push({ source: p, readOnly: true });
    }
    return mounts;
  }
}

function join2(path: string, id: string): string {
  return path ? `${path}/${id}` : id;
}

function within(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

function collectLocalPaths(lit: Literal, out: Set<string>): void {
  const v = lit.value;
  if (v.case === "collection") for (const l of v.value.literals) collectLocalPaths(l, out);
  else if (v.case === "map") for (const l of Object.values(v.value.literals)) collectLocalPaths(l, out);
  else if (v.case === "scalar") {
    const s = v.value.value;
    const uri = s.case === "blob" ? s.value.uri : s.case === "structuredDataset" ? s.value.uri : undefined;
    if (s.case === "union" && s.value.value) collectLocalPaths(s.value.value, out);
    if (uri === undefined) return;
    if (uri.startsWith("file://")) out.add(fileURLToPath(uri));
    else if (uri.startsWith("/")) out.add(uri);
  }
}

function* promiseNodes(bd: BindingData | undefined): Generator<string> {
  const v = bd?.value;
  if (!v) return;
  if (v.case === "promise") yield v.value.nodeId;
  else if (v.case === "collection") for (const b of v.value.bindings) yield* promiseNodes(b);
  else if (v.case === "map") for (const b of Object.values(v.value.bindings)) yield* promiseNodes(b);
}

function resolveBinding(
  bd: BindingData | undefined,
  results: Map<string, LiteralMap>,
  entity: string,
): Literal {
  const v = bd?.value;
  let lit: Literal;
  switch (v?.case) {
    case "scalar":
      lit = scalarLiteral(v.value.value);
      break;
    case "collection":
      lit = collectionLiteral(v.value.bindings.map((b) => resolveBinding(b, results, entity)));
      break;
    case "map": {
      const m: Record<string, Literal> = {};
      for (const [k, b] of Object.entries(v.value.bindings)) m[k] = resolveBinding(b, results, entity);
      lit = mapLiteral(m);
      break;
    }
    case "promise": {
      const found = results.get(v.value.nodeId)?.literals[v.value.var];
      if (!found) {
        throw new FlyteExecutionError(
          "BINDING_UNRESOLVED",
          `${v.value.nodeId || "inputs"}.${v.value.var} has no value`,
          {
            entity,
            origin: "SYSTEM",
          },
        );
      }
      if (v.value.attrPath.length > 0) {
        throw new FlyteExecutionError(
          "BINDING_ATTRIBUTE_UNSUPPORTED",
          "attribute paths in bindings are not supported locally",
          {
            entity,
            origin: "SYSTEM",
          },
        );
      }
      lit = found;
      break;
    }
    default:
      throw new FlyteExecutionError(
        "BINDING_UNSUPPORTED",
        `binding ${v?.case ?? "empty"} cannot be resolved`,
        {
          entity,
          origin: "SYSTEM",
        },
      );
  }
  const target = bd?.union?.targetType;
  if (target && !(lit.value.case === "scalar" && lit.value.value.value.case === "union"))
    return unionLiteral(lit, target);
  return lit;
}

/** The template with a node's overrides (image, resources) applied, as propeller applies them. */
function withOverrides(template: TaskTemplate, o: TaskNodeOverrides | undefined): TaskTemplate {
  if (!o || template.target.case !== "container") return template;
  const image = o.containerImage;
  const res =
    o.resources && (o.resources.requests.length > 0 || o.resources.limits.length > 0)
      ? o.resources
      : undefined;
  if (!image && !res) return template;
  const container = { ...template.target.value };
  if (image) container.image = image;
  if (res) container.resources = res;
  return { ...template, target: { case: "container", value: container } } as TaskTemplate;
}

/**
 * The copilot data exchange of a raw container task (inputs and outputs as files). The task's
 * interface comes from the entity when known, else from the template.
 */
async function copilotFor(
  template: TaskTemplate,
  task: BaseTask | undefined,
): Promise<CopilotIO | undefined> {
  const dc = template.target.case === "container" ? template.target.value.dataConfig : undefined;
  if (!dc?.enabled) return undefined;
  const schemaOf = (vars: Record<string, { type?: LiteralType | undefined }> | undefined) => {
    const out: Schema = {};
    for (const [k, v] of Object.entries(vars ?? {})) if (v.type) out[k] = typeForLiteralType(v.type);
    return out;
  };
  const meta = task as { metadataFormat?: MetadataFormat } | undefined;
  const copilotTask: CopilotTask = {
    name: task?.name ?? template.id?.name ?? "task",
    inputs: task?.inputs ?? schemaOf(template.interface?.inputs?.variables),
    outputs: task?.outputs ?? schemaOf(template.interface?.outputs?.variables),
    ...(meta?.metadataFormat ? { metadataFormat: meta.metadataFormat } : {}),
  };
  return {
    writeInputs: (inputs, dir) => copilotInputs(copilotTask, inputs, dir),
    readOutputs: (dir) => copilotOutputs(copilotTask, dir),
  };
}

/** Runs a task, workflow or launch plan with each node in its own image; takes and returns TypeScript values. */
export async function runInContainers(
  entity: Entity,
  values: Record<string, unknown>,
  options: ContainerRunOptions = {},
): Promise<unknown> {
  const exec = await ContainerExecution.create(options);
  const inputs = await inputsToLiterals(entity, values, exec.ctx);
  const outputs = await exec.execute(entity, inputs);
  return outputsFromLiterals(entity, outputs, exec.ctx);
}
