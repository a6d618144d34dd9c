/**
 * Runs one bench process and measures it from outside: wall time (from spawn to exit), and CPU
 * time (user + system) and peak RSS from `/usr/bin/time`, when the machine has it. The process's own JSON line, if it
 * prints one, is parsed from the last line of stdout.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

const TIME = "/usr/bin/time";
const MARK = "__flytekit_ts_bench__";

/** Whether peak RSS of whole processes can be measured (GNU time). */
export const canMeasureRss = existsSync(TIME);

/**
 * Runs `cmd args` in `cwd`; resolves `{ ok, wallMs, cpuMs, maxRssMb, json, stdout, stderr, code }`.
 * Never rejects: a failure is `ok: false` with the reason in `error`.
 */
export function runProcess(cmd, args, { cwd, env = process.env, timeoutMs = 3_600_000 } = {}) {
  const [file, argv] = canMeasureRss ? [TIME, ["-f", `${MARK} %M %U %S`, cmd, ...args]] : [cmd, args];
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({
        ok: false,
        error: err.message,
        stdout,
        stderr,
        wallMs: Number.NaN,
        maxRssMb: Number.NaN,
        cpuMs: Number.NaN,
      });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      let maxRssMb = Number.NaN;
      let cpuMs = Number.NaN;
      const lines = stderr.split("\n");
      const markLine = lines.findLast((l) => l.startsWith(MARK));
      if (markLine) {
        const [rssKb, user, sys] = markLine.slice(MARK.length).trim().split(/\s+/).map(Number);
        maxRssMb = rssKb / 1024;
        cpuMs = (user + sys) * 1000;
        stderr = lines.filter((l) => l !== markLine).join("\n");
      }
      // GNU time reports a non-zero exit of the command on stderr and exits with its code.
      stderr = stderr.replace(/^Command exited with non-zero status \d+\n?/m, "");
      let json;
      const last = stdout.trim().split("\n").at(-1) ?? "";
      if (last.startsWith("{")) {
        try {
          json = JSON.parse(last);
        } catch {
          json = undefined;
        }
      }
      const ok = code === 0 && signal === null;
      const error = ok ? undefined : signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve({ ok, error, code, wallMs, cpuMs, maxRssMb, json, stdout, stderr });
    });
  });
}

/** The last lines of a text, for error reports. */
export function tail(text, lines = 8) {
  return text.trim().split("\n").slice(-lines).join("\n");
}
