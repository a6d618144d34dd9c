import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FlyteDefinitionError, type FlyteError, FlyteUsageError } from "../../src/errors.js";
import {
  FlyteConfigError,
  ImageConfig,
  parseFlyteConfig,
  parseImageReference,
  SDK_IMAGE_REPOSITORY,
  sdkDefaultImage,
  sdkVersion,
} from "../../src/images/index.js";

const SHA = `sha256:${"cd".repeat(32)}`;

function errorOf(fn: () => unknown): FlyteError {
  try {
    fn();
  } catch (err) {
    return err as FlyteError;
  }
  throw new Error("expected an error");
}

/** A HOME with no Flyte config file, so tests never read the machine's own. */
const emptyHome = mkdtempSync(join(tmpdir(), "flytekit-ts-home-"));
const noConfigEnv = { HOME: emptyHome };

describe("the SDK's default image", () => {
  it("is ghcr.io/flytekit-ts/runtime:node<major>-<sdk version>", () => {
    expect(sdkDefaultImage({ nodeVersion: "20.11.1", sdkVersion: "0.1.0" })).toBe(
      "ghcr.io/flytekit-ts/runtime:node20-0.1.0",
    );
    expect(sdkDefaultImage({ nodeVersion: "v22.1.0", sdkVersion: "v1.2.3-rc.1+build.5" })).toBe(
      "ghcr.io/flytekit-ts/runtime:node22-1.2.3-rc.1-build.5",
    );
    const major = process.versions.node.split(".")[0];
    expect(sdkVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(sdkDefaultImage()).toBe(`${SDK_IMAGE_REPOSITORY}:node${major}-${sdkVersion()}`);
  });

  it("is what autoDefaultImage() holds", () => {
    const cfg = ImageConfig.autoDefaultImage();
    expect(cfg.defaultImage.full).toBe(sdkDefaultImage());
    expect(cfg.names).toEqual(["default"]);
    expect(cfg.resolve(undefined, "t")).toBe(sdkDefaultImage());
  });
});

describe("ImageConfig.fromImages", () => {
  const cfg = ImageConfig.fromImages("ghcr.io/acme/app:v3", {
    spark: "ghcr.io/acme/spark:3.5",
    gpu: "ghcr.io/acme/gpu",
  });

  it("holds the default first, then the named images", () => {
    expect(cfg.names).toEqual(["default", "spark", "gpu"]);
    expect(cfg.defaultImage.full).toBe("ghcr.io/acme/app:v3");
    expect(cfg.images.map((i) => i.full)).toEqual([
      "ghcr.io/acme/app:v3",
      "ghcr.io/acme/spark:3.5",
      "ghcr.io/acme/gpu",
    ]);
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.images)).toBe(true);
  });

  it("finds images by name, ignoring case; default finds the default", () => {
    expect(cfg.findImage("default")?.full).toBe("ghcr.io/acme/app:v3");
    expect(cfg.findImage("spark")?.fqn).toBe("ghcr.io/acme/spark");
    expect(cfg.findImage("SPARK")?.name).toBe("spark");
    expect(cfg.findImage("nope")).toBeUndefined();
  });

  it("rejects bad input with definition errors", () => {
    const cases: Array<[() => unknown, string]> = [
      [() => ImageConfig.fromImages("ghcr.io/acme/app"), "IMAGE_REF_NO_VERSION"],
      [() => ImageConfig.fromImages("ghcr.io/Acme/app:v1"), "IMAGE_REF_INVALID"],
      [() => ImageConfig.fromImages("a/b:c", { "sp.ark": "a/b:c" }), "IMAGE_NAME_INVALID"],
      [() => ImageConfig.fromImages("a/b:c", { spark: "a/b:" }), "IMAGE_REF_INVALID"],
      [() => ImageConfig.fromImages("a/b:c", { default: "a/b:d" }), "IMAGE_DUPLICATE_DEFAULT"],
      [() => ImageConfig.fromImages("a/b:c", { spark: "a/b:1", Spark: "a/b:2" }), "IMAGE_DUPLICATE_NAME"],
    ];
    for (const [fn, code] of cases) {
      const err = errorOf(fn);
      expect(err).toBeInstanceOf(FlyteDefinitionError);
      expect(err.code).toBe(code);
      expect(err.fix).toBeTruthy();
    }
  });

  it("adds or replaces images with withImages", () => {
    const more = cfg.withImages({ SPARK: "ghcr.io/acme/spark:4.0", extra: "x/y:1" });
    expect(more.names).toEqual(["default", "SPARK", "gpu", "extra"]);
    expect(more.findImage("spark")?.full).toBe("ghcr.io/acme/spark:4.0");
    expect(cfg.findImage("spark")?.full).toBe("ghcr.io/acme/spark:3.5");
    expect(cfg.withImages({ default: "x/y:2" }).defaultImage.full).toBe("x/y:2");
  });
});

