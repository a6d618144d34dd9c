/**
 * The `admin:` (and `console:`) sections of the Flyte config file, read with flytectl's key
 * names and defaults, so one file serves flytectl, pyflyte and tsflyte:
 *
 * ```yaml
 * admin:
 *   endpoint: dns:///flyte.example.com:443   # or host:port, or https://host
 *   insecure: false                          # true: plaintext HTTP/2 (h2c), no TLS
 *   insecureSkipVerify: false                # TLS without checking the certificate (tests only)
 *   caCertFilePath: /etc/ssl/my-ca.pem       # trust this CA for the admin's certificate
 *   authType: ClientSecret                   # ClientSecret | Pkce | DeviceFlow | ExternalCommand
 *   clientId: my-app
 *   clientSecretLocation: /etc/secrets/client_secret   # or:
 *   clientSecretEnvVar: FLYTE_CLIENT_SECRET
 *   scopes: [all]                            # default: what the admin publishes
 *   maxRetries: 4
 *   perRetryTimeout: 15s
 *   maxBackoffDelay: 8s
 * console:
 *   endpoint: https://flyte.example.com      # for execution links; default from admin.endpoint
 * images:
 *   default: ghcr.io/acme/app:v3
 * ```
 *
 * Environment variables `FLYTE_PLATFORM_URL` and `FLYTE_PLATFORM_INSECURE` (flytekit's names)
 * override `admin.endpoint` and `admin.insecure`; the options of `adminConfig` override both.
 */
import { configSection, type FlyteConfig, readFlyteConfig } from "../images/config-file.js";
import { FlyteRemoteError } from "./errors.js";

/** How the client gets a token when the admin asks for one (flytectl's `authType`). */
export type AuthType = "ClientSecret" | "Pkce" | "DeviceFlow" | "ExternalCommand";

const AUTH_TYPES: readonly AuthType[] = ["ClientSecret", "Pkce", "DeviceFlow", "ExternalCommand"];

/** Everything the admin client needs to connect and authenticate. */
export interface AdminConfig {
  /** `host:port` (what errors name). */
  readonly endpoint: string;
  /** Host name or address. */
  readonly host: string;
  /** Port (default 443 with TLS, 80 without). */
  readonly port: number;
  /** Plaintext HTTP/2 (no TLS). */
  readonly insecure: boolean;
  /** TLS without verifying the server certificate. */
  readonly insecureSkipVerify: boolean;
  /** A PEM file with the CA(s) to trust for the admin's certificate. */
  readonly caCertFilePath: string | undefined;
  /** The OAuth2 flow used when the admin answers Unauthenticated. */
  readonly authType: AuthType;
  /** OAuth2 client id (ClientSecret flow; Pkce and DeviceFlow use the admin's public client id). */
  readonly clientId: string;
  /** A file holding the client secret. */
  readonly clientSecretLocation: string | undefined;
  /** An environment variable holding the client secret (wins over the file). */
  readonly clientSecretEnvVar: string | undefined;
  /** Scopes to request; empty means the ones the admin publishes. */
  readonly scopes: readonly string[];
  /** The audience to request. */
  readonly audience: string | undefined;
  /** Use the audience the admin publishes. */
  readonly useAudienceFromAdmin: boolean;
  /** The token endpoint; default discovered from the admin's OAuth2 metadata. */
  readonly tokenUrl: string | undefined;
  /** The metadata key that carries the token; default what the admin publishes, else `flyte-authorization`. */
  readonly authorizationHeader: string | undefined;
  /** ExternalCommand: the command whose standard output is the token. */
  readonly command: readonly string[];
  /** Retries of a call that failed with Unavailable (or timed out). */
  readonly maxRetries: number;
  /** Timeout of one attempt, in milliseconds. */
  readonly perRetryTimeoutMs: number;
  /** The longest wait between attempts, in milliseconds. */
  readonly maxBackoffDelayMs: number;
  /** Renew a token this long before it expires, in milliseconds. */
  readonly tokenRefreshWindowMs: number;
  /** Pkce: how long to wait for the browser, in milliseconds. */
  readonly pkceTimeoutMs: number;
  /** DeviceFlow: how long to wait for the user, in milliseconds. */
  readonly deviceFlowTimeoutMs: number;
  /** DeviceFlow: the shortest polling interval, in milliseconds. */
  readonly deviceFlowPollIntervalMs: number;
  /** The web console's base URL (for execution links). */
  readonly consoleEndpoint: string;
  /** Where the settings came from (a file path, or `options`). */
  readonly source: string;
}

