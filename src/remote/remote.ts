/**
 * `FlyteRemote`: the programmatic remote API. Register entities, fetch what the admin holds,
 * start executions with typed inputs, follow them, read their outputs as TypeScript values,
 * terminate and relaunch them.
 *
 * ```ts
 * import { FlyteRemote } from "flytekit-ts/remote";
 * import { helloWorld } from "./workflows/hello.js";
 *
 * const remote = FlyteRemote.fromConfig({ project: "flytesnacks", domain: "development" });
 * const run = await remote.execute(helloWorld, { name: "Flyte" }, { wait: true });
 * console.log(run.url, await remote.outputs(run)); // { greeting: "Hello, Flyte!", length: 13 }
 * remote.close();
 * ```
 *
 * Local entities are registered first (fast registration, content version: nothing is
 * registered twice). Outputs of executions started here are typed by the entity; for others the
 * types come from the launch plan's (or task's) interface through `typeForLiteralType`.
 */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { Entity } from "../core/entity.js";
import { LaunchPlanDef } from "../core/launch-plan.js";
import { WorkflowDef } from "../core/workflow.js";
import { describeValue, FlyteUsageError } from "../errors.js";
import { Sort_Direction } from "../proto/gen/flyteidl/admin/common_pb.js";
import { ExecutionMetadata_ExecutionMode } from "../proto/gen/flyteidl/admin/execution_pb.js";
import type { LaunchPlan } from "../proto/gen/flyteidl/admin/launch_plan_pb.js";
import type { Task } from "../proto/gen/flyteidl/admin/task_pb.js";
import type { Workflow } from "../proto/gen/flyteidl/admin/workflow_pb.js";
import {
  type Identifier,
  ResourceType,
  type WorkflowExecutionIdentifier,
} from "../proto/gen/flyteidl/core/identifier_pb.js";
import type { VariableMap } from "../proto/gen/flyteidl/core/interface_pb.js";
import type { LiteralMap } from "../proto/gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../proto/gen/flyteidl/core/tasks_pb.js";
import type { WorkflowTemplate } from "../proto/gen/flyteidl/core/workflow_pb.js";
import { settingsFromOptions } from "../serialize/modules.js";
import type { SerializationSettings } from "../serialize/settings.js";
import { type FlyteType, type TypeContext, typeForLiteralType } from "../types/flyte-type.js";
import { fromLiteralMap, type Schema, toLiteralMap } from "../types/literal-map.js";
import { AdminClient, type AdminClientOptions } from "./client.js";
import { type AdminConfigOptions, adminConfig } from "./config.js";
import { FlyteRemoteError } from "./errors.js";
import {
  listNodeExecutions,
  type RemoteExecution,
  type RemoteNodeExecution,
  remoteExecution,
  type WaitOptions,
  waitForExecution,
} from "./execution.js";
import {
  DEFAULT_DOMAIN,
  DEFAULT_PROJECT,
  type RegisterCodeOptions,
  type RegisterResult,
  registerEntities,
} from "./register-sources.js";

/** Where an entity lives. */
export interface EntityLocation {
  project?: string | undefined;
  domain?: string | undefined;
}

/** What fetched tasks, workflows and launch plans have in common. */
interface FetchedEntity {
  /** The full identifier. */
  readonly id: Identifier;
  /** Input types, from the registered interface (variables of unsupported types are left out). */
  readonly inputs: Schema;
  /** Output types, from the registered interface (variables of unsupported types are left out). */
  readonly outputs: Schema;
  /** Names of variables whose types flytekit-ts cannot read. */
  readonly unsupported: readonly string[];
}

/** A task as the admin holds it. */
export interface RemoteTask extends FetchedEntity {
  readonly kind: "task";
  /** The registered template (the admin's compiled copy). */
  readonly template: TaskTemplate;
  readonly message: Task;
}

/** A workflow as the admin holds it. */
export interface RemoteWorkflow extends FetchedEntity {
  readonly kind: "workflow";
  /** The registered template (primary of the admin's compiled closure). */
  readonly template: WorkflowTemplate | undefined;
  readonly message: Workflow;
}

