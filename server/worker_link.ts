/**
 * The worker's side of the link to its supervisor.
 *
 * @module
 */

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
