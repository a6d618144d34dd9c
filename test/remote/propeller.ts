// Plays FlyteAdmin's event producer (what flytepropeller does on a cluster) for one execution:
// workflow and node phase events, with outputs inline, sent to the real admin's event API.
import { timestampNow } from "@bufbuild/protobuf/wkt";
import {
  NodeExecution_Phase,
  WorkflowExecution_Phase,
} from "../../src/proto/gen/flyteidl/core/execution_pb.js";
import type { WorkflowExecutionIdentifier } from "../../src/proto/gen/flyteidl/core/identifier_pb.js";
import type { LiteralMap } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import type { AdminClient } from "../../src/remote/client.js";

let requestCount = 0;
const requestId = () => `tsflyte-test-${process.pid}-${requestCount++}`;

/** Sends a workflow phase event, optionally with outputs or an error. */
export async function workflowEvent(
  client: AdminClient,
  id: WorkflowExecutionIdentifier,
  phase: WorkflowExecution_Phase,
  result: { outputs?: LiteralMap; error?: { code: string; message: string } } = {},
): Promise<void> {
  await client.admin.createWorkflowEvent({
    requestId: requestId(),
    event: {
      executionId: id,
      producerId: "propeller",
      phase,
      occurredAt: timestampNow(),
      outputResult: result.outputs
        ? { case: "outputData", value: result.outputs }
        : result.error
          ? { case: "error", value: { code: result.error.code, message: result.error.message, kind: 1 } }
          : { case: undefined },
    },
  });
}

/** Sends a node phase event. */
export async function nodeEvent(
  client: AdminClient,
  id: WorkflowExecutionIdentifier,
  nodeId: string,
  phase: NodeExecution_Phase,
): Promise<void> {
  await client.admin.createNodeEvent({
    requestId: requestId(),
    event: {
      id: { nodeId, executionId: id },
      producerId: "propeller",
      phase,
      occurredAt: timestampNow(),
      inputValue: { case: "inputUri", value: `s3://flyte/test/${id.name}/${nodeId}/inputs.pb` },
      specNodeId: nodeId,
      nodeName: nodeId,
    },
  });
}

/** Runs an execution to SUCCEEDED through `nodes` (each RUNNING then SUCCEEDED), ending with `outputs`. */
export async function succeed(
  client: AdminClient,
  id: WorkflowExecutionIdentifier,
  nodes: readonly string[],
  outputs: LiteralMap,
  pauseMs = 300,
): Promise<void> {
  const pause = () => new Promise((r) => setTimeout(r, pauseMs));
  // The admin creates the workflow on the cluster before it stores the execution.
  for (let i = 0; ; i++) {
    try {
      await client.admin.getExecution({ id });
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await workflowEvent(client, id, WorkflowExecution_Phase.RUNNING);
  for (const n of nodes) {
    await nodeEvent(client, id, n, NodeExecution_Phase.RUNNING);
    await pause();
    await nodeEvent(client, id, n, NodeExecution_Phase.SUCCEEDED);
  }
  await workflowEvent(client, id, WorkflowExecution_Phase.SUCCEEDING);
  await workflowEvent(client, id, WorkflowExecution_Phase.SUCCEEDED, { outputs });
}
