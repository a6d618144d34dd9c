/**
 * Image templates in a task's `containerImage`: `{{.image.<name>.fqn}}`,
 * `{{.image.<name>.version}}` and the whole image `{{.image.<name>}}` (also `{{.images...}}`),
 * case-insensitive, spaces allowed inside the braces. They are replaced at serialization time
 * with the images of the `ImageConfig` in the serialization settings.
 *
 * Unlike flytekit, anything between `{{` and `}}` that is not such a template is an error here
 * (flytekit passes it through unchanged and the pod fails to pull the image on the cluster).
 */
import { FlyteDefinitionError } from "../errors.js";
import { DEFAULT_IMAGE_NAME, type Image, referenceProblem } from "./image.js";

/** The part of an image a template asks for: `fqn`, `version`, or the whole reference. */
export type ImageAttribute = "fqn" | "version" | "full";

/** One `{{.image...}}` occurrence in a container image string. */
export interface ImageTemplatePart {
  /** The text of the template, braces included, as written. */
  readonly text: string;
  /** Offset of `{{` in the string. */
  readonly start: number;
  /** Offset just after `}}`. */
  readonly end: number;
  /** The image name as written (lookup ignores case). */
  readonly name: string;
  /** What is asked for; `full` when the template has no attribute. */
  readonly attribute: ImageAttribute;
}

/** What template rendering needs from a set of images (`ImageConfig` provides it). */
export interface ImageLookup {
  /** The default image. */
  readonly defaultImage: Image;
  /** The image with this name (case-insensitive), `default` giving the default image. */
  findImage(name: string): Image | undefined;
  /** The names of every image, for error messages. */
  describeImages(): string;
}

/** The template that means "the default image": `{{.image.default.fqn}}:{{.image.default.version}}`. */
export const DEFAULT_IMAGE_TEMPLATE = "{{.image.default.fqn}}:{{.image.default.version}}";

const TEMPLATE_BODY = /^\s*\.images?\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?\s*$/i;
const TEMPLATE_FIX =
  "write {{.image.<name>.fqn}}:{{.image.<name>.version}} or {{.image.<name>}}, e.g. {{.image.spark}}";

/** True when `containerImage` contains template braces and so must go through `parseImageTemplates`. */
export function hasImageTemplate(containerImage: string): boolean {
  return containerImage.includes("{{") || containerImage.includes("}}");
}

/**
 * Finds every `{{...}}` in `containerImage` and parses it as an image template. Throws
 * `FlyteDefinitionError` `IMAGE_TEMPLATE_INVALID` when braces do not pair up or what is inside
 * them is not `.image.<name>[.<attribute>]`, and `IMAGE_TEMPLATE_ATTRIBUTE` when the attribute
 * is not `fqn` or `version`. `entity` (the task) is named in the error.
 */
export function parseImageTemplates(containerImage: string, entity: string): ImageTemplatePart[] {
  const parts: ImageTemplatePart[] = [];
  let from = 0;
  for (;;) {
    const open = containerImage.indexOf("{{", from);
    const strayClose = containerImage.indexOf("}}", from);
    if (strayClose >= 0 && (open < 0 || strayClose < open)) {
      throw invalidTemplate(containerImage, "it has '}}' without a '{{' before it", entity);
    }
    if (open < 0) break;
    const close = containerImage.indexOf("}}", open + 2);
    if (close < 0) throw invalidTemplate(containerImage, "it has '{{' without a closing '}}'", entity);
    const text = containerImage.slice(open, close + 2);
    const body = text.slice(2, -2);
    if (body.includes("{{")) throw invalidTemplate(containerImage, `${text} nests '{{'`, entity);
    const m = TEMPLATE_BODY.exec(body);
    if (!m) throw invalidTemplate(containerImage, whyNotTemplate(text, body), entity);
    const name = m[1] as string;
    const attr = m[2];
    let attribute: ImageAttribute;
    if (attr === undefined) attribute = "full";
    else if (attr.toLowerCase() === "fqn") attribute = "fqn";
    else if (attr.toLowerCase() === "version") attribute = "version";
    else {
      throw new FlyteDefinitionError(
        "IMAGE_TEMPLATE_ATTRIBUTE",
        `container image ${JSON.stringify(containerImage)}: ${text} asks for attribute ${JSON.stringify(attr)}; an image has only fqn and version`,
        {
          entity,
          fix: `write {{.image.${name}.fqn}}, {{.image.${name}.version}} or {{.image.${name}}} (the whole image)`,
        },
      );
    }
    parts.push({ text, start: open, end: close + 2, name, attribute });
    from = close + 2;
  }
  return parts;
}

