/** Shared set-up of the serialization tests: the test entities, settings, and the peer tools. */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Entity } from "../../src/core/entity.js";
import { loadModule } from "../../src/core/loader.js";
import { ImageConfig } from "../../src/images/image-config.js";
import { SerializationSettings } from "../../src/serialize/settings.js";

/** The source root of the test entities. */
export const ENTITIES_ROOT = join(import.meta.dirname, "entities");

/** The flytekit fixtures (real flytekit 1.16 output). */
export const FLYTEKIT_FIXTURES = join(import.meta.dirname, "../fixtures/flytekit/packages");
/** Flyte's own test data. */
export const FLYTE_FIXTURES = join(import.meta.dirname, "../fixtures/flyte-v1.16.8");
export const SNACKS_CORE = join(FLYTE_FIXTURES, "flytepropeller/pkg/compiler/test/testdata/snacks-core");

const cache = process.env.FLYTEKIT_TS_CACHE ?? join(homedir(), ".cache/flytekit-ts");
/** flytectl built by scripts/setup/flytectl.sh, when it is there. */
export const FLYTECTL = [process.env.FLYTECTL, join(cache, "bin/flytectl")].find(
  (p): p is string => !!p && existsSync(p),
);
/** The Python of the flytekit venv made by scripts/setup/flytekit.sh, when it is there. */
export const FLYTEKIT_PYTHON = [process.env.FLYTEKIT_PYTHON, join(cache, "venv/bin/python")].find(
  (p): p is string => !!p && existsSync(p),
);

/** Settings like the flytekit goldens': default image ghcr.io/example/goldens:v1, `other` ghcr.io/example/other:v2. */
export function goldensSettings(
  extra: Partial<ConstructorParameters<typeof SerializationSettings>[0]> = {},
): SerializationSettings {
  return new SerializationSettings({
    imageConfig: ImageConfig.fromImages("ghcr.io/example/goldens:v1", { other: "ghcr.io/example/other:v2" }),
    sourceRoot: ENTITIES_ROOT,
    ...extra,
  });
}

/** The exported entities of a test module (relative to ENTITIES_ROOT), named as the loader names them. */
export async function entitiesOf(file: string): Promise<Map<string, Entity>> {
  const mod = await loadModule(join(ENTITIES_ROOT, file), ENTITIES_ROOT);
  return new Map(mod.entities);
}
