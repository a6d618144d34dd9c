/**
 * The FlyteAdmin client: gRPC over HTTP/2 (Connect for Node, gRPC protocol), configured like
 * flytectl (see `config.ts`), with
 *
 * - TLS by default; `insecure: true` for plaintext HTTP/2; `caCertFilePath` to trust a private
 *   CA; `insecureSkipVerify` to skip certificate checks (tests only);
 * - retries with exponential backoff and jitter for `Unavailable`, `ResourceExhausted` and
 *   attempts that exceed `perRetryTimeout` (at most `maxRetries`, waits capped at `maxBackoffDelay`);
 * - tokens on demand (see `auth.ts`): nothing is sent until the admin answers `Unauthenticated`;
 * - errors as {@link FlyteRemoteError}: `ADMIN_UNREACHABLE` (naming the endpoint), `ADMIN_TLS`,
 *   `ADMIN_UNAUTHENTICATED`, `ENTITY_NOT_FOUND`, `ENTITY_EXISTS`, `ADMIN_CALL_FAILED`.
 *
 * ```ts
 * const client = AdminClient.connect(adminConfig({ endpoint: "dns:///127.0.0.1:8089", insecure: true }));
 * const version = await client.admin.getVersion({});
 * client.close();
 * ```
 */
import { readFileSync } from "node:fs";
import type { DescService } from "@bufbuild/protobuf";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { AdminService } from "../proto/gen/flyteidl/service/admin_pb.js";
import { AuthMetadataService } from "../proto/gen/flyteidl/service/auth_pb.js";
import { DataProxyService } from "../proto/gen/flyteidl/service/dataproxy_pb.js";
import { type AuthDiscovery, TokenSource, type TokenSourceOptions } from "./auth.js";
import type { AdminConfig } from "./config.js";
import { FlyteRemoteError } from "./errors.js";

/** Options of {@link AdminClient.connect}. */
export interface AdminClientOptions extends TokenSourceOptions {
  /** Called before each retry, e.g. to print a progress line. */
  onRetry?:
    | ((info: { call: string; attempt: number; delayMs: number; error: ConnectError }) => void)
    | undefined;
}

/** A connection to one FlyteAdmin: typed clients of its services, errors already mapped. */
export class AdminClient {
  /** `flyteidl.service.AdminService`. */
  readonly admin: Client<typeof AdminService>;
  /** `flyteidl.service.DataProxyService` (upload locations for fast registration). */
  readonly dataProxy: Client<typeof DataProxyService>;
  /** `flyteidl.service.AuthMetadataService` (anonymous). */
  readonly authMetadata: Client<typeof AuthMetadataService>;
  /** The settings this client was made with. */
  readonly config: AdminConfig;
  /** The token source (tokens are fetched only when the admin asks for them). */
  readonly tokens: TokenSource;
  readonly #session: Http2SessionManager;
  #answered = false;

