/**
 * The supervisor's state machine: keeps one worker per slot, replaces the
 * dead, rolls them over on request and stops them all.
 *
 * @module
 */

import type { LineSink } from "./line_sink.ts";
import { describeStatus, WorkerProcess } from "./_worker_process.ts";
import { errorMessage } from "./error_report.ts";

/**
 * Consecutive failed starts of one slot after which the supervisor gives
 * up: at its own start, or later once no worker is left and every slot
 * has failed that many times. While another worker serves, a slot that
 * cannot start one is retried for ever (a half-written deploy, a root
 * briefly missing): that is a partial fault, not a reason for an outage.
 */
const MAX_START_FAILURES = 5;

/** The longest wait between two starts of a slot that keeps failing. */
const MAX_START_DELAY_MS = 30_000;

/** A worker that dies sooner than this after becoming ready counts as crashing at start. */
const MIN_UPTIME_MS = 2_000;

/**
 * How long to wait before the next start of a slot that has failed
 * `failures` times in a row: nothing at first, then doubling from 250 ms
 * up to 30 s, so a worker that cannot start never makes the supervisor
 * spin, nor fill its stderr (one line per failure).
 *
 * @example
 * ```ts
 * import { startDelayMs } from "./_worker_supervisor.ts";
 * [0, 1, 2, 3, 4, 9].map(startDelayMs); // [0, 250, 500, 1000, 2000, 30000]
 * ```
 */
export function startDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(250 * 2 ** (failures - 1), MAX_START_DELAY_MS);
}

/** What the supervisor needs besides the worker command. */
export interface SupervisorCoreOptions {
  /** Number of slots. */
  workers: number;
  /** Builds the program and arguments for worker `id`. */
  command: (id: number) => { program: string; args: string[] };
  /** Destination of the workers' stdout. */
  stdout: LineSink;
  /** Destination of the workers' stderr and of the supervisor's own messages. */
  stderr: LineSink;
  /** Prefix of the supervisor's own messages, e.g. `"httpd.ts: "`. */
  messagePrefix: string;
  /** Grace period of a stopping worker before SIGKILL. */
  gracePeriodMs: number;
  /**
   * Grace period of a worker retired by a reload before SIGKILL: its own
   * `--reload-grace`, and the stop's grace on top for its last answers.
   */
  retireGraceMs: number;
  /** How long a new worker may take to become ready. */
  readyTimeoutMs: number;
  /**
   * How long a worker that sends heartbeats may go without one before it
   * is taken for hung, killed and replaced.
   */
  hangTimeoutMs: number;
}

/** How often the heartbeats are checked. */
const WATCHDOG_MS = 500;

interface Slot {
  current: WorkerProcess | undefined;
  /** Consecutive failed starts; reset once a worker stays up. */
  failures: number;
  /** A replacement or a reload of this slot is under way. */
  busy: boolean;
}

/** Supervises workers until stopped. */
export class Supervisor {
  readonly #options: SupervisorCoreOptions;
  readonly #slots: Slot[];
  readonly #live = new Set<WorkerProcess>();
  readonly #done = Promise.withResolvers<number>();
  readonly #wake = new Set<() => void>();
  #nextId = 1;
  /** Every slot has had a ready worker: failures no longer end everything. */
  #started = false;
  #stopping = false;
  #reloading = false;
  #reloadAgain = false;
  readonly #watchdog: ReturnType<typeof setInterval>;
  #checkedAt = performance.now();

  constructor(options: SupervisorCoreOptions) {
    this.#options = options;
    this.#slots = Array.from(
      { length: options.workers },
      () => ({ current: undefined, failures: 0, busy: false }),
    );
    this.#watchdog = setInterval(() => this.#checkHeartbeats(), WATCHDOG_MS);
    Deno.unrefTimer(this.#watchdog);
  }

