/**
 * A TypeScript port of flytesnacks' core.containerization.multi_images: two tasks in images of
 * their own (named by `{{.image.<name>...}}` templates), one task on the default image, and a
 * workflow wiring the first two. Loaded with the source root test/serialize/entities, its names
 * match the flytekit fixtures (core.containerization.multi_images.<export>).
 */
import { task, workflow } from "../../../../../src/core/index.js";
import { t } from "../../../../../src/types/index.js";

const frame = () => t.dataframe({}, { format: "parquet" });

export const svm_trainer = task(
  {
    containerImage: "{{.image.mindmeld.fqn}}:{{.image.mindmeld.version}}",
    outputs: { test_labels: frame(), test_features: frame(), train_labels: frame(), train_features: frame() },
  },
  () => {
    throw new Error("not run in tests");
  },
);

export const svm_predictor = task(
  {
    containerImage: "{{.image.borebuster.fqn}}:{{.image.borebuster.version}}",
    inputs: { X_train: frame(), X_test: frame(), y_train: frame(), y_test: frame() },
    outputs: t.float(),
  },
  () => 1,
);

/** Runs on the default image. */
export const summarize = task(
  { inputs: { accuracy: t.float() }, outputs: t.string() },
  ({ accuracy }) => `accuracy ${accuracy}`,
);

export const my_workflow = workflow({}, () => {
  const d = svm_trainer({});
  return svm_predictor({
    X_train: d.train_features,
    X_test: d.test_features,
    y_train: d.train_labels,
    y_test: d.test_labels,
  });
});
