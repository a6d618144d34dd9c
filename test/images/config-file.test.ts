import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FlyteError } from "../../src/errors.js";
import {
  configSection,
  FLYTECTL_CONFIG_ENV,
  FlyteConfigError,
  locateFlyteConfig,
  parseFlyteConfig,
  readFlyteConfig,
} from "../../src/images/index.js";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "flytekit-ts-config-"));
}

function write(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function configErrorOf(fn: () => unknown): FlyteConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlyteConfigError);
    return err as FlyteConfigError;
  }
  throw new Error("expected an error");
}

const SAMPLE = `# written by flytectl config init, plus images
admin:
  endpoint: dns:///localhost:30080
  authType: Pkce
  insecure: true
storage:
  type: minio
  stow:
    kind: s3
    config:
      endpoint: http://localhost:30002
images:
  default: ghcr.io/acme/app:v3
  spark: localhost:5000/spark
`;

describe("locating the Flyte config file", () => {
  it("prefers configPath, then FLYTECTL_CONFIG, then ~/.flyte/config.yaml", () => {
    const home = tempDir();
    mkdirSync(join(home, ".flyte"));
    const homeFile = write(join(home, ".flyte"), "config.yaml", "images: {}\n");
    const env = { HOME: home, [FLYTECTL_CONFIG_ENV]: "/etc/flyte/config.yaml" };
    expect(locateFlyteConfig({ configPath: "/x/c.yaml", env })).toEqual({
      path: "/x/c.yaml",
      origin: "configPath",
    });
    expect(locateFlyteConfig({ env })).toEqual({ path: "/etc/flyte/config.yaml", origin: "FLYTECTL_CONFIG" });
    expect(locateFlyteConfig({ env: { HOME: home } })).toEqual({ path: homeFile, origin: "home" });
    expect(locateFlyteConfig({ env: { HOME: tempDir() } })).toBeUndefined();
  });

  it("expands ~/ and resolves relative paths", () => {
    expect(locateFlyteConfig({ configPath: "~/c.yaml", env: { HOME: "/home/me" } })?.path).toBe(
      "/home/me/c.yaml",
    );
    expect(locateFlyteConfig({ configPath: "c.yaml", env: {} })?.path).toBe(join(process.cwd(), "c.yaml"));
    expect(locateFlyteConfig({ env: { HOME: "/home/me", [FLYTECTL_CONFIG_ENV]: "~/f.yaml" } })?.path).toBe(
      "/home/me/f.yaml",
    );
  });
});

describe("readFlyteConfig", () => {
  it("returns the images and the raw document", () => {
    const dir = tempDir();
    const path = write(dir, "config.yaml", SAMPLE);
    const cfg = readFlyteConfig({ configPath: path, env: {} });
    expect(cfg?.path).toBe(path);
    expect(cfg?.origin).toBe("configPath");
    expect(cfg?.images).toEqual({ default: "ghcr.io/acme/app:v3", spark: "localhost:5000/spark" });
    expect(cfg?.raw.admin).toEqual({ endpoint: "dns:///localhost:30080", authType: "Pkce", insecure: true });
    expect(cfg && configSection(cfg, "storage")?.type).toBe("minio");
    expect(cfg && configSection(cfg, "logger")).toBeUndefined();
    expect(Object.isFrozen(cfg?.raw.admin)).toBe(true);
  });

  it("reads the file FLYTECTL_CONFIG names, and ~/.flyte/config.yaml", () => {
    const dir = tempDir();
    const path = write(dir, "f.yaml", "images:\n  gpu: ghcr.io/acme/gpu:1\n");
    expect(readFlyteConfig({ env: { HOME: tempDir(), [FLYTECTL_CONFIG_ENV]: path } })?.images).toEqual({
      gpu: "ghcr.io/acme/gpu:1",
    });
    const home = tempDir();
    mkdirSync(join(home, ".flyte"));
    write(join(home, ".flyte"), "config.yaml", "admin:\n  endpoint: x\n");
    const cfg = readFlyteConfig({ env: { HOME: home } });
    expect(cfg?.origin).toBe("home");
    expect(cfg?.images).toEqual({});
  });

  it("returns undefined when there is no file to read", () => {
    expect(readFlyteConfig({ env: { HOME: tempDir() } })).toBeUndefined();
  });

  it("treats an empty file or empty images as no images", () => {
    const dir = tempDir();
    expect(readFlyteConfig({ configPath: write(dir, "a.yaml", ""), env: {} })?.images).toEqual({});
    expect(readFlyteConfig({ configPath: write(dir, "b.yaml", "images:\n"), env: {} })?.images).toEqual({});
  });

  it("fails when a named file does not exist", () => {
    const missing = join(tempDir(), "nope.yaml");
    const a = configErrorOf(() => readFlyteConfig({ configPath: missing, env: {} }));
    expect(a).toMatchObject({ code: "CONFIG_NOT_FOUND", file: missing, entity: missing });
    expect(a.message).toContain("--config");
    const b = configErrorOf(() => readFlyteConfig({ env: { [FLYTECTL_CONFIG_ENV]: missing } }));
    expect(b).toMatchObject({ code: "CONFIG_NOT_FOUND", file: missing });
    expect(b.message).toContain("$FLYTECTL_CONFIG");
  });

  it("fails on a directory", () => {
    const dir = tempDir();
    expect(configErrorOf(() => readFlyteConfig({ configPath: dir, env: {} })).code).toBe("CONFIG_UNREADABLE");
  });
});

