/**
 * Numbers printed the way other Flyte components print them, so text written by flytekit-ts
 * matches theirs byte for byte: Python's `repr(float)` (what flytekit splices into SQL) and Go's
 * `strconv.FormatFloat(f, 'f', -1, 64)` and `fmt.Sprintf("%v", f)` (what Flyte's copilot and
 * propeller write). All use the shortest digits that round-trip, as JavaScript does.
 */

/** The shortest round-trip digits of a finite, non-zero number and its decimal exponent. */
function shortest(x: number): { sign: string; digits: string; exp: number } {
  const [mantissa, expText] = x.toExponential().split("e") as [string, string];
  return {
    sign: mantissa.startsWith("-") ? "-" : "",
    digits: mantissa.replace("-", "").replace(".", ""),
    exp: Number(expText),
  };
}

function fixed(digits: string, exp: number): string {
  if (exp < 0) return `0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return frac ? `${whole}.${frac}` : whole;
}

function exponent(digits: string, exp: number): string {
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

/** Python's `repr(float)`: `1.0`, `0.0001`, `1e-05`, `1e+16`, `inf`, `nan`. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const { sign, digits, exp } = shortest(x);
  if (exp < -4 || exp >= 16) return sign + exponent(digits, exp);
  const text = fixed(digits, exp);
  return sign + (text.includes(".") ? text : `${text}.0`);
}

/** Go's `strconv.FormatFloat(x, 'f', -1, 64)`: never an exponent (`100000000`, `0.0000001`). */
export function goFloatPlain(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const { sign, digits, exp } = shortest(x);
  return sign + fixed(digits, exp);
}

/** Go's `fmt.Sprintf("%v", x)` (`%g`, shortest): exponent below 1e-4 and from 1e6 (`1e+06`). */
export function goFloatV(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const { sign, digits, exp } = shortest(x);
  const GO_SHORTEST_EXPONENT_PRECISION = 6;
  return (
    sign + (exp < -4 || exp >= GO_SHORTEST_EXPONENT_PRECISION ? exponent(digits, exp) : fixed(digits, exp))
  );
}
