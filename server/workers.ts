/**
 * `-w N`: a supervisor process that runs N worker processes sharing one
 * port through `SO_REUSEPORT`, so the kernel spreads connections across
 * them.
 *
 * Each worker is the same program (re-run with `Deno.execPath()`, which is
 * also right for a `deno compile` binary) with an internal `--worker-id N`
 * flag, and only the permissions it needs: read on the root, net on the
 * listen address. Signals to the supervisor:
 *
 * - SIGTERM, SIGINT: stop every worker gracefully, exit 0 (a second one
 *   kills them at once).
 * - SIGHUP: rolling restart, one worker at a time, new before old.
 * - SIGUSR1: closes the debugger Deno opens for it, or exits at once
 *   when it may not (see `_inspector_guard.ts`).
 * - SIGUSR2: ignored, with a note (the supervisor sends it to retire a
 *   worker).
 *
 * @module
 */

import { guardInspector } from "./_inspector_guard.ts";
import { formatAuthority } from "./_authority.ts";
import { createWorkerArgs } from "./_worker_command.ts";
import { Supervisor } from "./_worker_supervisor.ts";
import { errorMessage } from "./error_report.ts";
import { realRoot, rootIsGone } from "./_root.ts";
import { LineWriter } from "./line_sink.ts";
import { removePidFile, writePidFile } from "./pid_file.ts";

/** How the supervisor runs its workers. */
export interface SupervisorOptions {
  /** How many workers to run (already resolved from "auto"). */
  workers: number;
  /**
   * The flags every worker gets besides its root, port and id, built from
   * the parsed configuration (no -w, --pid-file, -r or -p); the supervisor
   * adds `-r ROOT -p PORT --worker-id N`.
   */
  workerArgs: string[];
  /**
   * Absolute real path of the document root (for the workers' --allow-read).
   */
  root: string;
  /**
   * The root as given, resolved again at each reload: a root that is a
   * symlink switched to a new release is followed by the new workers. A
   * worker started to replace one that died gets it resolved again too,
   * but only once `root` (or the real path the last reload found) is no
   * longer a directory: until then, every worker serves the same tree.
   *
   * @default {root}
   */
  rootPath?: string;
  /** Listen address, for the workers' --allow-net and the startup line. */
  hostname: string;
  /** Listen port; 0 picks a free one that every worker then shares. */
  port: number;
  /**
   * Write the supervisor pid here, remove it at exit; when undefined, no
   * pid file is written.
   *
   * @default {undefined}
   */
  pidFile?: string;
  /**
   * The module the workers run under `deno run`; ignored in a compiled
   * binary, which always re-runs itself.
   *
   * @default {Deno.mainModule}
   */
  workerModule?: string;
  /**
   * How long a stopping worker may take to finish its responses before it
   * is killed.
   *
   * @default {10_000}
   */
  gracePeriodMs?: number;
  /**
   * How long a worker retired by a reload may finish its responses (its
   * `--reload-grace`); one still running a stop's grace period after that
   * is killed.
   *
   * @default {300_000}
   */
  reloadGraceMs?: number;
  /**
   * How long a worker may go without a heartbeat before it is taken for
   * hung, killed and replaced.
   *
   * @default {10_000}
   */
  hangTimeoutMs?: number;
  /**
   * How long a new worker may take to print its ready line.
   *
   * @default {30_000}
   */
  readyTimeoutMs?: number;
}

/**
 * Why workers cannot be given `root`, or `undefined`: they get
 * --allow-read=ROOT, and Deno splits that list at commas, with no way to
 * escape one.
 */
function checkWorkerRoot(root: string): string | undefined {
  if (Deno.build.standalone || !root.includes(",")) return undefined;
  return `Cannot run workers for root ${root}: a comma in its path cannot be passed in --allow-read; rename it, or use -w 1`;
}

/** How long a supervisor that must exit at once gives its last line. */
const EXIT_DRAIN_MS = 100;

/** Why SIGUSR2, which would kill the supervisor by default, is ignored. */
const USR2_IGNORED =
  "SIGUSR2 ignored (the supervisor sends it to retire a worker; to reload, send SIGHUP)";

/** Operating systems whose kernel balances connections across reuse-port listeners. */
const BALANCING_OS: readonly string[] = ["linux", "android"];