describe("bad config files", () => {
  it.each([
    ["admin:\n  endpoint: [unclosed\n", "CONFIG_NOT_YAML", undefined, /line \d+/],
    ["images:\n  a: x/a:1\n  a: x/b:1\n", "CONFIG_NOT_YAML", undefined, /line 3/],
    ["a: 1\n---\nb: 2\n", "CONFIG_NOT_YAML", undefined, /not valid YAML/],
    ["- admin\n- images\n", "CONFIG_SHAPE", undefined, /not a list/],
    ["just a string\n", "CONFIG_SHAPE", undefined, /not a string/],
    ["images:\n  - ghcr.io/acme/a:1\n", "CONFIG_IMAGES_SHAPE", "images", /not a list/],
    ["images: ghcr.io/acme/a:1\n", "CONFIG_IMAGES_SHAPE", "images", /not a string/],
    ["images:\n  spark: 3\n", "CONFIG_IMAGE_VALUE", "images.spark", /not a number 3/],
    ["images:\n  spark:\n    fqn: x\n", "CONFIG_IMAGE_VALUE", "images.spark", /not a mapping/],
    ["images:\n  spark:\n", "CONFIG_IMAGE_VALUE", "images.spark", /it is empty/],
    ["images:\n  my.spark: x/y:1\n", "IMAGE_NAME_INVALID", "images.my.spark", /my\.spark/],
    ["images:\n  spark: Ghcr.io/Acme/Spark:1\n", "IMAGE_REF_INVALID", "images.spark", /lower case/],
    ["images:\n  spark: 'x/y:'\n", "IMAGE_REF_INVALID", "images.spark", /empty/],
    ["images:\n  default: ghcr.io/acme/app\n", "IMAGE_REF_NO_VERSION", "images.default", /no tag or digest/],
    ["images:\n  Default: ghcr.io/acme/app\n", "IMAGE_REF_NO_VERSION", "images.Default", /no tag or digest/],
  ])("%j -> %s", (text, code, key, message) => {
    const path = "/cfg/config.yaml";
    const err = configErrorOf(() => parseFlyteConfig(text, path));
    expect(err.code).toBe(code);
    expect(err.file).toBe(path);
    expect(err.key).toBe(key);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(path);
    expect(err.fix).toBeTruthy();
    expect(err).toBeInstanceOf(FlyteError);
  });

  it("reports a section that is not a mapping", () => {
    const cfg = parseFlyteConfig("admin: 5\n", "/c.yaml");
    expect(configErrorOf(() => configSection(cfg, "admin"))).toMatchObject({
      code: "CONFIG_SHAPE",
      key: "admin",
    });
  });
});
