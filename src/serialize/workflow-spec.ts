/**
 * Workflows -> flyteidl `WorkflowTemplate` / `admin.WorkflowSpec`, and dynamic graphs ->
 * `DynamicJobSpec`. Nodes keep the ids the graph builder gave them (n0, n1, ...; branch cases
 * n1-n0, ...); the workflow's own inputs are referenced with an empty node id, as flytekit
 * writes them (propeller reads it as `start-node`). Start and end nodes are not written.
 */
import { create } from "@bufbuild/protobuf";
import type { DynamicGraph } from "../core/dynamic.js";
import type { LaunchPlanDef } from "../core/launch-plan.js";
import type { MapTaskDef } from "../core/map-task.js";
import type { BranchSpec, Node } from "../core/node.js";
import { type BindingValue, type BoolExpr, FlytePromise, type Operand, START_NODE } from "../core/promise.js";
import { normalizeResources, parseTimeout } from "../core/resources.js";
import type { BaseTask } from "../core/task.js";
import type { WorkflowDef } from "../core/workflow.js";
import { FlyteDefinitionError } from "../errors.js";
import { DescriptionEntitySchema } from "../proto/gen/flyteidl/admin/description_entity_pb.js";
import { type WorkflowSpec, WorkflowSpecSchema } from "../proto/gen/flyteidl/admin/workflow_pb.js";
import {
  type BooleanExpression,
  BooleanExpressionSchema,
  ComparisonExpression_Operator,
  ComparisonExpressionSchema,
  ConjunctionExpression_LogicalOperator,
  ConjunctionExpressionSchema,
  type Operand as OperandMessage,
  OperandSchema,
} from "../proto/gen/flyteidl/core/condition_pb.js";
import { type DynamicJobSpec, DynamicJobSpecSchema } from "../proto/gen/flyteidl/core/dynamic_job_pb.js";
import {
  type Binding,
  type Literal,
  PrimitiveSchema,
  ScalarSchema,
} from "../proto/gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../proto/gen/flyteidl/core/tasks_pb.js";
import { ErrorSchema } from "../proto/gen/flyteidl/core/types_pb.js";
import {
  ArrayNode_DataMode,
  ArrayNode_ExecutionMode,
  ArrayNodeSchema,
  BranchNodeSchema,
  IfBlockSchema,
  IfElseBlockSchema,
  type Node as NodeMessage,
  type NodeMetadata,
  NodeMetadataSchema,
  NodeSchema,
  type TaskNodeOverrides,
  TaskNodeOverridesSchema,
  TaskNodeSchema,
  WorkflowMetadata_OnFailurePolicy,
  WorkflowMetadataDefaultsSchema,
  WorkflowMetadataSchema,
  WorkflowNodeSchema,
  type WorkflowTemplate,
  WorkflowTemplateSchema,
} from "../proto/gen/flyteidl/core/workflow_pb.js";
import type { FlyteType } from "../types/flyte-type.js";
import type { Schema } from "../types/literal-map.js";
import { bindingsOf, constantLiteral, type NodeIdMap, wireNodeId } from "./bindings.js";
import {
  durationOf,
  identifier,
  retryStrategy,
  type SerializationSettingsLike,
} from "./serialization-context.js";
import {
  mapTaskTemplate,
  mapTaskTemplateName,
  resourcesMessage,
  taskTemplate,
  typedInterface,
} from "./task-template.js";

/** Id of the failure node (flytekit's `fn0`). */
export const FAILURE_NODE_ID = "fn0";

/** What serializing a graph collects besides its nodes: sub-workflows and the task templates it runs. */
class GraphContext {
  readonly subWorkflows = new Map<string, { def: WorkflowDef; template: WorkflowTemplate | undefined }>();
  readonly tasks = new Map<string, TaskTemplate>();
  constructor(
    readonly settings: SerializationSettingsLike,
    /** Collect task templates (dynamic job specs carry them). */
    readonly collectTasks: boolean,
  ) {}

  addTask(task: BaseTask): void {
    if (this.collectTasks && !this.tasks.has(task.name))
      this.tasks.set(task.name, taskTemplate(task, this.settings));
  }

  addMapTask(map: MapTaskDef): void {
    const name = mapTaskTemplateName(map);
    if (this.collectTasks && !this.tasks.has(name)) this.tasks.set(name, mapTaskTemplate(map, this.settings));
  }

