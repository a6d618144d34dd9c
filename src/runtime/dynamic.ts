/**
 * Dynamic tasks inside a container: the graph the function builds becomes a DynamicJobSpec in
 * `futures.pb`, serialized with the settings the package carried in `_F_SS_C` and the running
 * task's project, domain and version.
 */
import { toBinary } from "@bufbuild/protobuf";
import { FlyteExecutionError } from "../errors.js";
import { DynamicJobSpecSchema } from "../proto/gen/flyteidl/core/dynamic_job_pb.js";
import { dynamicJobSpec } from "../serialize/entities.js";
import { SerializationSettings } from "../serialize/settings.js";
import { setDynamicSpecWriter } from "./execute.js";

setDynamicSpecWriter(async (task, graph) => {
  const fromEnv = SerializationSettings.fromEnvironment(process.env);
  if (!fromEnv) {
    throw new FlyteExecutionError(
      "DYNAMIC_NO_SETTINGS",
      "the task's environment has no _F_SS_C serialization context",
      {
        entity: task.name,
        origin: "SYSTEM",
        fix: "package the dynamic task with tsflyte package, which sets _F_SS_C in its environment",
      },
    );
  }
  const env = process.env;
  const b = fromEnv.newBuilder();
  if (env.FLYTE_INTERNAL_TASK_PROJECT) b.project(env.FLYTE_INTERNAL_TASK_PROJECT);
  if (env.FLYTE_INTERNAL_TASK_DOMAIN) b.domain(env.FLYTE_INTERNAL_TASK_DOMAIN);
  if (env.FLYTE_INTERNAL_TASK_VERSION) b.version(env.FLYTE_INTERNAL_TASK_VERSION);
  const spec = await dynamicJobSpec(graph, b.build(), task.outputs);
  return toBinary(DynamicJobSpecSchema, spec);
});
