// Default versions: a digest of the content, or the git commit of a clean tree.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contentVersion, gitVersion } from "../../src/remote/register.js";
import type { SerializedEntity } from "../../src/serialize/entities.js";

const entity = (name: string, bytes: number[]) =>
  ({ kind: 1, name, message: {} as never, bytes: new Uint8Array(bytes) }) as SerializedEntity;

describe("contentVersion", () => {
  it("is 24 base32 characters that change with any byte, name or the bundle", () => {
    const v = contentVersion([entity("a", [1, 2]), entity("b", [3])]);
    expect(v).toMatch(/^[a-z2-7]{24}$/);
    expect(contentVersion([entity("a", [1, 2]), entity("b", [3])])).toBe(v);
    expect(contentVersion([entity("a", [1, 2]), entity("b", [4])])).not.toBe(v);
    expect(contentVersion([entity("a", [1, 2]), entity("c", [3])])).not.toBe(v);
    expect(contentVersion([entity("a", [1, 2]), entity("b", [3])], "f".repeat(64))).not.toBe(v);
  });
});

describe("gitVersion", () => {
  const git = (dir: string, ...args: string[]) =>
    execFileSync("git", ["-C", dir, "-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
      encoding: "utf8",
    }).trim();

  it("is the commit of a clean tree, and refuses uncommitted changes and non-repositories", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsflyte-git-"));
    expect(() => gitVersion(dir)).toThrow(/is not in a git repository with a commit/);
    git(dir, "init", "-q");
    writeFileSync(join(dir, "wf.ts"), "export {};\n");
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "first");
    expect(gitVersion(dir)).toBe(git(dir, "rev-parse", "HEAD"));
    writeFileSync(join(dir, "wf.ts"), "export const x = 1;\n");
    expect(() => gitVersion(dir)).toThrow(/has uncommitted changes \(1 paths\).*Fix: commit or stash/);
  });
});