/** A launch plan as the admin holds it. */
export interface RemoteLaunchPlan extends FetchedEntity {
  readonly kind: "launchPlan";
  /** The workflow it launches. */
  readonly workflowId: Identifier | undefined;
  /** Inputs that have defaults (they may be left out). */
  readonly defaultInputs: readonly string[];
  readonly message: LaunchPlan;
}

/** Anything `execute` runs. */
export type Executable = Entity | RemoteTask | RemoteWorkflow | RemoteLaunchPlan;

/** Options of {@link FlyteRemote.fromConfig}. */
export interface FlyteRemoteOptions extends AdminConfigOptions {
  /** Default project (default `flytesnacks`). */
  project?: string | undefined;
  /** Default domain (default `development`). */
  domain?: string | undefined;
  /** `--image` values for registering local entities (`name=ref` or a default `ref`); the config file's `images:` apply too. */
  images?: readonly string[] | undefined;
  /** Environment variables for every task container. */
  env?: Readonly<Record<string, string>> | undefined;
  /** The root module names are relative to (default: the working directory). */
  sourceRoot?: string | undefined;
  /** Fast registration of local entities (default true). */
  fast?: boolean | undefined;
  /** Progress lines. */
  log?: ((line: string) => void) | undefined;
  /** Token prompts, retry notices. */
  client?: AdminClientOptions | undefined;
}

/** Options of {@link FlyteRemote.execute}. */
export interface ExecuteOptions extends EntityLocation {
  /** The execution's name (default: generated). */
  name?: string | undefined;
  /** Wait for the end (see {@link FlyteRemote.wait}); `true` or wait options. */
  wait?: boolean | WaitOptions | undefined;
  /** The version of a local entity (default: content version; registered if needed). */
  version?: string | undefined;
  /** Registration options for local entities. */
  register?: RegisterCodeOptions | undefined;
  /** Re-run tasks even when cached results exist. */
  overwriteCache?: boolean | undefined;
  /** Labels and annotations on the execution. */
  labels?: Readonly<Record<string, string>> | undefined;
  annotations?: Readonly<Record<string, string>> | undefined;
  /** Environment variables for this execution's tasks. */
  envs?: Readonly<Record<string, string>> | undefined;
}

/** The type context used to read and write literals of remote executions. */
const REMOTE_CONTEXT: TypeContext = { rawDataPrefix: "", workDir: tmpdir() };

/** A new execution name: a letter and 19 lower-case letters and digits (Flyte allows up to 63). */
export function executionName(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(20);
  let out = alphabet[bytes[0]! % 26]!;
  for (let i = 1; i < 20; i++) out += alphabet[bytes[i]! % 36];
  return out;
}

function schemaOf(vars: VariableMap | undefined): { schema: Schema; unsupported: string[] } {
  const schema: Schema = {};
  const unsupported: string[] = [];
  for (const [k, v] of Object.entries(vars?.variables ?? {})) {
    try {
      if (!v.type) throw new Error("no type");
      schema[k] = typeForLiteralType(v.type) as FlyteType<unknown>;
    } catch {
      unsupported.push(k);
    }
  }
  return { schema, unsupported };
}

function idText(id: { project: string; domain: string; name: string; version?: string }): string {
  return `${id.project}/${id.domain}/${id.name}${id.version ? `@${id.version}` : ""}`;
}

/** The remote API on one FlyteAdmin. */
export class FlyteRemote {
  /** The admin client (for calls this class does not wrap). */
  readonly client: AdminClient;
  /** The default project. */
  readonly project: string;
  /** The default domain. */
  readonly domain: string;
  /** Serialization settings for local entities (images, env, source root). */
  readonly settings: SerializationSettings;
  readonly #fast: boolean;
  readonly #log: ((line: string) => void) | undefined;
  readonly #known = new Map<string, { outputs: Schema; single: boolean; entity: string }>();

