/** The SQLite plugin: `SQLite3Task` and the executor the SDK's image runs it with. */
export { fetchDatabase, runQuery, sqliteEngine } from "./database.js";
export { RESULTS_OUTPUT, type SQLite3Custom, SQLite3TaskExecutor, sqliteCustom } from "./executor.js";
export {
  bindParameters,
  type CompiledQuery,
  compileQuery,
  normalizeQueryTemplate,
  type QueryParameter,
  type SqlValue,
} from "./query.js";
export {
  SQLITE_EXECUTOR_LOCATION,
  SQLITE_TASK_TYPE,
  type SQLite3Config,
  SQLite3Task,
  type SQLite3TaskOptions,
  sqliteLocalFiles,
} from "./task.js";
