/**
 * Tasks of other SDKs in TypeScript workflows: a task known by the TaskTemplate its own SDK
 * serialized (e.g. a flytekit task from `pyflyte package`), with the TypeScript types of its
 * inputs and outputs so that workflows wire it like any task. In container mode it runs exactly
 * that template (its image, `pyflyte-execute ...` args, env, resources), with its source folder
 * mounted at the image's working directory. In-process runs run that command on this machine
 * (see host-run.ts), when its program is installed here.
 *
 * ```ts
 * const [template] = await taskTemplatesFromPackage("py/flyte-package.tgz", "stats.summarize");
 * export const summarize = foreignTask({
 *   template, sourceDir: "py", inputs: { n: t.int() }, outputs: { o0: t.int() },
 * });
 * ```
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { create, fromBinary, type JsonObject } from "@bufbuild/protobuf";
import { type Bindings, brandClass, type CallResult, makeCallable } from "../../core/entity.js";
import type { CallOptions } from "../../core/node.js";
import { BaseTask } from "../../core/task.js";
import { FlyteDefinitionError } from "../../errors.js";
import type { ExecutorContext } from "../../plugins/shim-executor.js";
import { TaskSpecSchema } from "../../proto/gen/flyteidl/admin/task_pb.js";
import {
  type Container,
  ContainerSchema,
  type TaskTemplate,
  TaskTemplateSchema,
} from "../../proto/gen/flyteidl/core/tasks_pb.js";
import type { SerializationSettingsLike } from "../../serialize/serialization-context.js";
import { explainMismatch } from "../../types/compatibility.js";
import { type Schema, variableMap } from "../../types/literal-map.js";
import type { LiteralMap } from "../../types/literals.js";
import { runTemplateOnHost } from "./host-run.js";

/** Options of {@link foreignTask}. */
export interface ForeignTaskOptions<I extends Schema, O extends Schema> {
  /** The template its SDK serialized. */
  template: TaskTemplate;
  /** The inputs as TypeScript sees them; must match the template's interface. */
  inputs: I;
  /** The outputs as TypeScript sees them (named like the template's: `o0`, `o1`, ...). */
  outputs: O;
  /** Host folder with the task's code, mounted read-only at the image's working directory. */
  sourceDir?: string;
  /** Replaces the template's image. */
  image?: string;
}

/** A task of another SDK, known by its serialized template. */
export class ForeignTask<I extends Schema = Schema, O extends Schema = Schema> extends BaseTask<I, O> {
  readonly taskType: string;
  /** The template (with the image replaced when asked). */
  readonly template: TaskTemplate;
  /** Host folder with the task's code, if any. */
  readonly sourceDir: string | undefined;

  constructor(options: ForeignTaskOptions<I, O>) {
    const name = options.template.id?.name;
    if (!name || options.template.target.case !== "container") {
      throw new FlyteDefinitionError(
        "FOREIGN_TEMPLATE_INVALID",
        `the template ${name ? `"${name}" ` : ""}has ${name ? "no container" : "no name"}`,
        {
          entity: name ?? "foreignTask",
          fix: "pass a container task's TaskTemplate, e.g. from pyflyte package",
        },
      );
    }
    super({ inputs: options.inputs, outputs: options.outputs, name });
    const template = { ...options.template } as TaskTemplate;
    if (options.image) {
      template.target = {
        case: "container",
        value: create(ContainerSchema, { ...options.template.target.value, image: options.image }),
      };
    }
    checkInterface(template, options.inputs, options.outputs, name);
    this.taskType = template.type;
    this.template = template;
    this.sourceDir = options.sourceDir === undefined ? undefined : resolve(options.sourceDir);
    // biome-ignore lint/correctness/noConstructorReturn: callable inside workflows, as task() is
    return makeCallable(this);
  }

  /** The template's container, so packages carry what its SDK wrote. */
  serializeContainer(_settings: SerializationSettingsLike): Container {
    return (this.template.target as { value: Container }).value;
  }

  /** The template's `custom`. */
  getCustom(_settings: SerializationSettingsLike): JsonObject | undefined {
    return this.template.custom;
  }

  /** The template's `config`. */
  getConfig(_settings: SerializationSettingsLike): Record<string, string> | undefined {
    return { ...this.template.config };
  }

  /** The template's `task_type_version`. */
  get taskTypeVersion(): number {
    return this.template.taskTypeVersion;
  }

