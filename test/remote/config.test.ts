// The admin: section read as flytectl reads it (keys, defaults, endpoint forms, errors).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adminConfig, parseAdminSection, parseDuration, parseEndpoint } from "../../src/remote/config.js";
import { FlyteRemoteError } from "../../src/remote/errors.js";
import { consoleUrl } from "../../src/remote/execution.js";

const file = (text: string) => {
  const p = join(mkdtempSync(join(tmpdir(), "tsflyte-admin-config-")), "config.yaml");
  writeFileSync(p, text);
  return p;
};

describe("parseEndpoint", () => {
  it.each([
    ["dns:///127.0.0.1:8089", { host: "127.0.0.1", port: 8089, scheme: undefined }],
    ["dns:localhost:30080", { host: "localhost", port: 30080, scheme: undefined }],
    ["localhost:30080", { host: "localhost", port: 30080, scheme: undefined }],
    ["flyte.example.com", { host: "flyte.example.com", port: undefined, scheme: undefined }],
    ["https://flyte.example.com", { host: "flyte.example.com", port: undefined, scheme: "https" }],
    ["http://127.0.0.1:8089/", { host: "127.0.0.1", port: 8089, scheme: "http" }],
    ["[::1]:8089", { host: "::1", port: 8089, scheme: undefined }],
  ])("%s", (text, expected) => {
    expect(parseEndpoint(text)).toEqual(expected);
  });

  it.each(["", "host:99999", "host:port", "a b:1", "https://host/path", "user@host:1"])(
    "rejects %j",
    (text) => {
      expect(parseEndpoint(text)).toBeUndefined();
    },
  );
});

describe("parseDuration", () => {
  it.each([
    ["15s", 15_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["0", 0],
    [2, 2000],
  ])("%j", (v, ms) => expect(parseDuration(v)).toBe(ms));
  it.each(["15", "fast", "1x"])("rejects %j", (v) => expect(parseDuration(v)).toBeUndefined());
});

describe("adminConfig", () => {
  it("reads flytectl's admin section with its defaults", () => {
    const c = adminConfig({
      config: file(
        "admin:\n  endpoint: dns:///flyte.example.com:443\n  authType: Pkce\n  clientId: tsflyte\n",
      ),
      env: {},
    });
    expect(c).toMatchObject({
      endpoint: "flyte.example.com:443",
      insecure: false,
      insecureSkipVerify: false,
      authType: "Pkce",
      clientId: "tsflyte",
      clientSecretLocation: "/etc/secrets/client_secret",
      maxRetries: 4,
      perRetryTimeoutMs: 15_000,
      maxBackoffDelayMs: 8_000,
      pkceTimeoutMs: 120_000,
      deviceFlowPollIntervalMs: 5_000,
      consoleEndpoint: "https://flyte.example.com",
    });
  });

  it("reads TLS and ClientSecret keys, durations, scopes and console.endpoint", () => {
    const c = adminConfig({
      config: file(
        [
          "admin:",
          "  endpoint: localhost:30080",
          "  insecure: true",
          "  clientSecretEnvVar: MY_SECRET",
          "  scopes: [all, offline]",
          "  maxRetries: 2",
          "  perRetryTimeout: 3s",
          "  deviceFlowConfig: {pollInterval: 1s, timeout: 2m}",
          "console:",
          "  endpoint: http://localhost:30081/",
          "images:",
          "  default: ghcr.io/acme/app:v1",
        ].join("\n"),
      ),
      env: {},
    });
    expect(c).toMatchObject({
      endpoint: "localhost:30080",
      insecure: true,
      clientSecretEnvVar: "MY_SECRET",
      scopes: ["all", "offline"],
      maxRetries: 2,
      perRetryTimeoutMs: 3000,
      deviceFlowPollIntervalMs: 1000,
      deviceFlowTimeoutMs: 120_000,
      consoleEndpoint: "http://localhost:30081",
    });
  });

  it("lets options win over the environment, and the environment over the file", () => {
    const path = file("admin:\n  endpoint: dns:///from-file:1\n  insecure: false\n");
    expect(
      adminConfig({
        config: path,
        env: { FLYTE_PLATFORM_URL: "from-env:2", FLYTE_PLATFORM_INSECURE: "true" },
      }),
    ).toMatchObject({ endpoint: "from-env:2", insecure: true, source: "environment" });
    expect(
      adminConfig({ config: path, env: { FLYTE_PLATFORM_URL: "from-env:2" }, endpoint: "opt:3" }),
    ).toMatchObject({
      endpoint: "opt:3",
      source: "options",
    });
  });

  it("derives the console URL from a plaintext endpoint", () => {
    const c = parseAdminSection({ endpoint: "dns:///127.0.0.1:8089", insecure: true });
    expect(consoleUrl(c.consoleEndpoint, { project: "p", domain: "d", name: "n" } as never)).toBe(
      "http://127.0.0.1:8089/console/projects/p/domains/d/executions/n",
    );
  });

  it.each([
    [{}, /no FlyteAdmin endpoint is configured/],
    [{ endpoint: "host:notaport" }, /admin\.endpoint is "host:notaport", not an endpoint/],
    [{ endpoint: "h:1", insecure: "maybe" }, /admin\.insecure is "maybe", not true or false/],
    [
      { endpoint: "h:1", authType: "Password" },
      /admin\.authType is "Password", not ClientSecret, Pkce, DeviceFlow, ExternalCommand/,
    ],
    [{ endpoint: "h:1", perRetryTimeout: "soon" }, /admin\.perRetryTimeout is "soon", not a duration/],
    [{ endpoint: "h:1", authType: "ExternalCommand" }, /admin\.command/],
    [
      { endpoint: "https://h", insecure: true },
      /admin\.insecure is true, not false \(the endpoint https:\/\/h says https\)/,
    ],
  ])("ADMIN_CONFIG for %j", (section, message) => {
    let err: unknown;
    try {
      parseAdminSection(section, { file: "/etc/flyte/config.yaml" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlyteRemoteError);
    expect((err as FlyteRemoteError).code).toBe("ADMIN_CONFIG");
    expect((err as Error).message).toMatch(message);
  });

  it("names the file when no endpoint is configured", () => {
    const path = file("images:\n  default: ghcr.io/acme/app:v1\n");
    expect(() => adminConfig({ config: path, env: {} })).toThrow(new RegExp(`looked in ${path}`));
  });
});
