// The s3:// backend against a real S3-compatible server (moto), and against local servers that
// misbehave on purpose: a closed port, a proxy that cuts connections mid-transfer, canned
// AccessDenied and SlowDown answers. Also the type engine moving a FlyteFile through s3 and
// tsflyte-execute reading inputs from and writing outputs to s3.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FlyteStorageError } from "../../src/errors.js";
import { LiteralMapSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { createS3Backend, type S3Backend } from "../../src/storage/s3.js";
import { storage } from "../../src/storage/storage.js";
import { FlyteFile, fromLiteralMap, t, toLiteralMap } from "../../src/types/index.js";
import {
  closedPort,
  cuttingProxy,
  fakeS3,
  type S3TestServer,
  s3ErrorXml,
  settingsFor,
  startS3Server,
} from "./s3-server.js";

const root = join(import.meta.dirname, "../..");
const BUCKET = "tsflyte-test";
let server: S3TestServer;
let s3: S3Backend;
const extra: S3Backend[] = [];
const work = mkdtempSync(join(tmpdir(), "tsflyte-s3-test-"));

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function caught(p: Promise<unknown>): Promise<FlyteStorageError> {
  try {
    await p;
  } catch (err) {
    return err as FlyteStorageError;
  }
  throw new Error("expected a rejection");
}

function backend(endpoint: string, retries?: number, socketTimeoutMs?: number): S3Backend {
  const b = createS3Backend({
    settings: settingsFor(endpoint, retries),
    ...(socketTimeoutMs ? { socketTimeoutMs } : {}),
  });
  extra.push(b);
  return b;
}

beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket(BUCKET);
  // The registered backend (used by the storage facade and the type engine) reads these.
  Object.assign(process.env, server.env);
  s3 = createS3Backend({ settings: server.settings });
});

afterAll(async () => {
  s3?.close();
  for (const b of extra) b.close();
  await server?.stop();
});

