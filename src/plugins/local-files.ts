/**
 * Local files a pre-built task's template reads by itself, outside its inputs (e.g. the database
 * of a SQLite task named by a local path). Container-mode local runs mount them read-only at the
 * same path, so that a `file://` URI or a path means the same file inside as outside; on a
 * cluster such a path must exist in the image.
 */
import type { TaskTemplate } from "../proto/gen/flyteidl/core/tasks_pb.js";
import { CustomizedContainerTask } from "./customized-container-task.js";
import { SQLITE_TASK_TYPE, sqliteLocalFiles } from "./sqlite/task.js";

/**
 * The local files of a template: what its task (a `CustomizedContainerTask`) says, else, for a
 * template known only as a template (e.g. serialized by flytekit), what its task type reads
 * (`sqlite`: the database's local path).
 */
export function templateLocalFiles(template: TaskTemplate, task?: unknown): string[] {
  if (task instanceof CustomizedContainerTask) return task.localFiles(template);
  if (template.type === SQLITE_TASK_TYPE) return sqliteLocalFiles(template);
  return [];
}
