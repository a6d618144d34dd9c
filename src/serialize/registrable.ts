/**
 * Everything that must be registered for a set of entities: the tasks, map sub-tasks,
 * sub-workflows, launch plans (and each workflow's default launch plan) they reach, in
 * dependency order (what an entity references comes before it), each name once.
 */

import type { Entity } from "../core/entity.js";
import { defaultLaunchPlan, LaunchPlanDef } from "../core/launch-plan.js";
import { MapTaskDef } from "../core/map-task.js";
import type { Node } from "../core/node.js";
import { BaseTask } from "../core/task.js";
import { WorkflowDef } from "../core/workflow.js";
import { FlyteDefinitionError } from "../errors.js";
import { mapTaskTemplateName } from "./task-template.js";

/** One registrable entity. `mapTask` is the task template an ArrayNode runs. */
export type Registrable =
  | { readonly kind: "task"; readonly name: string; readonly task: BaseTask }
  | { readonly kind: "mapTask"; readonly name: string; readonly map: MapTaskDef }
  | { readonly kind: "workflow"; readonly name: string; readonly workflow: WorkflowDef }
  | { readonly kind: "launchPlan"; readonly name: string; readonly launchPlan: LaunchPlanDef };

/** Options of {@link collectRegistrables}. */
export interface CollectOptions {
  /** Add each workflow's default launch plan (default true), as `pyflyte package` does. */
  defaultLaunchPlans?: boolean;
}

function describe(e: Entity): string {
  const where = e.sourceFile ? ` defined in ${e.sourceFile}` : "";
  const exp = e.exportName ? ` exported as ${e.exportName}` : "";
  return `${e.kind} "${e.name}"${where}${exp}`;
}

/** The Flyte namespace of a registrable: tasks, workflows and launch plans have separate names. */
function namespace(r: Registrable): string {
  return r.kind === "mapTask" ? "task" : r.kind;
}

function identity(r: Registrable): unknown {
  switch (r.kind) {
    case "task":
      return r.task;
    // Map tasks over the same task share one template (the name tells partial ones apart).
    case "mapTask":
      return r.map.task;
    case "workflow":
      return r.workflow;
    case "launchPlan":
      return r.launchPlan;
  }
}

function entityOf(r: Registrable): Entity {
  switch (r.kind) {
    case "task":
      return r.task;
    case "mapTask":
      return r.map;
    case "workflow":
      return r.workflow;
    case "launchPlan":
      return r.launchPlan;
  }
}

class Collector {
  readonly ordered: Registrable[] = [];
  readonly byKey = new Map<string, Registrable>();
  readonly visiting = new Set<unknown>();

  has(r: Registrable): boolean {
    const seen = this.byKey.get(`${namespace(r)}:${r.name}`);
    if (!seen) return false;
    if (identity(seen) !== identity(r)) {
      throw new FlyteDefinitionError(
        "ENTITY_NAME_CLASH",
        `two different entities have the same name: ${describe(entityOf(seen))} and ${describe(entityOf(r))}`,
        {
          entity: r.name,
          fix: "rename one of them (the `name` option, or export it under another name)",
        },
      );
    }
    return true;
  }

  push(r: Registrable): void {
    if (this.has(r)) return;
    const e = entityOf(r);
    if (r.kind !== "mapTask" && !(r.kind === "launchPlan" && r.launchPlan.isDefault) && !e.hasStableName) {
      throw new FlyteDefinitionError("ENTITY_NO_STABLE_NAME", `${describe(e)} has no stable name`, {
        entity: e.name,
        fix: "export it from the module being packaged, or give it a `name`",
      });
    }
    this.byKey.set(`${namespace(r)}:${r.name}`, r);
    this.ordered.push(r);
  }

  add(e: Entity): void {
    if (e instanceof MapTaskDef) {
      this.add(e.task);
      this.push({ kind: "mapTask", name: mapTaskTemplateName(e), map: e });
    } else if (e instanceof BaseTask) {
      this.push({ kind: "task", name: e.name, task: e });
    } else if (e instanceof WorkflowDef) {
      if (this.visiting.has(e)) return;
      this.visiting.add(e);
      for (const n of e.graph.nodes) this.addNode(n);
      if (e.onFailure) this.add(e.onFailure);
      this.push({ kind: "workflow", name: e.name, workflow: e as WorkflowDef });
    } else if (e instanceof LaunchPlanDef) {
      this.add(e.workflow as WorkflowDef);
      this.push({ kind: "launchPlan", name: e.name, launchPlan: e as LaunchPlanDef });
    } else {
      throw new FlyteDefinitionError("ENTITY_UNKNOWN_KIND", `cannot register ${describe(e)}`, {
        entity: e.name,
      });
    }
  }

  addNode(n: Node): void {
    const t = n.target;
    if (t.kind === "branch") {
      for (const c of t.cases) this.addNode(c.node);
      if (t.elseNode) this.addNode(t.elseNode);
      return;
    }
    this.add(t as unknown as Entity);
  }
}

/**
 * Everything reachable from `entities`, dependencies first, deduplicated by name. Two different
 * entities with one name is an error (`ENTITY_NAME_CLASH`) naming both.
 */
export function collectRegistrables(entities: Iterable<Entity>, options: CollectOptions = {}): Registrable[] {
  const c = new Collector();
  for (const e of entities) c.add(e);
  if (options.defaultLaunchPlans === false) return c.ordered;
  // Each workflow's default launch plan follows it, unless a launch plan already has its name.
  const out: Registrable[] = [];
  for (const r of c.ordered) {
    out.push(r);
    if (r.kind === "workflow" && !c.byKey.has(`launchPlan:${r.name}`)) {
      out.push({
        kind: "launchPlan",
        name: r.name,
        launchPlan: defaultLaunchPlan(r.workflow) as LaunchPlanDef,
      });
    }
  }
  return out;
}
