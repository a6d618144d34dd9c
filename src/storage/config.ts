/**
 * Where the `s3://` backend connects and with which credentials, read the way flytekit and
 * flytectl read them. In order of precedence, for each setting:
 *
 * 1. flytekit's environment variables: `FLYTE_AWS_ENDPOINT`, `FLYTE_AWS_ACCESS_KEY_ID`,
 *    `FLYTE_AWS_SECRET_ACCESS_KEY` (what propeller puts in task pods on a sandbox), and
 *    `FLYTE_AWS_RETRIES` (retries after the first attempt);
 * 2. the Flyte config file's `storage:` section (flytestdlib's keys):
 *    `storage.connection.{endpoint, access-key, secret-key, auth-type, region, disable-ssl}`,
 *    or for `type: stow` with `stow.kind: s3`, `storage.stow.config.{endpoint, access_key_id,
 *    secret_key, auth_type, region, disable_ssl}`;
 * 3. the standard AWS variables: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `AWS_REGION`,
 *    `AWS_DEFAULT_REGION`, and, when no credentials were found above, the AWS SDK's own chain
 *    (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, `AWS_PROFILE`, web
 *    identity, instance roles).
 *
 * ```yaml
 * storage:
 *   type: minio
 *   container: my-s3-bucket
 *   connection:
 *     endpoint: http://localhost:30002
 *     access-key: minio
 *     secret-key: miniostorage
 *     auth-type: accesskey
 *     region: us-east-1
 *     disable-ssl: true
 * ```
 *
 * A custom endpoint (MinIO, moto, a sandbox) is addressed path-style (`http://host/bucket/key`).
 */
import { describeValue } from "../errors.js";
import {
  configSection,
  type FlyteConfig,
  FlyteConfigError,
  type FlyteConfigOptions,
  readFlyteConfig,
} from "../images/config-file.js";

/** Static credentials for S3. */
export interface S3Credentials {
  /** The access key id. */
  readonly accessKeyId: string;
  /** The secret access key. */
  readonly secretAccessKey: string;
  /** A session token, for temporary credentials. */
  readonly sessionToken?: string | undefined;
}

/** The resolved connection settings of the `s3://` backend. */
export interface S3Settings {
  /** A custom endpoint URL (with scheme), or `undefined` for AWS S3 itself. */
  readonly endpoint: string | undefined;
  /** The region; `us-east-1` when nothing sets one. */
  readonly region: string;
  /** Static credentials, or `undefined` to use the AWS SDK's default credential chain. */
  readonly credentials: S3Credentials | undefined;
  /** Path-style addressing (`endpoint/bucket/key`); on for custom endpoints. */
  readonly forcePathStyle: boolean;
  /** Attempts per request, the first included (retries + 1). */
  readonly maxAttempts: number;
  /** Where the endpoint and credentials came from, for error messages (never the secrets). */
  readonly sources: { readonly endpoint: string; readonly credentials: string };
}

/** Options of `s3Settings`. */
export interface S3SettingsOptions extends FlyteConfigOptions {
  /**
   * The Flyte config file already read; `null` for none. When absent, the file is located as
   * `readFlyteConfig` does (`configPath`, `$FLYTECTL_CONFIG`, `~/.flyte/config.yaml`).
   */
  config?: FlyteConfig | null | undefined;
}

/** Default retries after the first attempt (flytekit's `aws.retries` default is 3). */
export const DEFAULT_S3_RETRIES = 4;

type Source = { value: string; from: string };

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v.trim() === "" ? undefined : v.trim();
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function pick(...candidates: Array<[unknown, string]>): Source | undefined {
  for (const [v, from] of candidates) {
    const s = str(v);
    if (s !== undefined) return { value: s, from };
  }
  return undefined;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && ["true", "1", "yes", "on"].includes(v.toLowerCase());
}

function mapping(
  config: FlyteConfig,
  parent: Readonly<Record<string, unknown>>,
  key: string,
  path: string,
): Readonly<Record<string, unknown>> {
  const v = parent[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) {
    throw new FlyteConfigError("CONFIG_SHAPE", `${path} must be a mapping, not ${describeValue(v)}`, {
      file: config.path,
      key: path,
      fix: `write ${path.split(".").pop()}: followed by indented key: value lines`,
    });
  }
  return v as Readonly<Record<string, unknown>>;
}

/** The storage section's S3 keys, normalized to one shape (flytestdlib `connection` or `stow.config`). */
function fileSettings(config: FlyteConfig | undefined): Record<string, Source | undefined> {
  if (!config) return {};
  const storage = configSection(config, "storage");
  if (!storage) return {};
  const conn = mapping(config, storage, "connection", "storage.connection");
  const stow = mapping(config, storage, "stow", "storage.stow");
  const stowKind = str(stow.kind);
  const stowCfg =
    stowKind === undefined || stowKind === "s3" ? mapping(config, stow, "config", "storage.stow.config") : {};
  const f = config.path;
  return {
    endpoint: pick(
      [conn.endpoint, `${f}: storage.connection.endpoint`],
      [stowCfg.endpoint, `${f}: storage.stow.config.endpoint`],
    ),
    accessKey: pick(
      [conn["access-key"], `${f}: storage.connection.access-key`],
      [stowCfg.access_key_id, `${f}: storage.stow.config.access_key_id`],
    ),
    secretKey: pick(
      [conn["secret-key"], `${f}: storage.connection.secret-key`],
      [stowCfg.secret_key, `${f}: storage.stow.config.secret_key`],
    ),
    authType: pick(
      [conn["auth-type"], "storage.connection.auth-type"],
      [stowCfg.auth_type, "storage.stow.config.auth_type"],
    ),
    region: pick([conn.region, "storage.connection.region"], [stowCfg.region, "storage.stow.config.region"]),
    disableSsl: pick(
      [conn["disable-ssl"], "storage.connection.disable-ssl"],
      [stowCfg.disable_ssl, "storage.stow.config.disable_ssl"],
    ),
  };
}

