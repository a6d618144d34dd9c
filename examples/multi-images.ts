/**
 * Many images in one workflow: a port of flytesnacks' `core.containerization.multi_images`.
 * The trainer and the predictor each run in their own image, named by templates that resolve
 * against the images configured at serialization (`--image trainer=... --image predictor=...`);
 * the report runs in the default image.
 *
 *   npx tsflyte run examples/multi-images.ts myWorkflow
 *   npx tsflyte package examples/multi-images.ts --image trainer=ghcr.io/org/trainer:v1 \
 *       --image predictor=ghcr.io/org/predictor:v1 --image ghcr.io/org/default:v1
 */
import { StructuredDataset, t, task, workflow } from "flytekit-ts";

const features = t.dataframe({});
const labels = t.dataframe({});

/** Fails when the task runs in another image than the one it declared (images carry a marker). */
function checkImage(expected: string): void {
  const marker = process.env.FLYTEKIT_TS_IMAGE_MARKER;
  if (process.env.FLYTEKIT_TS_CHECK_IMAGE === "1" && marker !== expected) {
    throw new Error(
      `expected to run in the ${expected} image, but the image marker is ${marker ?? "absent"}`,
    );
  }
}

/** A deterministic pseudo-random generator, so runs are reproducible. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** Makes a two-class data set and splits it into train and test parts. */
export const svmTrainer = task(
  {
    containerImage: "{{.image.trainer.fqn}}:{{.image.trainer.version}}",
    outputs: { test_features: features, train_features: features, test_labels: labels, train_labels: labels },
  },
  () => {
    checkImage("trainer");
    const r = rng(42);
    const rows = Array.from({ length: 200 }, (_, i) => {
      const label = i % 2;
      return { x: r() + label * 1.5, y: r() + label * 1.5, label };
    });
    const train = rows.slice(0, 150);
    const test = rows.slice(150);
    return {
      train_features: StructuredDataset.fromRows(train.map(({ x, y }) => ({ x, y }))),
      test_features: StructuredDataset.fromRows(test.map(({ x, y }) => ({ x, y }))),
      train_labels: StructuredDataset.fromRows(train.map(({ label }) => ({ label }))),
      test_labels: StructuredDataset.fromRows(test.map(({ label }) => ({ label }))),
    };
  },
);

type Point = { x: number; y: number };

/** Fits a nearest-centroid classifier and returns its accuracy on the test set. */
export const svmPredictor = task(
  {
    containerImage: "{{.image.predictor.fqn}}:{{.image.predictor.version}}",
    inputs: { X_train: features, X_test: features, y_train: labels, y_test: labels },
    outputs: t.float(),
  },
  async ({ X_train, X_test, y_train, y_test }) => {
    checkImage("predictor");
    const xs = (await X_train.rows()) as Point[];
    const ys = (await y_train.rows()) as { label: number }[];
    const centroid = (label: number) => {
      const pts = xs.filter((_, i) => Number(ys[i]!.label) === label);
      return {
        x: pts.reduce((a, p) => a + p.x, 0) / pts.length,
        y: pts.reduce((a, p) => a + p.y, 0) / pts.length,
      };
    };
    const c0 = centroid(0);
    const c1 = centroid(1);
    const dist = (p: Point, c: Point) => (p.x - c.x) ** 2 + (p.y - c.y) ** 2;
    const tx = (await X_test.rows()) as Point[];
    const ty = (await y_test.rows()) as { label: number }[];
    const correct = tx.filter((p, i) => (dist(p, c1) < dist(p, c0) ? 1 : 0) === Number(ty[i]!.label)).length;
    return correct / tx.length;
  },
);

/** Formats the accuracy; runs in the default image. */
export const report = task({ inputs: { accuracy: t.float() }, outputs: t.string() }, ({ accuracy }) => {
  checkImage("default");
  return `accuracy: ${(accuracy * 100).toFixed(1)}%`;
});

/** The flytesnacks workflow: trainer and predictor, each in its own image. */
export const myWorkflow = workflow({}, () => {
  const data = svmTrainer({});
  return svmPredictor({
    X_train: data.train_features,
    X_test: data.test_features,
    y_train: data.train_labels,
    y_test: data.test_labels,
  });
});

/** The same with a third task on the default image. */
export const withReport = workflow({}, () => {
  const accuracy = myWorkflow({});
  return report({ accuracy });
});
