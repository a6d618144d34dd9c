/** Authoring: tasks, workflows, conditions, map tasks, dynamic workflows, launch plans. */
export { task, FunctionTask, BaseTask, type Task, type TaskOptions, type TaskSettings, type TaskFunction, type TaskReturn, type ResolvedTaskSettings, type SecretRequest, type CacheOptions, asUserError } from "./task.js";
export { workflow, WorkflowDef, type Workflow, type WorkflowOptions, type WorkflowGraph, type InputPromises, type ReturnSpec, type WorkflowReturn } from "./workflow.js";
export { conditional, operandsOf } from "./condition.js";
export { mapTask, MapTaskDef, type MapTask, type MapTaskOptions } from "./map-task.js";
export { dynamic, DynamicTaskDef, type DynamicTask, type DynamicGraph } from "./dynamic.js";
export { launchPlan, defaultLaunchPlan, LaunchPlanDef, type LaunchPlan, type LaunchPlanOptions, cron, fixedRate, type Schedule, type Notification } from "./launch-plan.js";
export { Entity, type Bindings, type CallResult, type OutputSpec, nodeOf } from "./entity.js";
export { Node, type NodeOverrides, type CallOptions, type BranchSpec, type NodeTarget, type Dependable } from "./node.js";
export { FlytePromise, Condition, type BindingValue, type BoolExpr, type Operand, START_NODE, END_NODE, NODE } from "./promise.js";
export { type Resources } from "./resources.js";
export { type TaskContext, type ExecutionInfo, type Checkpoint, readSecret } from "./task-context.js";
export { loadModule, nameExports, findEntity, type LoadedModule } from "./loader.js";
