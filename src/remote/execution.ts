/**
 * Executions on FlyteAdmin in readable form, and following them: phases by name, the failure,
 * the console link, node progress by polling `GetExecution` and `ListNodeExecutions`.
 */
import type { Execution } from "../proto/gen/flyteidl/admin/execution_pb.js";
import type { NodeExecution } from "../proto/gen/flyteidl/admin/node_execution_pb.js";
import {
  ExecutionError_ErrorKind,
  NodeExecution_Phase,
  WorkflowExecution_Phase,
} from "../proto/gen/flyteidl/core/execution_pb.js";
import type { Identifier, WorkflowExecutionIdentifier } from "../proto/gen/flyteidl/core/identifier_pb.js";
import type { AdminClient } from "./client.js";
import { FlyteRemoteError } from "./errors.js";

/** The phase of a workflow execution, by name. */
export type ExecutionPhase = keyof typeof WorkflowExecution_Phase;

/** The phase of a node execution, by name. */
export type NodePhase = keyof typeof NodeExecution_Phase;

/** Phases after which an execution never changes. */
export const TERMINAL_PHASES: ReadonlySet<ExecutionPhase> = new Set([
  "SUCCEEDED",
  "FAILED",
  "ABORTED",
  "TIMED_OUT",
]);

/** An execution as the admin reported it the last time it was fetched. */
export interface RemoteExecution {
  /** Project, domain and name. */
  readonly id: WorkflowExecutionIdentifier;
  /** The execution's name (unique in its project and domain). */
  readonly name: string;
  readonly phase: ExecutionPhase;
  /** Whether the phase is terminal. */
  readonly isDone: boolean;
  /** The failure, when the phase is FAILED or TIMED_OUT (`kind` USER, SYSTEM or UNKNOWN). */
  readonly error: { readonly code: string; readonly message: string; readonly kind: string } | undefined;
  /** Why it was aborted, when it was. */
  readonly abortCause: string | undefined;
  /** The launch plan (or task) it runs. */
  readonly launchPlan: Identifier | undefined;
  /** The web console's page of this execution. */
  readonly url: string;
  /** The admin's message, for everything else. */
  readonly message: Execution;
}

/** A node of an execution, as the admin reports it. */
export interface RemoteNodeExecution {
  readonly nodeId: string;
  readonly phase: NodePhase;
  /** Start time, when started. */
  readonly startedAt: Date | undefined;
  /** Duration in milliseconds, when known. */
  readonly durationMs: number | undefined;
  /** The failure message, when it failed. */
  readonly error: string | undefined;
  /** The admin's message. */
  readonly message: NodeExecution;
}

/** The console page of an execution: `<console>/console/projects/<p>/domains/<d>/executions/<name>`. */
export function consoleUrl(consoleEndpoint: string, id: WorkflowExecutionIdentifier): string {
  const e = encodeURIComponent;
  return `${consoleEndpoint.replace(/\/+$/, "")}/console/projects/${e(id.project)}/domains/${e(id.domain)}/executions/${e(id.name)}`;
}

/** Reads an admin `Execution` into a {@link RemoteExecution}. */
export function remoteExecution(message: Execution, consoleEndpoint: string): RemoteExecution {
  const id = message.id!;
  const closure = message.closure;
  const phase = (WorkflowExecution_Phase[closure?.phase ?? 0] ?? "UNDEFINED") as ExecutionPhase;
  const result = closure?.outputResult;
  const error =
    result?.case === "error"
      ? {
          code: result.value.code,
          message: result.value.message,
          kind: ExecutionError_ErrorKind[result.value.kind] ?? "UNKNOWN",
        }
      : undefined;
  const abortCause =
    result?.case === "abortMetadata"
      ? result.value.cause
      : result?.case === "abortCause"
        ? result.value
        : undefined;
  return Object.freeze({
    id,
    name: id.name,
    phase,
    isDone: TERMINAL_PHASES.has(phase),
    error,
    abortCause,
    launchPlan: message.spec?.launchPlan,
    url: consoleUrl(consoleEndpoint, id),
    message,
  });
}