describe("ImageConfig.validateImage (the CLI's --image)", () => {
  it("takes a bare ref as the default and name=ref as named images", () => {
    const cfg = ImageConfig.validateImage(["ghcr.io/acme/app:v3", "spark=ghcr.io/acme/spark:3.5"]);
    expect(cfg.defaultImage.full).toBe("ghcr.io/acme/app:v3");
    expect(cfg.findImage("spark")?.full).toBe("ghcr.io/acme/spark:3.5");
  });

  it("takes default=ref (in any case) as the default, and a single string", () => {
    expect(ImageConfig.validateImage("default=a/b:1").defaultImage.full).toBe("a/b:1");
    expect(ImageConfig.validateImage("DEFAULT=a/b:1").names).toEqual(["default"]);
    expect(ImageConfig.validateImage(["default=a/b:1"]).names).toEqual(["default"]);
  });

  it("accumulates repeated flags, and uses the SDK default without a default flag", () => {
    const cfg = ImageConfig.validateImage(["a=x/a:1", "b=x/b:1", "c=localhost:5000/c@" + SHA, "a=x/a:1"]);
    expect(cfg.names).toEqual(["default", "a", "b", "c"]);
    expect(cfg.defaultImage.full).toBe(sdkDefaultImage());
    expect(ImageConfig.validateImage([]).defaultImage.full).toBe(sdkDefaultImage());
  });

  it.each([
    [["a/b:1", "c/d:2"], "IMAGE_DUPLICATE_DEFAULT", "--image c/d:2"],
    [["a/b:1", "default=c/d:2"], "IMAGE_DUPLICATE_DEFAULT", "--image default=c/d:2"],
    [["a/b:1", "a/b:1"], "IMAGE_DUPLICATE_DEFAULT", "--image a/b:1"],
    [["a/b:1", "Default=c/d:2"], "IMAGE_DUPLICATE_DEFAULT", "--image Default=c/d:2"],
    [["s=a/b:1", "s=a/b:2"], "IMAGE_DUPLICATE_NAME", "--image s=a/b:2"],
    [["localhost:5000/img"], "IMAGE_REF_NO_VERSION", "--image localhost:5000/img"],
    [["s=ghcr.io/acme/spark"], "IMAGE_REF_NO_VERSION", "--image s=ghcr.io/acme/spark"],
    [["s=Bad/Ref:1"], "IMAGE_REF_INVALID", "--image s=Bad/Ref:1"],
    [["=a/b:1"], "IMAGE_NAME_INVALID", "--image =a/b:1"],
    [["my.img=a/b:1"], "IMAGE_NAME_INVALID", "--image my.img=a/b:1"],
    [["s="], "IMAGE_REF_INVALID", "--image s="],
  ])("%j: %s", (flags, code, entity) => {
    const err = errorOf(() => ImageConfig.validateImage(flags));
    expect(err).toBeInstanceOf(FlyteUsageError);
    expect(err.code).toBe(code);
    expect(err.entity).toBe(entity);
  });
});

describe("ImageConfig.fromSources: code, then config file, then CLI", () => {
  const file = parseFlyteConfig(
    "images:\n  default: ghcr.io/acme/from-file:1\n  spark: ghcr.io/acme/spark-file:1\n  gpu: ghcr.io/acme/gpu-file:1\n",
    "/etc/flyte.yaml",
  );

  it("lets later sources replace images of the same name", () => {
    const cfg = ImageConfig.fromSources({
      code: {
        default: "ghcr.io/acme/from-code:1",
        spark: "ghcr.io/acme/spark-code:1",
        only: "ghcr.io/acme/only:1",
      },
      configFile: file,
      cli: ["SPARK=ghcr.io/acme/spark-cli:1"],
    });
    expect(cfg.defaultImage.full).toBe("ghcr.io/acme/from-file:1");
    expect(cfg.findImage("spark")?.full).toBe("ghcr.io/acme/spark-cli:1");
    expect(cfg.findImage("gpu")?.full).toBe("ghcr.io/acme/gpu-file:1");
    expect(cfg.findImage("only")?.full).toBe("ghcr.io/acme/only:1");
    expect(cfg.names).toEqual(["default", "SPARK", "only", "gpu"]);
  });

  it("takes the CLI's bare ref over the file's default, and an ImageConfig as code", () => {
    const code = ImageConfig.fromImages("ghcr.io/acme/from-code:1", { mine: "x/mine:1" });
    const cfg = ImageConfig.fromSources({ code, configFile: file, cli: ["ghcr.io/acme/cli:2"] });
    expect(cfg.defaultImage.full).toBe("ghcr.io/acme/cli:2");
    expect(cfg.findImage("mine")?.full).toBe("x/mine:1");
    expect(ImageConfig.fromSources({ code }).defaultImage.full).toBe("ghcr.io/acme/from-code:1");
  });

  it("falls back to the SDK default image", () => {
    expect(ImageConfig.fromSources({}).defaultImage.full).toBe(sdkDefaultImage());
    expect(ImageConfig.fromSources({ cli: ["s=x/s:1"] }).defaultImage.full).toBe(sdkDefaultImage());
  });

  it("keeps the CLI's rules (two defaults is an error)", () => {
    expect(errorOf(() => ImageConfig.fromSources({ configFile: file, cli: ["a/b:1", "c/d:1"] })).code).toBe(
      "IMAGE_DUPLICATE_DEFAULT",
    );
  });
});