  /** A remote API over `client`; `settings` default to the config file's images and the working directory. */
  constructor(
    client: AdminClient,
    options: {
      project?: string | undefined;
      domain?: string | undefined;
      settings?: SerializationSettings | undefined;
      fast?: boolean | undefined;
      log?: ((line: string) => void) | undefined;
    } = {},
  ) {
    this.client = client;
    this.project = options.project ?? DEFAULT_PROJECT;
    this.domain = options.domain ?? DEFAULT_DOMAIN;
    this.settings = options.settings ?? settingsFromOptions({ images: [] });
    this.#fast = options.fast !== false;
    this.#log = options.log;
  }

  /** Connects to the admin of the Flyte config file (or `options`). Throws `ADMIN_CONFIG` when none is configured. */
  static fromConfig(options: FlyteRemoteOptions = {}): FlyteRemote {
    const config = adminConfig(options);
    const settings = settingsFromOptions({
      images: options.images ?? [],
      config: options.config,
      env: options.env,
      sourceRoot: options.sourceRoot,
    });
    return new FlyteRemote(AdminClient.connect(config, { log: options.log, ...options.client }), {
      project: options.project,
      domain: options.domain,
      settings,
      fast: options.fast,
      log: options.log,
    });
  }

  /** Closes the connection. */
  close(): void {
    this.client.close();
  }

