// Token flows against a local OAuth2 server (the token exchange units); the end-to-end
// Unauthenticated -> token -> retry path against a real flyteadmin with auth on is in
// admin-auth.test.ts.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  OAuth2MetadataResponse,
  PublicClientAuthConfigResponse,
} from "../../src/proto/gen/flyteidl/service/auth_pb.js";
import { type AuthDiscovery, TokenSource } from "../../src/remote/auth.js";
import { parseAdminSection } from "../../src/remote/config.js";
import { FlyteRemoteError } from "../../src/remote/errors.js";
import { type OAuthServer, startOAuthServer } from "./oauth-server.js";

let oauth: OAuthServer;
let discovery: AuthDiscovery;
let redirectPort: number;

beforeAll(async () => {
  oauth = await startOAuthServer({ clientId: "tsflyte-ci", clientSecret: "s3cr3t", audience: "flyte" });
  redirectPort = 20_000 + Math.floor(Math.random() * 20_000);
  discovery = {
    oauth2Metadata: async () =>
      ({
        issuer: oauth.url,
        tokenEndpoint: `${oauth.url}/token`,
        authorizationEndpoint: `${oauth.url}/authorize`,
        deviceAuthorizationEndpoint: `${oauth.url}/device`,
      }) as OAuth2MetadataResponse,
    publicClientConfig: async () =>
      ({
        clientId: "flytectl",
        redirectUri: `http://localhost:${redirectPort}/callback`,
        scopes: ["all", "offline"],
        authorizationMetadataKey: "flyte-authorization",
        audience: "flyte",
      }) as PublicClientAuthConfigResponse,
  };
});
afterAll(() => oauth.close());

const config = (admin: Record<string, unknown>) =>
  parseAdminSection({ endpoint: "dns:///127.0.0.1:1", insecure: true, ...admin });
const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;

describe("ClientSecret", () => {
  it("exchanges the secret from a file for a token at the discovered endpoint, with the admin's scopes", async () => {
    const secretFile = join(mkdtempSync(join(tmpdir(), "tsflyte-secret-")), "client_secret");
    writeFileSync(secretFile, "s3cr3t\n");
    const source = new TokenSource(
      config({ clientId: "tsflyte-ci", clientSecretLocation: secretFile }),
      discovery,
    );
    const token = await source.token();
    expect(claims(token).sub).toBe("tsflyte-ci");
    const req = oauth.tokenRequests.at(-1)!;
    expect(req.form).toEqual({ grant_type: "client_credentials", scope: "all offline" });
    expect(req.authorization).toBe(`Basic ${Buffer.from("tsflyte-ci:s3cr3t").toString("base64")}`);
    // held until it expires
    expect(await source.token()).toBe(token);
    expect(await source.headerKey()).toBe("flyte-authorization");
  });

  it("reads the secret from clientSecretEnvVar and sends configured scopes and the admin's audience", async () => {
    const source = new TokenSource(
      config({
        clientId: "tsflyte-ci",
        clientSecretEnvVar: "TSFLYTE_TEST_SECRET",
        scopes: ["all"],
        useAudienceFromAdmin: true,
      }),
      discovery,
      { env: { TSFLYTE_TEST_SECRET: "s3cr3t" } },
    );
    await source.token();
    expect(oauth.tokenRequests.at(-1)!.form).toEqual({
      grant_type: "client_credentials",
      scope: "all",
      audience: "flyte",
    });
  });

  it("reports a refused secret as ADMIN_UNAUTHENTICATED naming the client", async () => {
    const source = new TokenSource(config({ clientId: "tsflyte-ci", clientSecretEnvVar: "S" }), discovery, {
      env: { S: "wrong" },
    });
    const err = await source.token().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlyteRemoteError);
    expect(err).toMatchObject({ code: "ADMIN_UNAUTHENTICATED" });
    expect((err as Error).message).toMatch(
      /refused client "tsflyte-ci" \(401\): invalid_client: client authentication failed/,
    );
    expect((err as Error).message).toMatch(/Fix: check admin\.clientId and the secret/);
  });

  it("reports a missing secret file as AUTH_FAILED naming the file", async () => {
    const source = new TokenSource(config({ clientSecretLocation: "/nonexistent/secret" }), discovery);
    await expect(source.token()).rejects.toMatchObject({
      code: "AUTH_FAILED",
      message: expect.stringMatching(
        /client secret file \/nonexistent\/secret \(admin\.clientSecretLocation\) cannot be read/,
      ),
    });
  });

  it("uses admin.tokenUrl without asking the admin", async () => {
    const failing: AuthDiscovery = {
      oauth2Metadata: () => Promise.reject(new Error("must not be called")),
      publicClientConfig: () => Promise.reject(new Error("must not be called")),
    };
    const source = new TokenSource(
      config({
        clientId: "tsflyte-ci",
        clientSecretEnvVar: "S",
        tokenUrl: `${oauth.url}/token`,
        scopes: ["all"],
      }),
      failing,
      { env: { S: "s3cr3t" } },
    );
    expect(claims(await source.token()).sub).toBe("tsflyte-ci");
  });
});