  async addSubWorkflow(wf: WorkflowDef): Promise<void> {
    const seen = this.subWorkflows.get(wf.name);
    if (seen) {
      if (seen.def !== wf) {
        throw new FlyteDefinitionError(
          "ENTITY_NAME_CLASH",
          `two different workflows are named "${wf.name}"`,
          {
            entity: wf.name,
            fix: "give one of them another name (the `name` option, or export it under another name)",
          },
        );
      }
      return;
    }
    this.subWorkflows.set(wf.name, { def: wf, template: undefined });
    const template = await workflowTemplateIn(wf, this);
    this.subWorkflows.set(wf.name, { def: wf, template });
  }
}

/** The short display name flytekit gives a node: the function's name (the last part of the entity name). */
function displayName(name: string, exportName: string | undefined): string {
  return exportName ?? name.slice(name.lastIndexOf(".") + 1);
}

function nodeMetadata(node: Node, defaultName: string, entity: string): NodeMetadata {
  const o = node.overrides;
  const md = create(NodeMetadataSchema, {
    name: o.name ?? defaultName,
    retries: retryStrategy(o.retries ?? 0),
  });
  if (o.retries !== undefined && !(Number.isInteger(o.retries) && o.retries >= 0)) {
    throw new FlyteDefinitionError(
      "RETRIES_INVALID",
      `node ${node.id}: retries = ${o.retries} is not a whole number >= 0`,
      { entity },
    );
  }
  const timeout = parseTimeout(o.timeout, `${entity} node ${node.id}`);
  if (timeout !== undefined) md.timeout = durationOf(timeout);
  if (o.interruptible !== undefined)
    md.interruptibleValue = { case: "interruptible", value: o.interruptible };
  if (o.cache !== undefined) md.cacheableValue = { case: "cacheable", value: o.cache };
  return md;
}

function taskNodeOverrides(
  node: Node,
  targetName: string,
  settings: SerializationSettingsLike,
): TaskNodeOverrides {
  const o = node.overrides;
  const overrides = create(TaskNodeOverridesSchema, {});
  if (o.requests !== undefined || o.limits !== undefined) {
    const entity = `${targetName} (node ${node.id})`;
    overrides.resources = resourcesMessage(
      normalizeResources(o.requests, entity, "requests"),
      normalizeResources(o.limits, entity, "limits"),
    );
  }
  if (o.containerImage !== undefined)
    overrides.containerImage = settings.imageConfig.resolve(o.containerImage, targetName);
  return overrides;
}

const SAME: NodeIdMap = (id) => id;

function upstreamIds(node: Node, ids: NodeIdMap): string[] {
  return [...new Set([...node.upstream].map((u) => u.id).filter((id) => id !== START_NODE))].map(ids).sort();
}

/** The wire name of a branch input: `<node id>.<var>`, with an empty node id for workflow inputs. */
function branchVarName(nodeId: string, variable: string, ids: NodeIdMap): string {
  const id = wireNodeId(nodeId);
  return `${id === "" ? "" : ids(id)}.${variable}`;
}

const OPS = {
  eq: ComparisonExpression_Operator.EQ,
  neq: ComparisonExpression_Operator.NEQ,
  gt: ComparisonExpression_Operator.GT,
  gte: ComparisonExpression_Operator.GTE,
  lt: ComparisonExpression_Operator.LT,
  lte: ComparisonExpression_Operator.LTE,
} as const;

function unwrapUnion(lit: Literal): Literal {
  const v = lit.value;
  if (v.case === "scalar" && v.value.value.case === "union" && v.value.value.value.value)
    return unwrapUnion(v.value.value.value.value);
  return lit;
}

/** A constant operand: converted with the type of the promise it is compared with, when there is one. */
async function constantOperand(
  value: Extract<Operand, { kind: "value" }>["value"],
  other: Operand,
  entity: string,
): Promise<OperandMessage> {
  let lit: Literal | undefined;
  if (other.kind === "promise")
    lit = unwrapUnion(
      await constantLiteral(other.promise.type as FlyteType<unknown>, value, entity, "condition"),
    );
  if (lit && lit.value.case === "scalar") {
    const scalar = lit.value.value;
    if (scalar.value.case === "primitive")
      return create(OperandSchema, { val: { case: "primitive", value: scalar.value.value } });
    return create(OperandSchema, { val: { case: "scalar", value: scalar } });
  }
  if (value === null)
    return create(OperandSchema, {
      val: { case: "scalar", value: create(ScalarSchema, { value: { case: "noneType", value: {} } }) },
    });
  const prim = (p: Parameters<typeof create<typeof PrimitiveSchema>>[1]) =>
    create(OperandSchema, { val: { case: "primitive", value: create(PrimitiveSchema, p) } });
  if (typeof value === "boolean") return prim({ value: { case: "boolean", value } });
  if (typeof value === "bigint") return prim({ value: { case: "integer", value } });
  if (typeof value === "number")
    return Number.isInteger(value)
      ? prim({ value: { case: "integer", value: BigInt(value) } })
      : prim({ value: { case: "floatValue", value } });
  if (typeof value === "string") return prim({ value: { case: "stringValue", value } });
  if (value instanceof Date) {
    const ms = value.getTime();
    const seconds = Math.floor(ms / 1000);
    return prim({
      value: { case: "datetime", value: { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1e6 } },
    });
  }
  throw new FlyteDefinitionError("CONDITION_BAD_OPERAND", `cannot compare with ${String(value)}`, { entity });
}

