/**
 * Container image references: `fqn[:tag]` or `fqn@<algorithm>:<hex>`, checked against the
 * grammar registries use (distribution's reference grammar), and named (`default`, `spark`, ...)
 * so that task templates can refer to them.
 *
 * ```ts
 * const img = parseImageReference("localhost:5000/team/spark:3.5", "spark");
 * img.fqn;     // "localhost:5000/team/spark"
 * img.version; // "3.5"
 * ```
 */
import { FlyteDefinitionError, type FlyteError, type FlyteErrorOptions } from "../errors.js";

/** An error class of the FlyteError family, chosen by who supplied a value (code, CLI, config file). */
export type FlyteErrorClass = new (code: string, message: string, options?: FlyteErrorOptions) => FlyteError;

/** The reserved name of the default image (`{{.image.default...}}`, a bare `--image ref`). */
export const DEFAULT_IMAGE_NAME = "default";

/** What an image name may contain, so that `{{.image.<name>}}` can refer to it. */
export const IMAGE_NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

/** An image as JSON, with flytekit's key names (`Image` in flytekit.configuration). */
export interface ImageJson {
  name: string;
  fqn: string;
  tag: string | null;
  digest: string | null;
}

/** The parts of an image, as given to the `Image` constructor. */
export interface ImageInit {
  /** The name templates use (`default` for the default image). */
  name: string;
  /** Registry, optional port and repository path, e.g. `ghcr.io/acme/spark`. */
  fqn: string;
  /** A tag such as `v1`; absent when the image has a digest or neither. */
  tag?: string | undefined;
  /** A digest such as `sha256:<64 hex>`; absent when the image has a tag or neither. */
  digest?: string | undefined;
}

/**
 * A named container image. Immutable. At most one of `tag` and `digest` is set; an image with
 * neither is allowed for named images (its version falls back to the default image's version
 * when a template asks for it, as in flytekit).
 */
export class Image {
  /** The name templates use. */
  readonly name: string;
  /** Registry, optional port and repository path, without tag or digest. */
  readonly fqn: string;
  /** The tag, if any. */
  readonly tag: string | undefined;
  /** The digest, if any. */
  readonly digest: string | undefined;

  /** Builds an image from its parts, checking each; throws `FlyteDefinitionError` when one is malformed. */
  constructor(init: ImageInit) {
    const full =
      init.digest !== undefined
        ? `${init.fqn}@${init.digest}`
        : init.tag !== undefined
          ? `${init.fqn}:${init.tag}`
          : init.fqn;
    if (init.tag !== undefined && init.digest !== undefined) {
      throw new FlyteDefinitionError(
        "IMAGE_REF_INVALID",
        `image ${init.name} has both tag ${init.tag} and digest ${init.digest}`,
        {
          entity: `image ${init.name}`,
          fix: "keep only the digest (it pins the image exactly)",
        },
      );
    }
    checkImageName(init.name);
    const problem =
      referenceProblem(full) ??
      (parseParts(full).fqn === init.fqn ? undefined : "its parts do not form a reference");
    if (problem) throw invalidReference(full, problem, `image ${init.name}`);
    this.name = init.name;
    this.fqn = init.fqn;
    this.tag = init.tag;
    this.digest = init.digest;
    Object.freeze(this);
  }

  /** The tag or the digest, whichever the image has (flytekit's `Image.version`). */
  get version(): string | undefined {
    return this.digest ?? this.tag;
  }

  /** The whole reference: `fqn@digest`, `fqn:tag` or just `fqn`. */
  get full(): string {
    if (this.digest) return `${this.fqn}@${this.digest}`;
    if (this.tag) return `${this.fqn}:${this.tag}`;
    return this.fqn;
  }

  /** The same image under another name. */
  withName(name: string): Image {
    return new Image({ name, fqn: this.fqn, tag: this.tag, digest: this.digest });
  }

  /** The JSON flytekit writes for an image: `{ name, fqn, tag, digest }` with `null` for absent parts. */
  toJSON(): ImageJson {
    return { name: this.name, fqn: this.fqn, tag: this.tag ?? null, digest: this.digest ?? null };
  }

  /** `name=fqn:tag`, the form `--image` takes. */
  toString(): string {
    return `${this.name}=${this.full}`;
  }
}

/** Options of `parseImageReference`. */
export interface ParseImageOptions {
  /** The image's name; default `default`. */
  name?: string;
  /** Require a tag or digest (the default image and `--image` values need one); default false. */
  requireVersion?: boolean;
  /** What the error names, e.g. `--image spark=...` or a file; default `image <name>`. */
  entity?: string;
  /** The class of the errors thrown; default `FlyteDefinitionError` (`FlyteUsageError` for CLI input). */
  errorClass?: FlyteErrorClass;
}

/**
 * Parses `fqn[:tag]` or `fqn@digest` into an `Image`. The tag is split off at the last `:` only
 * when that colon comes after the last `/`, so `localhost:5000/img` has no tag.
 * Throws (`FlyteDefinitionError` unless `errorClass` says otherwise) `IMAGE_REF_INVALID`
 * (malformed), `IMAGE_REF_NO_VERSION` (no tag or digest where one is required) or `IMAGE_NAME_INVALID`.
 * A name spelled `default` in any case becomes `default`.
 */
