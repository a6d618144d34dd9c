// HttpRequestTask, the second pre-built task type: a request against a local server, in
// process (alone and in a workflow) and through the entrypoint; inputs encoded so they cannot
// change the request's structure; the auth secret; failures with their codes and origins.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BaseTask } from "../../src/core/task.js";
import { FlyteDefinitionError, type FlyteError } from "../../src/errors.js";
import { t, task, workflow } from "../../src/index.js";
import { HTTP_EXECUTOR_LOCATION, HttpRequestTask } from "../../src/plugins/http/index.js";
import { ExecutionError_ErrorKind } from "../../src/proto/gen/flyteidl/core/execution_pb.js";
import { SerializationSettings } from "../../src/serialize/settings.js";
import { taskTemplate } from "../../src/serialize/task-template.js";
import { fromLiteralMap, toLiteralMap } from "../../src/types/literal-map.js";
import { runEntrypoint, taskContext, tempDir, writeTemplate } from "./helpers.js";

let server: Server;
let base = "";
const SECRET_ENV = "_FSEC_EXAMPLE_API_TOKEN";

async function bodyOf(req: IncomingMessage): Promise<string> {
  let s = "";
  for await (const chunk of req) s += chunk;
  return s;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = req.url ?? "";
    if (url.startsWith("/status/")) {
      const code = Number(url.slice(8));
      res.writeHead(code, { "content-type": "text/plain" }).end(`status ${code}`);
      return;
    }
    if (url === "/text") {
      res.writeHead(200, { "content-type": "text/plain", "x-kind": "text" }).end("plain words");
      return;
    }
    // Echo: what the server received, as JSON.
    const body = await bodyOf(req);
    res.writeHead(200, { "content-type": "application/json", "x-echo": "yes" }).end(
      JSON.stringify({
        method: req.method,
        rawUrl: url,
        authorization: req.headers.authorization ?? null,
        trace: req.headers["x-trace"] ?? null,
        contentType: req.headers["content-type"] ?? null,
        body: body ? JSON.parse(body) : null,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env[SECRET_ENV] = "s3cr3t";
});

afterAll(() => {
  server?.close();
  delete process.env[SECRET_ENV];
});

function getUser() {
  return new HttpRequestTask({
    name: "get_user",
    url: `${base}/users/{{.inputs.id}}?fields={{.inputs.fields}}`,
    inputs: { id: t.string(), fields: t.string() },
    headers: { "x-trace": "trace-{{.inputs.id}}" },
    response: "json",
    auth: { secret: { group: "example_api", key: "token" } },
  });
}

async function failure(p: Promise<unknown>): Promise<FlyteError> {
  try {
    await p;
  } catch (err) {
    return err as FlyteError;
  }
  throw new Error("expected a failure");
}

describe("HttpRequestTask", () => {
  it("serializes its request into custom, requests its secret, and uses the SDK's http executor", () => {
    const tpl = taskTemplate(getUser(), SerializationSettings.forImage("ghcr.io/acme/app:v1", "v1"));
    expect(tpl.type).toBe("http-request");
    expect(tpl.custom).toEqual({
      method: "GET",
      url: `${base}/users/{{.inputs.id}}?fields={{.inputs.fields}}`,
      headers: { "x-trace": "trace-{{.inputs.id}}" },
      response: "json",
      timeout_ms: 30000,
      auth: { group: "example_api", key: "token", scheme: "Bearer" },
    });
    expect(tpl.securityContext?.secrets.map((s) => [s.group, s.key])).toEqual([["example_api", "token"]]);
    expect((tpl.target.value as { args: string[] }).args.at(-1)).toBe(HTTP_EXECUTOR_LOCATION);
    expect(Object.keys(tpl.interface!.outputs!.variables)).toEqual(["status", "body", "headers"]);
  });

  it("sends the request with inputs percent-encoded: a value cannot add path segments, a query or a fragment", async () => {
    const out = await getUser().run({ id: "1/../admin?x=1#frag", fields: "a&b=c" });
    expect(out.status).toBe(200);
    expect(out.headers["x-echo"]).toBe("yes");
    expect(out.body).toEqual({
      method: "GET",
      rawUrl: "/users/1%2F..%2Fadmin%3Fx%3D1%23frag?fields=a%26b%3Dc",
      authorization: "Bearer s3cr3t",
      trace: "trace-1/../admin?x=1#frag",
      contentType: null,
      body: null,
    });
  });

  it("fills a JSON body structurally: whole placeholders become JSON values, a quote cannot break out", async () => {
    const post = new HttpRequestTask({
      name: "post_user",
      method: "POST",
      url: `${base}/users`,
      inputs: { name: t.string(), n: t.int(), tags: t.list(t.string()) },
      jsonBody: {
        user: "{{.inputs.name}}",
        n: "{{ .inputs.n }}",
        tags: "{{.inputs.tags}}",
        greeting: "hi {{.inputs.name}}",
      },
      response: "json",
    });
    const out = await post.run({ name: 'a", "admin": true, "x": "', n: 3, tags: ["p", "q"] });
    expect(out.body).toMatchObject({
      method: "POST",
      contentType: "application/json",
      body: {
        user: 'a", "admin": true, "x": "',
        n: 3,
        tags: ["p", "q"],
        greeting: 'hi a", "admin": true, "x": "',
      },
    });
  });

  it("feeds a TypeScript task inside a workflow", async () => {
    const fetchText = new HttpRequestTask({ name: "fetch_text", url: `${base}/text` });
    const words = task(
      { name: "count_words", inputs: { text: t.string() }, outputs: t.int() },
      ({ text }) => text.split(" ").length,
    );
    const wf = workflow({ name: "http_wf" }, () => words({ text: fetchText({}).body }));
    expect(await wf.run({})).toBe(2);
  });

  it("fails with stable codes: unaccepted status (recoverable for 5xx), non-JSON body, unreachable server", async () => {
    const at = (path: string, extra: { acceptStatus?: number[]; response?: "json" } = {}) =>
      new HttpRequestTask({ name: "status", url: `${base}${path}`, ...extra });
    const notFound = await failure(at("/status/404").run({}));
    expect(notFound.code).toBe("HTTP_STATUS");
    expect(notFound.origin).toBe("USER");
    expect(notFound.recoverable).toBe(false);
    expect(notFound.message).toContain("404");
    const busy = await failure(at("/status/503").run({}));
    expect(busy.recoverable).toBe(true);
    expect((await at("/status/404", { acceptStatus: [404] }).run({})).status).toBe(404);
    expect((await failure(at("/text", { response: "json" }).run({}))).code).toBe("HTTP_RESPONSE_NOT_JSON");
    const down = await failure(
      new HttpRequestTask({ name: "down", url: "http://127.0.0.1:9/x", requestTimeoutMs: 2000 }).run({}),
    );
    expect(down.code).toBe("HTTP_REQUEST_FAILED");
    expect(down.origin).toBe("SYSTEM");
    expect(down.recoverable).toBe(true);
  });

  it("fails with SECRET_NOT_FOUND when the auth secret is not there", async () => {
    const saved = process.env[SECRET_ENV];
    delete process.env[SECRET_ENV];
    try {
      const e = await failure(getUser().run({ id: "1", fields: "x" }));
      expect(e.code).toBe("SECRET_NOT_FOUND");
      expect(e.message).toContain(SECRET_ENV);
    } finally {
      process.env[SECRET_ENV] = saved;
    }
  });

  it("rejects wrong definitions when the task is defined", () => {
    const cases: [() => unknown, string][] = [
      [
        () => new HttpRequestTask({ url: "https://{{.inputs.host}}/x", inputs: { host: t.string() } }),
        "HTTP_PLACEHOLDER_IN_HOST",
      ],
      [() => new HttpRequestTask({ url: "https://api.example.com/{{.inputs.nope}}" }), "HTTP_UNKNOWN_INPUT"],
      [() => new HttpRequestTask({ url: "ftp://example.com/x" }), "HTTP_URL_INVALID"],
      [
        () => new HttpRequestTask({ url: "https://example.com", jsonBody: { a: 1 } }),
        "HTTP_BODY_NOT_ALLOWED",
      ],
      [() => new HttpRequestTask({ url: "https://example.com", method: "TRACE" as never }), "HTTP_METHOD"],
      [() => new HttpRequestTask({ url: "https://example.com", acceptStatus: [999] }), "HTTP_ACCEPT_STATUS"],
    ];
    for (const [fn, code] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err, code).toBeInstanceOf(FlyteDefinitionError);
      expect((err as FlyteError).code).toBe(code);
    }
  });

  it("runs through tsflyte-execute from its template, reading the secret from the environment", async () => {
    const dir = tempDir("tsflyte-http-exec-");
    const get = getUser();
    const tpl = taskTemplate(
      get as unknown as BaseTask,
      SerializationSettings.forImage("ghcr.io/acme/app:v1", "v1"),
    );
    const file = writeTemplate(join(dir, "task.pb"), tpl);
    const ctx = taskContext(dir);
    const inputs = await toLiteralMap(get.inputs, { id: "7", fields: "name" }, ctx, get.name);
    const run = await runEntrypoint(join(dir, "ok"), inputs, [file, HTTP_EXECUTOR_LOCATION], {
      [SECRET_ENV]: "from-env",
    });
    expect(run.stderr).toBe("");
    const out = await fromLiteralMap(get.outputs, run.outputs!, ctx, get.name);
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ rawUrl: "/users/7?fields=name", authorization: "Bearer from-env" });
    const failing = taskTemplate(
      new HttpRequestTask({ name: "missing_page", url: `${base}/status/404` }) as unknown as BaseTask,
      SerializationSettings.forImage("ghcr.io/acme/app:v1", "v1"),
    );
    const run404 = await runEntrypoint(
      join(dir, "404"),
      { $typeName: "flyteidl.core.LiteralMap", literals: {} } as never,
      [writeTemplate(join(dir, "404.pb"), failing), HTTP_EXECUTOR_LOCATION],
    );
    expect(run404.error!.error!.code).toBe("USER:HTTP_STATUS");
    expect(run404.error!.error!.origin).toBe(ExecutionError_ErrorKind.USER);
  });
});
