import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { type FlyteError, FlyteUsageError } from "../../src/errors.js";
import { FlyteConfigError, ImageConfig, sdkDefaultImage } from "../../src/images/index.js";
import {
  DEFAULT_ENTRYPOINT,
  DEFAULT_NODE_INTERPRETER,
  DEFAULT_SDK_ROOT,
  SERIALIZED_CONTEXT_ENV_VAR,
  SerializationSettings,
  SerializationSettingsBuilder,
} from "../../src/serialize/settings.js";

const SHA = `sha256:${"ef".repeat(32)}`;

/**
 * What flytekit 1.16.31 writes for
 * `SerializationSettings(image_config=ImageConfig.from_images("ghcr.io/acme/app:v3",
 *   {"spark": "localhost:5000/spark", "pinned": "ghcr.io/acme/pinned@sha256:efef..."}),
 *   project="flytesnacks", domain="development", version="v3", env={"FOO": "bar"},
 *   fast_serialization_settings=FastSerializationSettings(True, "/root", "s3://bucket/fast/abc.tar.gz"),
 *   source_root="/src").with_serialized_context().env["_F_SS_C"]`.
 */
const FLYTEKIT_CONTEXT =
  "H4sIAAAAAAAC/62SQU7DMBBFr1J5jeqKqixyALYcAKFo4k5SE8c2nkmkturdsSctAQnYgCJZ8Z/x88+fnJUdoMPaBN/aTlWrs9pjC6PjWgqieBjKy62i7laqffNF6Q4mrW3QYAbUEGMpMRSOmrZls7cdEue9H527ZEGolIXnf+UuMIqQ+k8oFwy4QyCudpvNRn+UZ1w5/isuWu9x/5O1pfo9TtEB7ncPFbZ/e9TlpYQXU3hFI+DWHRnJg+lJ8ggDWD+HOaELcUAvgU6YyAa/JId+kqE+Pj0VsYGkCvo29YQUxmRkRNev6WyRY1iUeORD8LX1jCkmzGtB6RBZT5mvG+v13CNXitc+UyabeASXW+oUAn85JI1AXBMmC86egLPvvGO2viPxjB4al/OuVpxGFNeUq3Pn3s4uhCxDIE62GaVY/gK+5kDbSutmND2yLjdqaMyaIa27k0QxB7A4pGTU5R1Yq1G/KQMAAA==";

function errorOf(fn: () => unknown): FlyteError {
  try {
    fn();
  } catch (err) {
    return err as FlyteError;
  }
  throw new Error("expected an error");
}

function sample(): SerializationSettings {
  return new SerializationSettings({
    project: "flytesnacks",
    domain: "development",
    version: "v3",
    imageConfig: ImageConfig.fromImages("ghcr.io/acme/app:v3", {
      spark: "localhost:5000/spark",
      pinned: `ghcr.io/acme/pinned@${SHA}`,
    }),
    env: { FOO: "bar" },
    fastSerializationSettings: {
      enabled: true,
      destinationDir: "/root",
      distributionLocation: "s3://bucket/fast/abc.tar.gz",
    },
    sourceRoot: "/src",
  });
}

