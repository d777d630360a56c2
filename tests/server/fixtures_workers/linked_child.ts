/**
 * A minimal worker for the linkToSupervisor() tests: prints
 * "watching", then "stopped" when its stdin closes; with
 * --stop-on-signal it prints "signal" on SIGTERM, SIGINT or the retire
 * signal and must then
 * exit by itself, its stdin still open. With --long-lines it says lines
 * of 200 x's on stderr, one after the other until stopped, through a
 * writer that takes 7 bytes per write, as a full pipe would take a long
 * line in parts.
 *
 * @module
 */

import { LineWriter } from "../../../server/line_sink.ts";
import {
  linkToSupervisor,
  RETIRE_SIGNAL,
} from "../../../server/worker_link.ts";

if (Deno.args.includes("--stop-on-signal")) {
  for (const signal of ["SIGTERM", "SIGINT", RETIRE_SIGNAL] as const) {
    Deno.addSignalListener(signal, () => console.log("signal"));
  }
}
const stderr = new LineWriter({
  write: (bytes) => Deno.stderr.write(bytes.subarray(0, 7)),
});
const say = (line: string) => void stderr.write(`${line}\n`);
let stopped = false;
if (Deno.args.includes("--long-lines")) {
  (async () => {
    while (!stopped) await stderr.write(`${"x".repeat(200)}\n`);
  })();
}
linkToSupervisor(() => {
  stopped = true;
  console.log("stopped");
  return Promise.resolve();
}, say);
console.log("watching");
