/**
 * Error documents: what a failed task leaves at `<output-prefix>/error.pb` for propeller. The
 * origin tells user errors from system errors; the kind says whether a retry may help.
 */
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { FlyteError } from "../errors.js";
import {
  ContainerError_Kind,
  ContainerErrorSchema,
  type ErrorDocument,
  ErrorDocumentSchema,
} from "../proto/gen/flyteidl/core/errors_pb.js";
import { ExecutionError_ErrorKind } from "../proto/gen/flyteidl/core/execution_pb.js";

/** Builds the ErrorDocument for an error thrown while running a task. */
export function errorDocument(err: unknown, fallbackOrigin: "USER" | "SYSTEM" = "USER"): ErrorDocument {
  const flyte = err instanceof FlyteError ? err : undefined;
  const origin = flyte?.origin ?? fallbackOrigin;
  const recoverable = flyte?.recoverable ?? false;
  const cause = flyte?.cause instanceof Error ? flyte.cause : undefined;
  const base = err instanceof Error ? err : new Error(String(err));
  const code = `${origin}:${flyte ? flyte.code : base.name || "Error"}`;
  const trace = (cause?.stack ?? base.stack ?? "")
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
  const message = `Trace:\n\n${trace}\n\nMessage:\n\n    ${base.message}`;
  return create(ErrorDocumentSchema, {
    error: create(ContainerErrorSchema, {
      code,
      message,
      kind: recoverable ? ContainerError_Kind.RECOVERABLE : ContainerError_Kind.NON_RECOVERABLE,
      origin: origin === "USER" ? ExecutionError_ErrorKind.USER : ExecutionError_ErrorKind.SYSTEM,
      timestamp: timestampNow(),
      worker: process.env.HOSTNAME ?? "",
    }),
  });
}