describe("Pkce", () => {
  it("opens the authorization URL and exchanges the code with the verifier", async () => {
    const opened: string[] = [];
    const source = new TokenSource(config({ authType: "Pkce" }), discovery, {
      log: () => {},
      // the "browser": follows the redirect back to the local listener
      openBrowser: (url) => {
        opened.push(url);
        void fetch(url);
      },
    });
    const token = await source.token();
    expect(claims(token).sub).toBe("pkce-user");
    const auth = new URL(opened[0]!);
    expect(Object.fromEntries(auth.searchParams)).toMatchObject({
      response_type: "code",
      client_id: "flytectl",
      redirect_uri: `http://localhost:${redirectPort}/callback`,
      scope: "all offline",
      code_challenge_method: "S256",
    });
    expect(oauth.tokenRequests.at(-1)!.form).toMatchObject({
      grant_type: "authorization_code",
      client_id: "flytectl",
    });
  });
});

describe("DeviceFlow", () => {
  it("prints the code, polls while pending and returns the token", async () => {
    const lines: string[] = [];
    const source = new TokenSource(
      config({ authType: "DeviceFlow", deviceFlowConfig: { pollInterval: "50ms" } }),
      discovery,
      {
        log: (l) => lines.push(l),
      },
    );
    setTimeout(() => oauth.approveDevice(), 300);
    const token = await source.token();
    expect(claims(token).sub).toBe("device-user");
    expect(lines.join("\n")).toMatch(
      /visit http:\/\/127\.0\.0\.1:\d+\/activate and enter the code ABCD-EFGH/,
    );
    const polls = oauth.tokenRequests.filter(
      (r) => r.form.grant_type === "urn:ietf:params:oauth:grant-type:device_code",
    );
    expect(polls.length).toBeGreaterThan(1);
  });

  it("renews an expiring token with the refresh token", async () => {
    const short = await startOAuthServer({ clientId: "x", clientSecret: "y", expiresIn: 5 });
    try {
      short.approveDevice();
      const shortDiscovery: AuthDiscovery = {
        oauth2Metadata: async () =>
          ({
            tokenEndpoint: `${short.url}/token`,
            deviceAuthorizationEndpoint: `${short.url}/device`,
          }) as OAuth2MetadataResponse,
        publicClientConfig: discovery.publicClientConfig,
      };
      const source = new TokenSource(
        config({ authType: "DeviceFlow", deviceFlowConfig: { pollInterval: "10ms" } }),
        shortDiscovery,
        {
          log: () => {},
        },
      );
      expect(claims(await source.token()).sub).toBe("device-user");
      // 5 s lifetime is inside the renewal margin: the next call renews
      expect(claims(await source.token()).sub).toBe("refreshed-user");
      expect(short.tokenRequests.at(-1)!.form).toMatchObject({
        grant_type: "refresh_token",
        refresh_token: "refresh-device-user",
      });
    } finally {
      await short.close();
    }
  });
});

describe("ExternalCommand", () => {
  it("takes the command's output as the token", async () => {
    const source = new TokenSource(
      config({ authType: "ExternalCommand", command: ["echo", "  tok-123  "] }),
      discovery,
    );
    expect(await source.token()).toBe("tok-123");
  });
  it("fails with AUTH_FAILED when the command fails", async () => {
    const source = new TokenSource(config({ authType: "ExternalCommand", command: ["false"] }), discovery);
    await expect(source.token()).rejects.toMatchObject({ code: "AUTH_FAILED" });
  });
});
