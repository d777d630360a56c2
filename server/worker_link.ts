/**
 * The worker's side of the link to its supervisor.
 *
 * @module
 */

/**
 * The line a worker prints on stderr every {@linkcode HEARTBEAT_MS}: the
 * supervisor takes a worker that stops printing it for hung (a blocked
 * event loop, SIGSTOP) and replaces it. Not forwarded to the log.
 */
export const HEARTBEAT_LINE = "worker alive";

/** How often a worker prints {@linkcode HEARTBEAT_LINE}, in milliseconds. */
export const HEARTBEAT_MS = 1000;

/** Signals after which the worker stops on its own and stops watching. */
const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGTERM", "SIGINT"];

/**
 * Worker side: calls `stop` once when the supervisor is gone, which the
 * worker learns from its stdin pipe closing (the supervisor holds the
 * other end open and never writes, so the kernel closes it even when the
 * supervisor is killed with SIGKILL). `stop` does the graceful shutdown.
 *
 * A pending stdin read would keep the worker alive after a graceful stop
 * caused by a signal, so on SIGTERM/SIGINT the watch ends by closing
 * stdin (the worker's own signal handler does the stopping).
 *
 * @example
 * ```ts ignore
 * import { stopWhenSupervisorGone } from "./worker_link.ts";
 * const server = { shutdown: () => Promise.resolve() };
 * stopWhenSupervisorGone(() => server.shutdown());
 * ```
 */
export function stopWhenSupervisorGone(stop: () => Promise<void>): void {
  let watching = true;
  const release = () => {
    if (!watching) return;
    watching = false;
    for (const signal of STOP_SIGNALS) {
      Deno.removeSignalListener(signal, release);
    }
    try {
      // Interrupts the pending read below.
      Deno.stdin.close();
    } catch {
      // Already closed.
    }
  };
  for (const signal of STOP_SIGNALS) Deno.addSignalListener(signal, release);

  (async () => {
    const buffer = new Uint8Array(256);
    try {
      // The supervisor never writes; anything read is ignored.
      while (await Deno.stdin.read(buffer) !== null) {
        // Keep reading until end of file.
      }
    } catch {
      // Closed by `release`: the worker is already stopping.
      return;
    }
    if (!watching) return;
    release();
    await stop();
  })();
}

/**
 * Worker side: prints {@linkcode HEARTBEAT_LINE} on stderr every
 * {@linkcode HEARTBEAT_MS} for as long as the event loop runs, without
 * keeping the process alive. The write is asynchronous, so a supervisor
 * that stops reading never blocks the worker.
 *
 * @example
 * ```ts ignore
 * import { startHeartbeat } from "./worker_link.ts";
 * startHeartbeat();
 * ```
 */
export function startHeartbeat(): void {
  const line = new TextEncoder().encode(`${HEARTBEAT_LINE}\n`);
  const timer = setInterval(() => {
    Deno.stderr.write(line).catch(() => {
      // The supervisor is gone; stdin's end will stop this worker.
    });
  }, HEARTBEAT_MS);
  Deno.unrefTimer(timer);
}
