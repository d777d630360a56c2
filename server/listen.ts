/**
 * The server's entry point: resolves the options, binds the address and
 * starts serving; the lifecycle from there is in `_running_server.ts`.
 *
 * @module
 */

import type { HeadLimits } from "../protocol/limits.ts";
import { AccessLog } from "./access_log.ts";
import { createErrorReporter, type ErrorReporter } from "./error_report.ts";
import { createFileHandler, type Handler } from "./file_handler.ts";
import { type LineSink, LineWriter } from "./line_sink.ts";
import { realRoot } from "./_root.ts";
import { RunningServer } from "./_running_server.ts";

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
  const listener = Deno.listen({
    transport: "tcp",
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 8080,
    reusePort: options.reusePort ?? false,
  });
  return new RunningServer(listener, {
    root,
    say: (line) => void stderr.write(`${line}\n`),
    connection: {
      handler,
      log,
      report,
      headerTimeoutMs: (options.headerTimeout ?? 10) * 1000,
      idleTimeoutMs,
      limits: options.limits,
    },
    maxConnections: options.maxConnections ?? 4096,
    shutdownGraceMs: options.shutdownGraceMs ?? 5000,
    ownStderr,
  });
}
