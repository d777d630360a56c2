/**
 * The listener: accepts TCP connections and runs each through
 * {@linkcode Connection}, within a connection limit, until shut down.
 *
 * @module
 */

import type { HeadLimits } from "../protocol/limits.ts";
import { AccessLog } from "./access_log.ts";
import { Connection } from "./connection.ts";
import {
  closeQuietly,
  createErrorReporter,
  type ErrorReporter,
  isDisconnect,
  isOutOfDescriptors,
} from "./error_report.ts";
import { coarseNow, keepTicking, tick } from "./clock.ts";
import { encodeResponse } from "./encode_response.ts";
import { createFileHandler, type Handler } from "./file_handler.ts";
import { type LineSink, LineWriter } from "./line_sink.ts";
import { LinkedList } from "./linked_list.ts";
import { realRoot } from "./_root.ts";
import { SpareDescriptor } from "./_spare_descriptor.ts";
import { errorResponse, RETRY_AFTER } from "./response.ts";
import { within } from "./_within.ts";

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** The document root; it must exist and be a directory. */
  root: string;
  /**
   * Address to listen on.
   *
   * @default {"0.0.0.0"}
   */
  hostname?: string;
  /**
   * Port to listen on; 0 picks a free one.
   *
   * @default {8080}
   */
  port?: number;
  /**
   * Set SO_REUSEPORT so several processes share the port.
   *
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * Serve dotfiles.
   *
   * @default {false}
   */
  dotfiles?: boolean;
  /**
   * A Cache-Control value for files; when undefined, no Cache-Control field
   * is sent.
   *
   * @default {undefined}
   */
  cacheControl?: string;
  /**
   * Write the access log to stdout.
   *
   * @default {true}
   */
  accessLog?: boolean;
  /**
   * Seconds allowed for a complete request head.
   *
   * @default {10}
   */
  headerTimeout?: number;
  /**
   * Seconds an idle keep-alive connection or a stalled send is kept.
   *
   * @default {15}
   */
  idleTimeout?: number;
  /**
   * Open connections beyond which new ones get 503.
   *
   * @default {4096}
   */
  maxConnections?: number;
  /**
   * Most bytes of file contents kept in memory.
   *
   * @default {33554432}
   */
  cacheBytes?: number;
  /**
   * Milliseconds a shutdown waits for responses in flight.
   *
   * @default {5000}
   */
  shutdownGraceMs?: number;
  /**
   * Head size limits.
   *
   * @default {DEFAULT_HEAD_LIMITS}
   */
  limits?: HeadLimits;
  /**
   * Replaces the file handler (for tests and embedding); when undefined,
   * files are served from `root` by `createFileHandler()`.
   *
   * @default {undefined}
   */
  handler?: Handler;
  /**
   * Where the server's own lines go: unexpected errors (rate-limited, see
   * `report`) and the access log's dropped-line notices. It must not block:
   * a stalled stderr must cost lines, never the serving. Servers in one
   * process may share one. The default one is drained (for a second at
   * most) before `finished` resolves.
   *
   * @default {a LineWriter over Deno.stderr}
   */
  stderr?: LineSink;
  /**
   * Where unexpected errors go.
   *
   * @default {a rate-limited reporter to `stderr`}
   */
  report?: ErrorReporter;
}

