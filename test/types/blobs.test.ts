/** Files and directories: upload to the raw-data prefix, lazy download, literal shape, errors. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { FlyteTypeError } from "../../src/errors.js";
import { LiteralSchema } from "../../src/proto/gen/flyteidl/core/literals_pb.js";
import { BlobType_BlobDimensionality } from "../../src/proto/gen/flyteidl/core/types_pb.js";
import { registerStorageBackend, type StorageBackend } from "../../src/storage/index.js";
import { pickleBytes, unpickleBytes } from "../../src/types/blobs.js";
import { FlyteDirectory, FlyteFile, type TypeContext, t } from "../../src/types/index.js";
import type { Literal } from "../../src/types/literals.js";

const root = mkdtempSync(join(tmpdir(), "fk-ts-blobs-"));
const ctx: TypeContext = { rawDataPrefix: join(root, "raw"), workDir: join(root, "work") };
afterAll(() => rmSync(root, { recursive: true, force: true }));

function blobOf(lit: Literal) {
  if (lit.value.case !== "scalar" || lit.value.value.value.case !== "blob") throw new Error("not a blob");
  return lit.value.value.value.value;
}

function wire(lit: Literal): Literal {
  return fromBinary(LiteralSchema, toBinary(LiteralSchema, lit));
}

/** An in-memory "mem://" backend standing in for a remote store. */
const mem = new Map<string, Uint8Array>();
const memBackend: StorageBackend = {
  async get(uri) {
    const v = mem.get(uri);
    if (!v) throw new Error(`missing ${uri}`);
    return v;
  },
  async put(uri, data) {
    mem.set(uri, data);
  },
  async exists(uri) {
    return [...mem.keys()].some((k) => k === uri || k.startsWith(`${uri}/`));
  },
  async upload(src, uri) {
    mem.set(uri, new Uint8Array(readFileSync(src)));
  },
  async download(uri, dest) {
    const single = mem.get(uri);
    if (single) {
      mkdirSync(join(dest, ".."), { recursive: true });
      writeFileSync(dest, single);
      return;
    }
    for (const [k, v] of mem) {
      if (!k.startsWith(`${uri}/`)) continue;
      const p = join(dest, k.slice(uri.length + 1));
      mkdirSync(join(p, ".."), { recursive: true });
      writeFileSync(p, v);
    }
  },
  async list(prefix) {
    return [...mem.keys()].filter((k) => k.startsWith(`${prefix}/`));
  },
};
registerStorageBackend("mem", memBackend);

describe("files", () => {
  it("uploads a local file to <rawDataPrefix>/<random>/<basename> and writes a SINGLE blob, format ''", async () => {
    const src = join(root, "in", "hello.txt");
    mkdirSync(join(root, "in"), { recursive: true });
    writeFileSync(src, "hello ✓");
    const f = FlyteFile.fromPath(src);
    const lit = wire(await t.file().toLiteral(f, ctx));
    const blob = blobOf(lit);
    expect(blob.uri).toMatch(new RegExp(`^${ctx.rawDataPrefix}/[0-9a-f]{32}/hello\\.txt$`));
    expect(blob.metadata?.type?.format).toBe("");
    expect(blob.metadata?.type?.dimensionality).toBe(BlobType_BlobDimensionality.SINGLE);
    expect(readFileSync(blob.uri, "utf8")).toBe("hello ✓");
    expect(f.uri).toBe(blob.uri); // remembered: a second conversion does not upload again
    expect(blobOf(await t.file().toLiteral(f, ctx)).uri).toBe(blob.uri);

    const back = t.file().fromLiteral(lit, ctx);
    expect(back.path).toBe(blob.uri); // local: no copy
    expect(await back.text()).toBe("hello ✓");
    expect(Array.from(await back.bytes())).toEqual(Array.from(Buffer.from("hello ✓")));
    expect(await back.download()).toBe(blob.uri);
  });

  it("keeps a file already under the raw-data prefix, and a file:// URI", async () => {
    const inside = join(ctx.rawDataPrefix, "already", "x.csv");
    mkdirSync(join(ctx.rawDataPrefix, "already"), { recursive: true });
    writeFileSync(inside, "a,b\n");
    expect(blobOf(await t.file("csv").toLiteral(FlyteFile.fromPath(inside), ctx)).uri).toBe(inside);
    const viaUrl = FlyteFile.fromPath(pathToFileURL(inside).href);
    expect(viaUrl.path).toBe(inside);
  });

  it("passes a remote uri through without upload, and reads it lazily into workDir", async () => {
    mem.set("mem://bucket/data/file.txt", new TextEncoder().encode("remote"));
    const lit = wire(await t.file().toLiteral(FlyteFile.fromPath("mem://bucket/data/file.txt"), ctx));
    expect(blobOf(lit).uri).toBe("mem://bucket/data/file.txt");
    const f = t.file().fromLiteral(lit, ctx);
    expect(f.path).toBeUndefined();
    expect(f.uri).toBe("mem://bucket/data/file.txt");
    expect(await f.text()).toBe("remote");
    const local = await f.download();
    expect(local.startsWith(ctx.workDir)).toBe(true);
    expect(local.endsWith("/file.txt")).toBe(true);
    expect(readFileSync(local, "utf8")).toBe("remote");
    expect(f.path).toBe(local);
    expect(await f.download()).toBe(local); // once
  });

  it("accepts a path string, parses text and JSON as a path or URI, prints the location", async () => {
    expect(t.file().parseText(" s3://b/k.csv ").uri).toBe("s3://b/k.csv");
    expect(t.file().fromJson("/tmp/x").path).toBe("/tmp/x");
    expect(t.file().toJson(FlyteFile.fromPath("s3://b/k"))).toBe("s3://b/k");
    expect(JSON.stringify({ f: FlyteFile.fromPath("s3://b/k") })).toBe('{"f":"s3://b/k"}');
  });

  it("errors: missing file, a directory, a non-file value, a directory literal", async () => {
    await expect(t.file().toLiteral(FlyteFile.fromPath(join(root, "nope.txt")), ctx)).rejects.toMatchObject({
      code: "TYPE_FILE_NOT_FOUND",
    });
    await expect(t.file().toLiteral(FlyteFile.fromPath(root), ctx)).rejects.toMatchObject({
      code: "TYPE_INVALID_VALUE",
    });
    await expect(t.file().toLiteral(42 as never, ctx)).rejects.toBeInstanceOf(FlyteTypeError);
    const dirLit = await t.directory().toLiteral(FlyteDirectory.fromPath("mem://bucket/dir"), ctx);
    expect(() => t.file().fromLiteral(dirLit, ctx)).toThrow(
      expect.objectContaining({ code: "TYPE_LITERAL_MISMATCH" }),
    );
  });

  it("lists of files upload each file", async () => {
    const a = join(root, "in", "a.txt");
    const b = join(root, "in", "b.txt");
    writeFileSync(a, "A");
    writeFileSync(b, "B");
    const L = t.list(t.file());
    const lit = wire(await L.toLiteral([FlyteFile.fromPath(a), FlyteFile.fromPath(b)], ctx));
    const back = await L.fromLiteral(lit, ctx);
    expect(await Promise.all(back.map((f) => f.text()))).toEqual(["A", "B"]);
  });
});

