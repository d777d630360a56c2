/**
 * The worker's side of the link to its supervisor.
 *
 * @module
 */

/**
 * The line a worker prints on stderr every {@linkcode HEARTBEAT_MS} once
 * its supervisor asks for it: the supervisor takes a worker that stops
 * printing it for hung (a blocked event loop, SIGSTOP) and replaces it.
 * Not forwarded to the log.
 */
export const HEARTBEAT_LINE = "worker alive";

/** How often a worker prints {@linkcode HEARTBEAT_LINE}, in milliseconds. */
const HEARTBEAT_MS = 1000;

/**
 * How a worker's ready line says that it sends heartbeats when asked: the
 * supervisor then judges it from the moment it is ready, even if it hangs
 * before its first heartbeat.
 */
export const HEARTBEAT_MARK = "heartbeat";

/**
 * What a supervisor writes on a worker's stdin to ask for heartbeats.
 * Asked, not assumed: after a reload deploys a new version, an older
 * supervisor must not get lines it would print, nor a newer one judge an
 * older worker that sends none.
 */
export const HEARTBEAT_REQUEST: Uint8Array = new TextEncoder().encode("h");

/**
 * The signal by which the supervisor retires a worker after a reload: it
 * stops accepting, and finishes its responses in flight for up to
 * `--reload-grace` rather than the few seconds a stop allows.
 */
export const RETIRE_SIGNAL: Deno.Signal = "SIGUSR2";

/** Signals after which the worker stops on its own and stops watching. */
const STOP_SIGNALS: readonly Deno.Signal[] = [
  "SIGTERM",
  "SIGINT",
  RETIRE_SIGNAL,
];

/**
 * Worker side of the link to the supervisor, which is the worker's stdin:
 * calls `stop` once when the supervisor is gone, which the worker learns
 * by reaching the end of that pipe: the supervisor holds its write end for
 * the worker's whole life, and the kernel closes it when the supervisor
 * exits, even by SIGKILL. It also starts the heartbeat when the
 * supervisor writes {@linkcode HEARTBEAT_REQUEST} there. `stop` does the
 * graceful shutdown; `say` prints a line on stderr, through the writer
 * every other line of the worker's goes through, so that a heartbeat never
 * lands inside a line written in parts.
 *
 * A pending stdin read would keep the worker alive after a graceful stop
 * caused by a signal, so on SIGTERM, SIGINT or the retire signal
 * (SIGUSR2) the watch ends by closing stdin (the worker's own signal
 * handler does the stopping).
 *
 * @example
 * ```ts ignore
 * import { linkToSupervisor } from "./worker_link.ts";
 * const server = { shutdown: () => Promise.resolve() };
 * linkToSupervisor(() => server.shutdown(), (line) => console.error(line));
 * ```
 */
export function linkToSupervisor(
  stop: () => Promise<void>,
  say: (line: string) => void,
): void {
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
    let beating = false;
    try {
      let n: number | null;
      while ((n = await Deno.stdin.read(buffer)) !== null) {
        if (!beating && buffer.subarray(0, n).includes(HEARTBEAT_REQUEST[0])) {
          beating = true;
          startHeartbeat(say);
        }
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
 * Says {@linkcode HEARTBEAT_LINE} now, so that the supervisor has a time
 * to judge from at once, then every {@linkcode HEARTBEAT_MS} for as long as
 * the event loop runs, without keeping the process alive. `say` must not
 * block: a supervisor that stops reading must not stop the worker.
 */
function startHeartbeat(say: (line: string) => void): void {
  const beat = () => say(HEARTBEAT_LINE);
  beat();
  Deno.unrefTimer(setInterval(beat, HEARTBEAT_MS));
}