  /**
   * Kills a ready worker whose heartbeats stopped: its event loop is
   * blocked or the process is stopped, yet its socket still takes its
   * share of new connections. Its exit then brings a replacement, as for
   * any death. After a pause of the supervisor itself (Ctrl-Z then `fg`
   * stops and resumes the whole group) the heartbeats were never sent: the
   * clock restarts instead. Workers' output is read whatever the pace of
   * our own, so a stalled stderr delays no heartbeat.
   */
  #checkHeartbeats(): void {
    if (this.#stopping) return;
    const now = performance.now();
    const paused = now - this.#checkedAt > 4 * WATCHDOG_MS;
    this.#checkedAt = now;
    for (const worker of this.#live) {
      if (worker.heardAt === undefined || worker.status) continue;
      if (paused) {
        worker.heardAt = now;
      } else if (now - worker.heardAt > this.#options.hangTimeoutMs) {
        worker.heardAt = undefined; // Said once; the kill follows.
        this.#say(
          `worker ${worker.id} (pid ${worker.pid}) sent no heartbeat for ${this.#options.hangTimeoutMs} ms; killing it`,
        );
        worker.kill("SIGKILL");
      }
    }
  }

  /** Resolves with the exit code once everything has stopped. */
  get done(): Promise<number> {
    return this.#done.promise;
  }

  /**
   * Starts every slot; resolves `true` once all workers are ready, `false`
   * if the supervisor is stopping (because of a fatal start failure or a
   * signal) instead.
   */
  async start(): Promise<boolean> {
    const started = await Promise.all(
      this.#slots.map((slot) => this.#fill(slot)),
    );
    this.#started = started.every(Boolean) && !this.#stopping;
    return this.#started;
  }

  /** The pids of the current workers, in slot order. */
  pids(): number[] {
    return this.#slots.flatMap((slot) =>
      slot.current ? [slot.current.pid] : []
    );
  }

  /**
   * Restarts the workers one at a time: a new one is started and ready
   * before an old one is asked to stop, so the port never lacks a listener.
   */
  async reload(): Promise<void> {
    if (this.#stopping) return;
    if (this.#reloading) {
      this.#reloadAgain = true;
      return;
    }
    this.#reloading = true;
    try {
      do {
        this.#reloadAgain = false;
        this.#say(`reloading ${this.#slots.length} workers`);
        let ok = true;
        for (const slot of this.#slots) {
          if (this.#stopping || !ok) break;
          ok = await this.#reloadSlot(slot);
        }
        if (ok && !this.#stopping) this.#say("reload done");
      } while (this.#reloadAgain && !this.#stopping);
    } finally {
      this.#reloading = false;
    }
  }

  /**
   * Stops every worker (SIGTERM, then SIGKILL after the grace period) and
   * resolves `done` with `code`. A second call while stopping kills the
   * workers at once.
   */
  async stop(code: number): Promise<void> {
    if (this.#stopping) {
      for (const worker of this.#live) worker.kill("SIGKILL");
      return;
    }
    this.#stopping = true;
    for (const wake of this.#wake) wake();
    // Workers spawned while the others were stopping (a spawn can be in
    // flight when the signal arrives) are stopped too.
    while (this.#live.size > 0) {
      await Promise.all([...this.#live].map((worker) => this.#stopOne(worker)));
    }
    clearInterval(this.#watchdog);
    this.#done.resolve(code);
  }

  /** Stops one worker, and says so if it had to be killed. */
  async #stopOne(worker: WorkerProcess): Promise<void> {
    const graceMs = this.#options.gracePeriodMs;
    if (await worker.stop(graceMs)) {
      this.#say(
        `worker ${worker.id} (pid ${worker.pid}) did not stop within ${graceMs} ms; killed it`,
      );
    }
  }

  /** Starts a worker in `slot` until one is ready, with backoff. */
  async #fill(slot: Slot): Promise<boolean> {
    slot.busy = true;
    try {
      while (!this.#stopping) {
        await this.#sleep(startDelayMs(slot.failures));
        if (this.#stopping) return false;
        const worker = this.#spawn();
        if (!worker) return false;
        if (await worker.ready && !this.#stopping) {
          slot.current = worker;
          this.#watch(slot, worker);
          return true;
        }
        worker.kill("SIGKILL");
        await worker.exited;
        if (this.#stopping) return false;
        slot.failures++;
        if (this.#givesUp(slot)) {
          this.#say(
            `worker failed to start ${slot.failures} times in a row${this.#noneLeft()}, giving up: ${worker.lastError()}`,
          );
          this.stop(1);
          return false;
        }
        this.#say(
          `worker ${worker.id} failed to start (${worker.lastError()}); retrying in ${
            startDelayMs(slot.failures)
          } ms`,
        );
      }
      return false;
    } finally {
      slot.busy = false;
    }
  }

  /** Replaces `worker` in `slot` when it dies unasked. */
  #watch(slot: Slot, worker: WorkerProcess): void {
    worker.exited.then((status) => {
      if (this.#stopping || worker.retiring || slot.current !== worker) return;
      slot.current = undefined;
      const uptime = performance.now() - (worker.readyAt ?? 0);
      // A worker that keeps dying right after start is backed off like one
      // that cannot start; one that ran for a while is replaced at once.
      slot.failures = uptime < MIN_UPTIME_MS ? slot.failures + 1 : 0;
      if (this.#givesUp(slot)) {
        this.#say(
          `worker died right after start ${slot.failures} times in a row${this.#noneLeft()}, giving up: ${worker.lastError()}`,
        );
        this.stop(1);
        return;
      }
      const delayMs = startDelayMs(slot.failures);
      this.#say(
        `worker ${worker.id} (pid ${worker.pid}) exited with ${
          describeStatus(status)
        }; starting a replacement${delayMs > 0 ? ` in ${delayMs} ms` : ""}`,
      );
      if (slot.busy) return; // A reload is already putting a worker there.
      void this.#fill(slot);
    });
  }

  async #reloadSlot(slot: Slot): Promise<boolean> {
    const old = slot.current;
    if (!old || slot.busy) return true; // Being replaced: it will be new.
    slot.busy = true;
    try {
      const fresh = this.#spawn();
      if (!fresh) return false;
      if (!(await fresh.ready) || this.#stopping) {
        fresh.kill("SIGKILL");
        await fresh.exited;
        if (!this.#stopping) {
          this.#say(
            `reload stopped: worker ${fresh.id} failed to start (${fresh.lastError()}); the old workers keep running`,
          );
        }
        return false;
      }
      slot.current = fresh;
      slot.failures = 0;
      this.#watch(slot, fresh);
      // The old worker stops accepting at once and finishes its responses
      // meanwhile: the next slot need not wait for its downloads.
      const graceMs = this.#options.retireGraceMs;
      void old.retire(graceMs).then((killed) => {
        if (!killed) return;
        this.#say(
          `worker ${old.id} (pid ${old.pid}) did not finish within ${graceMs} ms of its retirement; killed it`,
        );
      });
      return true;
    } finally {
      slot.busy = false;
      // The old worker may have crashed while the reload held the slot.
      if (!slot.current && !this.#stopping) this.#fill(slot);
    }
  }

  /**
   * Whether `slot`'s latest failure ends everything: at the start, its
   * fifth in a row; after it, only once no worker is left serving and every
   * slot has failed that often, so that a service manager can restart the
   * whole server rather than it sit there with a port nobody answers on.
   */
  #givesUp(slot: Slot): boolean {
    if (slot.failures < MAX_START_FAILURES) return false;
    if (!this.#started) return true;
    return this.#slots.every((other) =>
      other.current === undefined && other.failures >= MAX_START_FAILURES
    );
  }

  /** What to add to the giving-up line once the start is over. */
  #noneLeft(): string {
    return this.#started && this.#slots.length > 1
      ? " and no worker is left"
      : "";
  }

  /** Spawns the next worker, or stops the supervisor if that is impossible. */
  #spawn(): WorkerProcess | undefined {
    if (this.#stopping) return undefined;
    const id = this.#nextId++;
    const { program, args } = this.#options.command(id);
    let worker: WorkerProcess;
    try {
      worker = WorkerProcess.spawn({
        id,
        program,
        args,
        stdout: this.#options.stdout,
        stderr: this.#options.stderr,
        readyTimeoutMs: this.#options.readyTimeoutMs,
      });
    } catch (error) {
      const reason = error instanceof Deno.errors.NotCapable
        ? `run permission for ${program} is missing (add --allow-run=${program})`
        : errorMessage(error);
      this.#say(`cannot start worker: ${reason}`);
      void this.stop(1);
      return undefined;
    }
    this.#live.add(worker);
    worker.exited.then(() => this.#live.delete(worker));
    return worker;
  }

  /** Waits `ms`, or less if the supervisor starts stopping. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wake.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wake.add(wake);
    });
  }

  /**
   * Queues a line on stderr and returns at once: nothing the supervisor
   * does waits for its output, which a reader that stopped reading would
   * otherwise hold up for ever (a dead worker left unreplaced, a stop that
   * never ends).
   */
  #say(message: string): void {
    void this.#options.stderr.write(
      `${this.#options.messagePrefix}${message}\n`,
    );
  }
}