describe("directories", () => {
  it("uploads a local directory's contents to <rawDataPrefix>/<random> and writes a MULTIPART blob", async () => {
    const src = join(root, "tree");
    mkdirSync(join(src, "sub"), { recursive: true });
    writeFileSync(join(src, "one.txt"), "1");
    writeFileSync(join(src, "sub", "two.txt"), "2");
    const d = FlyteDirectory.fromPath(src);
    const lit = wire(await t.directory().toLiteral(d, ctx));
    const blob = blobOf(lit);
    expect(blob.uri).toMatch(new RegExp(`^${ctx.rawDataPrefix}/[0-9a-f]{32}$`));
    expect(blob.metadata?.type?.dimensionality).toBe(BlobType_BlobDimensionality.MULTIPART);
    expect(existsSync(join(blob.uri, "sub", "two.txt"))).toBe(true);
    const back = t.directory().fromLiteral(lit, ctx);
    expect(await back.list()).toEqual(["one.txt", "sub/two.txt"]);
    expect(await back.file("sub/two.txt").text()).toBe("2");
  });

  it("reads a remote directory lazily: list, one file, or the whole download", async () => {
    mem.set("mem://bucket/d/x.txt", new TextEncoder().encode("x"));
    mem.set("mem://bucket/d/n/y.txt", new TextEncoder().encode("y"));
    const d = t
      .directory()
      .fromLiteral(await t.directory().toLiteral(FlyteDirectory.fromPath("mem://bucket/d/"), ctx), ctx);
    expect(d.uri).toBe("mem://bucket/d");
    expect(await d.list()).toEqual(["n/y.txt", "x.txt"]);
    expect(await d.file("n/y.txt").text()).toBe("y");
    const local = await d.download();
    expect(readFileSync(join(local, "n", "y.txt"), "utf8")).toBe("y");
  });

  it("errors: a file where a directory is expected, a missing directory, a file literal", async () => {
    const f = join(root, "in", "a.txt");
    await expect(t.directory().toLiteral(FlyteDirectory.fromPath(f), ctx)).rejects.toMatchObject({
      code: "TYPE_INVALID_VALUE",
    });
    await expect(
      t.directory().toLiteral(FlyteDirectory.fromPath(join(root, "none")), ctx),
    ).rejects.toMatchObject({ code: "TYPE_FILE_NOT_FOUND" });
    const fileLit = await t.file().toLiteral(FlyteFile.fromPath("mem://bucket/data/file.txt"), ctx);
    expect(() => t.directory().fromLiteral(fileLit, ctx)).toThrow(
      expect.objectContaining({ code: "TYPE_LITERAL_MISMATCH" }),
    );
  });
});

describe("bytes as flytekit's pickled bytes", () => {
  it("pickles and unpickles every size class", () => {
    for (const n of [0, 1, 255, 256, 70_000]) {
      const data = new Uint8Array(n).map((_, i) => i % 251);
      expect(Array.from(unpickleBytes(pickleBytes(data), "test"))).toEqual(Array.from(data));
    }
  });
  it("reads what CPython writes (protocol 5 with a frame and memo)", () => {
    // pickle.dumps(b"\x00\x01binary", protocol=5), also what cloudpickle.dumps writes
    const py = Uint8Array.from(Buffer.from("8005950c000000000000004308000162696e617279942e", "hex"));
    expect(Buffer.from(unpickleBytes(py, "py")).toString("latin1")).toBe("\x00\x01binary");
  });
  it("rejects a pickle of anything else", () => {
    // pickle.dumps([1], protocol=4)
    const list = Uint8Array.from(Buffer.from("80049506000000000000005d944b01612e", "hex"));
    expect(() => unpickleBytes(list, "x")).toThrow(expect.objectContaining({ code: "TYPE_PICKLE" }));
  });
});
