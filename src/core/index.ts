/** Authoring: tasks, workflows, conditions, map tasks, dynamic workflows, launch plans. */

export { conditional, operandsOf } from "./condition.js";
export { type DynamicGraph, type DynamicTask, DynamicTaskDef, dynamic } from "./dynamic.js";
export { type Bindings, type CallResult, Entity, nodeOf, type OutputSpec } from "./entity.js";
export { type EnvironmentSettings, environment, environmentOf, TaskEnvironment } from "./environment.js";
export {
  cron,
  defaultLaunchPlan,
  fixedRate,
  type LaunchPlan,
  LaunchPlanDef,
  type LaunchPlanOptions,
  launchPlan,
  type Notification,
  type Schedule,
} from "./launch-plan.js";
export { findEntity, type LoadedModule, loadModule, nameExports } from "./loader.js";
export { type MapTask, MapTaskDef, type MapTaskOptions, mapTask } from "./map-task.js";
export {
  type BranchSpec,
  type CallOptions,
  type Dependable,
  Node,
  type NodeOverrides,
  type NodeTarget,
} from "./node.js";
export {
  type Bindable,
  type BindingValue,
  type BoolExpr,
  Condition,
  END_NODE,
  FlytePromise,
  NODE,
  type Operand,
  START_NODE,
} from "./promise.js";
export type { Resources } from "./resources.js";
export {
  asUserError,
  BaseTask,
  type CacheOptions,
  FunctionTask,
  type ResolvedTaskSettings,
  type SecretRequest,
  type Task,
  type TaskFunction,
  type TaskOptions,
  type TaskReturn,
  type TaskSettings,
  task,
} from "./task.js";
export { type Checkpoint, type ExecutionInfo, readSecret, type TaskContext } from "./task-context.js";
export {
  type InputPromises,
  type ReturnSpec,
  type Workflow,
  WorkflowDef,
  type WorkflowGraph,
  type WorkflowOptions,
  type WorkflowReturn,
  workflow,
} from "./workflow.js";