/** A running server. */
export interface Server {
  /** The address actually bound (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /**
   * Stops accepting, closes idle connections, lets responses in flight
   * finish (for `graceMs`, by default the `shutdownGraceMs` option), then
   * resolves. Called again while stopping, it can only shorten the wait.
   */
  shutdown(graceMs?: number): Promise<void>;
  /**
   * Stops at once: stops accepting, closes every connection whatever it is
   * doing, then resolves like `shutdown()`.
   */
  abort(): Promise<void>;
  /** Resolves once the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
}

/** How often the clock is read and deadlines are checked. */
const SWEEP_MS = 100;
/** How long a stop waits for aborted connections to end before it ends. */
const ABORT_WAIT_MS = 1000;
/** How long the accept loop waits after an error it cannot do more about. */
const ACCEPT_RETRY_MS = 100;
/**
 * How long an accept on the spare descriptor may take before the spare is
 * taken back: a client already waiting is accepted well within it.
 */
const SPARE_WAIT_MS = 10;
/** Connections being refused with a 503 at once, beyond which they are just closed. */
const MAX_REFUSING = 256;
/**
 * How long a stopped server waits for its access log to be written: a
 * stdout nobody reads must not hold the exit. Lines not written by then are
 * lost.
 */
const LOG_FLUSH_MS = 1000;

/**
 * How long the file handler lets a file take to open, given the idle
 * timeout of connections: a request may wait on up to six opens, each
 * slow but in time (the file and its siblings side by side, once more if
 * the path was swapped meanwhile, then the open that streams it; all of
 * it twice if the file changed before that last open), and their 503 must
 * come before the idle timeout ends the connection without an answer. At
 * most 5 s.
 *
 * @example
 * ```ts
 * import { openTimeoutFor } from "./listen.ts";
 * openTimeoutFor(15_000); // 2142
 * ```
 */
export function openTimeoutFor(idleTimeoutMs: number): number {
  return Math.min(5000, Math.floor(idleTimeoutMs / 7));
}

/**
 * Starts serving files from `options.root`. Throws at once if the address
 * cannot be bound or the root is not a directory.
 *
 * @example
 * ```ts ignore
 * import { serve } from "./listen.ts";
 * const server = serve({ root: "www", hostname: "127.0.0.1", port: 0 });
 * console.log(server.addr.port);
 * await server.shutdown();
 * ```
 */
export function serve(options: ServeOptions): Server {
  const root = realRoot(options.root);
  /** Our own writer when none was given: ours to drain at the end. */
  let ownStderr: LineWriter | undefined;
  const stderr = options.stderr ??
    (ownStderr = new LineWriter(Deno.stderr));
  const report = options.report ??
    createErrorReporter((line) => void stderr.write(`${line}\n`));
  const log = options.accessLog === false ? undefined : new AccessLog(
    Deno.stdout,
    {
      onDrop: (lines) =>
        void stderr.write(
          `httpd.ts: access log fell behind; ${lines} lines dropped\n`,
        ),
    },
  );
  const idleTimeoutMs = (options.idleTimeout ?? 15) * 1000;
  const handler = options.handler ??
    createFileHandler({
      root,
      dotfiles: options.dotfiles,
      cacheControl: options.cacheControl,
      openTimeoutMs: openTimeoutFor(idleTimeoutMs),
      cacheBytes: options.cacheBytes,
    });
  const maxConnections = options.maxConnections ?? 4096;
  const connectionOptions = {
    handler,
    log,
    report,
    headerTimeoutMs: (options.headerTimeout ?? 10) * 1000,
    idleTimeoutMs,
    limits: options.limits,
  };

  const listener = Deno.listen({
    transport: "tcp",
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 8080,
    reusePort: options.reusePort ?? false,
  });
  const connections = new LinkedList<Connection>();
  let refusing = 0;
  let stopping = false;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const { promise: finished, resolve: resolveFinished } = Promise.withResolvers<
    void
  >();
  let accepting = true;

  const spare = new SpareDescriptor(root);
  const sweeper = setInterval(() => {
    tick();
    const now = coarseNow();
    connections.forEach((connection) => connection.expire(now));
  }, SWEEP_MS);
  const stopTicking = keepTicking();

  let settled = false;
  const settle = () => {
    if (settled || !stopping || accepting || connections.size > 0) return;
    settled = true;
    clearInterval(sweeper);
    stopTicking();
    spare.close();
    clearTimeout(graceTimer);
    clearTimeout(abortTimer);
    // The last log lines, and the server's own last lines when it owns its
    // stderr, are given a moment; a stalled output does not hold the exit.
    const timer = setTimeout(resolveFinished, LOG_FLUSH_MS);
    Promise.all([
      log?.flush(),
      ownStderr?.drained(LOG_FLUSH_MS),
    ]).then(() => {
      clearTimeout(timer);
      resolveFinished();
    });
  };
  let abortTimer: ReturnType<typeof setTimeout> | undefined;
  let aborting = false;
  const abortAll = () => {
    aborting = true;
    connections.forEach((connection) => connection.abort());
    // Each aborted connection ends at once, logging what it sent before
    // the log's last flush; but one whose handler never answers would
    // hold the exit forever, so they are waited for only so long.
    abortTimer ??= setTimeout(() => {
      connections.clear();
      settle();
    }, ABORT_WAIT_MS);
    settle();
  };

  const refuseQuietly = (conn: Deno.TcpConn): Promise<void> => {
    refusing++;
    return refuse(conn)
      .catch((error) => report("refuse", error))
      .finally(() => refusing--);
  };
  /** Serves an accepted connection, or refuses it when at the limit. */
  const admit = (conn: Deno.TcpConn) => {
    // Accepted in the same turn as an abort: closed like the others.
    if (aborting) return closeQuietly(conn);
    if (connections.size >= maxConnections) {
      if (refusing < MAX_REFUSING) refuseQuietly(conn);
      else closeQuietly(conn);
      return;
    }
    const connection = new Connection(conn, connectionOptions);
    // Accepted as the listener closed (the accept completed in the same
    // turn as the stop): it is drained like those open before.
    if (stopping) connection.drain();
    const link = connections.push(connection);
    connection.serve().finally(() => {
      connections.remove(link);
      settle();
    });
  };
  // Out of descriptors, a client would wait in the queue unanswered: the
  // spare one is given up to accept the client waiting longest and tell
  // it 503, and taken back once that client is gone (or at once, if
  // descriptors were freed meanwhile, and then the client is served).
  // Reported once until an accept succeeds again.
  let exhausted = false;
  /** An accept started on the spare's descriptor, for the loop to finish. */
  let pending: Promise<Deno.TcpConn> | undefined;
  const acceptOnSpare = async (error: unknown) => {
    if (!exhausted) report("accept", error);
    exhausted = true;
    if (!spare.release()) {
      spare.take(); // in case the last refusal could not take it back
      await sleep(ACCEPT_RETRY_MS);
      return;
    }
    // An accept fails for want of a descriptor whether a client waits or
    // not. When none does, the spare is taken back at once, before a file
    // opened meanwhile can take its place, and the accept goes on waiting:
    // when a client comes, it fails again, and this starts over.
    const accepted = listener.accept();
    let conn: Deno.TcpConn | undefined;
    try {
      conn = await within(accepted, SPARE_WAIT_MS);
    } catch {
      spare.take(); // failed again, or stopped: the loop's next accept tells
      return;
    }
    if (conn === undefined) {
      spare.take();
      pending = accepted;
    } else if (spare.take()) admit(conn);
    else refuseQuietly(conn).finally(() => spare.take());
  };

  const acceptLoop = async () => {
    while (true) {
      const next = pending ?? listener.accept();
      pending = undefined;
      let conn: Deno.TcpConn;
      try {
        conn = await next;
      } catch (error) {
        if (stopping || error instanceof Deno.errors.BadResource) break;
        // A client that reset before we accepted it: nothing to do.
        if (isDisconnect(error)) continue;
        if (isOutOfDescriptors(error)) await acceptOnSpare(error);
        else {
          // Whatever else it is, wait instead of spinning.
          report("accept", error);
          await sleep(ACCEPT_RETRY_MS);
        }
        continue;
      }
      exhausted = false;
      admit(conn);
    }
    accepting = false;
    settle();
  };
  acceptLoop().catch((error) => report("accept loop", error));

  let graceEnds = Infinity;
  const shutdown = (graceMs = options.shutdownGraceMs ?? 5000) => {
    if (!stopping) {
      stopping = true;
      closeQuietly(listener);
      connections.forEach((connection) => connection.drain());
      settle();
    }
    const ends = performance.now() + graceMs;
    if (!settled && ends < graceEnds) {
      graceEnds = ends;
      clearTimeout(graceTimer);
      graceTimer = setTimeout(abortAll, graceMs);
    }
    return finished;
  };
  return {
    addr: listener.addr,
    finished,
    shutdown,
    abort() {
      shutdown();
      abortAll();
      return finished;
    },
  };
}

/** Answers 503 to a connection over the limit and closes it gracefully. */
async function refuse(conn: Deno.TcpConn): Promise<void> {
  const response = errorResponse(503, "GET", RETRY_AFTER, true);
  const timer = setTimeout(() => closeQuietly(conn), 1000);
  try {
    const bytes = encodeResponse(response, false);
    for (let at = 0; at < bytes.length;) {
      at += await conn.write(bytes.subarray(at));
    }
    await conn.closeWrite();
    const scratch = new Uint8Array(4096);
    while ((await conn.read(scratch)) !== null);
  } catch (error) {
    if (!isDisconnect(error)) throw error;
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

/** Resolves after `ms` milliseconds. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
