/** Progress lines for long runs: one line per finished node on stderr; a live counter on a TTY. */
import type { NodeEvent } from "../local/executor.js";

/** A reporter of node events. */
export function progressReporter(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): {
  onEvent: (e: NodeEvent) => void;
  done: () => void;
} {
  const out = options.stream ?? process.stderr;
  let started = 0;
  let finished = 0;
  let cached = 0;
  let failed = 0;
  const tty = out.isTTY === true;
  const t0 = performance.now();
  let lastLine = 0;
  const status = () =>
    `  ${finished}/${started} nodes done${cached ? `, ${cached} cached` : ""}${failed ? `, ${failed} failed` : ""}`;
  return {
    onEvent(e) {
      if (options.quiet) return;
      if (e.type === "start") started++;
      if (e.type === "cached") {
        started++;
        finished++;
        cached++;
      }
      if (e.type === "end") finished++;
      if (e.type === "fail") failed++;
      const where = e.image ? ` [${e.image}]` : "";
      if (e.type === "end" && started <= 50)
        out.write(`${tty ? "\r\x1b[K" : ""}  ✓ ${e.node} ${e.entity}${where} ${e.ms?.toFixed(0)} ms\n`);
      else if (e.type === "cached" && started <= 50)
        out.write(`${tty ? "\r\x1b[K" : ""}  ○ ${e.node} ${e.entity} (cached)\n`);
      else if (e.type === "fail") out.write(`${tty ? "\r\x1b[K" : ""}  ✗ ${e.node} ${e.entity}${where}\n`);
      else if (e.type === "retry")
        out.write(`${tty ? "\r\x1b[K" : ""}  ↻ ${e.node} ${e.entity} failed, retrying\n`);
      const now = performance.now();
      if (started > 50 && now - lastLine > (tty ? 100 : 2000)) {
        lastLine = now;
        out.write(tty ? `\r\x1b[K${status()}` : `${status()}\n`);
      }
    },
    done() {
      if (options.quiet) return;
      if (tty && started > 50) out.write("\r\x1b[K");
      out.write(`${status()} in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
    },
  };
}
