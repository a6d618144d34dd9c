/**
 * Tokens for FlyteAdmin, as flytectl gets them. The admin client sends no token until the admin
 * answers `Unauthenticated`; then the configured flow (`admin.authType`) runs once and its token
 * goes with every later call, in the metadata key the admin publishes (`flyte-authorization` by
 * default) as `Bearer <token>`:
 *
 * - `ClientSecret` (default): OAuth2 client credentials (RFC 6749 4.4) at the token endpoint the
 *   admin publishes (`AuthMetadataService.GetOAuth2Metadata`) or `admin.tokenUrl`; the secret
 *   comes from `admin.clientSecretEnvVar` or the file `admin.clientSecretLocation`.
 * - `Pkce`: authorization code with PKCE (RFC 7636): a browser opens the admin's authorization
 *   endpoint and comes back to the redirect URI the admin publishes (a local listener).
 * - `DeviceFlow`: device authorization (RFC 8628): prints a URL and a code, polls for the token.
 * - `ExternalCommand`: runs `admin.command`; its standard output is the token.
 *
 * Tokens live in memory for the life of the client; refresh tokens are used when the server
 * hands them out.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type {
  OAuth2MetadataResponse,
  PublicClientAuthConfigResponse,
} from "../proto/gen/flyteidl/service/auth_pb.js";
import type { AdminConfig } from "./config.js";
import { FlyteRemoteError } from "./errors.js";

/** The default metadata key of the token (flyteadmin's `grpcAuthorizationHeader`). */
export const DEFAULT_AUTHORIZATION_HEADER = "flyte-authorization";

/** What the admin publishes about authentication (AuthMetadataService), fetched on demand. */
export interface AuthDiscovery {
  /** The OAuth2 authorization server metadata (token, authorization and device endpoints). */
  oauth2Metadata(): Promise<OAuth2MetadataResponse>;
  /** The public client settings (client id, redirect URI, scopes, audience, header key). */
  publicClientConfig(): Promise<PublicClientAuthConfigResponse>;
}

/** A token with its expiry. */
export interface AccessToken {
  readonly accessToken: string;
  /** Epoch milliseconds; `undefined` when the server gave no lifetime. */
  readonly expiresAt: number | undefined;
  readonly refreshToken: string | undefined;
}

/** TLS settings for HTTPS calls to token endpoints (the admin's `caCertFilePath`, `insecureSkipVerify`). */
export interface HttpTls {
  readonly ca?: string | Buffer | undefined;
  readonly rejectUnauthorized?: boolean | undefined;
}

/** Options of {@link TokenSource}. */
export interface TokenSourceOptions {
  /** Lines for the user (device codes, browser URLs). Default: standard error. */
  log?: ((line: string) => void) | undefined;
  /** Opens a URL in a browser (Pkce). Default: `xdg-open` / `open` / `start`, failures ignored. */
  openBrowser?: ((url: string) => void) | undefined;
  /** The environment to read `admin.clientSecretEnvVar` from. */
  env?: NodeJS.ProcessEnv | undefined;
  /** TLS for token endpoints. */
  tls?: HttpTls | undefined;
}

/** Gets, caches and renews the token of one admin client. */
export class TokenSource {
  readonly #config: AdminConfig;
  readonly #discovery: AuthDiscovery;
  readonly #options: TokenSourceOptions;
  #token: AccessToken | undefined;
  #pending: Promise<AccessToken> | undefined;
  #header: string | undefined;

  /** A token source for `config.authType`, discovering endpoints through `discovery`. */
  constructor(config: AdminConfig, discovery: AuthDiscovery, options: TokenSourceOptions = {}) {
    this.#config = config;
    this.#discovery = discovery;
    this.#options = options;
  }

