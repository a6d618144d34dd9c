// Test peers of the remote tests: the real FlyteAdmin (scripts/peers/flyteadmin-start.sh: postgres,
// moto S3, flyteadmin serve), flytectl, and small local servers that stand where a cluster or a
// network would: a TCP proxy that can cut connections, a TLS-terminating HTTP/2 proxy in front
// of the admin, and a stand-in for the Kubernetes API the admin creates FlyteWorkflow objects in.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import {
  createSecureServer,
  constants as h2,
  connect as http2Connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
/** The repository root. */
export const ROOT = join(import.meta.dirname, "../..");
const CACHE = process.env.FLYTEKIT_TS_CACHE ?? join(homedir(), ".cache/flytekit-ts");
/** The flyteadmin binary built by scripts/setup/flyteadmin.sh, when it is there. */
export const FLYTEADMIN_BIN = join(CACHE, "bin/flyteadmin");
/** flytectl built by scripts/setup/flytectl.sh, when it is there. */
export const FLYTECTL_BIN = join(CACHE, "bin/flytectl");
/** Why the admin tests are skipped, or undefined when they run. */
export const ADMIN_SKIP_REASON = existsSync(FLYTEADMIN_BIN)
  ? undefined
  : `no flyteadmin binary at ${FLYTEADMIN_BIN} (run scripts/setup/flyteadmin.sh)`;
if (ADMIN_SKIP_REASON) console.warn(`skipping the FlyteAdmin tests: ${ADMIN_SKIP_REASON}`);

/** A running FlyteAdmin. */
export interface AdminPeer {
  /** `127.0.0.1:8089` */
  grpc: string;
  /** `http://127.0.0.1:8088` */
  http: string;
  /** moto S3 endpoint, when the admin stores in S3. */
  s3: string | undefined;
  /** The flytectl config the start script wrote. */
  flytectlConfig: string;
  /** Whether this process started it (and so stops it). */
  startedHere: boolean;
}

let started: Promise<AdminPeer> | undefined;

/** Starts the shared FlyteAdmin (idempotent: an already healthy one is reused). */
export function startAdmin(): Promise<AdminPeer> {
  started ??= (async () => {
    const wasUp = await fetch("http://127.0.0.1:8088/healthcheck").then(
      (r) => r.ok,
      () => false,
    );
    const { stdout } = await run("bash", [join(ROOT, "scripts/peers/flyteadmin-start.sh")], {
      timeout: 240_000,
    });
    const vars = Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .map((l) => l.split("=") as [string, string]),
    );
    return {
      grpc: vars.FLYTEADMIN_GRPC!,
      http: vars.FLYTEADMIN_HTTP!,
      s3: vars.FLYTEADMIN_S3,
      flytectlConfig: vars.FLYTECTL_CONFIG!,
      startedHere: !wasUp,
    };
  })();
  return started;
}

/** Stops the admin if this process started it. */
export async function stopAdminIfStartedHere(): Promise<void> {
  if (!started) return;
  const peer = await started.catch(() => undefined);
  if (peer?.startedHere)
    await run("bash", [join(ROOT, "scripts/peers/flyteadmin-stop.sh")], { timeout: 60_000 });
}

/** Runs flytectl against the admin; resolves with its output (rejects on a non-zero exit). */
export async function flytectl(peer: AdminPeer, ...args: string[]): Promise<string> {
  const { stdout } = await run(FLYTECTL_BIN, ["-c", peer.flytectlConfig, ...args], { timeout: 60_000 });
  return stdout;
}

/** A TCP proxy whose connections can be cut, and which can refuse new ones for a while. */
export interface CuttableProxy {
  port: number;
  /** Destroys every open connection. */
  cut(): void;
  /** Closes the listening socket (connections are refused) until `resume`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Cuts every connection once `bytes` more bytes went to the upstream. */
  cutAfterUpstreamBytes(bytes: number): void;
  close(): Promise<void>;
}