describe("SerializationSettings", () => {
  it("has defaults for everything", () => {
    const s = new SerializationSettings();
    expect(s.project).toBeUndefined();
    expect(s.domain).toBeUndefined();
    expect(s.version).toBeUndefined();
    expect(s.imageConfig.defaultImage.full).toBe(sdkDefaultImage());
    expect(s.env).toEqual({});
    expect(s.entrypointSettings).toEqual({ path: DEFAULT_ENTRYPOINT });
    expect(DEFAULT_ENTRYPOINT).toBe("tsflyte-execute");
    expect(s.nodeInterpreter).toBe(DEFAULT_NODE_INTERPRETER);
    expect(s.sdkRoot).toBe(DEFAULT_SDK_ROOT);
    expect(s.fastSerializationSettings).toBeUndefined();
    expect(s.shouldFastSerialize()).toBe(false);
    expect(s.sourceRoot).toBeUndefined();
  });

  it("is frozen, and copies what it is given", () => {
    const env: Record<string, string> = { A: "1" };
    const fast = { enabled: true, destinationDir: "/root" };
    const s = new SerializationSettings({ env, fastSerializationSettings: fast });
    env.A = "2";
    fast.enabled = false;
    expect(s.env.A).toBe("1");
    expect(s.shouldFastSerialize()).toBe(true);
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.env)).toBe(true);
    expect(Object.isFrozen(s.entrypointSettings)).toBe(true);
    expect(Object.isFrozen(s.fastSerializationSettings)).toBe(true);
    expect(() => {
      (s as { version: string | undefined }).version = "x";
    }).toThrow(TypeError);
    expect(() => {
      (s.env as Record<string, string>).B = "x";
    }).toThrow(TypeError);
  });

  it("forImage makes settings for one default image", () => {
    const s = SerializationSettings.forImage("ghcr.io/acme/app:v3", "v3", { project: "p", domain: "d" });
    expect(s.imageConfig.names).toEqual(["default"]);
    expect(s.imageConfig.resolve(undefined, "t")).toBe("ghcr.io/acme/app:v3");
    expect([s.project, s.domain, s.version]).toEqual(["p", "d", "v3"]);
    expect(errorOf(() => SerializationSettings.forImage("ghcr.io/acme/app", "v3")).code).toBe(
      "IMAGE_REF_NO_VERSION",
    );
  });

  it.each([
    [{ project: 1 }, "project"],
    [{ imageConfig: "ghcr.io/a:b" }, "imageConfig"],
    [{ env: { A: 1 } }, "env.A"],
    [{ env: { "A=B": "x" } }, "env name"],
    [{ env: ["A"] }, "env"],
    [{ nodeInterpreter: "" }, "nodeInterpreter"],
    [{ entrypointSettings: { path: 3 } }, "entrypointSettings.path"],
    [{ fastSerializationSettings: { enabled: "yes" } }, "fastSerializationSettings.enabled"],
    [
      { fastSerializationSettings: { enabled: true, destinationDir: 1 } },
      "fastSerializationSettings.destinationDir",
    ],
  ])("rejects %j", (init, key) => {
    const err = errorOf(() => new SerializationSettings(init as never));
    expect(err).toBeInstanceOf(FlyteUsageError);
    expect(err.code).toBe("SETTINGS_INVALID");
    expect(err.message).toContain(key);
  });
});

describe("SerializationSettings builder", () => {
  it("copies the settings and builds new ones, leaving the original alone", () => {
    const s = sample();
    const t = s.newBuilder().version("v4").addEnv("X", "y").project(undefined).build();
    expect(t).not.toBe(s);
    expect(t.version).toBe("v4");
    expect(t.project).toBeUndefined();
    expect(t.env).toEqual({ FOO: "bar", X: "y" });
    expect(t.domain).toBe("development");
    expect(t.imageConfig).toBe(s.imageConfig);
    expect(t.fastSerializationSettings).toEqual(s.fastSerializationSettings);
    expect(s.version).toBe("v3");
    expect(s.env).toEqual({ FOO: "bar" });
  });

  it("sets every field", () => {
    const images = ImageConfig.fromImages("a/b:c");
    const t = new SerializationSettingsBuilder()
      .project("p")
      .domain("d")
      .version("v")
      .imageConfig(images)
      .env({ A: "1" })
      .entrypointSettings({ path: "/opt/bin/tsflyte-execute" })
      .nodeInterpreter("/usr/bin/node")
      .sdkRoot("/app/node_modules/flytekit-ts")
      .fastSerializationSettings({ enabled: false })
      .sourceRoot("/app")
      .build();
    expect(t.toJSON()).toMatchObject({
      project: "p",
      domain: "d",
      version: "v",
      env: { A: "1" },
      entrypoint_settings: { path: "/opt/bin/tsflyte-execute" },
      node_interpreter: "/usr/bin/node",
      sdk_root: "/app/node_modules/flytekit-ts",
      fast_serialization_settings: { enabled: false, destination_dir: null, distribution_location: null },
      source_root: "/app",
    });
    expect(t.imageConfig).toBe(images);
    expect(t.shouldFastSerialize()).toBe(false);
  });
});

