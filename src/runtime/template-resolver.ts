/**
 * The `template` resolver: runs pre-built container tasks from their serialized template.
 *
 *   tsflyte-execute ... --resolver template -- <task template path or URI> <executor location>
 *
 * Loads the `TaskTemplate` protobuf propeller wrote to `{{.taskTemplatePath}}` (a local path,
 * `file://` or a storage URI such as `s3://`), loads the executor from its location
 * (`"<module>:<ExportName>"`, see src/plugins/executor-location.ts) and returns a task whose
 * `executeLiterals` calls `executor.executeFromModel(template, inputs, ctx)`.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { FlyteError, FlyteExecutionError } from "../errors.js";
import { TEMPLATE_RESOLVER, TemplateShimTask } from "../plugins/customized-container-task.js";
import { loadExecutor } from "../plugins/executor-location.js";
import { type TaskTemplate, TaskTemplateSchema } from "../proto/gen/flyteidl/core/tasks_pb.js";
import { schemeOf, storage } from "../storage/storage.js";
import { registerResolver, type TaskResolver } from "./resolvers.js";

/** Reads a TaskTemplate from a local path or storage URI. */
export async function readTaskTemplate(uri: string): Promise<TaskTemplate> {
  if (schemeOf(uri) === "s3") await import("../storage/s3.js");
  let bytes: Uint8Array;
  try {
    bytes = await storage.get(uri);
  } catch (err) {
    throw new FlyteExecutionError(
      "TEMPLATE_UNREADABLE",
      `cannot read the task template: ${(err as Error).message}`,
      { entity: uri, origin: "SYSTEM", recoverable: true, cause: err },
    );
  }
  try {
    return fromBinary(TaskTemplateSchema, bytes);
  } catch (err) {
    throw new FlyteExecutionError(
      "TEMPLATE_CORRUPT",
      `the file is not a TaskTemplate protobuf (${bytes.length} bytes): ${(err as Error).message}`,
      {
        entity: uri,
        origin: "SYSTEM",
        fix: "pass the path propeller writes to {{.taskTemplatePath}} (a serialized flyteidl.core.TaskTemplate)",
        cause: err,
      },
    );
  }
}

/** `template -- <template uri> <executor location>`: the pre-built task of a template. */
export const templateResolver: TaskResolver = async (args) => {
  const [uri, location] = args;
  if (args.length !== 2 || !uri || !location) {
    throw new FlyteExecutionError(
      "RESOLVER_ARGS",
      `the template resolver expects "<task template path> <executor location>", got ${JSON.stringify(args)}`,
      {
        origin: "SYSTEM",
        fix: "serialize the task again; its args end with {{.taskTemplatePath}} <executor>",
      },
    );
  }
  const [template, executor] = await Promise.all([
    readTaskTemplate(uri),
    loadExecutor(location).catch((err: unknown) => {
      if (err instanceof FlyteError) throw err;
      // The executor's module threw while being imported.
      throw new FlyteExecutionError(
        "EXECUTOR_IMPORT",
        `importing the executor ${location} failed: ${(err as Error).message}`,
        { entity: location, origin: "USER", cause: err },
      );
    }),
  ]);
  return new TemplateShimTask(template, executor);
};

registerResolver(TEMPLATE_RESOLVER, templateResolver);
