/**
 * A minimal worker for the linkToSupervisor() tests: prints
 * "watching", then "stopped" when its stdin closes; with
 * --stop-on-signal it prints "signal" on SIGTERM, SIGINT or the retire
 * signal and must then
 * exit by itself, its stdin still open.
 *
 * @module
 */

import {
  linkToSupervisor,
  RETIRE_SIGNAL,
} from "../../../server/worker_link.ts";

if (Deno.args.includes("--stop-on-signal")) {
  for (const signal of ["SIGTERM", "SIGINT", RETIRE_SIGNAL] as const) {
    Deno.addSignalListener(signal, () => console.log("signal"));
  }
}
linkToSupervisor(() => {
  console.log("stopped");
  return Promise.resolve();
});
console.log("watching");