/** A TCP proxy to `upstream` (`host:port`) on a free local port. */
export async function cuttableProxy(upstream: string): Promise<CuttableProxy> {
  const [host, portText] = upstream.split(":");
  const sockets = new Set<Socket>();
  let budget: number | undefined;
  const cut = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  const handler = (client: Socket) => {
    const server = connect(Number(portText), host!);
    sockets.add(client);
    sockets.add(server);
    client.on("data", (d: Buffer) => {
      if (budget !== undefined) {
        budget -= d.length;
        if (budget <= 0) {
          budget = undefined;
          cut();
          return;
        }
      }
      server.write(d);
    });
    server.on("data", (d: Buffer) => client.write(d));
    const end = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on("close", end);
    server.on("close", end);
    client.on("error", end);
    server.on("error", end);
  };
  let server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    cut,
    async pause() {
      cut();
      await new Promise<void>((r) => server.close(() => r()));
    },
    async resume() {
      server = createServer(handler);
      await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    },
    cutAfterUpstreamBytes(bytes) {
      budget = bytes;
    },
    async close() {
      cut();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A self-signed certificate for 127.0.0.1 / localhost (made with openssl) and its files. */
export function selfSignedCertificate(): { key: Buffer; cert: Buffer; certFile: string } {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-tls-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  return {
    key: readFileSync(join(dir, "key.pem")),
    cert: readFileSync(join(dir, "cert.pem")),
    certFile: join(dir, "cert.pem"),
  };
}

/** A TLS-terminating HTTP/2 proxy that forwards every gRPC stream (headers, body, trailers) to a plaintext upstream. */
export async function tlsProxy(
  upstream: string,
  tls: { key: Buffer; cert: Buffer },
): Promise<{ port: number; close(): Promise<void> }> {
  const up = http2Connect(`http://${upstream}`);
  up.on("error", () => {});
  const server = createSecureServer({ key: tls.key, cert: tls.cert, allowHTTP1: false });
  server.on("stream", (stream, headers: IncomingHttpHeaders) => {
    const forward: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers))
      if (!k.startsWith(":") || k === ":method" || k === ":path") forward[k] = v;
    forward[":authority"] = upstream;
    forward[":scheme"] = "http";
    const req = up.request(forward, { endStream: false });
    stream.pipe(req);
    req.on("response", (res) => {
      const out: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(res)) if (!k.startsWith(":") || k === ":status") out[k] = v;
      stream.respond(out, { waitForTrailers: true });
      req.on("trailers", (trailers) => {
        stream.once("wantTrailers", () => stream.sendTrailers(trailers as OutgoingHttpHeaders));
      });
      req.pipe(stream);
    });
    req.on("error", () => stream.close(h2.NGHTTP2_INTERNAL_ERROR));
    stream.on("error", () => req.close(h2.NGHTTP2_CANCEL));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      up.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A FlyteWorkflow object the admin created, as the stand-in Kubernetes API received it. */
export interface CreatedWorkflow {
  namespace: string;
  name: string;
  body: Record<string, unknown>;
}

/**
 * A stand-in for the Kubernetes API at https://127.0.0.1:6443 (where the start script's dummy
 * kubeconfig points): it accepts the FlyteWorkflow objects flyteadmin creates for executions
 * and their deletion on terminate, as a cluster would, and records them. Nothing runs them; a
 * test plays propeller by sending events to the admin. Resolves to undefined when port 6443 is
 * taken.
 */
export async function fakeKubernetes(): Promise<
  | {
      created: CreatedWorkflow[];
      deleted: string[];
      waitForCreate(name: string, timeoutMs?: number): Promise<CreatedWorkflow>;
      close(): Promise<void>;
    }
  | undefined
> {
  const tls = selfSignedCertificate();
  const created: CreatedWorkflow[] = [];
  const deleted: string[] = [];
  const waiters: ((w: CreatedWorkflow) => void)[] = [];
  const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => {
      text += c.toString("utf8");
    });
    req.on("end", () => {
      const m =
        /^\/apis\/flyte\.lyft\.com\/v1alpha1\/namespaces\/([^/]+)\/flyteworkflows(?:\/([^/?]+))?/.exec(
          req.url ?? "",
        );
      if (!m) {
        res
          .writeHead(404, { "content-type": "application/json" })
          .end('{"kind":"Status","status":"Failure","code":404}');
        return;
      }
      if (req.method === "POST") {
        const body = JSON.parse(text) as Record<string, unknown> & { metadata: Record<string, unknown> };
        body.metadata = { ...body.metadata, uid: `uid-${created.length}`, resourceVersion: "1" };
        const w = { namespace: m[1]!, name: String(body.metadata.name), body };
        created.push(w);
        for (const fn of waiters.splice(0)) fn(w);
        res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(body));
      } else if (req.method === "DELETE") {
        deleted.push(m[2] ?? "");
        res
          .writeHead(200, { "content-type": "application/json" })
          .end('{"kind":"Status","apiVersion":"v1","status":"Success"}');
      } else res.writeHead(405).end();
    });
  });
  const ok = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(6443, "127.0.0.1", () => resolve(true));
  });
  if (!ok) return undefined;
  return {
    created,
    deleted,
    waitForCreate(name, timeoutMs = 60_000) {
      const found = created.find((w) => name === "*" || w.name === name);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no FlyteWorkflow ${name} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const check = (w: CreatedWorkflow) => {
          if (name === "*" || w.name === name) {
            clearTimeout(timer);
            resolve(w);
          } else waiters.push(check);
        };
        waiters.push(check);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The confidential client the auth admin knows: its id, secret, and the secret's bcrypt hash (cost 6). */
export const AUTH_CLIENT = {
  id: "tsflyte-ci",
  secret: "tsflyte-test-secret",
  secretHash: "$2a$06$VQBTZEafO9WRLiATmVOj3eTw81VKzYe.zCAZYvH3N11ZiXAq5zpmW",
};

/** Another `flyteadmin serve` of the shared instance (same database and storage, its own ports). */
export interface AdminReplica {
  grpc: string;
  http: string;
  log: string;
  /** Stops it (SIGTERM, then SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** Starts it again on the same ports; resolves when it is healthy. */
  start(): Promise<void>;
}

/**
 * Starts another `flyteadmin serve` beside the shared one: a second replica (as a deployment
 * runs several), same database and storage, its own ports and config, stopped and started by
 * the test without touching the shared instance. With `auth`, `server.security.useAuth: true`
 * and flyteadmin's own OAuth2 authorization server (`authServerType: Self`) with the
 * confidential client {@link AUTH_CLIENT}; `auth.openIdBaseUrl` is an OpenID provider for user
 * logins, which flyteadmin looks up at start-up (the test's local one).
 */
export async function startAdminReplica(
  shared: AdminPeer,
  options: { auth?: { openIdBaseUrl: string } } = {},
): Promise<AdminReplica> {
  const { parse, stringify } = await import("yaml");
  const { writeFileSync, readFileSync: read, openSync } = await import("node:fs");
  const { spawn } = await import("node:child_process");
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-admin-replica-"));
  const free = async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const p = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  };
  const [httpPort, grpcPort, profilerPort] = [await free(), await free(), await free()];
  const runDir = dirname(shared.flytectlConfig);
  const cfg = parse(read(join(runDir, "flyteadmin.yaml"), "utf8")) as Record<string, Record<string, unknown>>;
  cfg.server = {
    ...cfg.server,
    httpPort,
    grpc: { port: grpcPort, serverReflection: true },
    security: { ...(cfg.server!.security as object), secure: false, useAuth: options.auth !== undefined },
  };
  cfg.flyteadmin = { ...cfg.flyteadmin, profilerPort };
  if (options.auth) {
    await run(FLYTEADMIN_BIN, ["secret", "init", "-p", join(dir, "secrets")], { cwd: dir, timeout: 60_000 });
    writeFileSync(join(dir, "secrets", "oidc_client_secret"), "unused-oidc-secret");
    cfg.auth = {
      authorizedUris: [`http://127.0.0.1:${httpPort}`],
      userAuth: {
        openId: { baseUrl: options.auth.openIdBaseUrl, clientId: "flyte-console", scopes: ["openid"] },
      },
      appAuth: {
        authServerType: "Self",
        selfAuthServer: {
          staticClients: {
            [AUTH_CLIENT.id]: {
              id: AUTH_CLIENT.id,
              client_secret: Buffer.from(AUTH_CLIENT.secretHash).toString("base64"),
              redirect_uris: ["http://localhost:3846/callback"],
              grant_types: ["client_credentials", "refresh_token"],
              response_types: ["token"],
              scopes: ["all", "offline", "access_token"],
              public: false,
            },
          },
        },
        thirdPartyConfig: {
          flyteClient: {
            clientId: "flytectl",
            redirectUri: "http://localhost:53593/callback",
            scopes: ["all", "offline"],
          },
        },
      },
    };
    cfg.secrets = { "secrets-prefix": join(dir, "secrets") };
  }
  writeFileSync(join(dir, "flyteadmin.yaml"), stringify(cfg));
  const log = join(dir, "flyteadmin.log");
  let child: ReturnType<typeof spawn> | undefined;
  const replica: AdminReplica = {
    grpc: `127.0.0.1:${grpcPort}`,
    http: `http://127.0.0.1:${httpPort}`,
    log,
    async start() {
      const out = openSync(log, "a");
      const proc = spawn(FLYTEADMIN_BIN, ["--config", join(dir, "flyteadmin.yaml"), "serve"], {
        stdio: ["ignore", out, out],
      });
      child = proc;
      const deadline = Date.now() + 120_000;
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${httpPort}/healthcheck`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
        if (proc.exitCode !== null || Date.now() > deadline) {
          proc.kill("SIGKILL");
          throw new Error(
            `the flyteadmin replica did not start; see ${log}:\n${read(log, "utf8").slice(-2000)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGKILL");
        await exited;
      }
    },
  };
  await replica.start();
  return replica;
}
