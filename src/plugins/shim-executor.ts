/**
 * `ShimTaskExecutor`: the logic of a pre-built container task. At run time only the task's
 * serialized `TaskTemplate` exists (no user function): the executor reads what it needs from
 * the template (`custom`, the interface, the security context) and turns the input
 * LiteralMap into the output LiteralMap. flytekit's class of the same name plays the same role.
 *
 * ```ts
 * export class EchoExecutor extends ShimTaskExecutor {
 *   async executeFromModel(template, inputs, ctx) {
 *     const { text } = await templateInputValues(template, inputs, ctx);
 *     return templateOutputLiterals(template, { echoed: text }, ctx);
 *   }
 * }
 * ```
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { brandClass } from "../brand.js";
import type { TaskContext } from "../core/task-context.js";
import { FlyteExecutionError } from "../errors.js";
import type { VariableMap } from "../proto/gen/flyteidl/core/interface_pb.js";
import type { TaskTemplate } from "../proto/gen/flyteidl/core/tasks_pb.js";
import { FlyteType, type TypeContext, typeError, typeForLiteralType } from "../types/flyte-type.js";
import { fromLiteralMap, type Schema, toLiteralMap } from "../types/literal-map.js";
import type { Literal, LiteralMap, LiteralType } from "../types/literals.js";

/** What an executor runs with: the task context and where data goes. */
export type ExecutorContext = TaskContext & TypeContext;

/**
 * The logic of a pre-built container task. Subclass it, implement `executeFromModel`, export the
 * class, and point the task's `executorLocation` at it (`"<module>:<ExportName>"`).
 * The class must have a constructor without arguments: the runtime creates it from its location.
 */
export abstract class ShimTaskExecutor {
  /**
   * Runs the task described by `template` on `inputs` and returns the outputs, one literal per
   * output of `template.interface`. This is the only code path of a pre-built task: in-process
   * local runs, container-mode runs and the cluster all call it with a serialized template.
   */
  abstract executeFromModel(
    template: TaskTemplate,
    inputs: LiteralMap,
    ctx: ExecutorContext,
  ): Promise<LiteralMap>;
}

brandClass(ShimTaskExecutor, "ShimTaskExecutor");

/** The template's `custom` struct (an empty object when absent). */
export function templateCustom(template: TaskTemplate): JsonObject {
  return template.custom ?? {};
}

/** The name of a template, for error messages. */
export function templateName(template: TaskTemplate): string {
  return template.id?.name || "task template";
}

/**
 * A type for literals no transformer reads (e.g. flytekit's legacy `schema`): literals pass
 * through unchanged; conversions to and from values fail.
 */
export class OpaqueLiteralType extends FlyteType<Literal> {
  readonly name: string;
  constructor(readonly type: LiteralType) {
    super();
    this.name = `literal(${type.type.case ?? "empty"})`;
  }
  protected makeLiteralType(): LiteralType {
    return this.type;
  }
  toLiteral(value: Literal): Literal {
    if (
      value &&
      typeof value === "object" &&
      (value as { $typeName?: string }).$typeName === "flyteidl.core.Literal"
    )
      return value;
    throw typeError(
      "TYPE_UNSUPPORTED",
      `${this.name} values can only be passed as literals`,
      value,
      "pass the Literal itself",
    );
  }
  fromLiteral(literal: Literal): Literal {
    return literal;
  }
  fromJson(json: unknown): Literal {
    throw typeError("TYPE_UNSUPPORTED", `${this.name} has no JSON form`, json, "pass the Literal itself");
  }
  toJson(value: Literal): unknown {
    return value;
  }
}

/**
 * Named types read from a VariableMap with the type engine (how a template's interface is typed
 * at run time). With `opaque`, types no transformer reads become {@link OpaqueLiteralType}.
 */
export function schemaOfVariables(
  variables: VariableMap | undefined,
  entity: string,
  options: { opaque?: boolean } = {},
): Schema {
  const out: Record<string, FlyteType<unknown>> = {};
  for (const [name, v] of Object.entries(variables?.variables ?? {})) {
    if (!v.type) {
      throw new FlyteExecutionError("TEMPLATE_VARIABLE_UNTYPED", `variable "${name}" has no type`, {
        entity,
        origin: "SYSTEM",
        fix: "serialize the task again; every variable of a TaskTemplate carries a LiteralType",
      });
    }
    try {
      out[name] = typeForLiteralType(v.type);
    } catch (err) {
      if (!options.opaque) throw err;
      out[name] = new OpaqueLiteralType(v.type) as FlyteType<unknown>;
    }
  }
  return out;
}

/**
 * The input values of a template, read with the types of its interface (INTEGER as bigint,
 * FLOAT as number, dataframes as StructuredDataset, ...), as flytekit guesses Python types.
 */
export function templateInputValues(
  template: TaskTemplate,
  inputs: LiteralMap,
  ctx: TypeContext,
): Promise<Record<string, unknown>> {
  const name = templateName(template);
  return fromLiteralMap(schemaOfVariables(template.interface?.inputs, name), inputs, ctx, name, "input");
}

/** Output values to the LiteralMap of a template's outputs (every output must be given). */
export function templateOutputLiterals(
  template: TaskTemplate,
  values: Record<string, unknown>,
  ctx: TypeContext,
): Promise<LiteralMap> {
  const name = templateName(template);
  return toLiteralMap(schemaOfVariables(template.interface?.outputs, name), values, ctx, name, "output");
}
