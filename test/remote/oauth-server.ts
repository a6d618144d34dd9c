// A tiny local OAuth2 authorization server for the auth tests: token endpoint (client
// credentials, authorization code + PKCE, device code, refresh token), authorization endpoint
// (answers at once with a redirect, as a logged-in browser session would), device authorization
// endpoint, RFC 8414 / OpenID metadata and a JWKS. Access tokens are RS256 JWTs.
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A running OAuth server. */
export interface OAuthServer {
  url: string;
  issuer: string;
  /** Requests to the token endpoint, parsed. */
  tokenRequests: { form: Record<string, string>; authorization: string | undefined }[];
  /** The device code polls until approval. */
  approveDevice(): void;
  /** Issues a JWT for `sub` with the server's key. */
  jwt(claims: Record<string, unknown>): string;
  close(): Promise<void>;
}

/** Options: the accepted client, its secret, and the audience put in tokens. */
export interface OAuthServerOptions {
  clientId: string;
  clientSecret: string;
  publicClientId?: string;
  audience?: string;
  /** Token lifetime in seconds. */
  expiresIn?: number;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** Starts the server on a free local port. */
export async function startOAuthServer(options: OAuthServerOptions): Promise<OAuthServer> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = "test-key";
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, use: "sig", alg: "RS256" };
  const tokenRequests: OAuthServer["tokenRequests"] = [];
  const codes = new Map<string, { challenge: string; redirect: string }>();
  let deviceApproved = false;
  let url = "";
  const jwt = (claims: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }));
    const body = b64url(
      JSON.stringify({
        iss: url,
        aud: options.audience ? [options.audience] : [],
        iat: now,
        nbf: now - 5,
        exp: now + (options.expiresIn ?? 3600),
        scp: ["all"],
        ...claims,
      }),
    );
    const signature = sign("RSA-SHA256", Buffer.from(`${header}.${body}`), privateKey);
    return `${header}.${body}.${b64url(signature)}`;
  };
  const token = (res: ServerResponse, sub: string) =>
    json(res, 200, {
      access_token: jwt({ sub, client_id: sub }),
      token_type: "bearer",
      expires_in: options.expiresIn ?? 3600,
      refresh_token: `refresh-${sub}`,
      scope: "all",
    });
  const server = createServer(async (req, res) => {
    const u = new URL(req.url ?? "/", url);
    const body = await readBody(req);
    const form = Object.fromEntries(new URLSearchParams(body));
    switch (u.pathname) {
      case "/.well-known/oauth-authorization-server":
      case "/.well-known/openid-configuration":
        return json(res, 200, {
          issuer: url,
          authorization_endpoint: `${url}/authorize`,
          token_endpoint: `${url}/token`,
          device_authorization_endpoint: `${url}/device`,
          jwks_uri: `${url}/keys`,
          userinfo_endpoint: `${url}/userinfo`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
          scopes_supported: ["all", "offline", "openid"],
          grant_types_supported: [
            "client_credentials",
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
          ],
          code_challenge_methods_supported: ["S256"],
          token_endpoint_auth_methods_supported: ["client_secret_basic"],
        });
      case "/keys":
        return json(res, 200, { keys: [jwk] });
      case "/authorize": {
        const code = b64url(randomBytes(12));
        const redirect = u.searchParams.get("redirect_uri") ?? "";
        codes.set(code, { challenge: u.searchParams.get("code_challenge") ?? "", redirect });
        const back = new URL(redirect);
        back.searchParams.set("code", code);
        back.searchParams.set("state", u.searchParams.get("state") ?? "");
        res.writeHead(302, { location: back.toString() }).end();
        return;
      }
      case "/device":
        return json(res, 200, {
          device_code: "dev-code-1",
          user_code: "ABCD-EFGH",
          verification_uri: `${url}/activate`,
          expires_in: 60,
          interval: 0,
        });
      case "/token": {
        tokenRequests.push({ form, authorization: req.headers.authorization });
        if (form.grant_type === "client_credentials") {
          const [id, secret] = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64")
            .toString()
            .split(":")
            .map(decodeURIComponent);
          if (id !== options.clientId || secret !== options.clientSecret)
            return json(res, 401, {
              error: "invalid_client",
              error_description: "client authentication failed",
            });
          return token(res, id);
        }
        if (form.grant_type === "authorization_code") {
          const c = codes.get(form.code ?? "");
          const challenge = b64url(
            createHash("sha256")
              .update(form.code_verifier ?? "")
              .digest(),
          );
          if (!c || c.challenge !== challenge || c.redirect !== form.redirect_uri)
            return json(res, 400, { error: "invalid_grant", error_description: "bad code or verifier" });
          return token(res, "pkce-user");
        }
        if (form.grant_type === "urn:ietf:params:oauth:grant-type:device_code") {
          if (!deviceApproved) return json(res, 400, { error: "authorization_pending" });
          return token(res, "device-user");
        }
        if (form.grant_type === "refresh_token") return token(res, "refreshed-user");
        return json(res, 400, { error: "unsupported_grant_type" });
      }
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    issuer: url,
    tokenRequests,
    approveDevice: () => {
      deviceApproved = true;
    },
    jwt,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = "";
    req.on("data", (c: Buffer) => {
      s += c.toString("utf8");
    });
    req.on("end", () => resolve(s));
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