async function operandMessage(
  op: Operand,
  other: Operand,
  entity: string,
  ids: NodeIdMap,
): Promise<OperandMessage> {
  if (op.kind === "promise")
    return create(OperandSchema, {
      val: { case: "var", value: branchVarName(op.promise.nodeId, op.promise.variable, ids) },
    });
  return constantOperand(op.value, other, entity);
}

async function booleanExpression(e: BoolExpr, entity: string, ids: NodeIdMap): Promise<BooleanExpression> {
  if (e.kind === "cmp") {
    return create(BooleanExpressionSchema, {
      expr: {
        case: "comparison",
        value: create(ComparisonExpressionSchema, {
          operator: OPS[e.op],
          leftValue: await operandMessage(e.left, e.right, entity, ids),
          rightValue: await operandMessage(e.right, e.left, entity, ids),
        }),
      },
    });
  }
  return create(BooleanExpressionSchema, {
    expr: {
      case: "conjunction",
      value: create(ConjunctionExpressionSchema, {
        operator:
          e.op === "and"
            ? ConjunctionExpression_LogicalOperator.AND
            : ConjunctionExpression_LogicalOperator.OR,
        leftExpression: await booleanExpression(e.left, entity, ids),
        rightExpression: await booleanExpression(e.right, entity, ids),
      }),
    },
  });
}

async function branchNode(
  node: Node,
  spec: BranchSpec,
  ctx: GraphContext,
  entity: string,
  ids: NodeIdMap,
): Promise<NodeMessage> {
  // The branch node's inputs: every promise its conditions read, named `<node>.<var>`.
  const values: Record<string, BindingValue> = {};
  const types: Record<string, FlyteType<unknown>> = {};
  for (const b of Object.values(node.bindings)) {
    if (b.kind !== "promise") continue;
    const name = branchVarName(b.promise.nodeId, b.promise.variable, ids);
    values[name] = b;
    types[name] = b.promise.type as FlyteType<unknown>;
  }
  const [first, ...rest] = spec.cases;
  if (!first)
    throw new FlyteDefinitionError("BRANCH_NO_CASE", `conditional "${spec.name}" has no case`, { entity });
  const ifBlock = async (c: { condition: BoolExpr; node: Node }) =>
    create(IfBlockSchema, {
      condition: await booleanExpression(c.condition, entity, ids),
      thenNode: await nodeMessage(c.node, ctx, entity, ids),
    });
  const ifElse = create(IfElseBlockSchema, {
    case: await ifBlock(first),
    other: await Promise.all(rest.map(ifBlock)),
  });
  if (spec.elseNode)
    ifElse.default = { case: "elseNode", value: await nodeMessage(spec.elseNode, ctx, entity, ids) };
  else if (spec.elseFail !== undefined)
    ifElse.default = {
      case: "error",
      value: create(ErrorSchema, { failedNodeId: spec.name, message: spec.elseFail }),
    };
  else
    throw new FlyteDefinitionError("BRANCH_NO_ELSE", `conditional "${spec.name}" has no else`, {
      entity,
      fix: "end it with .else().then(...) or .else().fail(message)",
    });
  return create(NodeSchema, {
    id: ids(node.id),
    metadata: nodeMetadata(node, spec.name, entity),
    inputs: await bindingsOf(values, types, entity, ids),
    upstreamNodeIds: upstreamIds(node, ids),
    target: { case: "branchNode", value: create(BranchNodeSchema, { ifElse }) },
  });
}