  private constructor(config: AdminConfig, options: AdminClientOptions) {
    this.config = config;
    const baseUrl = `${config.insecure ? "http" : "https"}://${config.endpoint}`;
    let ca: Buffer | undefined;
    if (!config.insecure && config.caCertFilePath) {
      try {
        ca = readFileSync(config.caCertFilePath);
      } catch (err) {
        throw new FlyteRemoteError(
          "ADMIN_CONFIG",
          `admin.caCertFilePath ${config.caCertFilePath} cannot be read: ${(err as Error).message} (in ${config.source})`,
          {
            entity: "admin.caCertFilePath",
            fix: "point admin.caCertFilePath at a PEM file with the CA certificate",
            cause: err,
          },
        );
      }
    }
    const tls = {
      ...(ca ? { ca } : {}),
      ...(config.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
    };
    this.#session = new Http2SessionManager(
      baseUrl,
      { pingIntervalMs: 30_000, pingTimeoutMs: 15_000, idleConnectionTimeoutMs: 60_000 },
      config.insecure ? {} : tls,
    );
    const retry = retryInterceptor(config, options.onRetry, () => {
      this.#answered = true;
    });
    const state = { answered: () => this.#answered };
    const plain = createGrpcTransport({ baseUrl, sessionManager: this.#session, interceptors: [retry] });
    this.authMetadata = mapErrors(createClient(AuthMetadataService, plain), config, state);
    let metadata: ReturnType<AuthDiscovery["oauth2Metadata"]> | undefined;
    let publicClient: ReturnType<AuthDiscovery["publicClientConfig"]> | undefined;
    const discovery: AuthDiscovery = {
      oauth2Metadata: () => {
        metadata ??= this.authMetadata.getOAuth2Metadata({});
        metadata.catch(() => {
          metadata = undefined;
        });
        return metadata;
      },
      publicClientConfig: () => {
        publicClient ??= this.authMetadata.getPublicClientConfig({});
        publicClient.catch(() => {
          publicClient = undefined;
        });
        return publicClient;
      },
    };
    this.tokens = new TokenSource(config, discovery, { ...options, tls });
    const authed: Transport = createGrpcTransport({
      baseUrl,
      sessionManager: this.#session,
      interceptors: [retry, authInterceptor(this.tokens)],
    });
    this.admin = mapErrors(createClient(AdminService, authed), config, state);
    this.dataProxy = mapErrors(createClient(DataProxyService, authed), config, state);
  }

  /** A client for the admin `config` describes. Connects lazily, on the first call. */
  static connect(config: AdminConfig, options: AdminClientOptions = {}): AdminClient {
    return new AdminClient(config, options);
  }

  /** Closes the HTTP/2 connection (idle connections never keep the process alive anyway). */
  close(): void {
    this.#session.abort();
  }
}

const RETRYABLE = new Set([Code.Unavailable, Code.ResourceExhausted]);

/** Retries with exponential backoff and jitter; each attempt has its own `perRetryTimeout`. */
function retryInterceptor(
  config: AdminConfig,
  onRetry: AdminClientOptions["onRetry"],
  onAnswer: () => void,
): Interceptor {
  let answered = false;
  return (next) => async (req) => {
    for (let attempt = 1; ; attempt++) {
      const controller = new AbortController();
      const onAbort = () => controller.abort(req.signal.reason);
      if (req.signal.aborted) onAbort();
      else req.signal.addEventListener("abort", onAbort, { once: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort(
          new ConnectError(
            `no answer within ${config.perRetryTimeoutMs} ms (admin.perRetryTimeout)`,
            Code.DeadlineExceeded,
          ),
        );
      }, config.perRetryTimeoutMs);
      try {
        const res = await next({ ...req, signal: controller.signal });
        answered = true;
        onAnswer();
        return res;
      } catch (err) {
        if (err instanceof ConnectError && err.metadata.has("content-type")) {
          answered = true;
          onAnswer();
        }
        if (!(err instanceof ConnectError) || req.signal.aborted) throw err;
        const cause = causeCode(err);
        const retryable =
          (answered && isBrokenConnection(err)) ||
          (cause !== undefined && NETWORK_CAUSES.test(cause)) ||
          (RETRYABLE.has(err.code) && !isTlsError(err)) ||
          (timedOut && err.code === Code.DeadlineExceeded);
        if (!retryable || attempt > config.maxRetries) {
          (err as ConnectError & { attempts?: number }).attempts = attempt;
          throw err;
        }
        const cap = Math.min(config.maxBackoffDelayMs, 100 * 2 ** attempt);
        const delayMs = Math.round(cap / 2 + (Math.random() * cap) / 2);
        onRetry?.({ call: req.method.name, attempt, delayMs, error: err });
        await sleep(delayMs, req.signal);
      } finally {
        clearTimeout(timer);
        req.signal.removeEventListener("abort", onAbort);
      }
    }
  };
}

/** Sends the held token; on `Unauthenticated` gets a (new) token and tries once more. */
function authInterceptor(tokens: TokenSource): Interceptor {
  return (next) => async (req) => {
    const held = tokens.current();
    if (held) req.header.set(await tokens.headerKey(), `Bearer ${held}`);
    try {
      return await next(req);
    } catch (err) {
      if (!(err instanceof ConnectError) || err.code !== Code.Unauthenticated) throw err;
      const token = await tokens.token(held !== undefined);
      req.header.set(await tokens.headerKey(), `Bearer ${token}`);
      return await next(req);
    }
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const TLS_CAUSES =
  /^(ERR_SSL_|ERR_TLS_|EPROTO$|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_INVALID)/;
const NETWORK_CAUSES =
  /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EPIPE|ECONNABORTED)$/;

function causeCode(err: ConnectError): string | undefined {
  let c: unknown = err.cause;
  for (let i = 0; i < 4 && c; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string") return code;
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A connection that broke under a call (after the endpoint had answered before). */
function isBrokenConnection(err: ConnectError): boolean {
  return (
    (err.code === Code.Canceled || err.code === Code.Internal || err.code === Code.Unknown) &&
    !/abort/i.test(err.rawMessage) &&
    /protocol error|stream closed with error code|socket hang up|GOAWAY|session closed|ECONNRESET/i.test(
      err.rawMessage,
    )
  );
}

function isTlsError(err: ConnectError): boolean {
  const code = causeCode(err);
  return (code !== undefined && TLS_CAUSES.test(code)) || /SSL routines|certificate/i.test(err.rawMessage);
}

/**
 * Turns whatever a call threw into a {@link FlyteRemoteError} naming the endpoint and the call.
 * Errors that already are `FlyteRemoteError` (e.g. from the token flow) pass through.
 * `answeredBefore`: the endpoint answered gRPC calls before, so a broken connection is a
 * network problem, not a protocol mismatch.
 */
export function remoteErrorFrom(
  err: unknown,
  config: AdminConfig,
  call: string,
  answeredBefore = false,
): FlyteRemoteError {
  if (err instanceof FlyteRemoteError) return err;
  if (err instanceof ConnectError && err.cause instanceof FlyteRemoteError) return err.cause;
  const ce = ConnectError.from(err);
  const where = `FlyteAdmin at ${config.endpoint}`;
  const grpcCode = Code[ce.code];
  const attempts = (ce as ConnectError & { attempts?: number }).attempts;
  const base = { endpoint: config.endpoint, grpcCode, cause: err };
  const cc = causeCode(ce);
  if (isTlsError(ce)) {
    const detail = ce.rawMessage.split("\n")[0]!.replace(/^[0-9A-F]+:error:[0-9A-F]+:/, "");
    const plainServer = /wrong version number|packet length too long|http request/i.test(ce.rawMessage);
    return new FlyteRemoteError(
      "ADMIN_TLS",
      plainServer
        ? `${where} does not speak TLS (${detail}), but admin.insecure is false`
        : `the TLS connection to ${where} failed: ${detail}`,
      {
        ...base,
        origin: "USER",
        fix: plainServer
          ? `set admin.insecure: true in ${config.source} (plaintext), or point admin.endpoint at the TLS port`
          : `trust the server's CA with admin.caCertFilePath in ${config.source} (or, for tests only, admin.insecureSkipVerify: true)`,
      },
    );
  }
  if (
    config.insecure &&
    !answeredBefore &&
    ((ce.code === Code.Canceled && !/abort/i.test(ce.rawMessage)) ||
      /protocol error|PROTOCOL_ERROR|ERR_HTTP2_(SESSION|STREAM)_ERROR|stream closed with error code|socket hang up/i.test(
        ce.rawMessage,
      ))
  ) {
    return new FlyteRemoteError(
      "ADMIN_TLS",
      `${where} did not answer gRPC over plaintext HTTP/2 (${ce.rawMessage}): admin.insecure is true, but the endpoint probably expects TLS, or it is not FlyteAdmin's gRPC port`,
      {
        ...base,
        origin: "USER",
        fix: `set admin.insecure: false in ${config.source} for a TLS endpoint, or point admin.endpoint at the admin's gRPC port (not the HTTP one)`,
      },
    );
  }
  const broken = answeredBefore && isBrokenConnection(ce);
  if (
    ce.code === Code.Unavailable ||
    (cc !== undefined && NETWORK_CAUSES.test(cc)) ||
    ce.code === Code.DeadlineExceeded ||
    broken
  ) {
    const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : "";
    return new FlyteRemoteError(
      "ADMIN_UNREACHABLE",
      `cannot reach ${where}${tries} (${call}): ${ce.rawMessage}`,
      {
        ...base,
        origin: "SYSTEM",
        recoverable: true,
        entity: config.endpoint,
        fix: `check that FlyteAdmin is running and that admin.endpoint in ${config.source} is right (gRPC port, not the HTTP one), then run the command again`,
      },
    );
  }
  switch (ce.code) {
    case Code.Unauthenticated:
      return new FlyteRemoteError(
        "ADMIN_UNAUTHENTICATED",
        `${where} refused the credentials of ${call}: ${ce.rawMessage}`,
        {
          ...base,
          fix: `check admin.authType, admin.clientId and the client secret in ${config.source}`,
        },
      );
    case Code.NotFound:
      return new FlyteRemoteError("ENTITY_NOT_FOUND", `${call}: ${ce.rawMessage}`, {
        ...base,
        fix: "check the project, domain, name and version; register the entity first if it is yours",
      });
    case Code.AlreadyExists:
      return new FlyteRemoteError("ENTITY_EXISTS", `${call}: ${ce.rawMessage}`, base);
    default: {
      const notGrpc = /unsupported content type|HTTP 4\d\d|HTTP 5\d\d/i.test(ce.rawMessage);
      return new FlyteRemoteError(
        "ADMIN_CALL_FAILED",
        `${where} answered ${call} with ${grpcCode}: ${ce.rawMessage}`,
        {
          ...base,
          origin: ce.code === Code.InvalidArgument || ce.code === Code.FailedPrecondition ? "USER" : "SYSTEM",
          fix: notGrpc
            ? `the endpoint does not look like FlyteAdmin's gRPC port: check admin.endpoint in ${config.source}`
            : "read the admin's message above; fix the request or the admin's configuration",
        },
      );
    }
  }
}

/** Wraps every method of a client so its errors become `FlyteRemoteError`. */
function mapErrors<S extends DescService>(
  client: Client<S>,
  config: AdminConfig,
  state: { answered(): boolean },
): Client<S> {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      const name = typeof prop === "string" ? prop.charAt(0).toUpperCase() + prop.slice(1) : String(prop);
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          throw remoteErrorFrom(err, config, name, state.answered());
        }
      };
    },
  });
}
