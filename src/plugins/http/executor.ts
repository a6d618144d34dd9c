/**
 * `HttpRequestTaskExecutor`: runs an HttpRequestTask's template: fills the URL, headers and JSON
 * body from the inputs (encoded, never spliced into the structure), adds the auth secret, sends
 * the request and returns `status`, `body` and `headers`.
 *
 * Errors: a status outside the accepted ones is `HTTP_STATUS` (USER; recoverable for 429 and
 * 5xx, so the task's retries apply); a network failure or timeout is `HTTP_REQUEST_FAILED`
 * (SYSTEM, recoverable); a body that is not a JSON object for `response: "json"` is
 * `HTTP_RESPONSE_NOT_JSON` (USER).
 */
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { FlyteExecutionError } from "../../errors.js";
import type { TaskTemplate } from "../../proto/gen/flyteidl/core/tasks_pb.js";
import { fromLiteralMap } from "../../types/literal-map.js";
import type { LiteralMap } from "../../types/literals.js";
import { findInputPlaceholders, INPUT_PLACEHOLDER } from "../input-placeholders.js";
import {
  type ExecutorContext,
  ShimTaskExecutor,
  schemaOfVariables,
  templateCustom,
  templateName,
  templateOutputLiterals,
} from "../shim-executor.js";
import { type HttpCustom, urlAuthorityEnd } from "./task.js";

/** Reads and checks a template's `custom`; throws `HTTP_TEMPLATE_INVALID`. */
export function httpCustom(template: TaskTemplate): HttpCustom {
  const c = templateCustom(template) as Partial<Record<keyof HttpCustom, JsonValue>>;
  const bad = (what: string) =>
    new FlyteExecutionError("HTTP_TEMPLATE_INVALID", `the template's custom.${what}`, {
      entity: templateName(template),
      origin: "SYSTEM",
      fix: "serialize the HttpRequestTask again",
    });
  if (typeof c.method !== "string") throw bad("method is not a string");
  if (typeof c.url !== "string" || urlAuthorityEnd(c.url) === -1) throw bad("url is not an http(s) URL");
  if (c.response !== "text" && c.response !== "json") throw bad('response is not "text" or "json"');
  if (typeof c.timeout_ms !== "number") throw bad("timeout_ms is not a number");
  const headers = (c.headers ?? {}) as Record<string, unknown>;
  if (typeof headers !== "object" || Object.values(headers).some((v) => typeof v !== "string"))
    throw bad("headers is not a map of strings");
  return c as unknown as HttpCustom;
}

/** Runs HttpRequestTask templates. */
export class HttpRequestTaskExecutor extends ShimTaskExecutor {
  async executeFromModel(
    template: TaskTemplate,
    inputs: LiteralMap,
    ctx: ExecutorContext,
  ): Promise<LiteralMap> {
    const entity = templateName(template);
    const req = httpCustom(template);
    const schema = schemaOfVariables(template.interface?.inputs, entity);
    const values = await fromLiteralMap(schema, inputs, ctx, entity, "input");
    const json = (name: string): JsonValue => {
      const type = schema[name];
      if (!type) {
        throw new FlyteExecutionError(
          "HTTP_UNKNOWN_INPUT",
          `the request refers to {{.inputs.${name}}}, which the template does not declare`,
          {
            entity,
            origin: "USER",
            fix: `declare "${name}" in the task's inputs`,
          },
        );
      }
      const v = values[name];
      return v === null || v === undefined ? null : (type.toJson(v as never) as JsonValue);
    };
    const text = (name: string): string => {
      const v = json(name);
      return typeof v === "string" ? v : v === null ? "" : JSON.stringify(v);
    };
    // URL: inputs only after the authority, percent-encoded (a value cannot add a path segment, a query or a fragment).
    const cut = urlAuthorityEnd(req.url);
    const head = req.url.slice(0, cut);
    if (findInputPlaceholders(head).length > 0) {
      throw new FlyteExecutionError("HTTP_PLACEHOLDER_IN_HOST", `an input stands in the host of ${req.url}`, {
        entity,
        origin: "USER",
        fix: "inputs may only fill the path and the query",
      });
    }
    const url =
      head +
      req.url.slice(cut).replace(INPUT_PLACEHOLDER, (_m, name: string) => encodeURIComponent(text(name)));
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers ?? {})) {
      const value = v.replace(INPUT_PLACEHOLDER, (_m, name: string) => text(name));
      if (/[\r\n\0]/.test(value)) {
        throw new FlyteExecutionError(
          "HTTP_HEADER_INVALID",
          `header ${k} would contain a line break after filling in the inputs`,
          {
            entity,
            origin: "USER",
            fix: "pass header values without line breaks",
          },
        );
      }
      headers.set(k, value);
    }
    if (req.auth)
      headers.set(
        "authorization",
        `${req.auth.scheme} ${ctx.secret(req.auth.group, req.auth.key || undefined)}`,
      );
    let body: string | undefined;
    if (req.json_body !== undefined) {
      const fill = (v: JsonValue): JsonValue => {
        if (typeof v === "string") {
          const whole = /^\{\{\s*[.$]inputs\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/i.exec(v);
          if (whole) return json(whole[1]!);
          return v.replace(INPUT_PLACEHOLDER, (_m, name: string) => text(name));
        }
        if (Array.isArray(v)) return v.map(fill);
        if (v && typeof v === "object")
          return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x as JsonValue)]));
        return v;
      };
      body = JSON.stringify(fill(req.json_body));
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method: req.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(req.timeout_ms),
        redirect: "follow",
      });
    } catch (err) {
      const e = err as Error;
      const timedOut = e.name === "TimeoutError";
      throw new FlyteExecutionError(
        "HTTP_REQUEST_FAILED",
        `${req.method} ${url} ${timedOut ? `timed out after ${req.timeout_ms} ms` : `failed: ${e.message}${e.cause ? ` (${(e.cause as Error).message ?? e.cause})` : ""}`}`,
        {
          entity,
          origin: "SYSTEM",
          recoverable: true,
          fix: "check that the server is reachable from the task",
          cause: err,
        },
      );
    }
    const responseText = await res.text();
    const accepted = req.accept_status
      ? req.accept_status.includes(res.status)
      : res.status >= 200 && res.status < 300;
    if (!accepted) {
      throw new FlyteExecutionError(
        "HTTP_STATUS",
        `${req.method} ${url} answered ${res.status} ${res.statusText}: ${responseText.slice(0, 200)}`,
        {
          entity,
          origin: "USER",
          recoverable: res.status === 429 || res.status >= 500,
          fix: req.accept_status
            ? `accepted statuses: ${req.accept_status.join(", ")}`
            : "add the status to acceptStatus if it is expected",
        },
      );
    }
    let out: unknown = responseText;
    if (req.response === "json") {
      try {
        out = JSON.parse(responseText);
      } catch {
        out = undefined;
      }
      if (out === null || typeof out !== "object" || Array.isArray(out)) {
        throw new FlyteExecutionError(
          "HTTP_RESPONSE_NOT_JSON",
          `${req.method} ${url} did not answer a JSON object: ${responseText.slice(0, 200)}`,
          {
            entity,
            origin: "USER",
            fix: 'use response: "text" for other bodies',
          },
        );
      }
    }
    const responseHeaders: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      responseHeaders[k] = v;
    });
    return templateOutputLiterals(
      template,
      { status: BigInt(res.status), body: out as JsonObject | string, headers: responseHeaders },
      ctx,
    );
  }
}
