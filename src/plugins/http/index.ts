/** The HTTP plugin: `HttpRequestTask` and the executor the SDK's image runs it with. */
export { HttpRequestTaskExecutor, httpCustom } from "./executor.js";
export {
  HTTP_EXECUTOR_LOCATION,
  HTTP_TASK_TYPE,
  type HttpCustom,
  type HttpMethod,
  type HttpOutputs,
  HttpRequestTask,
  type HttpRequestTaskOptions,
  type HttpResponseKind,
} from "./task.js";