/**
 * Checks the syntax of a task's `containerImage` without any images at hand (at definition
 * time): templates must parse, and a plain reference must be well formed. `undefined` (the
 * default image) passes. Throws like `parseImageTemplates`, or `IMAGE_REF_INVALID`.
 */
export function validateContainerImage(containerImage: string | undefined, entity: string): void {
  if (containerImage === undefined) return;
  if (typeof containerImage === "string" && hasImageTemplate(containerImage)) {
    parseImageTemplates(containerImage, entity);
    return;
  }
  const problem = referenceProblem(containerImage);
  if (problem) throw invalidContainerImage(containerImage, problem, entity);
}

/**
 * Replaces the image templates in `containerImage` with the images of `images` and checks that
 * the result is a valid reference. A `{{...version}}` that is a digest and follows a `:` turns
 * that `:` into `@` (`fqn@sha256:...`). A named image without tag or digest borrows the default
 * image's tag, as in flytekit. Throws `IMAGE_NOT_FOUND` naming the task and the images that exist.
 */
export function renderImageTemplates(containerImage: string, entity: string, images: ImageLookup): string {
  const parts = parseImageTemplates(containerImage, entity);
  let out = "";
  let from = 0;
  for (const part of parts) {
    out += containerImage.slice(from, part.start);
    from = part.end;
    const image = images.findImage(part.name);
    if (!image) {
      throw new FlyteDefinitionError(
        "IMAGE_NOT_FOUND",
        `container image ${JSON.stringify(containerImage)} refers to image ${JSON.stringify(part.name)}, which is not configured; the images are ${images.describeImages()}`,
        {
          entity,
          fix: `add it: --image ${part.name}=<ref>, or images: { ${part.name}: <ref> } in the Flyte config file, or ImageConfig.fromImages(default, { ${part.name}: <ref> })`,
        },
      );
    }
    if (part.attribute === "fqn") {
      out += image.fqn;
      continue;
    }
    const version = image.version ?? borrowedTag(image, images.defaultImage, entity);
    if (part.attribute === "version") {
      if (image.digest !== undefined && out.endsWith(":")) out = `${out.slice(0, -1)}@`;
      out += version;
    } else {
      out += image.digest !== undefined ? image.full : `${image.fqn}:${version}`;
    }
  }
  out += containerImage.slice(from);
  const problem = referenceProblem(out);
  if (problem) {
    throw invalidContainerImage(
      containerImage,
      `it resolves to ${JSON.stringify(out)}, and ${problem}`,
      entity,
    );
  }
  return out;
}

function borrowedTag(image: Image, defaultImage: Image, entity: string): string {
  if (defaultImage.tag !== undefined && image.name !== DEFAULT_IMAGE_NAME) return defaultImage.tag;
  throw new FlyteDefinitionError(
    "IMAGE_REF_NO_VERSION",
    `image ${image.name} (${image.full}) has no tag or digest, and the default image ${defaultImage.full} has no tag to lend it`,
    { entity, fix: `give image ${image.name} a tag, e.g. ${image.fqn}:v1` },
  );
}

function whyNotTemplate(text: string, body: string): string {
  const trimmed = body.trim();
  if (trimmed === "") return `${text} is empty`;
  const segments = trimmed.split(".");
  const head = segments[0] === "" ? segments[1] : segments[0];
  if (head !== undefined && !/^images?$/i.test(head)) {
    return `${text} must start with .image (found ${JSON.stringify(head)})`;
  }
  if (!trimmed.startsWith(".")) return `${text} must start with a dot: {{.image...}}`;
  if (segments.length <= 2 || segments[2] === "") return `${text} names no image`;
  if (segments.length > 4) return `${text} has more parts than .image.<name>.<attribute>`;
  return `${text} has an image name or attribute with characters other than letters, digits, '_' and '-'`;
}

function invalidTemplate(containerImage: string, why: string, entity: string): FlyteDefinitionError {
  return new FlyteDefinitionError(
    "IMAGE_TEMPLATE_INVALID",
    `container image ${JSON.stringify(containerImage)} is not a valid image template: ${why}`,
    {
      entity,
      fix: TEMPLATE_FIX,
    },
  );
}

function invalidContainerImage(
  containerImage: unknown,
  problem: string,
  entity: string,
): FlyteDefinitionError {
  return new FlyteDefinitionError(
    "IMAGE_REF_INVALID",
    `container image ${JSON.stringify(containerImage)} is not a valid image reference: ${problem}`,
    {
      entity,
      fix: "write <registry>/<path>:<tag>, an image template such as {{.image.spark}}, or leave containerImage out for the default image",
    },
  );
}
