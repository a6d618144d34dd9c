/**
 * What entity serialization reads from the serialization settings, and small builders shared by
 * the task, workflow and launch plan serializers (identifiers, durations, retry strategies).
 *
 * The settings are described structurally so that any object with these members works: the
 * `SerializationSettings` of `./settings.ts` is one.
 */
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { type Duration, DurationSchema } from "@bufbuild/protobuf/wkt";
import { type Identifier, IdentifierSchema, ResourceType } from "../proto/gen/flyteidl/core/identifier_pb.js";
import { type RetryStrategy, RetryStrategySchema } from "../proto/gen/flyteidl/core/literals_pb.js";
import type { TypeContext } from "../types/flyte-type.js";

/** Resolves a task's `containerImage` (a reference, an `{{.image...}}` template, or nothing) to a reference. */
export interface ImageResolver {
  /** The image reference for `containerImage` of `entity` (the default image when undefined). */
  resolve(containerImage: string | undefined, entity: string): string;
}

/** Fast registration: the user's code arrives as a bundle when the container starts. */
export interface FastSettingsLike {
  readonly enabled: boolean;
  /** Where the bundle is unpacked in the container; flytectl fills `{{ .dest_dir }}` when absent. */
  readonly destinationDir?: string | undefined;
  /** The bundle's URI; flytectl fills `{{ .remote_package_path }}` at registration when absent. */
  readonly distributionLocation?: string | undefined;
}

/** The serialization settings entity serialization needs. */
export interface SerializationSettingsLike {
  readonly project?: string | undefined;
  readonly domain?: string | undefined;
  readonly version?: string | undefined;
  readonly imageConfig: ImageResolver;
  /** Environment variables added to every task container. */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** `path`: the command that runs a task in the image (default `tsflyte-execute`). */
  readonly entrypointSettings?: { readonly path?: string | undefined } | undefined;
  readonly fastSerializationSettings?: FastSettingsLike | undefined;
  readonly sourceRoot?: string | undefined;
  /** A copy whose `env` also carries `_F_SS_C` (the settings, for tasks that serialize at run time). */
  withSerializedContext?(): SerializationSettingsLike;
}

/** The SDK's own version (from package.json), written into every task's runtime metadata. */
export const SDK_VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** Runtime flavor written into task metadata (flytekit writes `python`). */
export const SDK_FLAVOR = "typescript";

/** An identifier of `kind` named `name`; project, domain and version come from the settings (empty: filled in at registration). */
export function identifier(
  kind: "task" | "workflow" | "launchPlan",
  name: string,
  settings: SerializationSettingsLike,
): Identifier {
  const resourceType =
    kind === "task"
      ? ResourceType.TASK
      : kind === "workflow"
        ? ResourceType.WORKFLOW
        : ResourceType.LAUNCH_PLAN;
  return create(IdentifierSchema, {
    resourceType,
    project: settings.project ?? "",
    domain: settings.domain ?? "",
    name,
    version: settings.version ?? "",
  });
}

/** Milliseconds as a protobuf Duration. */
export function durationOf(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return create(DurationSchema, { seconds: BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) });
}

/** A retry strategy with `retries` retries. */
export function retryStrategy(retries: number): RetryStrategy {
  return create(RetryStrategySchema, { retries });
}

/**
 * The type context used to turn constant values (bindings, launch plan inputs) into literals.
 * Plain values never touch it; a file or dataframe constant must already be a remote URI.
 */
export const CONSTANT_CONTEXT: TypeContext = { rawDataPrefix: "", workDir: "" };