async function arrayNode(
  node: Node,
  map: MapTaskDef,
  ctx: GraphContext,
  entity: string,
  inputs: Binding[],
  ids: NodeIdMap,
): Promise<NodeMessage> {
  ctx.addMapTask(map);
  const name = mapTaskTemplateName(map);
  const sub = create(NodeSchema, {
    id: name,
    metadata: nodeMetadata(node, name, entity),
    inputs,
    target: {
      case: "taskNode",
      value: create(TaskNodeSchema, {
        reference: { case: "referenceId", value: identifier("task", name, ctx.settings) },
        overrides: taskNodeOverrides(node, map.task.name, ctx.settings),
      }),
    },
  });
  const array = create(ArrayNodeSchema, {
    node: sub,
    executionMode: ArrayNode_ExecutionMode.MINIMAL_STATE,
    isOriginalSubNodeInterface: false,
    dataMode: ArrayNode_DataMode.SINGLE_INPUT_FILE,
    boundInputs: [],
  });
  if (map.concurrency !== undefined)
    array.parallelismOption = { case: "parallelism", value: map.concurrency };
  if (map.minSuccesses !== undefined)
    array.successCriteria = { case: "minSuccesses", value: map.minSuccesses };
  else array.successCriteria = { case: "minSuccessRatio", value: map.minSuccessRatio ?? 1 };
  return create(NodeSchema, {
    id: ids(node.id),
    metadata: create(NodeMetadataSchema, { name: node.overrides.name ?? name, retries: retryStrategy(0) }),
    inputs,
    upstreamNodeIds: upstreamIds(node, ids),
    target: { case: "arrayNode", value: array },
  });
}

/** One node of a graph as flyteidl. */
async function nodeMessage(
  node: Node,
  ctx: GraphContext,
  entity: string,
  ids: NodeIdMap = SAME,
): Promise<NodeMessage> {
  const target = node.target;
  if (target.kind === "branch") return branchNode(node, target, ctx, entity, ids);
  const inputs = await bindingsOf(
    node.bindings,
    target.inputs,
    `${entity} node ${node.id} (${target.name})`,
    ids,
  );
  if (target.kind === "map") return arrayNode(node, target as MapTaskDef, ctx, entity, inputs, ids);
  const exportName = (target as { exportName?: string }).exportName;
  const base = {
    id: ids(node.id),
    metadata: nodeMetadata(node, displayName(target.name, exportName), entity),
    inputs,
    upstreamNodeIds: upstreamIds(node, ids),
  };
  switch (target.kind) {
    case "task": {
      ctx.addTask(target as BaseTask);
      return create(NodeSchema, {
        ...base,
        target: {
          case: "taskNode",
          value: create(TaskNodeSchema, {
            reference: { case: "referenceId", value: identifier("task", target.name, ctx.settings) },
            overrides: taskNodeOverrides(node, target.name, ctx.settings),
          }),
        },
      });
    }
    case "workflow": {
      await ctx.addSubWorkflow(target as WorkflowDef);
      return create(NodeSchema, {
        ...base,
        target: {
          case: "workflowNode",
          value: create(WorkflowNodeSchema, {
            reference: { case: "subWorkflowRef", value: identifier("workflow", target.name, ctx.settings) },
          }),
        },
      });
    }
    case "launchPlan": {
      const lp = target as LaunchPlanDef;
      return create(NodeSchema, {
        ...base,
        target: {
          case: "workflowNode",
          value: create(WorkflowNodeSchema, {
            reference: { case: "launchplanRef", value: identifier("launchPlan", lp.name, ctx.settings) },
          }),
        },
      });
    }
  }
}

async function failureNode(wf: WorkflowDef, ctx: GraphContext): Promise<NodeMessage | undefined> {
  const task = wf.onFailure;
  if (!task) return undefined;
  const values: Record<string, BindingValue> = {};
  const types: Schema = {};
  for (const [k, type] of Object.entries(task.inputs)) {
    const wfType = wf.inputs[k];
    if (wfType) {
      values[k] = { kind: "promise", promise: new FlytePromise(START_NODE, k, wfType) };
      types[k] = type;
    } else if (!type.optional) {
      throw new FlyteDefinitionError(
        "FAILURE_NODE_INPUT",
        `the onFailure task ${task.name} needs input "${k}", which the workflow does not have`,
        {
          entity: wf.name,
          fix: "give the onFailure task only inputs the workflow has (or optional ones)",
        },
      );
    }
  }
  ctx.addTask(task);
  return create(NodeSchema, {
    id: FAILURE_NODE_ID,
    metadata: create(NodeMetadataSchema, {
      name: displayName(task.name, task.exportName),
      retries: retryStrategy(0),
    }),
    inputs: await bindingsOf(values, types, `${wf.name} onFailure`),
    target: {
      case: "taskNode",
      value: create(TaskNodeSchema, {
        reference: { case: "referenceId", value: identifier("task", task.name, ctx.settings) },
        overrides: create(TaskNodeOverridesSchema, {}),
      }),
    },
  });
}