describe("the serialized context (_F_SS_C)", () => {
  it("uses flytekit's key names where the concepts match", () => {
    expect(sample().toJSON()).toEqual({
      image_config: {
        default_image: { name: "default", fqn: "ghcr.io/acme/app", tag: "v3", digest: null },
        images: [
          { name: "default", fqn: "ghcr.io/acme/app", tag: "v3", digest: null },
          { name: "spark", fqn: "localhost:5000/spark", tag: null, digest: null },
          { name: "pinned", fqn: "ghcr.io/acme/pinned", tag: null, digest: SHA },
        ],
      },
      project: "flytesnacks",
      domain: "development",
      version: "v3",
      env: { FOO: "bar" },
      node_interpreter: DEFAULT_NODE_INTERPRETER,
      sdk_root: DEFAULT_SDK_ROOT,
      entrypoint_settings: { path: "tsflyte-execute" },
      fast_serialization_settings: {
        enabled: true,
        destination_dir: "/root",
        distribution_location: "s3://bucket/fast/abc.tar.gz",
      },
      source_root: "/src",
    });
  });

  it("is base64 of gzip of that JSON, the same every time", () => {
    const s = sample();
    const text = s.serializedContext;
    expect(text).toBe(sample().serializedContext);
    expect(JSON.parse(gunzipSync(Buffer.from(text, "base64")).toString("utf8"))).toEqual(s.toJSON());
  });

  it("withSerializedContext puts it in env, without itself inside", () => {
    const s = sample();
    const w = s.withSerializedContext();
    expect(w.env[SERIALIZED_CONTEXT_ENV_VAR]).toBe(s.serializedContext);
    expect(w.env.FOO).toBe("bar");
    expect(w.toJSON()).toEqual(s.toJSON());
    expect(w.withSerializedContext()).toBe(w);
    expect(s.env[SERIALIZED_CONTEXT_ENV_VAR]).toBeUndefined();
  });

  it("is recomputed after a change, never stale", () => {
    const w = sample().withSerializedContext();
    const changed = w.newBuilder().version("v9").build().withSerializedContext();
    expect(SerializationSettings.fromEnvironment(changed.env)?.version).toBe("v9");
  });

  it("reads back into equal settings", () => {
    const w = sample().withSerializedContext();
    const back = SerializationSettings.fromSerializedContext(w.env[SERIALIZED_CONTEXT_ENV_VAR] ?? "");
    expect(back.toJSON()).toEqual(sample().toJSON());
    expect(back.imageConfig.resolve("{{.image.pinned.fqn}}:{{.image.pinned.version}}", "t")).toBe(
      `ghcr.io/acme/pinned@${SHA}`,
    );
    const fromEnv = SerializationSettings.fromEnvironment({ ...w.env, OTHER: "x" });
    expect(fromEnv?.toJSON()).toEqual(sample().toJSON());
    expect(SerializationSettings.fromEnvironment({})).toBeUndefined();
    expect(SerializationSettings.fromEnvironment({ [SERIALIZED_CONTEXT_ENV_VAR]: "" })).toBeUndefined();
  });

  it("reads flytekit's _F_SS_C", () => {
    const s = SerializationSettings.fromSerializedContext(FLYTEKIT_CONTEXT);
    expect([s.project, s.domain, s.version, s.sourceRoot]).toEqual([
      "flytesnacks",
      "development",
      "v3",
      "/src",
    ]);
    expect(s.env).toEqual({ FOO: "bar" });
    expect(s.imageConfig.names).toEqual(["default", "spark", "pinned"]);
    expect(s.imageConfig.resolve("{{.image.spark.fqn}}:{{.image.spark.version}}", "t")).toBe(
      "localhost:5000/spark:v3",
    );
    expect(s.fastSerializationSettings).toEqual({
      enabled: true,
      destinationDir: "/root",
      distributionLocation: "s3://bucket/fast/abc.tar.gz",
    });
    expect(s.nodeInterpreter).toBe(DEFAULT_NODE_INTERPRETER);
    expect(s.toJSON()).toEqual(sample().toJSON());
  });

  it("reads the _F_SS_C that pyflyte package wrote for a dynamic task (golden fixture)", () => {
    const fixture = JSON.parse(
      readFileSync(
        join(import.meta.dirname, "../fixtures/flytekit/packages/serialization-context.json"),
        "utf8",
      ),
    ) as Record<string, { raw: string; decoded: Record<string, unknown> }>;
    const entry = fixture["goldens_wf.example.dyn"];
    if (!entry) throw new Error("fixture entry missing");
    const s = SerializationSettings.fromSerializedContext(entry.raw);
    expect([s.project, s.domain, s.version]).toEqual([undefined, undefined, undefined]);
    expect(s.env).toEqual({});
    expect(s.imageConfig.toJSON()).toEqual(entry.decoded.image_config);
    expect(s.imageConfig.resolve("{{.image.other}}", "t")).toBe("ghcr.io/example/other:v2");
    expect(s.fastSerializationSettings).toEqual({
      enabled: false,
      destinationDir: "/root",
      distributionLocation: undefined,
    });
    expect(s.sourceRoot).toBe(entry.decoded.source_root);
    // The keys shared with flytekit come back as flytekit wrote them.
    const ours = s.toJSON() as unknown as Record<string, unknown>;
    for (const key of [
      "image_config",
      "project",
      "domain",
      "version",
      "fast_serialization_settings",
      "source_root",
    ]) {
      expect(ours[key]).toEqual(entry.decoded[key]);
    }
  });

  const b64 = (value: string): string => gzipSync(Buffer.from(value)).toString("base64");
  it.each([
    ["not base64!", /not base64/],
    ["", /not base64/],
    [Buffer.from("plain text").toString("base64"), /not gzip/],
    [b64("{not json"), /does not hold JSON/],
    [b64("[]"), /not an object/],
    [b64('{"project": 5}'), /project is 5/],
    [b64('{"env": "A=b"}'), /env is "A=b"/],
    [b64('{"env": {"A": 1}}'), /env\.A/],
    [b64('{"entrypoint_settings": {"path": 1}}'), /entrypoint_settings\.path/],
    [b64('{"fast_serialization_settings": {"enabled": "yes"}}'), /fast_serialization_settings\.enabled/],
    [b64('{"fast_serialization_settings": {"enabled": true, "destination_dir": 3}}'), /destination_dir/],
    [
      b64('{"image_config": {"default_image": {"name": "default", "fqn": "A/B", "tag": "1"}}}'),
      /image_config\.default_image/,
    ],
  ])("rejects a corrupt context %#", (text, message) => {
    const err = errorOf(() => SerializationSettings.fromSerializedContext(text));
    expect(err).toBeInstanceOf(FlyteConfigError);
    expect(err.code).toBe("SERIALIZED_CONTEXT_INVALID");
    expect(err.origin).toBe("SYSTEM");
    expect(err.entity).toBe(SERIALIZED_CONTEXT_ENV_VAR);
    expect(err.message).toMatch(message);
  });
});