describe("ImageConfig.auto", () => {
  it("uses the given default and the config file's named images", () => {
    const home = mkdtempSync(join(tmpdir(), "flytekit-ts-home-"));
    mkdirSync(join(home, ".flyte"));
    writeFileSync(join(home, ".flyte", "config.yaml"), "images:\n  spark: ghcr.io/acme/spark:1\n");
    const cfg = ImageConfig.auto("ghcr.io/acme/app:9", { env: { HOME: home } });
    expect(cfg.defaultImage.full).toBe("ghcr.io/acme/app:9");
    expect(cfg.findImage("spark")?.full).toBe("ghcr.io/acme/spark:1");
    expect(ImageConfig.auto(undefined, { env: { HOME: home } }).defaultImage.full).toBe(sdkDefaultImage());
    expect(ImageConfig.auto(undefined, { env: { HOME: home }, readConfig: false }).names).toEqual([
      "default",
    ]);
  });

  it("works without any config file", () => {
    expect(ImageConfig.auto("a/b:c", { env: noConfigEnv }).names).toEqual(["default"]);
    expect(errorOf(() => ImageConfig.auto("a/b", { env: noConfigEnv })).code).toBe("IMAGE_REF_NO_VERSION");
  });
});

describe("ImageConfig JSON (flytekit's image_config)", () => {
  it("writes every image in images, the default first", () => {
    const cfg = ImageConfig.fromImages("ghcr.io/a/default:v1", {
      spark: "localhost:5000/spark",
      dig: `x.io/y@${SHA}`,
    });
    expect(cfg.toJSON()).toEqual({
      default_image: { name: "default", fqn: "ghcr.io/a/default", tag: "v1", digest: null },
      images: [
        { name: "default", fqn: "ghcr.io/a/default", tag: "v1", digest: null },
        { name: "spark", fqn: "localhost:5000/spark", tag: null, digest: null },
        { name: "dig", fqn: "x.io/y", tag: null, digest: SHA },
      ],
    });
    expect(ImageConfig.fromJSON(JSON.parse(JSON.stringify(cfg))).toJSON()).toEqual(cfg.toJSON());
  });

  it("reads flytekit's forms: images null, default only in images", () => {
    const one = ImageConfig.fromJSON({
      default_image: { name: "default", fqn: "a/b", tag: "c", digest: null },
      images: null,
    });
    expect(one.names).toEqual(["default"]);
    const inList = ImageConfig.fromJSON({
      default_image: null,
      images: [{ name: "default", fqn: "a/b", tag: "c" }],
    });
    expect(inList.defaultImage.full).toBe("a/b:c");
  });

  it.each([
    [null, "image_config"],
    [{ images: {} }, "image_config.images"],
    [{ images: [42] }, "image_config.images[0]"],
    [{ default_image: { name: "default", fqn: 1 } }, "image_config.default_image.fqn"],
    [{ default_image: { name: "default", fqn: "a/b", tag: 1 } }, "image_config.default_image.tag"],
    [{ default_image: { name: "default", fqn: "A/B", tag: "1" } }, "image_config.default_image"],
    [{ default_image: { name: "default", fqn: "a/b" } }, "image_config"],
  ])("rejects %j at %s", (json, key) => {
    const err = errorOf(() => ImageConfig.fromJSON(json));
    expect(err).toBeInstanceOf(FlyteConfigError);
    expect(err.code).toBe("IMAGE_CONFIG_INVALID");
    expect((err as FlyteConfigError).key).toBe(key);
  });
});

describe("ImageConfig constructor", () => {
  it("renames the default image to default and drops an identical default among the images", () => {
    const def = parseImageReference("a/b:1", "main");
    const cfg = new ImageConfig(def, [parseImageReference("a/b:1"), parseImageReference("x/y:1", "x")]);
    expect(cfg.names).toEqual(["default", "x"]);
  });
});
