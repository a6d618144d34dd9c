// Where the s3:// backend connects: flytekit's FLYTE_AWS_* variables, the Flyte config file's
// storage section (flytestdlib's `connection` keys and stow's `config` keys), the AWS ones.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FlyteError } from "../../src/errors.js";
import { parseFlyteConfig } from "../../src/images/config-file.js";
import { s3Settings } from "../../src/storage/config.js";
import { parseS3Uri } from "../../src/storage/s3.js";

const cfg = (yaml: string) => parseFlyteConfig(yaml, "/etc/flyte/config.yaml");

describe("s3Settings", () => {
  it("reads flytectl's storage.connection keys (endpoint without scheme + disable-ssl -> http)", () => {
    const s = s3Settings({
      env: {},
      config: cfg(`storage:
  type: minio
  container: my-s3-bucket
  connection:
    endpoint: localhost:30002
    access-key: minio
    secret-key: miniostorage
    auth-type: accesskey
    region: eu-west-1
    disable-ssl: true
`),
    });
    expect(s.endpoint).toBe("http://localhost:30002");
    expect(s.region).toBe("eu-west-1");
    expect(s.credentials).toEqual({ accessKeyId: "minio", secretAccessKey: "miniostorage" });
    expect(s.forcePathStyle).toBe(true);
    expect(s.sources.endpoint).toBe("/etc/flyte/config.yaml: storage.connection.endpoint");
    expect(s.sources.credentials).toContain("storage.connection.access-key");
  });

  it("reads the stow s3 config of a flyteadmin/propeller config", () => {
    const s = s3Settings({
      env: {},
      config: cfg(`storage:
  type: stow
  stow:
    kind: s3
    config:
      auth_type: accesskey
      access_key_id: k1
      secret_key: s1
      region: us-east-2
      endpoint: http://127.0.0.1:9000
      disable_ssl: "true"
`),
    });
    expect(s).toMatchObject({
      endpoint: "http://127.0.0.1:9000",
      region: "us-east-2",
      credentials: { accessKeyId: "k1", secretAccessKey: "s1" },
    });
  });

  it("lets FLYTE_AWS_* override the file, and falls back to AWS_* and https", () => {
    const config = cfg(
      "storage:\n  connection:\n    endpoint: http://file:1\n    access-key: a\n    secret-key: b\n",
    );
    const s = s3Settings({
      env: {
        FLYTE_AWS_ENDPOINT: "http://env:2",
        FLYTE_AWS_ACCESS_KEY_ID: "ek",
        FLYTE_AWS_SECRET_ACCESS_KEY: "es",
        FLYTE_AWS_RETRIES: "2",
      },
      config,
    });
    expect(s).toMatchObject({
      endpoint: "http://env:2",
      credentials: { accessKeyId: "ek", secretAccessKey: "es" },
      maxAttempts: 3,
    });
    const aws = s3Settings({
      env: { AWS_ENDPOINT_URL_S3: "s3.example.com", AWS_DEFAULT_REGION: "ap-south-1" },
      config: null,
    });
    expect(aws).toMatchObject({
      endpoint: "https://s3.example.com",
      region: "ap-south-1",
      credentials: undefined,
    });
    const plain = s3Settings({ env: {}, config: null });
    expect(plain).toMatchObject({
      endpoint: undefined,
      region: "us-east-1",
      forcePathStyle: false,
      maxAttempts: 5,
    });
    expect(plain.sources.credentials).toContain("default chain");
  });

  it("auth-type iam ignores keys in the file (the SDK's chain is used)", () => {
    const s = s3Settings({
      env: {},
      config: cfg("storage:\n  connection:\n    auth-type: iam\n    access-key: a\n    secret-key: b\n"),
    });
    expect(s.credentials).toBeUndefined();
  });

  it("finds the file through FLYTECTL_CONFIG", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsflyte-s3cfg-"));
    const file = join(dir, "config.yaml");
    writeFileSync(file, "storage:\n  connection:\n    endpoint: http://127.0.0.1:9\n");
    expect(s3Settings({ env: { FLYTECTL_CONFIG: file, HOME: dir } }).endpoint).toBe("http://127.0.0.1:9");
  });

  it("rejects half a key pair, a bad retry count and a storage section of the wrong shape", () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as FlyteError;
      }
      throw new Error("did not throw");
    };
    const half = err(() => s3Settings({ env: { FLYTE_AWS_ACCESS_KEY_ID: "k" }, config: null }));
    expect(half).toBeInstanceOf(FlyteError);
    expect(half.code).toBe("CONFIG_S3_CREDENTIALS");
    expect(half.message).toContain("$FLYTE_AWS_ACCESS_KEY_ID");
    expect(err(() => s3Settings({ env: { FLYTE_AWS_RETRIES: "many" }, config: null })).code).toBe(
      "CONFIG_S3_RETRIES",
    );
    expect(err(() => s3Settings({ env: {}, config: cfg("storage:\n  connection: [1]\n") })).code).toBe(
      "CONFIG_SHAPE",
    );
  });
});

describe("parseS3Uri", () => {
  it("splits bucket and key and rejects URIs without a bucket", () => {
    expect(parseS3Uri("s3://b/a/c.txt")).toEqual({ bucket: "b", key: "a/c.txt" });
    expect(parseS3Uri("s3://b")).toEqual({ bucket: "b", key: "" });
    expect(() => parseS3Uri("s3:///k")).toThrow(/STORAGE_S3_URI|s3:\/\/<bucket>/);
  });
});