export function parseImageReference(reference: string, options: ParseImageOptions | string = {}): Image {
  const opts = typeof options === "string" ? { name: options } : options;
  const given = opts.name ?? DEFAULT_IMAGE_NAME;
  // Names ignore case, so `Default` is the default image too.
  const name =
    typeof given === "string" && given.toLowerCase() === DEFAULT_IMAGE_NAME ? DEFAULT_IMAGE_NAME : given;
  const entity = opts.entity ?? `image ${name}`;
  const errorClass = opts.errorClass ?? FlyteDefinitionError;
  checkImageName(name, entity, errorClass);
  const problem = referenceProblem(reference);
  if (problem) throw invalidReference(reference, problem, entity, errorClass);
  const parts = parseParts(reference);
  if (opts.requireVersion && parts.tag === undefined && parts.digest === undefined) {
    throw new errorClass("IMAGE_REF_NO_VERSION", `image ${JSON.stringify(reference)} has no tag or digest`, {
      entity,
      fix: `add a tag or digest, e.g. ${reference}:v1 or ${reference}@sha256:<digest>`,
    });
  }
  return new Image({ name, ...parts });
}

/** True when `reference` is a well-formed image reference (`fqn[:tag]` or `fqn@digest`). */
export function isImageReference(reference: string): boolean {
  return referenceProblem(reference) === undefined;
}

/**
 * Why `reference` is not a well-formed image reference, in a few words, or `undefined` when it is.
 * The grammar is the registries' one: lower-case path components separated by `/`, an optional
 * registry host with port in front, a tag of at most 128 word characters, dots and dashes, or a
 * digest `<algorithm>:<at least 32 hex digits>`.
 */
export function referenceProblem(reference: string): string | undefined {
  if (typeof reference !== "string") return `it is ${typeof reference}, not a string`;
  if (reference.length === 0) return "it is empty";
  if (/\s/.test(reference)) return "it contains white space";
  if (reference.includes("{{") || reference.includes("}}")) {
    return "it is an image template ({{.image...}}), not a reference";
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(reference)) return "it starts with a URL scheme; leave out the scheme";
  const { fqn, tag, digest } = parseParts(reference);
  if (reference.indexOf("@") !== reference.lastIndexOf("@")) return "it has more than one @";
  if (digest !== undefined && fqn.lastIndexOf(":") > fqn.lastIndexOf("/")) {
    return "it has both a tag and a digest";
  }
  if (digest !== undefined && !DIGEST.test(digest)) {
    return `the digest ${JSON.stringify(digest)} is not <algorithm>:<at least 32 hex digits>`;
  }
  if (tag !== undefined && !TAG.test(tag)) {
    return tag === ""
      ? "the tag after ':' is empty"
      : `the tag ${JSON.stringify(tag)} is not 1 to 128 letters, digits, '_', '.' or '-' (not starting with '.' or '-')`;
  }
  if (fqn.length > 255) return "the repository name is longer than 255 characters";
  if (!NAME.test(fqn)) {
    const slash = fqn.indexOf("/");
    const path = slash >= 0 && /[.:]|^localhost$/.test(fqn.slice(0, slash)) ? fqn.slice(slash + 1) : fqn;
    if (/[A-Z]/.test(path)) return "the repository path must be lower case";
    if (fqn.endsWith("/") || fqn.startsWith("/") || fqn.includes("//"))
      return "it has an empty path component";
    return "the repository name is not <registry>[:port]/<lower-case path>";
  }
  return undefined;
}

/** Throws `IMAGE_NAME_INVALID` unless `name` can appear in `{{.image.<name>}}`. */
export function checkImageName(
  name: string,
  entity = `image ${String(name)}`,
  errorClass: FlyteErrorClass = FlyteDefinitionError,
): void {
  if (typeof name !== "string" || !IMAGE_NAME_PATTERN.test(name)) {
    throw new errorClass(
      "IMAGE_NAME_INVALID",
      `image name ${JSON.stringify(name)} may only contain letters, digits, '_' and '-'`,
      {
        entity,
        fix: "rename the image, e.g. spark or my-image (templates refer to it as {{.image.<name>}})",
      },
    );
  }
}

/** Splits a reference into fqn, tag and digest without checking the parts. */
function parseParts(reference: string): { fqn: string; tag?: string; digest?: string } {
  const at = reference.lastIndexOf("@");
  if (at >= 0) return { fqn: reference.slice(0, at), digest: reference.slice(at + 1) };
  const colon = reference.lastIndexOf(":");
  if (colon > reference.lastIndexOf("/"))
    return { fqn: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { fqn: reference };
}

function invalidReference(
  reference: string,
  problem: string,
  entity: string,
  errorClass: FlyteErrorClass = FlyteDefinitionError,
): FlyteError {
  return new errorClass(
    "IMAGE_REF_INVALID",
    `${describeRef(reference)} is not a valid image reference: ${problem}`,
    {
      entity,
      fix: "write <registry>/<path>:<tag> or <registry>/<path>@sha256:<digest>, e.g. ghcr.io/acme/app:v1",
    },
  );
}

function describeRef(reference: unknown): string {
  return typeof reference === "string" ? JSON.stringify(reference) : String(reference);
}

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
