import { describe, expect, it } from "vitest";
import { FlyteDefinitionError, FlyteUsageError } from "../../src/errors.js";
import {
  checkImageName,
  DEFAULT_IMAGE_NAME,
  Image,
  isImageReference,
  parseImageReference,
  referenceProblem,
} from "../../src/images/index.js";

const SHA = `sha256:${"0123456789abcdef".repeat(4)}`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe("parseImageReference", () => {
  it.each([
    ["ghcr.io/acme/app:v1", "ghcr.io/acme/app", "v1", undefined],
    ["python:3.11", "python", "3.11", undefined],
    ["alpine", "alpine", undefined, undefined],
    ["localhost:5000/img", "localhost:5000/img", undefined, undefined],
    ["localhost:5000/img:1.2", "localhost:5000/img", "1.2", undefined],
    ["localhost:5000/team/img", "localhost:5000/team/img", undefined, undefined],
    ["[::1]:5000/img:x", "[::1]:5000/img", "x", undefined],
    [`ghcr.io/acme/app@${SHA}`, "ghcr.io/acme/app", undefined, SHA],
    [`localhost:5000/img@${SHA}`, "localhost:5000/img", undefined, SHA],
    [
      "cr.flyte.org/flyteorg/flytekit:py3.11-1.16.31",
      "cr.flyte.org/flyteorg/flytekit",
      "py3.11-1.16.31",
      undefined,
    ],
    [
      "my-registry.example.com/a__b/c-d.e:Tag_1.0-rc",
      "my-registry.example.com/a__b/c-d.e",
      "Tag_1.0-rc",
      undefined,
    ],
  ])("%s", (ref, fqn, tag, digest) => {
    const img = parseImageReference(ref, "x");
    expect({ name: img.name, fqn: img.fqn, tag: img.tag, digest: img.digest }).toEqual({
      name: "x",
      fqn,
      tag,
      digest,
    });
    expect(img.full).toBe(ref);
    expect(img.version).toBe(digest ?? tag);
    expect(isImageReference(ref)).toBe(true);
  });

  it("names the image default unless told otherwise", () => {
    expect(parseImageReference("a/b:c").name).toBe(DEFAULT_IMAGE_NAME);
    expect(parseImageReference("a/b:c", { name: "spark" }).name).toBe("spark");
  });

  it.each([
    ["", "it is empty"],
    ["ghcr.io/acme/app :v1", "white space"],
    ["https://ghcr.io/acme/app:v1", "URL scheme"],
    ["ghcr.io/Acme/App:v1", "lower case"],
    ["ghcr.io/acme/app:", "tag after ':' is empty"],
    ["ghcr.io/acme/app:-bad", "the tag"],
    [`ghcr.io/acme/app:${"x".repeat(129)}`, "the tag"],
    [`ghcr.io/acme/app:v1@${SHA}`, "both a tag and a digest"],
    ["ghcr.io/acme/app@sha256:abc", "the digest"],
    ["ghcr.io/acme/app@latest", "the digest"],
    [`a@b@${SHA}`, "more than one @"],
    ["ghcr.io//app:v1", "empty path component"],
    ["ghcr.io/acme/app/:v1", "empty path component"],
    ["ghcr.io/acme/-app:v1", "repository name"],
    ["{{.image.default}}", "image template"],
  ])("rejects %j (%s)", (ref, why) => {
    expect(referenceProblem(ref)).toContain(why);
    expect(isImageReference(ref)).toBe(false);
    let error: unknown;
    try {
      parseImageReference(ref, "spark");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FlyteDefinitionError);
    expect(error).toMatchObject({ code: "IMAGE_REF_INVALID", entity: "image spark" });
    expect((error as Error).message).toContain(why);
    expect((error as FlyteDefinitionError).fix).toMatch(/ghcr\.io\/acme\/app:v1/);
  });

  it("requires a tag or digest when asked", () => {
    expect(parseImageReference("localhost:5000/img").version).toBeUndefined();
    expect(codeOf(() => parseImageReference("localhost:5000/img", { requireVersion: true }))).toBe(
      "IMAGE_REF_NO_VERSION",
    );
    expect(() => parseImageReference("localhost:5000/img", { requireVersion: true })).toThrow(
      /localhost:5000\/img:v1/,
    );
    expect(parseImageReference(`x/y@${SHA}`, { requireVersion: true }).version).toBe(SHA);
  });

  it("throws the error class and entity it is given", () => {
    let error: unknown;
    try {
      parseImageReference("Bad:1", { entity: "--image Bad:1", errorClass: FlyteUsageError });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FlyteUsageError);
    expect(error).toMatchObject({ code: "IMAGE_REF_INVALID", entity: "--image Bad:1" });
  });

  it("checks image names", () => {
    expect(() => checkImageName("spark_3-5")).not.toThrow();
    for (const bad of ["", "spark.v1", "my image", "a/b", "ü"]) {
      expect(codeOf(() => checkImageName(bad))).toBe("IMAGE_NAME_INVALID");
      expect(codeOf(() => parseImageReference("a:b", bad))).toBe("IMAGE_NAME_INVALID");
    }
  });
});

describe("Image", () => {
  it("is immutable and renames into a new image", () => {
    const img = parseImageReference("ghcr.io/acme/app:v1", "app");
    expect(Object.isFrozen(img)).toBe(true);
    const renamed = img.withName("other");
    expect(renamed.name).toBe("other");
    expect(renamed.full).toBe(img.full);
    expect(img.name).toBe("app");
    expect(String(img)).toBe("app=ghcr.io/acme/app:v1");
  });

  it("writes flytekit's JSON shape", () => {
    expect(parseImageReference("ghcr.io/acme/app:v1").toJSON()).toEqual({
      name: "default",
      fqn: "ghcr.io/acme/app",
      tag: "v1",
      digest: null,
    });
    expect(JSON.parse(JSON.stringify(parseImageReference(`x.io/y@${SHA}`, "d")))).toEqual({
      name: "d",
      fqn: "x.io/y",
      tag: null,
      digest: SHA,
    });
  });

  it("checks its parts", () => {
    expect(codeOf(() => new Image({ name: "a", fqn: "x/y", tag: "v1", digest: SHA }))).toBe(
      "IMAGE_REF_INVALID",
    );
    expect(codeOf(() => new Image({ name: "a", fqn: "x/y:v1" }))).toBe("IMAGE_REF_INVALID");
    expect(codeOf(() => new Image({ name: "a", fqn: "x/y", tag: "" }))).toBe("IMAGE_REF_INVALID");
    expect(codeOf(() => new Image({ name: "a.b", fqn: "x/y", tag: "v1" }))).toBe("IMAGE_NAME_INVALID");
    expect(new Image({ name: "a", fqn: "localhost:5000/y", tag: "v1" }).full).toBe("localhost:5000/y:v1");
  });
});
