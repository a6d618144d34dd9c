/**
 * `HttpRequestTask`: one HTTP request, run by the SDK's pre-built image (no user code at run
 * time). A second pre-built task type next to SQLite3Task, and the worked example of
 * docs/prebuilt-container-tasks.md.
 *
 * ```ts
 * export const getUser = new HttpRequestTask({
 *   name: "get_user",
 *   url: "https://api.example.com/users/{{.inputs.id}}?fields={{.inputs.fields}}",
 *   inputs: { id: t.int(), fields: t.string() },
 *   response: "json",
 *   auth: { secret: { group: "example-api", key: "token" } },
 * });
 * // outputs: status (int), body (JSON object for "json", text for "text"), headers (map of strings)
 * ```
 *
 * Inputs never change the request's structure: in the URL they are percent-encoded into the
 * path or query (never the scheme or host); in `jsonBody` a string that is exactly
 * `"{{.inputs.x}}"` becomes the input's JSON value and other placeholders its text, inside a
 * JSON string; in header values they are text (line breaks rejected).
 */
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { brandClass } from "../../core/entity.js";
import type { TaskSettings } from "../../core/task.js";
import { describeValue, FlyteDefinitionError } from "../../errors.js";
import { t } from "../../types/index.js";
import type { Schema } from "../../types/literal-map.js";
import { CustomizedContainerTask } from "../customized-container-task.js";
import { checkPlaceholderNames } from "../input-placeholders.js";

/** The Flyte task type of HttpRequestTask. */
export const HTTP_TASK_TYPE = "http-request";

/** Where the runtime finds the executor of HttpRequestTask. */
export const HTTP_EXECUTOR_LOCATION = "flytekit-ts/plugins/http:HttpRequestTaskExecutor";

/** HTTP methods an HttpRequestTask may use. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";

/** How the response body is returned: `text` (a string) or `json` (a JSON object). */
export type HttpResponseKind = "text" | "json";

/** Options of an HttpRequestTask. */
export interface HttpRequestTaskOptions<I extends Schema, R extends HttpResponseKind> extends TaskSettings {
  /** `GET` by default. */
  method?: HttpMethod;
  /** An `http(s)://` URL; `{{.inputs.<name>}}` may stand in the path and the query. */
  url: string;
  /** Request headers; `{{.inputs.<name>}}` may stand in values. */
  headers?: Record<string, string>;
  /** A JSON body (sent with `content-type: application/json`); see the module's notes for placeholders. */
  jsonBody?: JsonValue;
  inputs?: I;
  /** `text` (default) or `json`. */
  response?: R;
  /** Sends `Authorization: <scheme> <secret>` (scheme `Bearer` by default); the secret is requested by the task. */
  auth?: { secret: { group: string; key?: string }; scheme?: string };
  /** Statuses that count as success (default: 200-299); others fail the task. */
  acceptStatus?: number[];
  /** Milliseconds before the request is abandoned (default 30000). */
  requestTimeoutMs?: number;
}

/** The outputs of an HttpRequestTask. */
export type HttpOutputs<R extends HttpResponseKind> = {
  status: ReturnType<typeof t.int>;
  body: R extends "json" ? ReturnType<typeof t.json> : ReturnType<typeof t.string>;
  headers: ReturnType<typeof t.map<string>>;
};

/** The `custom` struct of an HttpRequestTask template. */
export interface HttpCustom {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  json_body?: JsonValue;
  response: HttpResponseKind;
  auth?: { group: string; key: string; scheme: string };
  accept_status?: number[];
  timeout_ms: number;
}

const METHODS: readonly HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/** The length of `scheme://host[:port]` of an http(s) URL, or -1. */
export function urlAuthorityEnd(url: string): number {
  const m = /^https?:\/\/[^/?#]+/i.exec(url);
  return m ? m[0].length : -1;
}

function jsonStrings(v: JsonValue, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) for (const x of v) jsonStrings(x, out);
  else if (v && typeof v === "object") for (const x of Object.values(v)) jsonStrings(x as JsonValue, out);
  return out;
}

/** One HTTP request; outputs `status`, `body` and `headers`. */
export class HttpRequestTask<
  const I extends Schema = {},
  const R extends HttpResponseKind = "text",
