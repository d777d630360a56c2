/**
 * A running server's lifecycle, behind `serve()`: the accept loop
 * (with a spare descriptor for when the process runs out), the connection
 * limit, the sweep of deadlines, draining on shutdown, aborting when the
 * grace ends, and settling once nothing is left.
 *
 * @module
 */

import { Connection, type ConnectionOptions } from "./connection.ts";
import {
  closeQuietly,
  type ErrorReporter,
  isDisconnect,
  isOutOfDescriptors,
} from "./error_report.ts";
import { coarseNow, keepTicking, tick } from "./clock.ts";
import type { LineWriter } from "./line_sink.ts";
import { LinkedList } from "./linked_list.ts";
import type { Server } from "./listen.ts";
import { refuse, type RefuseOptions } from "./_refusal.ts";
import { rootIsGone } from "./_root.ts";
import { SpareDescriptor } from "./_spare_descriptor.ts";
import { within } from "./_within.ts";

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
 * How a client over the connection limit is refused: given up to a second
 * to close after its 503, before it is closed on.
 */
const OVER_LIMIT: RefuseOptions = { lingerMs: 1000, headOnly: false };
/**
 * How a client accepted on the spare descriptor is refused: the next
 * refusal waits for its descriptor, so it is closed once its request's
 * head is in, or after 100 ms.
 */
const ON_SPARE: RefuseOptions = { lingerMs: 100, headOnly: true };
/**
 * How long a stopped server waits for its access log to be written: a
 * stdout nobody reads must not hold the exit. Lines not written by then are
 * lost.
 */
const LOG_FLUSH_MS = 1000;

/** How often the server looks whether its root is still there. */
const ROOT_CHECK_MS = 1000;

/** What {@linkcode RunningServer} is built from, `serve()`'s options resolved. */
export interface ServerParts {
  /**
   * The document root's real path, for the spare descriptor, and to say
   * when it is gone (every request would get 404 without a word).
   */
  root: string;
  /** Prints one line on the server's stderr. */
  say: (line: string) => void;
  /** What every connection is served with, its log and reporter among them. */
  connection: ConnectionOptions;
  /** Open connections beyond which a new one is answered 503 and closed. */
  maxConnections: number;
  /** The grace `shutdown()` gives when called without one, in ms. */
  shutdownGraceMs: number;
  /** The server's own stderr writer, drained when it stops; none if given one. */
  ownStderr: LineWriter | undefined;
}

/**
 * A listener and the connections accepted from it, through one lifecycle:
 * accepting (with a spare descriptor for when the process runs out),
 * draining on shutdown, aborting when the grace ends, and settling once
 * nothing is left, which resolves `finished`.
 */
export class RunningServer implements Server {
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  readonly #listener: Deno.TcpListener;
  readonly #parts: ServerParts;
  readonly #report: ErrorReporter;
  readonly #connections = new LinkedList<Connection>();
  readonly #spare: SpareDescriptor;
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #stopTicking: () => void;
  readonly #resolveFinished: () => void;
  /** Connections being answered 503 at the limit. */
  #refusing = 0;
  #accepting = true;
  #stopping = false;
  #aborting = false;
  #settled = false;
  #graceEnds = Infinity;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #abortTimer: ReturnType<typeof setTimeout> | undefined;
  /** Out of descriptors: reported once until an accept succeeds again. */
  #exhausted = false;
  /** An accept started on the spare's descriptor, for the loop to finish. */
  #pending: Promise<Deno.TcpConn> | undefined;
  /** The refusal that holds the spare's descriptor, while one does. */
  #spareRefusal: Promise<void> | undefined;
  /** Whether the root was gone when last looked at, and when that was. */
  #rootGone = false;
  #rootCheckedAt = 0;