/** Options of {@link adminConfig}: they win over the config file and the environment. */
export interface AdminConfigOptions {
  /** A Flyte config file (the CLI's `--config`); default `$FLYTECTL_CONFIG`, then `~/.flyte/config.yaml`. */
  config?: string | undefined;
  /** An already read config file (instead of `config`). */
  configFile?: FlyteConfig | undefined;
  /** The admin endpoint, e.g. `dns:///127.0.0.1:8089`, `localhost:30080`, `https://flyte.example.com`. */
  endpoint?: string | undefined;
  /** Plaintext (no TLS). */
  insecure?: boolean | undefined;
  /** Any other `admin:` key, with flytectl's names (e.g. `{ authType: "ClientSecret", clientId: "x" }`). */
  admin?: Readonly<Record<string, unknown>> | undefined;
  /** The environment (default `process.env`). */
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * The admin settings from the Flyte config file, the environment and `options` (in rising
 * priority). Throws {@link FlyteRemoteError} `ADMIN_CONFIG` naming the file and key when a value
 * is wrong or no endpoint is configured anywhere.
 */
export function adminConfig(options: AdminConfigOptions = {}): AdminConfig {
  const env = options.env ?? process.env;
  const file =
    options.configFile ??
    readFlyteConfig({ configPath: options.config, ...(options.env ? { env: options.env } : {}) });
  const section: Record<string, unknown> = { ...(file ? (configSection(file, "admin") ?? {}) : {}) };
  const fromEnv: Record<string, unknown> = {};
  if (env.FLYTE_PLATFORM_URL) fromEnv.endpoint = env.FLYTE_PLATFORM_URL;
  if (env.FLYTE_PLATFORM_INSECURE) fromEnv.insecure = env.FLYTE_PLATFORM_INSECURE;
  const fromOptions: Record<string, unknown> = { ...(options.admin ?? {}) };
  if (options.endpoint !== undefined) fromOptions.endpoint = options.endpoint;
  if (options.insecure !== undefined) fromOptions.insecure = options.insecure;
  const merged = { ...section, ...fromEnv, ...fromOptions };
  const source =
    Object.keys(fromOptions).length > 0
      ? "options"
      : Object.keys(fromEnv).length > 0
        ? "environment"
        : file?.path;
  const consoleSection = file ? configSection(file, "console") : undefined;
  return parseAdminSection(merged, {
    file: source ?? "options",
    console: consoleSection?.endpoint,
  });
}

/**
 * Checks an `admin:` mapping (flytectl's keys) and fills in flytectl's defaults. `context.file`
 * names the source in errors; `context.console` is `console.endpoint`, if any.
 */
export function parseAdminSection(
  section: Readonly<Record<string, unknown>>,
  context: { file: string; console?: unknown } = { file: "options" },
): AdminConfig {
  const file = context.file;
  const bad = (key: string, value: unknown, expected: string, fix: string) =>
    new FlyteRemoteError(
      "ADMIN_CONFIG",
      `admin.${key} is ${JSON.stringify(value) ?? String(value)}, not ${expected} (in ${file})`,
      { entity: `admin.${key}`, fix },
    );
  const str = (key: string): string | undefined => {
    const v = section[key];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw bad(key, v, "a string", `write admin.${key} as text`);
    return v;
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = section[key];
    if (v === undefined || v === null || v === "") return dflt;
    if (typeof v === "boolean") return v;
    if (typeof v === "string" && /^(true|1|yes|on)$/i.test(v)) return true;
    if (typeof v === "string" && /^(false|0|no|off)$/i.test(v)) return false;
    throw bad(key, v, "true or false", `write admin.${key}: true or false`);
  };
  const int = (key: string, dflt: number): number => {
    const v = section[key];
    if (v === undefined || v === null || v === "") return dflt;
    const n = typeof v === "string" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0)
      throw bad(key, v, "a whole number >= 0", `write admin.${key}: 4`);
    return n;
  };
  const duration = (key: string, dflt: number, from: Readonly<Record<string, unknown>> = section) => {
    const v = from[key];
    if (v === undefined || v === null || v === "") return dflt;
    const ms = parseDuration(v);
    if (ms === undefined) throw bad(key, v, "a duration", `write admin.${key} like 15s, 500ms or 2m`);
    return ms;
  };
  const list = (key: string): string[] => {
    const v = section[key];
    if (v === undefined || v === null || v === "") return [];
    if (typeof v === "string")
      return v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
      throw bad(key, v, "a list of strings", `write admin.${key}: [a, b]`);
    return v as string[];
  };
  const sub = (key: string): Readonly<Record<string, unknown>> => {
    const v = section[key];
    if (v === undefined || v === null) return {};
    if (typeof v !== "object" || Array.isArray(v))
      throw bad(key, v, "a mapping", `write admin.${key}: followed by indented keys`);
    return v as Record<string, unknown>;
  };

