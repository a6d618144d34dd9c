#!/usr/bin/env node
// Regenerates src/proto/gen from the .proto files of @flyteorg/flyteidl with protobuf-es v2.
//
// The admin service protos import protoc-gen-openapiv2 options that are only used for the
// REST gateway's OpenAPI document; they are stripped here (import and option statements)
// so that buf can compile the files without that dependency. Nothing else is changed.
import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const idlRoot = join(dirname(require.resolve("@flyteorg/flyteidl/package.json")), "protos");
const googleRoot = dirname(require.resolve("google-proto-files/package.json"));
const out = join(root, "src/proto/gen");

/** Folders of flyteidl that the SDK uses. */
const FOLDERS = ["core", "admin", "event", "service", "plugins"];

const work = mkdtempSync(join(tmpdir(), "flyteidl-gen-"));
try {
  const protos = join(work, "protos");
  for (const f of FOLDERS)
    cpSync(join(idlRoot, "flyteidl", f), join(protos, "flyteidl", f), { recursive: true });
  mkdirSync(join(protos, "google/api"), { recursive: true });
  for (const f of ["annotations.proto", "http.proto"]) {
    cpSync(join(googleRoot, "google/api", f), join(protos, "google/api", f));
  }
  for (const file of walk(join(protos, "flyteidl"))) {
    const text = readFileSync(file, "utf8");
    if (text.includes("protoc-gen-openapiv2")) writeFileSync(file, stripOpenApi(text));
  }
  writeFileSync(join(protos, "buf.yaml"), "version: v2\n");
  writeFileSync(
    join(work, "buf.gen.yaml"),
    [
      "version: v2",
      "plugins:",
      `  - local: ${join(root, "node_modules/.bin/protoc-gen-es")}`,
      `    out: ${out}`,
      "    opt:",
      "      - target=ts",
      "      - import_extension=js",
      "",
    ].join("\n"),
  );
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    join(root, "node_modules/.bin/buf"),
    [
      "generate",
      protos,
      "--template",
      join(work, "buf.gen.yaml"),
      "--path",
      join(protos, "flyteidl"),
      "--path",
      join(protos, "google/api"),
    ],
    { stdio: "inherit", cwd: work },
  );
  const count = [...walk(out)].length;
  console.log(`generated ${count} files into ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Removes the openapiv2 import and every `option (grpc.gateway.protoc_gen_openapiv2...) = {...};`. */
function stripOpenApi(text) {
  let s = text.replace(/^import "protoc-gen-openapiv2\/[^"]+";\s*$/gm, "");
  const marker = /option\s*\(grpc\.gateway\.protoc_gen_openapiv2[^)]*\)\s*=\s*/g;
  for (;;) {
    marker.lastIndex = 0;
    const m = marker.exec(s);
    if (!m) break;
    let i = m.index + m[0].length;
    if (s[i] === "{") {
      let depth = 0;
      let inStr = false;
      for (; i < s.length; i++) {
        const c = s[i];
        if (inStr) {
          if (c === "\\") i++;
          else if (c === '"') inStr = false;
        } else if (c === '"') inStr = true;
        else if (c === "{") depth++;
        else if (c === "}" && --depth === 0) break;
      }
      i++;
    } else {
      while (s[i] !== ";") i++;
    }
    while (s[i] !== ";") i++;
    s = s.slice(0, m.index) + s.slice(i + 1);
  }
  return s;
}