describe("s3:// against moto", () => {
  it("puts, gets, checks and lists objects", async () => {
    await s3.put(`s3://${BUCKET}/basic/a.txt`, bytes("alpha"));
    await s3.put(`s3://${BUCKET}/basic/sub/b.txt`, bytes("beta"));
    expect(text(await s3.get(`s3://${BUCKET}/basic/a.txt`))).toBe("alpha");
    expect(await s3.exists(`s3://${BUCKET}/basic/a.txt`)).toBe(true);
    expect(await s3.exists(`s3://${BUCKET}/basic`)).toBe(true); // a prefix
    expect(await s3.exists(`s3://${BUCKET}/basic/zzz`)).toBe(false);
    expect(await s3.exists(`s3://${BUCKET}/bas`)).toBe(false); // not a whole path segment
    expect(await s3.list(`s3://${BUCKET}/basic`)).toEqual([
      `s3://${BUCKET}/basic/a.txt`,
      `s3://${BUCKET}/basic/sub/b.txt`,
    ]);
    expect(await s3.list(`s3://${BUCKET}/basic/`)).toHaveLength(2);
    expect(await s3.list(`s3://${BUCKET}/nothing-here`)).toEqual([]);
    // put replaces the whole object
    await s3.put(`s3://${BUCKET}/basic/a.txt`, bytes("alpha 2"));
    expect(text(await s3.get(`s3://${BUCKET}/basic/a.txt`))).toBe("alpha 2");
  });

  it("is reached through the storage facade once the module is imported", async () => {
    await storage.put(`s3://${BUCKET}/facade/x.bin`, new Uint8Array([1, 2, 3]));
    expect([...(await storage.get(`s3://${BUCKET}/facade/x.bin`))]).toEqual([1, 2, 3]);
  });

  it("uploads and downloads a directory tree", async () => {
    const src = join(work, "tree");
    mkdirSync(join(src, "a/b"), { recursive: true });
    writeFileSync(join(src, "top.txt"), "top");
    writeFileSync(join(src, "a/one.txt"), "one");
    writeFileSync(join(src, "a/b/two.bin"), randomBytes(1000));
    await s3.upload(src, `s3://${BUCKET}/tree`);
    expect(await s3.list(`s3://${BUCKET}/tree`)).toEqual(
      ["a/b/two.bin", "a/one.txt", "top.txt"].map((k) => `s3://${BUCKET}/tree/${k}`),
    );
    const dest = join(work, "tree-back");
    await s3.download(`s3://${BUCKET}/tree`, dest);
    for (const f of ["top.txt", "a/one.txt", "a/b/two.bin"]) {
      expect(sha(readFileSync(join(dest, f)))).toBe(sha(readFileSync(join(src, f))));
    }
    // a single file downloads to a file
    await s3.download(`s3://${BUCKET}/tree/a/one.txt`, join(work, "one-back.txt"));
    expect(readFileSync(join(work, "one-back.txt"), "utf8")).toBe("one");
  });

  it("uploads a 12 MiB file in parts and gets the same bytes back", async () => {
    const big = randomBytes(12 * 1024 * 1024);
    const file = join(work, "big.bin");
    writeFileSync(file, big);
    const t0 = performance.now();
    await s3.upload(file, `s3://${BUCKET}/big/big.bin`);
    const up = performance.now() - t0;
    const head = await fetch(`${server.endpoint}/${BUCKET}/big/big.bin`, { method: "HEAD" });
    expect(head.headers.get("etag")).toMatch(/-2"?$/); // two parts of 8 MiB + 4 MiB
    expect(Number(head.headers.get("content-length"))).toBe(big.length);
    const t1 = performance.now();
    await s3.download(`s3://${BUCKET}/big/big.bin`, join(work, "big-back.bin"));
    const down = performance.now() - t1;
    expect(sha(readFileSync(join(work, "big-back.bin")))).toBe(sha(big));
    expect(sha(await s3.get(`s3://${BUCKET}/big/big.bin`))).toBe(sha(big));
    console.log(`12 MiB to moto: upload ${up.toFixed(0)} ms, download ${down.toFixed(0)} ms`);
  });

  it("maps NoSuchKey to STORAGE_NOT_FOUND (not recoverable) and a missing bucket to STORAGE_S3_NO_BUCKET", async () => {
    const e = await caught(s3.get(`s3://${BUCKET}/no/such/key`));
    expect(e).toBeInstanceOf(FlyteStorageError);
    expect(e.code).toBe("STORAGE_NOT_FOUND");
    expect(e.recoverable).toBe(false);
    expect(e.message).toContain(`s3://${BUCKET}/no/such/key`);
    const d = await caught(s3.download(`s3://${BUCKET}/no/such/prefix`, join(work, "nothing")));
    expect(d.code).toBe("STORAGE_NOT_FOUND");
    const b = await caught(s3.put("s3://no-such-bucket-xyz/k", bytes("x")));
    expect(b.code).toBe("STORAGE_S3_NO_BUCKET");
    expect(b.origin).toBe("USER");
  });
});

describe("s3:// when the network or the server misbehaves", () => {
  it("fails clearly and quickly on a refused connection, naming endpoint and bucket", async () => {
    const port = await closedPort();
    const b = backend(`http://127.0.0.1:${port}`, 3);
    const t0 = performance.now();
    const e = await caught(b.get("s3://some-bucket/k"));
    const ms = performance.now() - t0;
    expect(e.code).toBe("STORAGE_S3_UNAVAILABLE");
    expect(e.origin).toBe("SYSTEM");
    expect(e.recoverable).toBe(true);
    expect(e.message).toContain(`http://127.0.0.1:${port}`);
    expect(e.message).toContain('bucket "some-bucket"');
    expect(e.message).toContain("after 4 attempts");
    expect(e.message).toContain("ECONNREFUSED");
    expect(ms).toBeLessThan(10_000);
  });

  for (const how of ["get", "download"] as const) {
    it(`resumes a ${how} whose connection is cut mid-body (Range request), bytes intact`, async () => {
      const payload = randomBytes(3 * 1024 * 1024);
      await s3.put(`s3://${BUCKET}/cut/${how}.bin`, payload);
      // The first two connections are cut after 1 MiB of response (a HEAD of download() fits).
      const proxy = await cuttingProxy(server.endpoint, {
        cutAfter: 1024 * 1024,
        direction: "down",
        cutConnections: 2,
      });
      try {
        const b = backend(proxy.endpoint);
        if (how === "get") {
          expect(sha(await b.get(`s3://${BUCKET}/cut/${how}.bin`))).toBe(sha(payload));
        } else {
          const dest = join(work, "cut-download.bin");
          await b.download(`s3://${BUCKET}/cut/${how}.bin`, dest);
          expect(sha(readFileSync(dest))).toBe(sha(payload));
        }
        const ranges = proxy.requests
          .filter((r) => r.includes("range: bytes="))
          .map((r) => /range: bytes=(\d+)-/.exec(r)?.[1]);
        expect(ranges.length).toBeGreaterThanOrEqual(1); // resumed, not restarted
        expect(Number(ranges[0])).toBeGreaterThan(0);
        expect(proxy.connections()).toBeGreaterThan(2);
      } finally {
        await proxy.close();
      }
    });
  }

  it("retries an upload whose connection is cut while sending", async () => {
    const proxy = await cuttingProxy(server.endpoint, {
      cutAfter: 64 * 1024,
      direction: "up",
      cutConnections: 2,
    });
    try {
      const b = backend(proxy.endpoint);
      const payload = randomBytes(512 * 1024);
      await b.put(`s3://${BUCKET}/cut/put.bin`, payload);
      const file = join(work, "cut-upload.bin");
      writeFileSync(file, payload);
      await b.upload(file, `s3://${BUCKET}/cut/upload.bin`);
      expect(sha(await s3.get(`s3://${BUCKET}/cut/put.bin`))).toBe(sha(payload));
      expect(sha(await s3.get(`s3://${BUCKET}/cut/upload.bin`))).toBe(sha(payload));
      expect(proxy.connections()).toBeGreaterThanOrEqual(3);
    } finally {
      await proxy.close();
    }
  });

  it("gives up clearly when every connection is cut", async () => {
    await s3.put(`s3://${BUCKET}/cut/always.bin`, randomBytes(256 * 1024));
    const proxy = await cuttingProxy(server.endpoint, {
      cutAfter: 1000,
      direction: "down",
      cutConnections: Number.POSITIVE_INFINITY,
    });
    try {
      const b = backend(proxy.endpoint, 2);
      const t0 = performance.now();
      const e = await caught(b.get(`s3://${BUCKET}/cut/always.bin`));
      expect(e.code).toBe("STORAGE_S3_UNAVAILABLE");
      expect(e.message).toContain(proxy.endpoint);
      expect(e.message).toContain(`bucket "${BUCKET}"`);
      expect(performance.now() - t0).toBeLessThan(15_000);
    } finally {
      await proxy.close();
    }
  });

  it("maps AccessDenied to STORAGE_S3_DENIED, a user error naming where the credentials came from", async () => {
    const fake = await fakeS3((_n, _req, res) => {
      res.writeHead(403, { "content-type": "application/xml" });
      res.end(s3ErrorXml("AccessDenied", "Access Denied"));
    });
    try {
      const e = await caught(backend(fake.endpoint).get("s3://locked/k"));
      expect(e.code).toBe("STORAGE_S3_DENIED");
      expect(e.origin).toBe("USER");
      expect(e.recoverable).toBe(false);
      expect(e.message).toContain("check the credentials");
      expect(e.message).toContain("$FLYTE_AWS_ACCESS_KEY_ID");
      expect(fake.count()).toBe(1); // not retried
    } finally {
      await fake.close();
    }
  });

  it("backs off and retries on SlowDown (503) until the server accepts", async () => {
    const fake = await fakeS3((n, _req, res) => {
      if (n <= 2) {
        res.writeHead(503, { "content-type": "application/xml" });
        res.end(s3ErrorXml("SlowDown", "Please reduce your request rate."));
        return;
      }
      res.writeHead(200, { etag: '"0123"' });
      res.end();
    });
    try {
      await backend(fake.endpoint).put("s3://busy/k", bytes("x"));
      expect(fake.count()).toBe(3);
    } finally {
      await fake.close();
    }
  });
});

describe("the type engine and the entrypoint over s3://", () => {
  it("moves a FlyteFile through s3 (upload under rawDataPrefix, lazy download)", async () => {
    const local = join(work, "report.csv");
    writeFileSync(local, "a,b\n1,2\n");
    const ctx = { rawDataPrefix: `s3://${BUCKET}/raw`, workDir: join(work, "typectx") };
    const schema = { f: t.file("csv") };
    const lits = await toLiteralMap(schema, { f: FlyteFile.fromPath(local) }, ctx, "fileTask");
    const blob = lits.literals.f!;
    const uri =
      blob.value.case === "scalar" && blob.value.value.value.case === "blob"
        ? blob.value.value.value.value.uri
        : "";
    expect(uri).toMatch(new RegExp(`^s3://${BUCKET}/raw/[0-9a-f]{32}/report\\.csv$`));
    const back = await fromLiteralMap(schema, lits, ctx, "fileTask");
    expect(back.f.uri).toBe(uri);
    expect(back.f.path).toBeUndefined(); // nothing downloaded yet
    expect(await back.f.text()).toBe("a,b\n1,2\n");
    const path = await back.f.download();
    expect(readFileSync(path, "utf8")).toBe("a,b\n1,2\n");
  });

  it("runs tsflyte-execute with --inputs and --output-prefix on s3://", async () => {
    // A user project that depends on the SDK (as `npm install flytekit-ts` would set it up).
    const project = mkdtempSync(join(tmpdir(), "tsflyte-s3-exec-"));
    mkdirSync(join(project, "node_modules"));
    symlinkSync(root, join(project, "node_modules/flytekit-ts"), "dir");
    writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(
      join(project, "tasks.ts"),
      `import { FlyteFile, t, task } from "flytekit-ts";
export const shout = task({ inputs: { f: t.file(), n: t.int() }, outputs: { o0: t.string(), o1: t.file() } }, async ({ f, n }, ctx) => {
  const s = (await f.text()).toUpperCase().repeat(n);
  const { writeFileSync } = await import("node:fs");
  const out = ctx.workDir + "/shout.txt";
  writeFileSync(out, s);
  return { o0: s, o1: FlyteFile.fromPath(out) };
});
`,
    );
    await s3.put(`s3://${BUCKET}/exec/in.txt`, bytes("hey"));
    const ctx = { rawDataPrefix: `s3://${BUCKET}/raw`, workDir: join(work, "execctx") };
    const inputs = await toLiteralMap(
      { f: t.file(), n: t.int() },
      { f: FlyteFile.fromPath(`s3://${BUCKET}/exec/in.txt`), n: 2 },
      ctx,
      "shout",
    );
    await s3.put(`s3://${BUCKET}/exec/inputs.pb`, toBinary(LiteralMapSchema, inputs));
    const args = [
      join(root, "bin/tsflyte-execute.mjs"),
      "--inputs",
      `s3://${BUCKET}/exec/inputs.pb`,
      "--output-prefix",
      `s3://${BUCKET}/exec/out`,
      "--raw-output-data-prefix",
      `s3://${BUCKET}/exec/raw`,
      "--resolver",
      "default",
      "--",
      "task-module",
      "tasks",
      "task-name",
      "shout",
    ];
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: project, env: { ...process.env, ...server.env } });
      let err = "";
      child.stderr.on("data", (d) => {
        err += d;
      });
      child.on("exit", (c) => resolve({ code: c, stderr: err }));
    });
    expect(stderr).not.toContain("task failed");
    expect(code).toBe(0);
    expect(await s3.list(`s3://${BUCKET}/exec/out`)).toEqual([`s3://${BUCKET}/exec/out/outputs.pb`]);
    const outputs = fromBinary(LiteralMapSchema, await s3.get(`s3://${BUCKET}/exec/out/outputs.pb`));
    const values = await fromLiteralMap({ o0: t.string(), o1: t.file() }, outputs, ctx, "shout");
    expect(values.o0).toBe("HEYHEY");
    expect(values.o1.uri).toMatch(new RegExp(`^s3://${BUCKET}/exec/raw/`));
    expect(await values.o1.text()).toBe("HEYHEY");
  });
});