  /** The current token when one is held and not about to expire. */
  current(): string | undefined {
    const t = this.#token;
    if (!t) return undefined;
    if (t.expiresAt !== undefined && t.expiresAt - this.#config.tokenRefreshWindowMs - 10_000 <= Date.now())
      return undefined;
    return t.accessToken;
  }

  /** The metadata key that carries the token. */
  async headerKey(): Promise<string> {
    if (this.#header) return this.#header;
    if (this.#config.authorizationHeader) this.#header = this.#config.authorizationHeader;
    else {
      try {
        this.#header = (await this.#discovery.publicClientConfig()).authorizationMetadataKey || undefined;
      } catch {
        // An admin without AuthMetadataService uses the default key.
      }
      this.#header ??= DEFAULT_AUTHORIZATION_HEADER;
    }
    return this.#header;
  }

  /** A valid token: the held one, a refreshed one, or a new one from the flow. `force` drops the held one. */
  async token(force = false): Promise<string> {
    if (!force) {
      const held = this.current();
      if (held) return held;
    }
    if (!this.#pending) {
      const previous = this.#token;
      this.#pending = this.#obtain(previous, force).finally(() => {
        this.#pending = undefined;
      });
    }
    this.#token = await this.#pending;
    return this.#token.accessToken;
  }

  async #obtain(previous: AccessToken | undefined, force: boolean): Promise<AccessToken> {
    const c = this.#config;
    if (previous?.refreshToken && !force) {
      try {
        const meta = await this.#discovery.oauth2Metadata();
        const pcc = await this.#discovery.publicClientConfig();
        return await postToken(
          c.tokenUrl ?? meta.tokenEndpoint,
          {
            grant_type: "refresh_token",
            refresh_token: previous.refreshToken,
            client_id: pcc.clientId,
          },
          {},
          this.#options.tls,
          c,
        );
      } catch {
        // fall through to a new flow
      }
    }
    switch (c.authType) {
      case "ClientSecret":
        return this.#clientSecret();
      case "Pkce":
        return this.#pkce();
      case "DeviceFlow":
        return this.#deviceFlow();
      case "ExternalCommand":
        return externalCommandToken(c.command);
    }
  }

