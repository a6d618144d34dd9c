import { describe, expect, it } from "vitest";
import { environment, environmentOf, t, task } from "../../src/index.js";

describe("task environments", () => {
  const spark = environment({
    name: "spark",
    containerImage: "{{.image.spark.fqn}}:{{.image.spark.version}}",
    requests: { cpu: 4, memory: "8Gi" },
    limits: { memory: "16Gi" },
    env: { MODE: "batch", LEVEL: "1" },
    secrets: [{ group: "aws", key: "token" }],
    cache: { version: "2" },
    retries: 3,
    interruptible: true,
  });

  it("gives its tasks exactly the settings written on a task", () => {
    const viaEnv = spark.task({ name: "a", inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => n);
    const plain = task(
      {
        name: "a",
        inputs: { n: t.int() },
        outputs: t.int(),
        containerImage: "{{.image.spark.fqn}}:{{.image.spark.version}}",
        requests: { cpu: 4, memory: "8Gi" },
        limits: { memory: "16Gi" },
        environment: { MODE: "batch", LEVEL: "1" },
        secrets: [{ group: "aws", key: "token" }],
        cache: { version: "2" },
        retries: 3,
        interruptible: true,
      },
      ({ n }) => n,
    );
    expect(viaEnv.settings).toEqual(plain.settings);
    expect(environmentOf(viaEnv)).toBe("spark");
    expect(environmentOf(plain)).toBeUndefined();
  });

  it("lets a task's own options override, merging maps key by key", () => {
    const own = spark.task(
      { name: "b", inputs: {}, requests: { cpu: 1 }, environment: { LEVEL: "2" }, retries: 0 },
      () => {},
    );
    expect(own.settings.requests).toEqual({ cpu: "1", memory: "8Gi" });
    expect(own.settings.environment).toEqual({ MODE: "batch", LEVEL: "2" });
    expect(own.settings.retries).toBe(0);
  });

  it("derives environments with extend()", () => {
    const big = spark.extend({ name: "big-spark", requests: { memory: "64Gi" }, env: { LEVEL: "9" } });
    const x = big.task({ name: "c", inputs: {} }, () => {});
    expect(x.settings.requests).toEqual({ cpu: "4", memory: "64Gi" });
    expect(x.settings.environment).toEqual({ MODE: "batch", LEVEL: "9" });
    expect(x.settings.containerImage).toBe("{{.image.spark.fqn}}:{{.image.spark.version}}");
    expect(environmentOf(x)).toBe("big-spark");
  });

  it("rejects unknown keys, bad values and reused names", () => {
    expect(() => environment({ name: "e", cpu: 2 } as never)).toThrow(
      expect.objectContaining({ code: "ENVIRONMENT_UNKNOWN_KEY" }),
    );
    expect(() => spark.extend({ name: "x", gpus: 1 } as never)).toThrow(
      expect.objectContaining({ code: "ENVIRONMENT_UNKNOWN_KEY" }),
    );
    expect(() => spark.extend({ name: "spark" })).toThrow(
      expect.objectContaining({ code: "ENVIRONMENT_NAME_CLASH" }),
    );
    expect(() => environment({ name: "e", retries: -2 })).toThrow(
      expect.objectContaining({ code: "RETRIES_INVALID" }),
    );
    expect(() => environment({ name: "e", containerImage: "{{.imag.x.fqn}}" })).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^IMAGE_TEMPLATE/) }),
    );
  });
});
