/** Medians and number formatting for the bench report. */

/** The median of the finite numbers in `xs` (NaN when there are none). */
export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** A duration in milliseconds, with three significant digits below 100 ms. */
export function ms(x) {
  if (!Number.isFinite(x)) return "—";
  if (x >= 100) return `${Math.round(x).toLocaleString("en-US")} ms`;
  if (x >= 1) return `${x.toPrecision(3)} ms`;
  return `${x.toFixed(3)} ms`;
}

/** A size in megabytes. */
export function mb(x) {
  return Number.isFinite(x) ? `${Math.round(x).toLocaleString("en-US")} MB` : "—";
}

/** A ratio, e.g. `12.3×`. */
export function ratio(x) {
  if (!Number.isFinite(x)) return "—";
  return x >= 10 ? `${x.toFixed(0)}×` : x >= 1 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`;
}

/** A rate per second, e.g. `1.23 M/s`. */
export function rate(perSecond) {
  if (!Number.isFinite(perSecond)) return "—";
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k/s`;
  return `${perSecond.toFixed(0)} /s`;
}
