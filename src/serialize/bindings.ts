/**
 * Node inputs -> flyteidl `Binding`s: promises become OutputReferences, constants become
 * scalar literals (through the input type's `toLiteral`), lists and maps mixing both become
 * BindingDataCollection / BindingDataMap.
 */
import { create } from "@bufbuild/protobuf";
import { type BindingValue, type FlytePromise, START_NODE } from "../core/promise.js";
import { FlyteDefinitionError } from "../errors.js";
import {
  type Binding,
  type BindingData,
  BindingDataCollectionSchema,
  BindingDataMapSchema,
  BindingDataSchema,
  BindingSchema,
  type Literal,
} from "../proto/gen/flyteidl/core/literals_pb.js";
import { type OutputReference, OutputReferenceSchema } from "../proto/gen/flyteidl/core/types_pb.js";
import { ListType, MapType } from "../types/collections.js";
import type { FlyteType } from "../types/flyte-type.js";
import { CONSTANT_CONTEXT } from "./serialization-context.js";

/**
 * The node id written for a promise: flytekit writes the workflow's own inputs with an empty
 * node id, which propeller reads as `start-node`.
 */
export function wireNodeId(nodeId: string): string {
  return nodeId === START_NODE ? "" : nodeId;
}

/** Maps node ids of a graph to the ids written (dynamic job specs prefix them with `d`). */
export type NodeIdMap = (nodeId: string) => string;

const sameId: NodeIdMap = (id) => id;

/** An OutputReference to a promise. */
export function outputReference(p: FlytePromise<unknown>, ids: NodeIdMap = sameId): OutputReference {
  const id = wireNodeId(p.nodeId);
  return create(OutputReferenceSchema, { nodeId: id === "" ? "" : ids(id), var: p.variable });
}

/** A constant value as a literal of `type`. Literals that need I/O are awaited. */
export async function constantLiteral(
  type: FlyteType<unknown>,
  value: unknown,
  entity: string,
  key: string,
): Promise<Literal> {
  try {
    return await type.toLiteral(value as never, CONSTANT_CONTEXT);
  } catch (err) {
    throw new FlyteDefinitionError(
      "BINDING_BAD_VALUE",
      `input "${key}" (${type.name}) cannot be written as a literal: ${(err as Error).message}`,
      { entity, cause: err },
    );
  }
}

/** A literal as BindingData (scalars stay scalars; collections and maps are rebuilt as binding collections and maps). */
export function literalToBindingData(lit: Literal): BindingData {
  const v = lit.value;
  switch (v.case) {
    case "scalar":
      return create(BindingDataSchema, { value: { case: "scalar", value: v.value } });
    case "collection":
      return create(BindingDataSchema, {
        value: {
          case: "collection",
          value: create(BindingDataCollectionSchema, {
            bindings: v.value.literals.map(literalToBindingData),
          }),
        },
      });
    case "map":
      return create(BindingDataSchema, {
        value: {
          case: "map",
          value: create(BindingDataMapSchema, {
            bindings: Object.fromEntries(
              Object.entries(v.value.literals).map(([k, l]) => [k, literalToBindingData(l)]),
            ),
          }),
        },
      });
    default:
      throw new FlyteDefinitionError(
        "BINDING_UNSUPPORTED_LITERAL",
        `a ${v.case ?? "empty"} literal cannot be a constant binding`,
        { fix: "pass the value through a task output instead" },
      );
  }
}

function elementType(type: FlyteType<unknown>): FlyteType<unknown> | undefined {
  return type instanceof ListType ? (type.element as FlyteType<unknown>) : undefined;
}

function valueType(type: FlyteType<unknown>): FlyteType<unknown> | undefined {
  return type instanceof MapType ? (type.value as FlyteType<unknown>) : undefined;
}

/** BindingData for a binding value of `type`. */
export async function bindingData(
  b: BindingValue,
  type: FlyteType<unknown>,
  entity: string,
  key: string,
  ids: NodeIdMap = sameId,
): Promise<BindingData> {
  switch (b.kind) {
    case "promise":
      return create(BindingDataSchema, {
        value: { case: "promise", value: outputReference(b.promise, ids) },
      });
    case "value":
      return literalToBindingData(await constantLiteral(type, b.value, entity, key));
    case "list": {
      const el = elementType(type);
      if (!el)
        throw new FlyteDefinitionError(
          "BINDING_TYPE_MISMATCH",
          `input "${key}" (${type.name}) is bound to a list`,
          { entity },
        );
      const bindings = await Promise.all(
        b.items.map((item, i) => bindingData(item, el, entity, `${key}[${i}]`, ids)),
      );
      return create(BindingDataSchema, {
        value: { case: "collection", value: create(BindingDataCollectionSchema, { bindings }) },
      });
    }
    case "map": {
      const vt = valueType(type);
      if (!vt)
        throw new FlyteDefinitionError(
          "BINDING_TYPE_MISMATCH",
          `input "${key}" (${type.name}) is bound to a map`,
          { entity },
        );
      const out: Record<string, BindingData> = {};
      for (const [k, v] of Object.entries(b.entries))
        out[k] = await bindingData(v, vt, entity, `${key}.${k}`, ids);
      return create(BindingDataSchema, {
        value: { case: "map", value: create(BindingDataMapSchema, { bindings: out }) },
      });
    }
  }
}

/** The Binding of variable `name`. */
export async function binding(
  name: string,
  b: BindingValue,
  type: FlyteType<unknown>,
  entity: string,
  ids: NodeIdMap = sameId,
): Promise<Binding> {
  return create(BindingSchema, { var: name, binding: await bindingData(b, type, entity, name, ids) });
}

/** Bindings of a node or a workflow's outputs, sorted by variable name (as flytekit writes them). */
export async function bindingsOf(
  values: Readonly<Record<string, BindingValue>>,
  types: Readonly<Record<string, FlyteType<unknown>>>,
  entity: string,
  ids: NodeIdMap = sameId,
): Promise<Binding[]> {
  const out: Binding[] = [];
  for (const name of Object.keys(values).sort()) {
    const type = types[name];
    if (!type) throw new FlyteDefinitionError("BINDING_UNKNOWN", `no variable "${name}" to bind`, { entity });
    out.push(await binding(name, values[name] as BindingValue, type, entity, ids));
  }
  return out;
}