  const endpointText = str("endpoint");
  if (endpointText === undefined) {
    throw new FlyteRemoteError("ADMIN_CONFIG", `no FlyteAdmin endpoint is configured (looked in ${file})`, {
      entity: "admin.endpoint",
      fix: "add `admin: {endpoint: dns:///host:port, insecure: true|false}` to the Flyte config file (--config or $FLYTECTL_CONFIG), or pass --endpoint",
    });
  }
  const parsed = parseEndpoint(endpointText);
  if (!parsed) {
    throw bad(
      "endpoint",
      endpointText,
      "an endpoint",
      "write dns:///host:port, host:port, or https://host[:port]",
    );
  }
  const insecure =
    parsed.scheme === "http" ? true : parsed.scheme === "https" ? false : bool("insecure", false);
  if (parsed.scheme && section.insecure !== undefined && bool("insecure", false) !== insecure) {
    throw bad(
      "insecure",
      section.insecure,
      `${insecure} (the endpoint ${endpointText} says ${parsed.scheme})`,
      "drop the http:// or https:// prefix, or make admin.insecure agree with it",
    );
  }
  const port = parsed.port ?? (insecure ? 80 : 443);
  const authText = str("authType") ?? "ClientSecret";
  const authType = AUTH_TYPES.find((a) => a.toLowerCase() === authText.toLowerCase());
  if (!authType) throw bad("authType", authText, AUTH_TYPES.join(", "), `write admin.authType: ClientSecret`);
  const command = list("command");
  if (authType === "ExternalCommand" && command.length === 0) {
    throw bad("command", section.command, "a command", "write admin.command: [my-token-tool, --flag]");
  }
  const pkce = sub("pkceConfig");
  const device = sub("deviceFlowConfig");
  const hostPort = `${parsed.host.includes(":") ? `[${parsed.host}]` : parsed.host}:${port}`;
  let consoleEndpoint: string;
  if (typeof context.console === "string" && context.console !== "") {
    consoleEndpoint = context.console.replace(/\/+$/, "");
  } else {
    const defaultPort = insecure ? 80 : 443;
    const h = parsed.host.includes(":") ? `[${parsed.host}]` : parsed.host;
    consoleEndpoint = `${insecure ? "http" : "https"}://${h}${port === defaultPort ? "" : `:${port}`}`;
  }
  return Object.freeze({
    endpoint: hostPort,
    host: parsed.host,
    port,
    insecure,
    insecureSkipVerify: bool("insecureSkipVerify", false),
    caCertFilePath: str("caCertFilePath"),
    authType,
    clientId: str("clientId") ?? "flytepropeller",
    clientSecretLocation: str("clientSecretLocation") ?? "/etc/secrets/client_secret",
    clientSecretEnvVar: str("clientSecretEnvVar"),
    scopes: Object.freeze(list("scopes")),
    audience: str("audience"),
    useAudienceFromAdmin: bool("useAudienceFromAdmin", false),
    tokenUrl: str("tokenUrl"),
    authorizationHeader: str("authorizationHeader"),
    command: Object.freeze(command),
    maxRetries: int("maxRetries", 4),
    perRetryTimeoutMs: duration("perRetryTimeout", 15_000),
    maxBackoffDelayMs: duration("maxBackoffDelay", 8_000),
    tokenRefreshWindowMs: duration("tokenRefreshWindow", 0),
    pkceTimeoutMs: duration("timeout", 120_000, pkce),
    deviceFlowTimeoutMs: duration("timeout", 600_000, device),
    deviceFlowPollIntervalMs: duration("pollInterval", 5_000, device),
    consoleEndpoint,
    source: file,
  });
}

/**
 * Parses an admin endpoint as flytectl and pyflyte write it: `dns:///host:port`, `dns:host:port`,
 * `host:port`, `host`, `[::1]:port`, or `http(s)://host[:port]` (the scheme then decides TLS).
 * Returns `undefined` when it is none of these.
 */
export function parseEndpoint(
  text: string,
): { host: string; port: number | undefined; scheme: "http" | "https" | undefined } | undefined {
  let rest = text.trim();
  let scheme: "http" | "https" | undefined;
  const m = /^(dns|https?):(?:\/\/[^/]*\/)?\/*(.*)$/i.exec(rest);
  if (m) {
    const s = m[1]!.toLowerCase();
    if (s === "http" || s === "https") {
      scheme = s;
      rest = rest.replace(/^https?:\/\//i, "");
    } else rest = m[2]!;
  }
  rest = rest.replace(/\/+$/, "");
  if (rest === "" || /[/\s?#@]/.test(rest)) return undefined;
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const parts = rest.split(":");
    if (parts.length > 2) return undefined;
    host = parts[0]!;
    portText = parts[1];
    if (host === "" || !/^[A-Za-z0-9._-]+$/.test(host)) return undefined;
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return undefined;
  }
  return { host, port, scheme };
}

/** Parses a Go duration (`15s`, `1m30s`, `500ms`) or a number of seconds; `undefined` when it is neither. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (text === "0") return 0;
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === text.length && pos > 0 ? total : undefined;
}