> extends CustomizedContainerTask<I, HttpOutputs<R>> {
  /** What the executor reads from the template. */
  readonly request: Readonly<HttpCustom>;

  constructor(options: HttpRequestTaskOptions<I, R>) {
    const entity = options?.name ?? "HttpRequestTask";
    const fail = (code: string, message: string, fix: string) =>
      new FlyteDefinitionError(code, message, { entity, fix });
    const method = options?.method ?? "GET";
    if (!METHODS.includes(method))
      throw fail(
        "HTTP_METHOD",
        `method ${describeValue(method)} is not supported`,
        `use one of ${METHODS.join(", ")}`,
      );
    const url = options?.url;
    if (typeof url !== "string" || urlAuthorityEnd(url) === -1) {
      throw fail(
        "HTTP_URL_INVALID",
        `url ${describeValue(url)} is not an http(s) URL`,
        'write e.g. "https://api.example.com/items/{{.inputs.id}}"',
      );
    }
    const inputs = (options.inputs ?? {}) as I;
    const names = Object.keys(inputs);
    for (const p of checkPlaceholderNames(url, names, entity, "the url", "HTTP")) {
      if (p.start < urlAuthorityEnd(url)) {
        throw fail(
          "HTTP_PLACEHOLDER_IN_HOST",
          `{{.inputs.${p.name}}} stands in the scheme or host of ${url}`,
          "inputs may only fill the path and the query; write the host in the url",
        );
      }
    }
    const headers = { ...(options.headers ?? {}) };
    for (const [k, v] of Object.entries(headers)) {
      if (typeof v !== "string" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) {
        throw fail(
          "HTTP_HEADER_INVALID",
          `header ${describeValue(k)}: ${describeValue(v)} is not valid`,
          "give header names as tokens and values as strings",
        );
      }
      checkPlaceholderNames(v, names, entity, `header ${k}`, "HTTP");
    }
    if (options.jsonBody !== undefined) {
      if (method === "GET" || method === "HEAD")
        throw fail(
          "HTTP_BODY_NOT_ALLOWED",
          `a ${method} request has no body`,
          "use POST, PUT or PATCH, or leave jsonBody out",
        );
      for (const s of jsonStrings(options.jsonBody))
        checkPlaceholderNames(s, names, entity, "jsonBody", "HTTP");
    }
    const response = (options.response ?? "text") as R;
    if (response !== "text" && response !== "json")
      throw fail(
        "HTTP_RESPONSE_KIND",
        `response ${describeValue(response)} is not "text" or "json"`,
        'use "text" or "json"',
      );
    const accept = options.acceptStatus;
    if (
      accept !== undefined &&
      (!Array.isArray(accept) || accept.some((s) => !Number.isInteger(s) || s < 100 || s > 599))
    ) {
      throw fail(
        "HTTP_ACCEPT_STATUS",
        `acceptStatus ${describeValue(accept)} is not a list of HTTP statuses`,
        "write e.g. acceptStatus: [200, 404]",
      );
    }
    const timeoutMs = options.requestTimeoutMs ?? 30_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
      throw fail(
        "HTTP_TIMEOUT",
        `requestTimeoutMs ${describeValue(timeoutMs)} is not a positive integer`,
        "give milliseconds, e.g. 10000",
      );
    const auth = options.auth;
    if (auth !== undefined && (typeof auth.secret?.group !== "string" || auth.secret.group === "")) {
      throw fail(
        "HTTP_AUTH_INVALID",
        `auth.secret is ${describeValue(auth.secret)}`,
        'write auth: { secret: { group: "my-api", key: "token" } }',
      );
    }
    const outputs = {
      status: t.int(),
      body: response === "json" ? t.json() : t.string(),
      headers: t.map(t.string()),
    } as HttpOutputs<R>;
    const secrets = [...(options.secrets ?? [])];
    if (auth)
      secrets.push({ group: auth.secret.group, ...(auth.secret.key ? { key: auth.secret.key } : {}) });
    super({
      ...options,
      inputs,
      outputs,
      secrets,
      taskType: HTTP_TASK_TYPE,
      executorLocation: HTTP_EXECUTOR_LOCATION,
    });
    const request: HttpCustom = { method, url, headers, response, timeout_ms: timeoutMs };
    if (options.jsonBody !== undefined) request.json_body = options.jsonBody;
    if (auth)
      request.auth = {
        group: auth.secret.group,
        key: auth.secret.key ?? "",
        scheme: auth.scheme ?? "Bearer",
      };
    if (accept) request.accept_status = [...accept];
    this.request = Object.freeze(request);
  }

  /** The request, as the executor reads it. */
  getCustom(): JsonObject {
    return JSON.parse(JSON.stringify(this.request)) as JsonObject;
  }
}

brandClass(HttpRequestTask, "HttpRequestTask");
