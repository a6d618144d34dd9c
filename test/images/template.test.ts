import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { FlyteDefinitionError } from "../../src/errors.js";
import {
  DEFAULT_IMAGE_TEMPLATE,
  hasImageTemplate,
  ImageConfig,
  parseImageTemplates,
  validateContainerImage,
} from "../../src/images/index.js";
import { TaskSpecSchema } from "../../src/proto/gen/flyteidl/admin/task_pb.js";

const SHA = `sha256:${"ab".repeat(32)}`;
const images = ImageConfig.fromImages("ghcr.io/acme/app:v3", {
  spark: "localhost:5000/team/spark:3.5",
  pinned: `ghcr.io/acme/pinned@${SHA}`,
  untagged: "ghcr.io/acme/untagged",
});

function errorOf(fn: () => unknown): FlyteDefinitionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlyteDefinitionError);
    return err as FlyteDefinitionError;
  }
  throw new Error("expected an error");
}

describe("ImageConfig.resolve", () => {
  it.each([
    [undefined, "ghcr.io/acme/app:v3"],
    [DEFAULT_IMAGE_TEMPLATE, "ghcr.io/acme/app:v3"],
    ["{{.image.default}}", "ghcr.io/acme/app:v3"],
    ["{{.image.spark.fqn}}:{{.image.spark.version}}", "localhost:5000/team/spark:3.5"],
    ["{{.image.spark}}", "localhost:5000/team/spark:3.5"],
    ["{{.images.spark}}", "localhost:5000/team/spark:3.5"],
    ["{{ .image.spark.fqn }}:{{   .image.spark.version\t}}", "localhost:5000/team/spark:3.5"],
    ["{{.IMAGE.SPARK.FQN}}:{{.Images.Spark.Version}}", "localhost:5000/team/spark:3.5"],
    ["{{.image.spark.fqn}}:custom-tag", "localhost:5000/team/spark:custom-tag"],
    ["{{.image.default.fqn}}:{{.image.spark.version}}", "ghcr.io/acme/app:3.5"],
    ["{{.image.spark.fqn}}", "localhost:5000/team/spark"],
    ["{{.image.pinned}}", `ghcr.io/acme/pinned@${SHA}`],
    ["{{.image.pinned.fqn}}:{{.image.pinned.version}}", `ghcr.io/acme/pinned@${SHA}`],
    ["{{.image.pinned.fqn}}@{{.image.pinned.version}}", `ghcr.io/acme/pinned@${SHA}`],
    ["{{.image.untagged.fqn}}:{{.image.untagged.version}}", "ghcr.io/acme/untagged:v3"],
    ["{{.image.untagged}}", "ghcr.io/acme/untagged:v3"],
    ["python:3.11-slim", "python:3.11-slim"],
    ["alpine", "alpine"],
    ["localhost:5000/img", "localhost:5000/img"],
  ])("%s -> %s", (containerImage, expected) => {
    expect(images.resolve(containerImage, "wf.t")).toBe(expected);
  });

  it("names the task and the images that exist for an unknown name", () => {
    const err = errorOf(() =>
      images.resolve("{{.image.trainer.fqn}}:{{.image.trainer.version}}", "wf.train"),
    );
    expect(err.code).toBe("IMAGE_NOT_FOUND");
    expect(err.entity).toBe("wf.train");
    expect(err.message).toContain('"trainer"');
    expect(err.message).toContain("default (ghcr.io/acme/app:v3), spark (localhost:5000/team/spark:3.5)");
    expect(err.fix).toContain("--image trainer=<ref>");
  });

  it.each([
    ["{{ .image.spark.fqdn }}", "IMAGE_TEMPLATE_ATTRIBUTE", '"fqdn"'],
    ["{{.image.spark.tag}}", "IMAGE_TEMPLATE_ATTRIBUTE", '"tag"'],
    ["{{.imag.spark.fqn}}", "IMAGE_TEMPLATE_INVALID", 'found "imag"'],
    ["{{image.spark.fqn}}", "IMAGE_TEMPLATE_INVALID", "must start with a dot"],
    ["{{.image}}", "IMAGE_TEMPLATE_INVALID", "names no image"],
    ["{{.image.}}", "IMAGE_TEMPLATE_INVALID", "names no image"],
    ["{{}}", "IMAGE_TEMPLATE_INVALID", "is empty"],
    ["{{.image.spark.fqn.x}}", "IMAGE_TEMPLATE_INVALID", "more parts"],
    ["{{.image.sp ark}}", "IMAGE_TEMPLATE_INVALID", "characters other than"],
    ["{{.image.spark.fqn}:v1", "IMAGE_TEMPLATE_INVALID", "without a closing"],
    ["{{.image.spark.fqn", "IMAGE_TEMPLATE_INVALID", "without a closing"],
    ["image.spark.fqn}}:v1", "IMAGE_TEMPLATE_INVALID", "without a '{{' before"],
    ["{{.image.{{spark}}}}", "IMAGE_TEMPLATE_INVALID", "nests"],
    ["{{.Input}}", "IMAGE_TEMPLATE_INVALID", 'found "Input"'],
    ["{{.image.spark}}:v1", "IMAGE_REF_INVALID", "resolves to"],
    ["{{.image.spark.fqn}}:{{.image.spark.fqn}}", "IMAGE_REF_INVALID", "resolves to"],
    ["", "IMAGE_REF_INVALID", "empty"],
    ["Acme/App:1", "IMAGE_REF_INVALID", "lower case"],
  ])("rejects %j with %s", (containerImage, code, text) => {
    const err = errorOf(() => images.resolve(containerImage, "wf.t"));
    expect(err.code).toBe(code);
    expect(err.entity).toBe("wf.t");
    expect(err.message).toContain(text);
    expect(err.fix).toBeTruthy();
  });

  it("reports a digest default that cannot lend its tag to an untagged image", () => {
    const cfg = ImageConfig.fromImages(`ghcr.io/acme/app@${SHA}`, { spark: "ghcr.io/acme/spark" });
    expect(errorOf(() => cfg.resolve("{{.image.spark}}", "wf.t")).code).toBe("IMAGE_REF_NO_VERSION");
    expect(cfg.resolve("{{.image.spark.fqn}}", "wf.t")).toBe("ghcr.io/acme/spark");
  });
});

