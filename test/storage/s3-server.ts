// Test helpers for the s3:// backend: a private moto S3 server per test file (started with
// scripts/peers/s3-start.sh in its own run dir, stopped with s3-stop.sh), and small local
// servers that misbehave on purpose (a TCP proxy that cuts connections, an HTTP server that
// answers with canned S3 errors).
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type S3Settings, s3Settings } from "../../src/storage/config.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");

/** A running moto server. */
export interface S3TestServer {
  endpoint: string;
  /** Environment variables that point flytekit-ts (and a child process) at it. */
  env: Record<string, string>;
  settings: S3Settings;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Installs moto if needed (scripts/setup/s3.sh) and starts a private server. */
export async function startS3Server(): Promise<S3TestServer> {
  await run("bash", [join(root, "scripts/setup/s3.sh")], { timeout: 280_000 });
  const runDir = mkdtempSync(join(tmpdir(), "tsflyte-s3-run-"));
  const env = { ...process.env, S3_RUN_DIR: runDir };
  const { stdout } = await run("bash", [join(root, "scripts/peers/s3-start.sh")], { env, timeout: 90_000 });
  const endpoint = stdout.trim().split("\n").pop()!;
  const s3env = {
    FLYTE_AWS_ENDPOINT: endpoint,
    FLYTE_AWS_ACCESS_KEY_ID: "flytekit-ts",
    FLYTE_AWS_SECRET_ACCESS_KEY: "flytekit-ts-secret",
    AWS_REGION: "us-east-1",
  };
  return {
    endpoint,
    env: s3env,
    settings: s3Settings({ env: s3env, config: null }),
    async createBucket(name) {
      // moto does not check signatures, so a plain PUT creates the bucket.
      const res = await fetch(`${endpoint}/${name}`, { method: "PUT" });
      if (!res.ok) throw new Error(`creating bucket ${name}: HTTP ${res.status}`);
    },
    async stop() {
      await run("bash", [join(root, "scripts/peers/s3-stop.sh")], { env, timeout: 30_000 });
    },
  };
}

/** Settings that point at another endpoint (a proxy, a fake server, a closed port). */
export function settingsFor(endpoint: string, retries = 4): S3Settings {
  return s3Settings({
    env: {
      FLYTE_AWS_ENDPOINT: endpoint,
      FLYTE_AWS_ACCESS_KEY_ID: "k",
      FLYTE_AWS_SECRET_ACCESS_KEY: "s",
      FLYTE_AWS_RETRIES: String(retries),
    },
    config: null,
  });
}

/** A TCP proxy in front of `target` that cuts the first `cutConnections` connections. */
export interface CuttingProxy {
  endpoint: string;
  /** Connections accepted so far. */
  connections(): number;
  /** The request heads seen (first line and headers, lower-cased). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Starts a proxy that forwards to `target` (http://host:port) and, on each of the first
 * `cutConnections` connections, closes both sockets once `cutAfter` bytes went in `direction`
 * ("down": server to client, "up": client to server).
 */
export async function cuttingProxy(
  target: string,
  opts: { cutAfter: number; direction: "down" | "up"; cutConnections: number },
): Promise<CuttingProxy> {
  const url = new URL(target);
  let count = 0;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const n = ++count;
    const cut = n <= opts.cutConnections;
    const upstream = connect(Number(url.port), url.hostname);
    sockets.add(client);
    sockets.add(upstream);
    let moved = 0;
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    const forward = (from: Socket, to: Socket, dir: "down" | "up") => {
      from.on("data", (d: Buffer) => {
        if (dir === "up") {
          const head = d.toString("latin1");
          if (/^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(head))
            requests.push(head.split("\r\n\r\n")[0]!.toLowerCase());
        }
        if (cut && dir === opts.direction) {
          if (moved + d.length >= opts.cutAfter) {
            to.write(d.subarray(0, opts.cutAfter - moved), kill);
            moved = opts.cutAfter;
            return;
          }
          moved += d.length;
        }
        to.write(d);
      });
    };
    forward(upstream, client, "down");
    forward(client, upstream, "up");
    for (const s of [client, upstream]) {
      s.on("error", kill);
      s.on("close", () => {
        sockets.delete(s);
        kill();
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    connections: () => count,
    requests,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An HTTP server that answers every request with `respond(n, req, res)` (n counts from 1). */
export async function fakeS3(
  respond: (n: number, req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ endpoint: string; count(): number; close(): Promise<void> }> {
  let n = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => respond(++n, req, res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    count: () => n,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** An S3 error response body. */
export function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>test</RequestId></Error>`;
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