  #where(where: EntityLocation = {}): { project: string; domain: string } {
    return { project: where.project ?? this.project, domain: where.domain ?? this.domain };
  }

  async #latest(resourceType: ResourceType, name: string, where: EntityLocation): Promise<string> {
    const { project, domain } = this.#where(where);
    const request = {
      id: { project, domain, name },
      limit: 1,
      sortBy: { key: "created_at", direction: Sort_Direction.DESCENDING },
    };
    const list =
      resourceType === ResourceType.TASK
        ? (await this.client.admin.listTasks(request)).tasks
        : resourceType === ResourceType.WORKFLOW
          ? (await this.client.admin.listWorkflows(request)).workflows
          : (await this.client.admin.listLaunchPlans(request)).launchPlans;
    const version = list[0]?.id?.version;
    if (!version) {
      const kind = ResourceType[resourceType].toLowerCase().replace("_", " ");
      throw new FlyteRemoteError("ENTITY_NOT_FOUND", `no ${kind} named ${name} in ${project}/${domain}`, {
        entity: name,
        endpoint: this.client.config.endpoint,
        fix: "check the name, project and domain; register it first (tsflyte register)",
      });
    }
    return version;
  }

  #id(resourceType: ResourceType, name: string, version: string, where: EntityLocation): Identifier {
    const { project, domain } = this.#where(where);
    return { $typeName: "flyteidl.core.Identifier", resourceType, project, domain, name, version, org: "" };
  }

  /** The task `name` (latest version when `version` is omitted). Throws `ENTITY_NOT_FOUND`. */
  async fetchTask(name: string, version?: string, where: EntityLocation = {}): Promise<RemoteTask> {
    const v = version ?? (await this.#latest(ResourceType.TASK, name, where));
    const message = await this.client.admin.getTask({ id: this.#id(ResourceType.TASK, name, v, where) });
    const template = message.closure?.compiledTask?.template;
    if (!template) throw this.#malformed("task", name, v);
    const inputs = schemaOf(template.interface?.inputs);
    const outputs = schemaOf(template.interface?.outputs);
    return Object.freeze({
      kind: "task",
      id: message.id!,
      template,
      message,
      inputs: inputs.schema,
      outputs: outputs.schema,
      unsupported: [...inputs.unsupported, ...outputs.unsupported],
    });
  }

  /** The workflow `name` (latest version when `version` is omitted). Throws `ENTITY_NOT_FOUND`. */
  async fetchWorkflow(name: string, version?: string, where: EntityLocation = {}): Promise<RemoteWorkflow> {
    const v = version ?? (await this.#latest(ResourceType.WORKFLOW, name, where));
    const message = await this.client.admin.getWorkflow({
      id: this.#id(ResourceType.WORKFLOW, name, v, where),
    });
    const template = message.closure?.compiledWorkflow?.primary?.template;
    const inputs = schemaOf(template?.interface?.inputs);
    const outputs = schemaOf(template?.interface?.outputs);
    return Object.freeze({
      kind: "workflow",
      id: message.id!,
      template,
      message,
      inputs: inputs.schema,
      outputs: outputs.schema,
      unsupported: [...inputs.unsupported, ...outputs.unsupported],
    });
  }

  /** The launch plan `name` (latest version when `version` is omitted). Throws `ENTITY_NOT_FOUND`. */
  async fetchLaunchPlan(
    name: string,
    version?: string,
    where: EntityLocation = {},
  ): Promise<RemoteLaunchPlan> {
    const v = version ?? (await this.#latest(ResourceType.LAUNCH_PLAN, name, where));
    const message = await this.client.admin.getLaunchPlan({
      id: this.#id(ResourceType.LAUNCH_PLAN, name, v, where),
    });
    const params = message.closure?.expectedInputs?.parameters ?? {};
    const vars: VariableMap = {
      $typeName: "flyteidl.core.VariableMap",
      variables: Object.fromEntries(Object.entries(params).flatMap(([k, p]) => (p.var ? [[k, p.var]] : []))),
    };
    const inputs = schemaOf(vars);
    const outputs = schemaOf(message.closure?.expectedOutputs);
    return Object.freeze({
      kind: "launchPlan",
      id: message.id!,
      workflowId: message.spec?.workflowId,
      defaultInputs: Object.entries(params)
        .filter(
          ([, p]) => p.behavior.case === "default" || (p.behavior.case === "required" && !p.behavior.value),
        )
        .map(([k]) => k),
      message,
      inputs: inputs.schema,
      outputs: outputs.schema,
      unsupported: [...inputs.unsupported, ...outputs.unsupported],
    });
  }

  #malformed(kind: string, name: string, version: string): FlyteRemoteError {
    return new FlyteRemoteError(
      "ADMIN_CALL_FAILED",
      `the admin's ${kind} ${name}@${version} has no template`,
      {
        entity: name,
        endpoint: this.client.config.endpoint,
        fix: "re-register it",
      },
    );
  }

  /**
   * Registers local entities (and all they reach) into this remote's project and domain, or
   * those of `options`. Returns what was registered and the version.
   */
  register(entities: Iterable<Entity>, options: RegisterCodeOptions = {}): Promise<RegisterResult> {
    return registerEntities(this.client, entities, this.settings, {
      fast: this.#fast,
      log: this.#log,
      ...options,
      project: options.project ?? this.project,
      domain: options.domain ?? this.domain,
    });
  }

  /**
   * Starts an execution of `target` with `inputs` (converted by its input types; inputs with
   * defaults may be left out) and returns it, or, with `wait`, the finished execution. A local
   * entity is registered first. Throws `FlyteTypeError` for a wrong input, `FlyteRemoteError`
   * from the admin.
   */
  async execute(
    target: Executable,
    inputs: Readonly<Record<string, unknown>> = {},
    options: ExecuteOptions = {},
  ): Promise<RemoteExecution> {
    const { project, domain } = this.#where(options);
    let launchId: Identifier;
    let schema: Schema;
    let defaults: ReadonlySet<string>;
    let outputs: { outputs: Schema; single: boolean; entity: string } | undefined;
    if (target instanceof Entity) {
      const entity = target;
      if (entity.kind === "map") {
        throw new FlyteUsageError(
          "EXECUTE_MAP_TASK",
          `${entity.name} is a map task; it runs inside a workflow`,
          {
            entity: entity.name,
            fix: "execute the workflow that maps it",
          },
        );
      }
      const result = await this.register([entity], {
        ...options.register,
        project,
        domain,
        ...(options.version !== undefined ? { version: options.version } : {}),
      });
      const wantKind = entity.kind === "task" ? "task" : "launchPlan";
      const found = result.entities.find((r) => r.kind === wantKind && r.name === entity.name);
      if (!found)
        throw new FlyteRemoteError("ENTITY_NOT_FOUND", `${entity.name} was not registered`, {
          entity: entity.name,
        });
      launchId = found.id;
      schema = entity.inputs;
      defaults = new Set(
        Object.keys(
          entity instanceof WorkflowDef
            ? entity.defaults
            : entity instanceof LaunchPlanDef
              ? { ...entity.defaultInputs, ...entity.fixedInputs }
              : {},
        ),
      );
      outputs = { outputs: entity.outputs as Schema, single: entity.singleOutput, entity: entity.name };
    } else {
      const remote = target as RemoteTask | RemoteWorkflow | RemoteLaunchPlan;
      if (remote.kind === "workflow") {
        const lp = await this.fetchLaunchPlan(remote.id.name, remote.id.version, remote.id);
        launchId = lp.id;
        schema = lp.inputs;
        defaults = new Set(lp.defaultInputs);
      } else {
        launchId = remote.id;
        schema = remote.inputs;
        defaults = new Set(remote.kind === "launchPlan" ? remote.defaultInputs : []);
      }
    }
    const entityName = launchId.name;
    const given: Schema = {};
    for (const [k, v] of Object.entries(inputs)) {
      if (v === undefined) continue;
      const type = schema[k];
      if (!type) {
        throw new FlyteUsageError("INPUT_UNKNOWN", `unknown input "${k}" = ${describeValue(v)}`, {
          entity: entityName,
          fix: `the inputs are: ${Object.keys(schema).join(", ") || "(none)"}`,
        });
      }
      given[k] = type;
    }
    const missing = Object.entries(schema)
      .filter(([k, t]) => !(k in given) && !defaults.has(k) && !t.optional)
      .map(([k, t]) => `${k} (${t.name})`);
    if (missing.length > 0) {
      throw new FlyteUsageError(
        "INPUT_MISSING",
        `missing input${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
        {
          entity: entityName,
          fix: "pass a value for each",
        },
      );
    }
    const literals = await toLiteralMap(given, inputs as Record<string, unknown>, REMOTE_CONTEXT, entityName);
    const name = options.name ?? executionName();
    const kv = (m: Readonly<Record<string, string>> | undefined) => (m ? { values: { ...m } } : undefined);
    let id: WorkflowExecutionIdentifier | undefined;
    try {
      const res = await this.client.admin.createExecution({
        project,
        domain,
        name,
        inputs: literals,
        spec: {
          launchPlan: launchId,
          metadata: { mode: ExecutionMetadata_ExecutionMode.MANUAL, principal: "tsflyte" },
          overwriteCache: options.overwriteCache ?? false,
          ...(options.labels ? { labels: kv(options.labels) } : {}),
          ...(options.annotations ? { annotations: kv(options.annotations) } : {}),
          ...(options.envs
            ? { envs: { values: Object.entries(options.envs).map(([key, value]) => ({ key, value })) } }
            : {}),
        },
      });
      id = res.id;
    } catch (err) {
      // A retried call whose first attempt got through: the execution is ours.
      if (!(err instanceof FlyteRemoteError && err.code === "ENTITY_EXISTS" && options.name === undefined))
        throw err;
      id = { $typeName: "flyteidl.core.WorkflowExecutionIdentifier", project, domain, name, org: "" };
    }
    const started = await this.fetchExecution(id!.name, id!);
    this.#log?.(`started execution ${started.name} of ${idText(launchId)}: ${started.url}`);
    if (outputs) this.#known.set(idText(started.id), outputs);
    if (options.wait) return this.wait(started, options.wait === true ? {} : options.wait);
    return started;
  }

  /** The execution `name`. Throws `ENTITY_NOT_FOUND`. */
  async fetchExecution(name: string, where: EntityLocation = {}): Promise<RemoteExecution> {
    const { project, domain } = this.#where(where);
    const message = await this.client.admin.getExecution({ id: { project, domain, name } });
    return remoteExecution(message, this.client.config.consoleEndpoint);
  }

  /** Polls until the execution ends; returns it. Throws `WAIT_TIMEOUT` after `options.timeoutMs`. */
  wait(execution: RemoteExecution, options: WaitOptions = {}): Promise<RemoteExecution> {
    return waitForExecution(this.client, execution.id, options);
  }

  /** The node executions of an execution. */
  nodeExecutions(execution: RemoteExecution): Promise<RemoteNodeExecution[]> {
    return listNodeExecutions(this.client, execution.id);
  }

  /**
   * The outputs of a SUCCEEDED execution as TypeScript values: the single value for an entity
   * declared with a single output, else a record by output name. Typed by the local entity when
   * it was started here (or given as `entity`), else by the launch plan's or task's interface.
   * Throws `EXECUTION_FAILED` naming the phase and error for an execution that did not succeed.
   */
  async outputs(execution: RemoteExecution, options: { entity?: Entity | undefined } = {}): Promise<unknown> {
    const ex = execution.isDone ? execution : await this.fetchExecution(execution.name, execution.id);
    if (ex.phase !== "SUCCEEDED") {
      const why = ex.error ? `: ${ex.error.message}` : ex.abortCause ? `: ${ex.abortCause}` : "";
      throw new FlyteRemoteError("EXECUTION_FAILED", `execution ${ex.name} is ${ex.phase}${why}`, {
        entity: `execution ${idText(ex.id)}`,
        origin: ex.error?.kind === "SYSTEM" ? "SYSTEM" : "USER",
        fix: ex.isDone ? `see ${ex.url}` : `wait for it first (remote.wait), or follow it at ${ex.url}`,
      });
    }
    const data = await this.client.admin.getExecutionData({ id: ex.id });
    const result = ex.message.closure?.outputResult;
    const map: LiteralMap | undefined =
      data.fullOutputs ?? (result?.case === "outputData" ? result.value : undefined);
    if (!map) {
      throw new FlyteRemoteError(
        "ADMIN_CALL_FAILED",
        `execution ${ex.name} has outputs the admin does not inline${data.outputs?.url ? ` (at ${data.outputs.url})` : ""}`,
        {
          entity: `execution ${idText(ex.id)}`,
          fix: "raise the admin's maxInlineSizeBytes, or read them from the blob store",
        },
      );
    }
    let known = options.entity
      ? {
          outputs: options.entity.outputs as Schema,
          single: options.entity.singleOutput,
          entity: options.entity.name,
        }
      : this.#known.get(idText(ex.id));
    if (!known) {
      const lp = ex.launchPlan;
      if (!lp) return {};
      const fetched =
        lp.resourceType === ResourceType.TASK
          ? await this.fetchTask(lp.name, lp.version, lp)
          : await this.fetchLaunchPlan(lp.name, lp.version, lp);
      known = { outputs: fetched.outputs, single: false, entity: lp.name };
    }
    const values = await fromLiteralMap(known.outputs, map, REMOTE_CONTEXT, known.entity, "output");
    return known.single ? (values as Record<string, unknown>).o0 : values;
  }

  /** Terminates a running execution; returns it as the admin reports it afterwards. */
  async terminate(execution: RemoteExecution, cause = "terminated by tsflyte"): Promise<RemoteExecution> {
    await this.client.admin.terminateExecution({ id: execution.id, cause });
    return this.fetchExecution(execution.name, execution.id);
  }

  /** Starts the same launch plan with the same inputs again, as a new execution. */
  async relaunch(
    execution: RemoteExecution,
    options: { name?: string | undefined; overwriteCache?: boolean } = {},
  ): Promise<RemoteExecution> {
    const name = options.name ?? executionName();
    let id: WorkflowExecutionIdentifier;
    try {
      const res = await this.client.admin.relaunchExecution({
        id: execution.id,
        name,
        overwriteCache: options.overwriteCache ?? false,
      });
      id = res.id!;
    } catch (err) {
      // A retried call whose first attempt got through: the execution is ours.
      if (!(err instanceof FlyteRemoteError && err.code === "ENTITY_EXISTS" && options.name === undefined))
        throw err;
      id = { ...execution.id, name };
    }
    const again = await this.fetchExecution(id.name, id);
    const known = this.#known.get(idText(execution.id));
    if (known) this.#known.set(idText(again.id), known);
    return again;
  }
}
