/**
 * What tasks, workflows and launch plans share: a stable name, a typed interface, and being
 * callable inside a workflow function to create a node.
 */
import { relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { brandClass } from "../brand.js";
import { describeValue, FlyteDefinitionError } from "../errors.js";
import { isAssignable } from "../types/compatibility.js";
import type { FlyteType, ValueOf } from "../types/flyte-type.js";
import type { Schema } from "../types/literal-map.js";
import {
  addUpstream,
  type CallOptions,
  currentBuilder,
  type GraphBuilder,
  Node,
  type NodeHandle,
  type NodeTarget,
  withNode,
} from "./node.js";
import { type Bindable, type BindingValue, type FlytePromise, NODE, toBinding } from "./promise.js";

/** Outputs declared as one type (output `o0`), as named types, or not at all. */
export type OutputSpec = FlyteType<unknown> | Schema | undefined;

/** The schema of an output spec. */
export type OutputSchema<O extends OutputSpec> =
  O extends FlyteType<unknown> ? { o0: O } : O extends Schema ? O : {};

/** Normalises an output spec to a schema. */
export function outputSchema(spec: OutputSpec): Schema {
  if (spec === undefined) return {};
  if (isFlyteType(spec)) return { o0: spec };
  return spec;
}

/** Whether a value is a FlyteType (and not a schema object). */
export function isFlyteType(x: unknown): x is FlyteType<unknown> {
  return !!x && typeof x === "object" && "literalType" in x && "toLiteral" in x;
}

type NullableKeys<S extends Schema> = { [K in keyof S]: null extends ValueOf<S[K]> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The bindings a call takes: each input as a value or a promise; optional inputs may be left out. */
export type Bindings<I extends Schema> = Simplify<
  { [K in Exclude<keyof I, NullableKeys<I>>]: Bindable<ValueOf<I[K]>> } & {
    [K in NullableKeys<I>]?: Bindable<ValueOf<I[K]>>;
  }
>;

/** What a call returns: a promise for a single output, an object of promises, or a handle. */
export type CallResult<O extends OutputSpec> =
  O extends FlyteType<infer T>
    ? FlytePromise<T>
    : O extends Schema
      ? keyof O extends never
        ? NodeHandle
        : { readonly [K in keyof O]: FlytePromise<ValueOf<O[K]>> } & NodeHandle
      : NodeHandle;

// ---- naming ----

let anonymous = 0;

/**
 * The user's module file in a captured stack: the first frame outside the SDK's core and plugins
 * and outside `node_modules`. `captured` is an `Error` made where the entity was defined; its
 * stack is formatted (with source maps, which is the costly part) only here, on first need.
 */
function callerFile(captured: Error): string | undefined {
  const stack = captured.stack?.split("\n") ?? [];
  for (const line of stack.slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1]!.startsWith("file://") ? fileURLToPath(m[1]!) : m[1]!;
    if (
      file.includes(`${sep}src${sep}core${sep}`) ||
      file.includes(`${sep}dist${sep}core${sep}`) ||
      file.includes(`${sep}src${sep}plugins${sep}`) ||
      file.includes(`${sep}dist${sep}plugins${sep}`) ||
      file.includes("node_modules")
    )
      continue;
    return file;
  }
  return undefined;
}

/** The module name of a file relative to a source root: `examples/hello-world.ts` -> `examples.hello-world`. */
export function moduleName(file: string, sourceRoot: string): string {
  return relative(sourceRoot, file)
    .replace(/\.(m|c)?(t|j)sx?$/, "")
    .split(sep)
    .join(".");
}

const NAME_RE = /^[A-Za-z0-9_.-]+$/;

/**
 * Base of tasks, workflows and launch plans. `D` names the inputs that have default values (they
 * may be left out of local runs).
 */
export abstract class Entity<
  I extends Schema = Schema,
  O extends OutputSpec = OutputSpec,
  D extends keyof I = keyof I,
> implements NodeTarget
{
  /** @internal Phantom: the inputs with defaults. */
  declare readonly __defaults: D;
  /** @internal Phantom: the output spec (for inference). */
  declare readonly __outputs: O;
  abstract readonly kind: "task" | "workflow" | "launchPlan" | "map";
  /** The input types. */
  readonly inputs: I;
  /** @internal */
  protected outputSchemaValue: OutputSchema<O>;
  /** @internal */
  protected singleOutputValue: boolean;
  /** @internal Made where the entity was defined; its stack names the file (see `sourceFile`). */
  protected readonly definedAt: Error;
  /** @internal The working directory when the entity was defined (for the fallback name). */
  protected readonly definedIn: string;
  /** @internal `sourceFile` once computed (`null`: not yet). */
  protected sourceFileCache: string | undefined | null = null;
  /** The export name under which the module exposes it, once known. */
  exportName: string | undefined;
  /** The module (relative path without extension, dot-separated), once known. */
  module: string | undefined;
  /** @internal */
  protected readonly explicitName: string | undefined;
  /** @internal The number in the fallback name `<module>.entity-<n>`. */
  protected readonly anonymousIndex: number;

  constructor(inputs: I, outputs: O, name: string | undefined) {
    this.inputs = inputs;
    this.outputSchemaValue = outputSchema(outputs) as OutputSchema<O>;
    this.singleOutputValue = isFlyteType(outputs);
    // Only the stack is captured here: formatting it costs more than the rest of the
    // constructor, and it is rarely needed (the module loader names exported entities).
    this.definedAt = new Error();
    this.definedIn = process.cwd();
    if (name !== undefined && !NAME_RE.test(name)) {
      throw new FlyteDefinitionError(
        "NAME_INVALID",
        `name ${describeValue(name)} has characters Flyte does not allow`,
        { fix: "use letters, digits, '_', '-' and '.'" },
      );
    }
    this.explicitName = name;
    this.anonymousIndex = anonymous++;
  }

  /** The file that defined this entity (from the stack of its definition, read on first use). */
  get sourceFile(): string | undefined {
    if (this.sourceFileCache === null) this.sourceFileCache = callerFile(this.definedAt);
    return this.sourceFileCache;
  }

  /** The name of an entity without an explicit name that no module loader has named. */
  protected get fallbackName(): string {
    const file = this.sourceFile;
    return `${file ? moduleName(file, this.definedIn) : "anonymous"}.entity-${this.anonymousIndex}`;
  }

  /** The output types (a single output is named `o0`). */
  get outputs(): OutputSchema<O> {
    return this.outputSchemaValue;
  }

  /** True when outputs were declared as a single type (output `o0`). */
  get singleOutput(): boolean {
    return this.singleOutputValue;
  }

  /** The Flyte name: explicit, or `<module>.<exportName>`. */
  get name(): string {
    if (this.explicitName) return this.explicitName;
    if (this.module && this.exportName) return `${this.module}.${this.exportName}`;
    return this.fallbackName;
  }

  /** Whether the name was given explicitly or derived from the module and export name. */
  get hasStableName(): boolean {
    return this.explicitName !== undefined || (this.module !== undefined && this.exportName !== undefined);
  }

  /** @internal Records the module and export name (done by the module loader). */
  assignName(module: string, exportName: string): void {
    if (this.exportName === undefined) {
      this.module = module;
      this.exportName = exportName;
    }
  }

  /** Inputs a call may leave out because the entity has a value for them (launch plans). */
  protected inputsWithDefaults(): ReadonlySet<string> {
    return new Set();
  }

  /** Creates a node calling this entity in the workflow being built. */
  protected addNode(bindings: Record<string, unknown>, options: CallOptions = {}): CallResult<O> {
    const builder = currentBuilder();
    if (!builder) {
      throw new FlyteDefinitionError(
        "CALL_OUTSIDE_WORKFLOW",
        `${this.kind} called outside a workflow function`,
        {
          entity: this.name,
          fix: `call it inside workflow(...) to add a node, or use \`await ${this.exportName ?? "entity"}.run({...})\` to run it locally`,
        },
      );
    }
    const node = builder.add(
      new Node(
        builder.nextId(),
        this,
        bindInputs(this, bindings ?? {}, builder, this.inputsWithDefaults()),
        overridesOf(options),
      ),
    );
    addUpstream(node, options.after);
    return callResult(node, this.singleOutput) as CallResult<O>;
  }
}

function overridesOf(options: CallOptions): CallOptions {
  const { after: _after, ...rest } = options;
  return rest;
}

/** The result object of a call: a single promise, an object of promises, or a handle. */
export function callResult(node: Node, single: boolean): unknown {
  const names = Object.keys(node.outputs);
  if (single) return node.output("o0");
  const out: Record<string, FlytePromise<unknown>> = {};
  for (const n of names) out[n] = node.output(n);
  return withNode(out, node);
}

/** Validates call bindings against an interface and converts them. */
export function bindInputs(
  target: NodeTarget,
  given: Record<string, unknown>,
  builder: GraphBuilder,
  defaulted: ReadonlySet<string> = new Set(),
): Record<string, BindingValue> {
  const out: Record<string, BindingValue> = {};
  // Named only for errors: the target's name may need its definition's stack (see `sourceFile`).
  const where = () => `${builder.entity} -> ${target.name}`;
  for (const [k, type] of Object.entries(target.inputs)) {
    const v = given[k];
    if (v === undefined) {
      if (type.optional || defaulted.has(k)) continue;
      throw new FlyteDefinitionError("BINDING_MISSING", `input "${k}" (${type.name}) is not bound`, {
        entity: where(),
        fix: `pass "${k}" in the call`,
      });
    }
    const b = toBinding(v);
    checkBinding(b, type, where, k);
    out[k] = b;
  }
  for (const k of Object.keys(given)) {
    if (!(k in target.inputs)) {
      throw new FlyteDefinitionError("BINDING_UNKNOWN", `${target.name} has no input "${k}"`, {
        entity: builder.entity,
        fix: `its inputs are: ${Object.keys(target.inputs).join(", ") || "(none)"}`,
      });
    }
  }
  return out;
}

/**
 * Checks a binding's type against the input's type (propeller's rules), or its value by
 * converting it. `entity` names the call in errors (a function is called only on error).
 */
export function checkBinding(
  b: BindingValue,
  type: FlyteType<unknown>,
  entity: string | (() => string),
  key: string,
): void {
  const named = () => (typeof entity === "function" ? entity() : entity);
  if (b.kind === "promise") {
    if (!isAssignable(b.promise.type.literalType, type.literalType)) {
      throw new FlyteDefinitionError(
        "BINDING_TYPE_MISMATCH",
        `input "${key}" expects ${type.name} but is bound to ${b.promise.nodeId}.${b.promise.variable} of type ${b.promise.type.name}`,
        {
          entity: named(),
          fix: "bind an output of the matching type, or convert it in a task",
        },
      );
    }
    return;
  }
  if (b.kind === "value") {
    try {
      type.toJson(type.fromJson(type.toJson(b.value as never)) as never);
    } catch (err) {
      throw new FlyteDefinitionError(
        "BINDING_BAD_VALUE",
        `input "${key}" (${type.name}) got ${describeValue(b.value)}: ${(err as Error).message}`,
        { entity: named(), cause: err },
      );
    }
  }
}

/** A workflow-level reference: the node an object was produced by. */
export function nodeOf(x: unknown): Node | undefined {
  return (x as { [NODE]?: Node } | undefined)?.[NODE];
}

/**
 * Turns an entity instance into a function that, called inside a workflow, adds a node. The
 * function has the entity's prototype and properties, so it is the entity.
 */
export function makeCallable<E extends object, F>(instance: E): E & F {
  const f = function (this: unknown, bindings: Record<string, unknown>, options?: CallOptions) {
    return (f as unknown as { addNode(b: Record<string, unknown>, o?: CallOptions): unknown }).addNode(
      bindings,
      options,
    );
  };
  // Functions own `name` and `length`; the entity's `name` getter must win.
  delete (f as { name?: string }).name;
  delete (f as { length?: number }).length;
  Object.setPrototypeOf(f, Object.getPrototypeOf(instance));
  Object.defineProperties(f, Object.getOwnPropertyDescriptors(instance));
  return f as unknown as E & F;
}

brandClass(Entity, "Entity");

export { brandClass };