// The Python peer (scripts/setup/flytekit.sh); skipped when it has not been set up.
const peerPython = join(
  process.env.FLYTEKIT_TS_CACHE ?? join(homedir(), ".cache", "flytekit-ts"),
  "venv",
  "bin",
  "python",
);

describe.skipIf(!existsSync(peerPython))("flytekit reads our _F_SS_C (peer)", () => {
  it("decodes the settings and resolves the same images", () => {
    const script = [
      "import json, os",
      "from flytekit.configuration import SerializationSettings",
      "from flytekit.core.python_auto_container import get_registerable_container_image as r",
      "s = SerializationSettings.from_transport(os.environ['CTX'])",
      "print(json.dumps([s.project, s.domain, s.version, s.env, s.source_root,",
      "  s.fast_serialization_settings.distribution_location,",
      "  r(None, s.image_config), r('{{.image.spark.fqn}}:{{.image.spark.version}}', s.image_config),",
      "  r('{{.image.pinned.fqn}}:{{.image.pinned.version}}', s.image_config)]))",
    ].join("\n");
    const settings = sample();
    const out = execFileSync(peerPython, ["-c", script], {
      env: { ...process.env, CTX: settings.serializedContext },
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual([
      "flytesnacks",
      "development",
      "v3",
      { FOO: "bar" },
      "/src",
      "s3://bucket/fast/abc.tar.gz",
      "ghcr.io/acme/app:v3",
      settings.imageConfig.resolve("{{.image.spark.fqn}}:{{.image.spark.version}}", "t"),
      settings.imageConfig.resolve("{{.image.pinned.fqn}}:{{.image.pinned.version}}", "t"),
    ]);
  }, 60_000);
});