  constructor(listener: Deno.TcpListener, parts: ServerParts) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.#parts = parts;
    this.#report = parts.connection.report;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.finished = promise;
    this.#resolveFinished = resolve;
    this.#spare = new SpareDescriptor(parts.root);
    this.#sweeper = setInterval(() => {
      tick();
      const now = coarseNow();
      this.#connections.forEach((connection) => connection.expire(now));
      // A descriptor freed anywhere (a file closed) refills the reserve.
      this.#spare.take();
      this.#watchRoot(now);
    }, SWEEP_MS);
    this.#stopTicking = keepTicking();
    this.#acceptLoop().catch((error) => this.#report("accept loop", error));
  }

  shutdown(graceMs: number = this.#parts.shutdownGraceMs): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      closeQuietly(this.#listener);
      this.#connections.forEach((connection) => connection.drain());
      this.#settle();
    }
    const ends = performance.now() + graceMs;
    if (!this.#settled && ends < this.#graceEnds) {
      this.#graceEnds = ends;
      clearTimeout(this.#graceTimer);
      this.#graceTimer = setTimeout(() => this.#abortAll(), graceMs);
    }
    return this.finished;
  }

  abort(): Promise<void> {
    this.shutdown();
    this.#abortAll();
    return this.finished;
  }

  async #acceptLoop(): Promise<void> {
    while (true) {
      const next = this.#pending ?? this.#listener.accept();
      this.#pending = undefined;
      let conn: Deno.TcpConn;
      try {
        conn = await next;
      } catch (error) {
        if (this.#stopping || error instanceof Deno.errors.BadResource) break;
        // A client that reset before we accepted it: nothing to do.
        if (isDisconnect(error)) continue;
        if (isOutOfDescriptors(error)) await this.#acceptOnSpare(error);
        else {
          // Whatever else it is, wait instead of spinning.
          this.#report("accept", error);
          await sleep(ACCEPT_RETRY_MS);
        }
        continue;
      }
      this.#exhausted = false;
      this.#admit(conn);
    }
    this.#accepting = false;
    this.#settle();
  }

  /**
   * Out of descriptors, a client would wait in the queue unanswered: the
   * spare one is given up to accept the client waiting longest and tell it
   * 503, and taken back once that client is gone (or at once, if
   * descriptors were freed meanwhile, and then the client is served).
   */
  async #acceptOnSpare(error: unknown): Promise<void> {
    if (!this.#exhausted) this.#report("accept", error);
    this.#exhausted = true;
    const spare = this.#spare;
    if (!spare.release()) {
      // In use by a refusal: the next is made once it ends (and gives the
      // spare back); or lost to another open since one: taken when free.
      if (!spare.take()) {
        await (this.#spareRefusal ?? sleep(ACCEPT_RETRY_MS));
      }
      return;
    }
    // An accept fails for want of a descriptor whether a client waits or
    // not. When none does, the spare is taken back at once, before a file
    // opened meanwhile can take its place, and the accept goes on waiting:
    // when a client comes, it fails again, and this starts over.
    const accepted = this.#listener.accept();
    let conn: Deno.TcpConn | undefined;
    try {
      conn = await within(accepted, SPARE_WAIT_MS);
    } catch {
      spare.take(); // failed again, or stopped: the loop's next accept tells
      return;
    }
    if (conn === undefined) {
      spare.take();
      this.#pending = accepted;
    } else if (spare.take()) this.#admit(conn);
    else {
      const refusal: Promise<void> = this.#refuseQuietly(conn, ON_SPARE)
        .finally(() => {
          // A later refusal may hold a spare taken back meanwhile.
          if (this.#spareRefusal === refusal) this.#spareRefusal = undefined;
          spare.take();
        });
      this.#spareRefusal = refusal;
    }
  }

  /**
   * Says so when the root is gone (removed or renamed while serving: every
   * request gets 404), and when a directory is back there.
   */
  #watchRoot(now: number): void {
    if (now - this.#rootCheckedAt < ROOT_CHECK_MS) return;
    this.#rootCheckedAt = now;
    const gone = rootIsGone(this.#parts.root);
    if (gone === this.#rootGone) return;
    this.#rootGone = gone;
    const root = this.#parts.root;
    this.#parts.say(
      gone
        ? `httpd.ts: the document root ${root} is gone: every request gets 404 until a directory is back there`
        : `httpd.ts: the document root ${root} is back`,
    );
  }

  /** Serves an accepted connection, or refuses it when at the limit. */
  #admit(conn: Deno.TcpConn): void {
    // Accepted in the same turn as an abort: closed like the others.
    if (this.#aborting) return closeQuietly(conn);
    if (this.#connections.size >= this.#parts.maxConnections) {
      if (this.#refusing < MAX_REFUSING) this.#refuseQuietly(conn);
      else closeQuietly(conn);
      return;
    }
    const connection = new Connection(conn, this.#parts.connection);
    // Accepted as the listener closed (the accept completed in the same
    // turn as the stop): it is drained like those open before.
    if (this.#stopping) connection.drain();
    const link = this.#connections.push(connection);
    connection.serve().finally(() => {
      this.#connections.remove(link);
      // Its descriptor is free: the reserve, if lost, is refilled first.
      this.#spare.take();
      this.#settle();
    });
  }

  #refuseQuietly(
    conn: Deno.TcpConn,
    how: RefuseOptions = OVER_LIMIT,
  ): Promise<void> {
    this.#refusing++;
    return refuse(conn, how)
      .catch((error) => this.#report("refuse", error))
      .finally(() => this.#refusing--);
  }

  #abortAll(): void {
    // Finished already: nothing to abort, and a timer now would be left
    // behind, holding the process.
    if (this.#settled) return;
    this.#aborting = true;
    this.#connections.forEach((connection) => connection.abort());
    // Each aborted connection ends at once, logging what it sent before
    // the log's last flush; but one whose handler never answers would
    // hold the exit forever, so they are waited for only so long.
    this.#abortTimer ??= setTimeout(() => {
      this.#connections.clear();
      this.#settle();
    }, ABORT_WAIT_MS);
    this.#settle();
  }

  /** Once stopped with nothing left, releases everything and finishes. */
  #settle(): void {
    if (
      this.#settled || !this.#stopping || this.#accepting ||
      this.#connections.size > 0
    ) return;
    this.#settled = true;
    clearInterval(this.#sweeper);
    this.#stopTicking();
    this.#spare.close();
    clearTimeout(this.#graceTimer);
    clearTimeout(this.#abortTimer);
    // The last log lines, and the server's own last lines when it owns its
    // stderr, are given a moment; a stalled output does not hold the exit.
    const timer = setTimeout(this.#resolveFinished, LOG_FLUSH_MS);
    Promise.all([
      this.#parts.connection.log?.flush(),
      this.#parts.ownStderr?.drained(LOG_FLUSH_MS),
    ]).then(() => {
      clearTimeout(timer);
      this.#resolveFinished();
    });
  }
}

/** Resolves after `ms` milliseconds. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