  /**
   * In-process runs: the template's command runs on this machine (its SDK installed here, e.g.
   * `pyflyte-execute` on PATH) in `sourceDir`; without it, `FOREIGN_TASK_IN_PROCESS` says to
   * install it or to run in containers.
   */
  executeLiterals(inputs: LiteralMap, ctx: ExecutorContext): Promise<LiteralMap> {
    return runTemplateOnHost(this.template, inputs, ctx, { cwd: this.sourceDir });
  }
}
brandClass(ForeignTask, "ForeignTask");

/** A foreign task as users hold it: callable inside workflows. */
export type ForeignTaskCallable<I extends Schema, O extends Schema> = ForeignTask<I, O> &
  ((bindings: Bindings<I>, options?: CallOptions) => CallResult<O>);

/** Defines a task of another SDK (e.g. a flytekit Python task) from its serialized template. */
export function foreignTask<const I extends Schema, const O extends Schema>(
  options: ForeignTaskOptions<I, O>,
): ForeignTaskCallable<I, O> {
  return new ForeignTask(options) as ForeignTaskCallable<I, O>;
}

function checkInterface(template: TaskTemplate, inputs: Schema, outputs: Schema, name: string): void {
  const problems: string[] = [];
  const compare = (side: "input" | "output", schema: Schema, vars: TaskTemplate["interface"]) => {
    const declared = (side === "input" ? vars?.inputs : vars?.outputs)?.variables ?? {};
    const ours = variableMap(schema).variables;
    for (const k of Object.keys(declared))
      if (!(k in ours)) problems.push(`the template has ${side} "${k}", the TypeScript ${side}s do not`);
    for (const [k, v] of Object.entries(ours)) {
      const theirs = declared[k]?.type;
      if (!theirs) {
        problems.push(`${side} "${k}" is not in the template`);
        continue;
      }
      // Data flows from TypeScript into inputs and from the task out of outputs.
      const why = side === "input" ? explainMismatch(v.type!, theirs) : explainMismatch(theirs, v.type!);
      if (why) problems.push(`${side} "${k}": ${why}`);
    }
  };
  compare("input", inputs, template.interface);
  compare("output", outputs, template.interface);
  if (problems.length > 0) {
    throw new FlyteDefinitionError("FOREIGN_INTERFACE_MISMATCH", problems.join("; "), {
      entity: name,
      fix: "declare inputs and outputs whose types match the template's interface",
    });
  }
}

/**
 * The task templates in a package (`pyflyte package`, `tsflyte package`): every `_1.pb` entry's
 * template, or only those whose name is in `names`, in package order.
 */
export async function taskTemplatesFromPackage(path: string, ...names: string[]): Promise<TaskTemplate[]> {
  const found: { file: string; template: TaskTemplate }[] = [];
  const pending: Promise<void>[] = [];
  const { list } = await import("tar");
  await list({
    file: path,
    onReadEntry: (entry) => {
      if (!/_1\.pb$/.test(entry.path)) {
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      pending.push(
        new Promise<void>((done, fail) => {
          entry.on("data", (c: Buffer) => chunks.push(c));
          entry.on("end", () => {
            try {
              const spec = fromBinary(TaskSpecSchema, Buffer.concat(chunks));
              if (spec.template) found.push({ file: entry.path, template: spec.template });
              done();
            } catch (err) {
              fail(err);
            }
          });
        }),
      );
    },
  });
  await Promise.all(pending);
  const all = found.sort((a, b) => (a.file < b.file ? -1 : 1)).map((f) => f.template);
  if (names.length === 0) return all;
  return names.map((n) => {
    const t = all.find((x) => x.id?.name === n);
    if (!t) {
      throw new FlyteDefinitionError("FOREIGN_TEMPLATE_NOT_FOUND", `no task "${n}" in ${path}`, {
        entity: n,
        fix: `pick one of ${all.map((x) => x.id?.name).join(", ") || "(no tasks)"}`,
      });
    }
    return t;
  });
}

/** A TaskTemplate from a `.pb` file holding a TaskTemplate or an `admin.TaskSpec`. */
export function taskTemplateFromFile(path: string): TaskTemplate {
  const bytes = readFileSync(path);
  const spec = fromBinary(TaskSpecSchema, bytes);
  if (spec.template?.id?.name) return spec.template;
  return fromBinary(TaskTemplateSchema, bytes);
}