function timestampMs(t: { seconds: bigint; nanos: number } | undefined): number | undefined {
  return t ? Number(t.seconds) * 1000 + Math.round(t.nanos / 1e6) : undefined;
}

/** Every node execution of an execution (all pages). */
export async function listNodeExecutions(
  client: AdminClient,
  id: WorkflowExecutionIdentifier,
): Promise<RemoteNodeExecution[]> {
  const out: RemoteNodeExecution[] = [];
  let token = "";
  do {
    const page = await client.admin.listNodeExecutions({ workflowExecutionId: id, limit: 200, token });
    for (const n of page.nodeExecutions) {
      const c = n.closure;
      const started = timestampMs(c?.startedAt);
      out.push({
        nodeId: n.id?.nodeId ?? "",
        phase: (NodeExecution_Phase[c?.phase ?? 0] ?? "UNDEFINED") as NodePhase,
        startedAt: started === undefined || started === 0 ? undefined : new Date(started),
        durationMs: c?.duration ? timestampMs(c.duration) : undefined,
        error: c?.outputResult.case === "error" ? c.outputResult.value.message : undefined,
        message: n,
      });
    }
    token = page.token;
  } while (token);
  return out;
}

/** Options of {@link waitForExecution}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default: never). */
  timeoutMs?: number | undefined;
  /** The first polling interval (default 1 s); it grows to `maxPollIntervalMs` while nothing changes. */
  pollIntervalMs?: number | undefined;
  /** The longest polling interval (default 10 s). */
  maxPollIntervalMs?: number | undefined;
  /** Called with the execution whenever its phase changes. */
  onPhase?: ((execution: RemoteExecution) => void) | undefined;
  /** Called when a node's phase changes (nodes are polled only when this is given). */
  onNode?: ((node: RemoteNodeExecution) => void) | undefined;
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal | undefined;
}

/**
 * Polls until the execution is in a terminal phase and returns it. Throws `FlyteRemoteError`
 * `WAIT_TIMEOUT` naming the execution and its last phase when `timeoutMs` passes first.
 */
export async function waitForExecution(
  client: AdminClient,
  id: WorkflowExecutionIdentifier,
  options: WaitOptions = {},
): Promise<RemoteExecution> {
  const start = Date.now();
  const minInterval = options.pollIntervalMs ?? 1000;
  const maxInterval = Math.max(minInterval, options.maxPollIntervalMs ?? 10_000);
  let interval = minInterval;
  let lastPhase: ExecutionPhase | undefined;
  const nodePhases = new Map<string, NodePhase>();
  for (;;) {
    options.signal?.throwIfAborted();
    const ex = remoteExecution(await client.admin.getExecution({ id }), client.config.consoleEndpoint);
    let changed = false;
    if (options.onNode) {
      for (const n of await listNodeExecutions(client, id)) {
        if (nodePhases.get(n.nodeId) !== n.phase) {
          nodePhases.set(n.nodeId, n.phase);
          options.onNode(n);
          changed = true;
        }
      }
    }
    if (ex.phase !== lastPhase) {
      lastPhase = ex.phase;
      options.onPhase?.(ex);
      changed = true;
    }
    if (ex.isDone) return ex;
    if (options.timeoutMs !== undefined && Date.now() - start >= options.timeoutMs) {
      throw new FlyteRemoteError(
        "WAIT_TIMEOUT",
        `execution ${id.name} is still ${ex.phase} after ${Math.round((Date.now() - start) / 1000)} s`,
        {
          entity: `execution ${id.project}/${id.domain}/${id.name}`,
          recoverable: true,
          fix: `wait longer, or follow it at ${ex.url}`,
        },
      );
    }
    interval = changed ? minInterval : Math.min(maxInterval, Math.round(interval * 1.5));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, interval);
      options.signal?.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          reject(options.signal?.reason);
        },
        { once: true },
      );
    });
  }
}
