/** Nodes of a workflow graph, and the context in which workflow functions build them. */
import { FlyteDefinitionError } from "../errors.js";
import type { Schema } from "../types/literal-map.js";
import { type BindingValue, type BoolExpr, FlytePromise, NODE, promisesOf } from "./promise.js";
import type { Resources } from "./resources.js";

/** Per-call overrides of a task's settings (flytekit's `with_overrides`). */
export interface NodeOverrides {
  /** A display name for the node. */
  name?: string;
  retries?: number;
  /** Timeout in milliseconds or as text (`"1h"`). */
  timeout?: number | string;
  requests?: Resources;
  limits?: Resources;
  containerImage?: string;
  interruptible?: boolean;
  cache?: boolean;
}

/** Options of one call of a task, workflow or launch plan inside a workflow. */
export interface CallOptions extends NodeOverrides {
  /** Nodes that must finish before this one starts, without passing data. */
  after?: readonly Dependable[];
}

/** Anything that identifies a node: a promise, a call's outputs, a node handle. */
export type Dependable = FlytePromise<unknown> | NodeHandle | { readonly [NODE]: Node };

/** What a call of an entity with no outputs returns: a handle for ordering. */
export interface NodeHandle {
  readonly [NODE]: Node;
}

/** The entity kinds a node can run. Implemented in task.ts, workflow.ts, launch-plan.ts, map-task.ts. */
export interface NodeTarget {
  readonly kind: "task" | "workflow" | "launchPlan" | "map";
  readonly name: string;
  readonly inputs: Schema;
  readonly outputs: Schema;
}

/** One case of a branch node. */
export interface BranchCase {
  readonly condition: BoolExpr;
  readonly node: Node;
}

/** The body of a branch node. */
export interface BranchSpec {
  readonly kind: "branch";
  readonly name: string;
  readonly cases: readonly BranchCase[];
  readonly elseNode: Node | undefined;
  readonly elseFail: string | undefined;
  readonly outputs: Schema;
}

/** A node of a workflow graph. */
export class Node {
  /** Nodes that must run before this one (data and explicit dependencies). */
  readonly upstream = new Set<Node>();
  constructor(
    readonly id: string,
    readonly target: NodeTarget | BranchSpec,
    readonly bindings: Readonly<Record<string, BindingValue>>,
    readonly overrides: NodeOverrides,
  ) {
    for (const b of Object.values(bindings)) {
      for (const p of promisesOf(b)) {
        const n = p[NODE];
        if (n) this.upstream.add(n);
      }
    }
  }
  /** The outputs this node produces. */
  get outputs(): Schema {
    return this.target.outputs;
  }
  /** A promise of one of this node's outputs. */
  output(name: string): FlytePromise<unknown> {
    const type = this.outputs[name];
    if (!type)
      throw new FlyteDefinitionError("NODE_NO_OUTPUT", `node ${this.id} has no output "${name}"`, {
        entity: this.target.name,
      });
    return new FlytePromise(this.id, name, type, this);
  }
}

/** Collects the nodes a workflow function creates. */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  #next = 0;
  constructor(
    /** Entity being built, for error messages. */
    readonly entity: string,
    /** Prefix of node ids (nested builders for branches). */
    readonly idPrefix = "",
  ) {}
  /** The next node id: n0, n1, ... */
  nextId(): string {
    return `${this.idPrefix}n${this.#next++}`;
  }
  /** Adds a node. */
  add(node: Node): Node {
    this.nodes.push(node);
    return node;
  }
}

const stack: GraphBuilder[] = [];

/** The builder of the workflow function currently running, if any. */
export function currentBuilder(): GraphBuilder | undefined {
  return stack[stack.length - 1];
}

/** Runs `fn` with `builder` as the current one. */
export function withBuilder<R>(builder: GraphBuilder, fn: () => R): R {
  stack.push(builder);
  try {
    const r = fn();
    if (r instanceof Promise) {
      throw new FlyteDefinitionError(
        "WORKFLOW_ASYNC",
        "workflow functions must be synchronous: they describe a graph, they do not run it",
        {
          entity: builder.entity,
          fix: "remove `async` from the workflow function and do not await task calls inside it",
        },
      );
    }
    return r;
  } finally {
    stack.pop();
  }
}

/** Adds explicit ordering edges: `node` runs after every dependable. */
export function addUpstream(node: Node, after: readonly Dependable[] = []): void {
  for (const d of after) {
    const n = (d as { [NODE]?: Node })[NODE];
    if (!n) {
      throw new FlyteDefinitionError(
        "NODE_BAD_DEPENDENCY",
        "`after` takes the results of task, workflow or launch plan calls",
        {
          entity: node.target.name,
          fix: "pass what a call inside this workflow returned",
        },
      );
    }
    node.upstream.add(n);
  }
}

/** Marks an object (a call's outputs) with its node. */
export function withNode<T extends object>(obj: T, node: Node): T & { readonly [NODE]: Node } {
  Object.defineProperty(obj, NODE, { value: node, enumerable: false });
  return obj as T & { readonly [NODE]: Node };
}