  async #clientSecret(): Promise<AccessToken> {
    const c = this.#config;
    const tokenUrl = c.tokenUrl ?? (await this.#metadata()).tokenEndpoint;
    let scopes = [...c.scopes];
    let audience = c.audience;
    if (scopes.length === 0 || c.useAudienceFromAdmin) {
      const pcc = await this.#publicClient();
      if (scopes.length === 0) scopes = [...pcc.scopes];
      if (c.useAudienceFromAdmin) audience = pcc.audience || undefined;
    }
    const secret = readClientSecret(c, this.#options.env ?? process.env);
    const form: Record<string, string> = { grant_type: "client_credentials" };
    if (scopes.length > 0) form.scope = scopes.join(" ");
    if (audience) form.audience = audience;
    const basic = Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(secret)}`).toString(
      "base64",
    );
    return postToken(tokenUrl, form, { authorization: `Basic ${basic}` }, this.#options.tls, c);
  }

  async #pkce(): Promise<AccessToken> {
    const c = this.#config;
    const meta = await this.#metadata();
    const pcc = await this.#publicClient();
    const redirect = new URL(pcc.redirectUri || "http://localhost:53593/callback");
    const verifier = base64url(randomBytes(32));
    const challenge = base64url(createHash("sha256").update(verifier).digest());
    const state = base64url(randomBytes(16));
    const auth = new URL(meta.authorizationEndpoint);
    auth.searchParams.set("response_type", "code");
    auth.searchParams.set("client_id", pcc.clientId);
    auth.searchParams.set("redirect_uri", redirect.toString());
    const scopes = c.scopes.length > 0 ? c.scopes : pcc.scopes;
    if (scopes.length > 0) auth.searchParams.set("scope", scopes.join(" "));
    auth.searchParams.set("code_challenge", challenge);
    auth.searchParams.set("code_challenge_method", "S256");
    auth.searchParams.set("state", state);
    if (pcc.audience) auth.searchParams.set("audience", pcc.audience);
    const code = await new Promise<string>((resolveCode, reject) => {
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? "/", redirect);
        if (url.pathname !== redirect.pathname) {
          res.writeHead(404).end();
          return;
        }
        const fail = (message: string) => {
          res.writeHead(400, { "content-type": "text/plain" }).end(`Login failed: ${message}`);
          finish(
            new FlyteRemoteError("AUTH_FAILED", `the browser login failed: ${message}`, {
              endpoint: c.endpoint,
              fix: "log in again; check admin.authType and the identity provider's client settings",
            }),
          );
        };
        if (url.searchParams.get("error"))
          return fail(
            `${url.searchParams.get("error")}: ${url.searchParams.get("error_description") ?? ""}`.trim(),
          );
        if (url.searchParams.get("state") !== state) return fail("the state does not match this login");
        const got = url.searchParams.get("code");
        if (!got) return fail("no authorization code came back");
        res
          .writeHead(200, { "content-type": "text/html" })
          .end("<html><body>Logged in to Flyte. You can close this window.</body></html>");
        finish(undefined, got);
      });
      const timer = setTimeout(
        () =>
          finish(
            new FlyteRemoteError(
              "AUTH_FAILED",
              `no browser login within ${Math.round(c.pkceTimeoutMs / 1000)} s`,
              {
                endpoint: c.endpoint,
                fix: `open the URL printed above and log in, or raise admin.pkceConfig.timeout`,
              },
            ),
          ),
        c.pkceTimeoutMs,
      );
      const finish = (err: Error | undefined, value?: string) => {
        clearTimeout(timer);
        server.close();
        server.closeAllConnections();
        if (err) reject(err);
        else resolveCode(value!);
      };
      server.on("error", (err) =>
        finish(
          new FlyteRemoteError(
            "AUTH_FAILED",
            `cannot listen on the redirect address ${redirect.host} for the browser login: ${err.message}`,
            { endpoint: c.endpoint, fix: "free that port, or use admin.authType: DeviceFlow", cause: err },
          ),
        ),
      );
      server.listen(Number(redirect.port || 80), redirect.hostname.replace(/^\[|\]$/g, ""), () => {
        const log = this.#options.log ?? ((l: string) => void process.stderr.write(`${l}\n`));
        log(`Log in to Flyte in your browser: ${auth.toString()}`);
        (this.#options.openBrowser ?? openBrowser)(auth.toString());
      });
    });
    return postToken(
      meta.tokenEndpoint,
      {
        grant_type: "authorization_code",
        code,
        redirect_uri: redirect.toString(),
        client_id: pcc.clientId,
        code_verifier: verifier,
      },
      {},
      this.#options.tls,
      c,
    );
  }

  async #deviceFlow(): Promise<AccessToken> {
    const c = this.#config;
    const meta = await this.#metadata();
    const pcc = await this.#publicClient();
    if (!meta.deviceAuthorizationEndpoint) {
      throw new FlyteRemoteError("AUTH_FAILED", "the admin publishes no device authorization endpoint", {
        endpoint: c.endpoint,
        fix: "use admin.authType: Pkce or ClientSecret, or enable the device flow in the identity provider",
      });
    }
    const form: Record<string, string> = { client_id: pcc.clientId };
    const scopes = c.scopes.length > 0 ? c.scopes : pcc.scopes;
    if (scopes.length > 0) form.scope = scopes.join(" ");
    if (pcc.audience) form.audience = pcc.audience;
    const res = await postForm(meta.deviceAuthorizationEndpoint, form, {}, this.#options.tls);
    const body = parseJson(res.text);
    if (res.status !== 200 || typeof body.device_code !== "string") {
      throw new FlyteRemoteError(
        "AUTH_FAILED",
        `the device authorization endpoint ${meta.deviceAuthorizationEndpoint} answered ${res.status}: ${oauthError(body, res.text)}`,
        { endpoint: c.endpoint, fix: "check the identity provider's device flow settings for this client" },
      );
    }
    const log = this.#options.log ?? ((l: string) => void process.stderr.write(`${l}\n`));
    const uri = String(body.verification_uri_complete ?? body.verification_uri ?? "");
    log(`To log in to Flyte, visit ${uri} and enter the code ${String(body.user_code ?? "")}`);
    let interval = Math.max(Number(body.interval ?? 0) * 1000, c.deviceFlowPollIntervalMs);
    const deadline =
      Date.now() +
      Math.min(c.deviceFlowTimeoutMs, Number(body.expires_in ?? Number.POSITIVE_INFINITY) * 1000);
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, interval));
      const poll = await postForm(
        meta.tokenEndpoint,
        {
          grant_type: "urn:ietf:params:oauth:grant-type:device_code",
          device_code: body.device_code,
          client_id: pcc.clientId,
        },
        {},
        this.#options.tls,
      );
      const p = parseJson(poll.text);
      if (poll.status === 200 && typeof p.access_token === "string") return tokenOf(p);
      if (p.error === "authorization_pending") continue;
      if (p.error === "slow_down") {
        interval += 5000;
        continue;
      }
      throw new FlyteRemoteError("AUTH_FAILED", `the device login failed: ${oauthError(p, poll.text)}`, {
        endpoint: c.endpoint,
        fix: "run the command again and finish the login in time",
      });
    }
    throw new FlyteRemoteError("AUTH_FAILED", "the device login was not finished in time", {
      endpoint: c.endpoint,
      fix: "run the command again, or raise admin.deviceFlowConfig.timeout",
    });
  }

  async #metadata(): Promise<OAuth2MetadataResponse> {
    try {
      return await this.#discovery.oauth2Metadata();
    } catch (err) {
      throw discoveryError(this.#config, "GetOAuth2Metadata", err);
    }
  }

  async #publicClient(): Promise<PublicClientAuthConfigResponse> {
    try {
      return await this.#discovery.publicClientConfig();
    } catch (err) {
      throw discoveryError(this.#config, "GetPublicClientConfig", err);
    }
  }
}

function discoveryError(c: AdminConfig, call: string, err: unknown): FlyteRemoteError {
  if (err instanceof FlyteRemoteError && err.code !== "ADMIN_CALL_FAILED") return err;
  return new FlyteRemoteError(
    "AUTH_FAILED",
    `the admin at ${c.endpoint} asks for a token, but its auth metadata (${call}) cannot be read: ${(err as Error).message}`,
    {
      endpoint: c.endpoint,
      fix: "set admin.tokenUrl (and admin.scopes) in the config file, or check that the endpoint is FlyteAdmin",
      cause: err,
    },
  );
}

/** Reads the client secret: `admin.clientSecretEnvVar` when set, else the file `admin.clientSecretLocation`. */
export function readClientSecret(c: AdminConfig, env: NodeJS.ProcessEnv): string {
  if (c.clientSecretEnvVar) {
    const v = env[c.clientSecretEnvVar]?.trim();
    if (!v) {
      throw new FlyteRemoteError(
        "AUTH_FAILED",
        `the client secret variable ${c.clientSecretEnvVar} (admin.clientSecretEnvVar) is not set`,
        { entity: "admin.clientSecretEnvVar", fix: `export ${c.clientSecretEnvVar}=<the client secret>` },
      );
    }
    return v;
  }
  const path = c.clientSecretLocation ?? "/etc/secrets/client_secret";
  try {
    const v = readFileSync(path, "utf8").trim();
    if (v) return v;
  } catch (err) {
    throw new FlyteRemoteError(
      "AUTH_FAILED",
      `the admin asks for a token, and the client secret file ${path} (admin.clientSecretLocation) cannot be read: ${(err as Error).message}`,
      {
        entity: "admin.clientSecretLocation",
        fix: "write the secret to that file, point admin.clientSecretLocation at it, or set admin.clientSecretEnvVar",
        cause: err,
      },
    );
  }
  throw new FlyteRemoteError("AUTH_FAILED", `the client secret file ${path} is empty`, {
    entity: "admin.clientSecretLocation",
    fix: "write the client secret into it",
  });
}

async function postToken(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string>,
  tls: HttpTls | undefined,
  c: AdminConfig,
): Promise<AccessToken> {
  let res: { status: number; text: string };
  try {
    res = await postForm(url, form, headers, tls);
  } catch (err) {
    throw new FlyteRemoteError(
      "AUTH_FAILED",
      `cannot reach the token endpoint ${url}: ${(err as Error).message}`,
      {
        endpoint: c.endpoint,
        fix: "check the network, or set admin.tokenUrl to a reachable token endpoint",
        cause: err,
      },
    );
  }
  const body = parseJson(res.text);
  if (res.status === 200 && typeof body.access_token === "string") return tokenOf(body);
  const detail = oauthError(body, res.text);
  if (res.status === 400 || res.status === 401 || res.status === 403) {
    const clientGrant = form.grant_type === "client_credentials";
    throw new FlyteRemoteError(
      "ADMIN_UNAUTHENTICATED",
      `the token endpoint ${url} refused ${clientGrant ? `client ${JSON.stringify(c.clientId)}` : "the login"} (${res.status}): ${detail}`,
      {
        endpoint: c.endpoint,
        fix: clientGrant
          ? "check admin.clientId and the secret (admin.clientSecretLocation or admin.clientSecretEnvVar)"
          : "log in again with a user allowed to use Flyte",
      },
    );
  }
  throw new FlyteRemoteError("AUTH_FAILED", `the token endpoint ${url} answered ${res.status}: ${detail}`, {
    endpoint: c.endpoint,
    fix: "check admin.tokenUrl and the identity provider",
  });
}

function tokenOf(body: Record<string, unknown>): AccessToken {
  const expiresIn = Number(body.expires_in);
  return {
    accessToken: String(body.access_token),
    expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? Date.now() + expiresIn * 1000 : undefined,
    refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : undefined,
  };
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function oauthError(body: Record<string, unknown>, text: string): string {
  if (typeof body.error === "string")
    return body.error_description ? `${body.error}: ${String(body.error_description)}` : body.error;
  return text.slice(0, 200) || "(empty answer)";
}

/** POSTs an `application/x-www-form-urlencoded` body; resolves with the status and text. */
export function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
  tls: HttpTls = {},
): Promise<{ status: number; text: string }> {
  const body = new URLSearchParams(form).toString();
  const u = new URL(url);
  const requestFn = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = requestFn(
      u,
      {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          "content-length": Buffer.byteLength(body),
          ...headers,
        },
        timeout: 30_000,
        ...(u.protocol === "https:"
          ? {
              ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
              ...(tls.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
            }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out after 30 s")));
    req.on("error", reject);
    req.end(body);
  });
}

/** Runs `command`; its trimmed standard output is the token (flytectl's ExternalCommand). */
export function externalCommandToken(command: readonly string[]): Promise<AccessToken> {
  const [file, ...args] = command;
  return new Promise((resolve, reject) => {
    execFile(file!, args, { timeout: 120_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const token = String(stdout).trim();
      if (err || !token) {
        reject(
          new FlyteRemoteError(
            "AUTH_FAILED",
            `the token command ${command.join(" ")} ${err ? `failed: ${err.message}` : "printed nothing"}${stderr ? ` (${String(stderr).trim().slice(0, 200)})` : ""}`,
            {
              entity: "admin.command",
              fix: "check that admin.command prints a token on standard output",
              cause: err,
            },
          ),
        );
      } else resolve({ accessToken: token, expiresAt: undefined, refreshToken: undefined });
    });
  });
}

function base64url(b: Buffer): string {
  return b.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function openBrowser(url: string): void {
  const cmd = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const child = execFile(cmd, [url], () => {});
    child.on("error", () => {});
    child.unref();
  } catch {
    // the URL was printed; the user can open it
  }
}
