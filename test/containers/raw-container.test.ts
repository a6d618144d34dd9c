// A raw ContainerTask (no SDK, no Node in its image) between TypeScript tasks, in container mode.
import { describe, expect, it } from "vitest";
import { cli as bin, containersUnavailable, NODE_BASE, PYTHON_IMAGE, root, run } from "./helpers.js";

const skip = await containersUnavailable();
if (skip) console.warn(`skipping raw container tests: ${skip}`);

describe.skipIf(skip !== undefined)("raw container tasks in container mode", () => {
  it("exchanges inputs and outputs as files with a shell in a Node-less image", async () => {
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