const PREFIX = "httpd.ts: ";
/** How long the supervisor's last lines may take to be written at its exit. */
const OUTPUT_DRAIN_MS = 1000;

/**
 * Runs the supervisor until it is stopped by a signal or can no longer
 * keep its workers running; resolves to the process exit code.
 *
 * Prints one line `httpd.ts: listening on http://HOST:PORT root=ROOT
 * workers=N` on stderr once every worker is ready; worker output is
 * forwarded line by line with a `[wN] ` prefix.
 *
 * @example
 * ```ts ignore
 * import { runSupervisor } from "./workers.ts";
 * const code = await runSupervisor({
 *   workers: 2,
 *   workerArgs: ["--quiet"],
 *   root: "/srv/www",
 *   hostname: "127.0.0.1",
 *   port: 8080,
 * });
 * Deno.exit(code);
 * ```
 */
export async function runSupervisor(
  options: SupervisorOptions,
): Promise<number> {
  const stderr = new LineWriter(Deno.stderr);
  const fail = async (message: string): Promise<number> => {
    void stderr.write(`${PREFIX}${message}\n`);
    await stderr.drained(OUTPUT_DRAIN_MS);
    return 1;
  };

  if (!Number.isInteger(options.workers) || options.workers < 1) {
    return fail(
      `Cannot run ${options.workers} workers: need a whole number of at least 1`,
    );
  }
  const unsupported = checkWorkerPlatform(options.workers, Deno.build.os);
  if (unsupported) return fail(unsupported);

  const unusable = checkWorkerRoot(options.root);
  if (unusable) return fail(unusable);
  let root = options.root;
  const given = options.rootPath ?? options.root;
  const port = bindProbe(options.hostname, options.port);
  if (typeof port === "string") return fail(port);

  // The workers' access logs meet here: as much backlog as each would
  // keep of its own before dropping lines.
  const stdout = new LineWriter(Deno.stdout, {
    maxPendingBytes: options.workers * (4 << 20),
    onDrop: (lines) =>
      void stderr.write(
        `${PREFIX}stdout fell behind; ${lines} lines dropped\n`,
      ),
  });
  const workerModule = options.workerModule ?? Deno.mainModule;
  const program = Deno.execPath();
  /**
   * The root for worker `id`: the real path from the start or the last
   * reload, so that all workers serve the same tree, unless it is gone (a
   * symlink deploy without a reload, the old release deleted since): then
   * the root as given, resolved again. If that fails too, the worker gets
   * the old one and says why it cannot start.
   */
  const rootFor = (id: number): string => {
    if (!rootIsGone(root)) return root;
    let now: string;
    try {
      now = realRoot(given);
    } catch {
      return root;
    }
    if (now === root) return root;
    const unusable = checkWorkerRoot(now);
    if (unusable !== undefined) {
      // The worker fails on the old root; this says why it was kept.
      void stderr.write(`${PREFIX}root ${root} is gone; ${unusable}\n`);
      return root;
    }
    void stderr.write(
      `${PREFIX}root ${root} is gone; ${given} now leads to ${now}, served from worker ${id} on\n`,
    );
    root = now;
    return root;
  };
  const supervisor = new Supervisor({
    workers: options.workers,
    command: (id) => ({
      program,
      args: createWorkerArgs({
        workerArgs: options.workerArgs,
        root: rootFor(id),
        hostname: options.hostname,
        port,
        workerModule,
      }, id),
    }),
    stdout,
    stderr,
    messagePrefix: PREFIX,
    gracePeriodMs: options.gracePeriodMs ?? 10_000,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    retireGraceMs: (options.reloadGraceMs ?? 300_000) +
      (options.gracePeriodMs ?? 10_000),
    hangTimeoutMs: options.hangTimeoutMs ?? 10_000,
  });

  const onStop = () => void supervisor.stop(0);
  const onReload = () => {
    const warning = migrationWarning();
    if (warning) void stderr.write(`${PREFIX}${warning}\n`);
    let now: string;
    try {
      now = realRoot(given);
    } catch (error) {
      void stderr.write(
        `${PREFIX}reload stopped: ${
          errorMessage(error)
        }; the old workers keep running\n`,
      );
      return;
    }
    const unusable = checkWorkerRoot(now);
    if (unusable) {
      void stderr.write(`${PREFIX}reload stopped: ${unusable}\n`);
      return;
    }
    if (now !== root) {
      void stderr.write(`${PREFIX}root ${given} now leads to ${now}\n`);
      root = now;
    }
    void supervisor.reload();
  };
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGTERM", onStop],
    ["SIGINT", onStop],
    ["SIGHUP", onReload],
    // SIGUSR2's default action would end the supervisor at once: no
    // graceful stop, and the pid file left behind.
    ["SIGUSR2", () => void stderr.write(`${PREFIX}${USR2_IGNORED}\n`)],
    [
      "SIGUSR1",
      guardInspector((line) => void stderr.write(`${line}\n`), () => {
        // The workers, whose stdin then ends, stop gracefully by themselves.
        if (written !== undefined) removePidFile(written);
        void stderr.drained(EXIT_DRAIN_MS).then(() => Deno.exit(1));
      }),
    ],
  ];
  /** The pid file once written: ours to remove. */
  let written: string | undefined;
  // Signals are handled before the pid file names this process: a stop
  // sent as soon as the file appears must find a graceful stop.
  for (const [signal, listener] of listeners) {
    Deno.addSignalListener(signal, listener);
  }

  try {
    if (options.pidFile !== undefined) {
      const failure = await writePidFile(options.pidFile);
      if (failure !== undefined) return await fail(failure);
      written = options.pidFile;
    }
    if (await supervisor.start()) {
      const address = formatAuthority(options.hostname, port);
      void stderr.write(
        `${PREFIX}listening on http://${address} root=${root} workers=${options.workers}\n`,
      );
    }
    return await supervisor.done;
  } finally {
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
    if (written !== undefined) removePidFile(written);
    // The last lines (a worker killed at the stop, say) are worth a moment,
    // but a reader that stopped reading must not hold the exit. stdout
    // first: what it dropped is told on stderr.
    await stdout.drained(OUTPUT_DRAIN_MS);
    await stderr.drained(OUTPUT_DRAIN_MS);
  }
}