describe("parseImageTemplates", () => {
  it("finds each template with its name, attribute and position", () => {
    const text = "{{.image.a.fqn}}:{{ .IMAGES.B.Version }}";
    expect(parseImageTemplates(text, "t")).toEqual([
      { text: "{{.image.a.fqn}}", start: 0, end: 16, name: "a", attribute: "fqn" },
      { text: "{{ .IMAGES.B.Version }}", start: 17, end: text.length, name: "B", attribute: "version" },
    ]);
    expect(parseImageTemplates("{{.image.x}}", "t")[0]?.attribute).toBe("full");
    expect(parseImageTemplates("plain:ref", "t")).toEqual([]);
  });

  it("tells templates from references", () => {
    expect(hasImageTemplate("{{.image.x}}")).toBe(true);
    expect(hasImageTemplate("x}}")).toBe(true);
    expect(hasImageTemplate("ghcr.io/a:b")).toBe(false);
  });
});

describe("validateContainerImage (definition time, no images at hand)", () => {
  it("accepts the default, templates of any name, and references", () => {
    expect(() => validateContainerImage(undefined, "t")).not.toThrow();
    expect(() =>
      validateContainerImage("{{.image.whatever.fqn}}:{{.image.whatever.version}}", "t"),
    ).not.toThrow();
    expect(() => validateContainerImage("ghcr.io/a/b:c", "t")).not.toThrow();
  });

  it("rejects typos and malformed references", () => {
    expect(errorOf(() => validateContainerImage("{{.imag.spark.fqn}}", "t")).code).toBe(
      "IMAGE_TEMPLATE_INVALID",
    );
    expect(errorOf(() => validateContainerImage("{{ .image.spark.fqdn }}", "t")).code).toBe(
      "IMAGE_TEMPLATE_ATTRIBUTE",
    );
    expect(errorOf(() => validateContainerImage("ghcr.io/a/b:", "t")).code).toBe("IMAGE_REF_INVALID");
  });
});

describe("flytekit's multi-image fixtures (flytesnacks core.containerization.multi_images)", () => {
  const dir = join(
    import.meta.dirname,
    "../fixtures/flyte-v1.16.8/flytepropeller/pkg/compiler/test/testdata/snacks-core",
  );
  const imageOf = (file: string): string => {
    const spec = fromBinary(TaskSpecSchema, new Uint8Array(readFileSync(join(dir, file))));
    const container = spec.template?.target.case === "container" ? spec.template.target.value : undefined;
    if (!container) throw new Error(`${file} has no container`);
    return container.image;
  };
  const trainer = imageOf("000_core.containerization.multi_images.svm_trainer_1.pb");
  const predictor = imageOf("001_core.containerization.multi_images.svm_predictor_1.pb");

  it("resolves the same templates, from --image flags, to the images flytekit wrote", () => {
    // flytesnacks declares container_image="{{.image.<name>.fqn}}:{{.image.<name>.version}}" for
    // two named images and registers with one --image flag per image.
    const cfg = ImageConfig.validateImage([
      "ghcr.io/flyteorg/flytecookbook:core-8b8e1a849c9adfca88049a074b10dad278f70077",
      `mindmeld=${trainer}`,
      `borebuster=${predictor}`,
    ]);
    expect(cfg.resolve("{{.image.mindmeld.fqn}}:{{.image.mindmeld.version}}", "svm_trainer")).toBe(trainer);
    expect(cfg.resolve("{{.image.borebuster.fqn}}:{{.image.borebuster.version}}", "svm_predictor")).toBe(
      predictor,
    );
    expect(cfg.resolve("{{.image.borebuster}}", "svm_predictor")).toBe(predictor);
    expect(trainer).toMatch(/^ghcr\.io\/flyteorg\/flytecookbook:core-with-sklearn-/);
    expect(predictor).toMatch(/^ghcr\.io\/flyteorg\/flytecookbook:multi-image-predict-/);
    expect(cfg.resolve(undefined, "other")).toBe(
      imageOf("009_core.containerization.raw_container.report_all_calculated_areas_1.pb"),
    );
  });
});