async function workflowTemplateIn(wf: WorkflowDef, ctx: GraphContext): Promise<WorkflowTemplate> {
  const nodes: NodeMessage[] = [];
  for (const n of wf.graph.nodes) nodes.push(await nodeMessage(n, ctx, wf.name));
  const template = create(WorkflowTemplateSchema, {
    id: identifier("workflow", wf.name, ctx.settings),
    metadata: create(WorkflowMetadataSchema, {
      onFailure:
        wf.failurePolicy === "afterExecutableNodes"
          ? WorkflowMetadata_OnFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
          : WorkflowMetadata_OnFailurePolicy.FAIL_IMMEDIATELY,
    }),
    interface: typedInterface(wf.inputs, wf.outputs),
    nodes,
    outputs: await bindingsOf(wf.graph.outputs, wf.outputs, `${wf.name} outputs`),
    metadataDefaults: create(WorkflowMetadataDefaultsSchema, {}),
  });
  const fn = await failureNode(wf, ctx);
  if (fn) template.failureNode = fn;
  return template;
}

/** The WorkflowTemplate of a workflow and the templates of every sub-workflow it calls (recursively, deduplicated). */
export async function workflowTemplates(
  wf: WorkflowDef,
  settings: SerializationSettingsLike,
): Promise<{ template: WorkflowTemplate; subWorkflows: WorkflowTemplate[] }> {
  const ctx = new GraphContext(settings, false);
  const template = await workflowTemplateIn(wf, ctx);
  const subWorkflows = [...ctx.subWorkflows.values()]
    .filter((s) => s.def !== wf)
    .map((s) => s.template as WorkflowTemplate);
  return { template, subWorkflows };
}

/** An `admin.WorkflowSpec` (what a package's `_2.pb` entries hold): the template plus all sub-workflows. */
export async function workflowSpec(
  wf: WorkflowDef,
  settings: SerializationSettingsLike,
): Promise<WorkflowSpec> {
  const { template, subWorkflows } = await workflowTemplates(wf, settings);
  const spec = create(WorkflowSpecSchema, { template, subWorkflows });
  if (wf.description)
    spec.description = create(DescriptionEntitySchema, { shortDescription: wf.description });
  return spec;
}

/**
 * The DynamicJobSpec of a graph a dynamic task built at run time (written to `futures.pb`):
 * its nodes, the outputs, and every task template and sub-workflow the nodes use. `outputs`
 * are the dynamic task's output types (needed when an output is a constant). The settings'
 * project, domain and version must be the running task's: propeller does not register these.
 */
export async function dynamicJobSpec(
  graph: DynamicGraph,
  settings: SerializationSettingsLike,
  outputs: Schema = {},
): Promise<DynamicJobSpec> {
  const ctx = new GraphContext(settings, true);
  const entity = "dynamic graph";
  // flytekit names the nodes of a dynamic graph dn0, dn1, ...
  const ids: NodeIdMap = (id) => `d${id}`;
  const nodes: NodeMessage[] = [];
  for (const n of graph.nodes) nodes.push(await nodeMessage(n, ctx, entity, ids));
  const outputTypes: Record<string, FlyteType<unknown>> = { ...outputs };
  for (const [k, b] of Object.entries(graph.outputs)) {
    if (outputTypes[k]) continue;
    if (b.kind !== "promise") {
      throw new FlyteDefinitionError(
        "DYNAMIC_OUTPUT_TYPE",
        `output "${k}" is a constant and its type is unknown`,
        { entity, fix: "pass the dynamic task's outputs schema to dynamicJobSpec()" },
      );
    }
    outputTypes[k] = b.promise.type as FlyteType<unknown>;
  }
  return create(DynamicJobSpecSchema, {
    nodes,
    minSuccesses: BigInt(nodes.length),
    outputs: await bindingsOf(graph.outputs, outputTypes, `${entity} outputs`, ids),
    tasks: [...ctx.tasks.values()],
    subworkflows: [...ctx.subWorkflows.values()].map((s) => s.template as WorkflowTemplate),
  });
}