/**
 * Returns why `workers` processes cannot share a port on `os`, or
 * `undefined` if they can. Elsewhere than on Linux, `SO_REUSEPORT` lets
 * several sockets bind but does not spread connections across them, so
 * all but one worker would sit idle.
 *
 * @example
 * ```ts
 * import { checkWorkerPlatform } from "./workers.ts";
 * checkWorkerPlatform(4, "linux"); // undefined
 * checkWorkerPlatform(4, "darwin"); // "Cannot run 4 workers on darwin: …"
 * ```
 */
export function checkWorkerPlatform(
  workers: number,
  os: typeof Deno.build.os,
): string | undefined {
  if (workers <= 1 || BALANCING_OS.includes(os)) return undefined;
  return `Cannot run ${workers} workers on ${os}: only Linux spreads connections across SO_REUSEPORT listeners; use -w 1`;
}

/** The Linux switch that hands a closing listener's queue to its siblings. */
const MIGRATE_SYSCTL = "/proc/sys/net/ipv4/tcp_migrate_req";

/**
 * A note for the reload when the kernel will reset the connections still
 * queued on a stopping worker's socket rather than move them to a live
 * one. Silent when the setting cannot be read without asking.
 */
function migrationWarning(): string | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const access = Deno.permissions.querySync({
      name: "read",
      path: MIGRATE_SYSCTL,
    });
    if (access.state !== "granted") return undefined;
    if (Deno.readTextFileSync(MIGRATE_SYSCTL).trim() !== "0") return undefined;
  } catch {
    return undefined; // Older kernel without the setting, or no /proc.
  }
  return "note: net.ipv4.tcp_migrate_req is 0, so connections still queued on a stopping worker are reset; set it to 1 for a reload without failed requests";
}

/**
 * Checks that nothing listens on the address and resolves port 0 to a free
 * port, by binding once and closing again at once: a listener kept open
 * here would take its share of connections and never accept them. The
 * probe does not ask for `reusePort`, so that it fails on another server's
 * reuse-port group too: joining that would split the traffic between two
 * servers. Returns the port, or an error message.
 */
function bindProbe(hostname: string, port: number): number | string {
  const address = formatAuthority(hostname, port);
  try {
    const listener = Deno.listen({ hostname, port });
    const bound = listener.addr.port;
    listener.close();
    return bound;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      return `Cannot listen on ${address}: address already in use`;
    }
    return `Cannot listen on ${address}: ${errorMessage(error)}`;
  }
}
