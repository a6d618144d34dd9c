// A raw ContainerTask (no SDK, no Node in its image) between TypeScript tasks, in container mode.
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const bin = join(root, "bin/tsflyte.mjs");
const PYTHON_IMAGE = "localhost/flytekit-ts/python-flytekit:3.11";
const NODE_BASE = "localhost/flytekit-ts/node-base:20";

function imagesReady(): string | undefined {
  try {
    execFileSync("podman", ["image", "exists", PYTHON_IMAGE]);
    execFileSync("podman", ["image", "exists", NODE_BASE]);
    return undefined;
  } catch {
    return "podman or the base images are missing (run scripts/setup/peers.sh)";
  }
}

const skip = imagesReady();
if (skip) console.warn(`skipping raw container tests: ${skip}`);

describe.skipIf(skip !== undefined)("raw container tasks in container mode", () => {
  it("exchanges inputs and outputs as files with a shell in a Node-less image", async () => {
    const run = promisify(execFile);
    const built = await run(
      process.execPath,
      [bin, "build", "examples/raw-container.ts", "--base", NODE_BASE],
      { cwd: root },
    );
    const image = /default=(\S+)/.exec(built.stdout)?.[1];
    expect(image).toBeDefined();
    const r = await run(
      process.execPath,
      [
        bin,
        "run",
        "examples/raw-container.ts",
        "areaTimesTwo",
        "--a",
        "3",
        "--b",
        "4",
        "--containers",
        "--image",
        image!,
      ],
      { cwd: root },
    );
    expect(JSON.parse(r.stdout)).toBe(24);
    expect(r.stderr).toContain(`n0 examples.raw-container.area [${PYTHON_IMAGE}]`);
  });
});
