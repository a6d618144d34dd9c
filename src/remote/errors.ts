/**
 * Errors of the remote API (FlyteAdmin client, registration, executions). Each carries a stable
 * `code`, names the endpoint or entity and says how to fix the problem:
 *
 * | code | when |
 * |---|---|
 * | `ADMIN_CONFIG` | the `admin:` section or an option is wrong (names the key) |
 * | `ADMIN_UNREACHABLE` | no connection to the endpoint after the retries (names the endpoint) |
 * | `ADMIN_TLS` | TLS does not match: TLS against a plaintext server, plaintext against TLS, an untrusted certificate |
 * | `ADMIN_UNAUTHENTICATED` | the admin refused the credentials (or none were configured) |
 * | `AUTH_FAILED` | getting a token failed (token endpoint, secret file, browser or device flow) |
 * | `ADMIN_CALL_FAILED` | any other error the admin answered, with its gRPC code |
 * | `ENTITY_NOT_FOUND` | a task, workflow, launch plan or execution does not exist |
 * | `ENTITY_EXISTS` | the admin already has this exact id (identical content) |
 * | `ENTITY_CONFLICT` | the admin has different content under the same id and version |
 * | `UPLOAD_FAILED` | the fast-registration bundle could not be uploaded |
 * | `EXECUTION_FAILED` | `wait` ended with a failed, aborted or timed-out execution |
 * | `WAIT_TIMEOUT` | `wait` gave up before the execution finished |
 */
import { brandClass } from "../brand.js";
import { FlyteError, type FlyteErrorOptions } from "../errors.js";

/** The stable codes of {@link FlyteRemoteError}. */
export type RemoteErrorCode =
  | "ADMIN_CONFIG"
  | "ADMIN_UNREACHABLE"
  | "ADMIN_TLS"
  | "ADMIN_UNAUTHENTICATED"
  | "AUTH_FAILED"
  | "ADMIN_CALL_FAILED"
  | "ENTITY_NOT_FOUND"
  | "ENTITY_EXISTS"
  | "ENTITY_CONFLICT"
  | "UPLOAD_FAILED"
  | "EXECUTION_FAILED"
  | "WAIT_TIMEOUT";

/** Options of {@link FlyteRemoteError}. */
export interface FlyteRemoteErrorOptions extends FlyteErrorOptions {
  /** The admin endpoint involved (`host:port`). */
  endpoint?: string | undefined;
  /** The gRPC status code name the admin (or the transport) answered, e.g. `Unavailable`. */
  grpcCode?: string | undefined;
}

/** An error talking to FlyteAdmin or about what it holds. */
export class FlyteRemoteError extends FlyteError {
  /** The admin endpoint involved, when there is one. */
  readonly endpoint: string | undefined;
  /** The gRPC status code name, when the error came from a call. */
  readonly grpcCode: string | undefined;

  constructor(code: RemoteErrorCode, message: string, options: FlyteRemoteErrorOptions = {}) {
    const { endpoint, grpcCode, ...rest } = options;
    super(code, message, rest);
    this.endpoint = endpoint;
    this.grpcCode = grpcCode;
  }
}

brandClass(FlyteRemoteError, "FlyteRemoteError");