function withScheme(endpoint: string, disableSsl: boolean): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) return endpoint.replace(/\/+$/, "");
  return `${disableSsl ? "http" : "https"}://${endpoint.replace(/\/+$/, "")}`;
}

/**
 * Resolves the S3 connection settings from the environment and the Flyte config file (see the
 * module comment for the order). Throws `FlyteConfigError` `CONFIG_S3_CREDENTIALS` when only one
 * half of a key pair is given, `CONFIG_S3_ENDPOINT` for an endpoint that is not a URL, and
 * `CONFIG_S3_RETRIES` for a bad `FLYTE_AWS_RETRIES`.
 */
export function s3Settings(options: S3SettingsOptions = {}): S3Settings {
  const env = options.env ?? process.env;
  const config = options.config === null ? undefined : (options.config ?? readFlyteConfig(options));
  const file = fileSettings(config);
  const endpoint =
    pick([env.FLYTE_AWS_ENDPOINT, "$FLYTE_AWS_ENDPOINT"]) ??
    file.endpoint ??
    pick([env.AWS_ENDPOINT_URL_S3, "$AWS_ENDPOINT_URL_S3"], [env.AWS_ENDPOINT_URL, "$AWS_ENDPOINT_URL"]);
  const disableSsl = truthy(file.disableSsl?.value);
  let endpointUrl: string | undefined;
  if (endpoint) {
    endpointUrl = withScheme(endpoint.value, disableSsl);
    try {
      new URL(endpointUrl);
    } catch {
      throw new FlyteConfigError(
        "CONFIG_S3_ENDPOINT",
        `the S3 endpoint ${JSON.stringify(endpoint.value)} (from ${endpoint.from}) is not a URL`,
        {
          ...(config ? { file: config.path } : {}),
          fix: "write it as http://host:port or https://host",
        },
      );
    }
  }
  const region =
    pick(
      [file.region?.value, "config"],
      [env.AWS_REGION, "$AWS_REGION"],
      [env.AWS_DEFAULT_REGION, "$AWS_DEFAULT_REGION"],
    )?.value ?? "us-east-1";

  let credentials: S3Credentials | undefined;
  let credentialSource =
    "the AWS SDK's default chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, web identity, instance role)";
  const envKey = pick([env.FLYTE_AWS_ACCESS_KEY_ID, "$FLYTE_AWS_ACCESS_KEY_ID"]);
  const envSecret = pick([env.FLYTE_AWS_SECRET_ACCESS_KEY, "$FLYTE_AWS_SECRET_ACCESS_KEY"]);
  const iam = file.authType?.value.toLowerCase() === "iam";
  const key = envKey ?? (iam ? undefined : file.accessKey);
  const secret = envSecret ?? (iam ? undefined : file.secretKey);
  if (key || secret) {
    if (!key || !secret) {
      const have = (key ?? secret)!;
      throw new FlyteConfigError(
        "CONFIG_S3_CREDENTIALS",
        `an S3 ${key ? "access key" : "secret key"} is set (by ${have.from}) but its ${key ? "secret key" : "access key"} is not`,
        {
          ...(config ? { file: config.path } : {}),
          fix: "set both FLYTE_AWS_ACCESS_KEY_ID and FLYTE_AWS_SECRET_ACCESS_KEY, or both storage.connection.access-key and secret-key",
        },
      );
    }
    credentials = { accessKeyId: key.value, secretAccessKey: secret.value };
    credentialSource = key.from === secret.from ? key.from : `${key.from} and ${secret.from}`;
  }

  const retriesText = str(env.FLYTE_AWS_RETRIES);
  let retries = DEFAULT_S3_RETRIES;
  if (retriesText !== undefined) {
    if (!/^\d+$/.test(retriesText) || Number(retriesText) > 20) {
      throw new FlyteConfigError(
        "CONFIG_S3_RETRIES",
        `FLYTE_AWS_RETRIES=${JSON.stringify(retriesText)} is not a whole number from 0 to 20`,
        {
          key: "FLYTE_AWS_RETRIES",
          fix: "set it to the number of retries after the first attempt, e.g. 4",
        },
      );
    }
    retries = Number(retriesText);
  }
  return Object.freeze({
    endpoint: endpointUrl,
    region,
    credentials,
    forcePathStyle: endpointUrl !== undefined,
    maxAttempts: retries + 1,
    sources: Object.freeze({
      endpoint: endpoint?.from ?? "AWS S3 (no endpoint configured)",
      credentials: credentialSource,
    }),
  });
}
