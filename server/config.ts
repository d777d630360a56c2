/**
 * The command line: flags to a validated configuration, or one clear error.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { errorMessage } from "./error_report.ts";

/** Everything the command line decides. */
export interface Config {
  root: string;
  port: number;
  hostname: string;
  /** Worker processes; `-w auto` is resolved to the CPU count. */
  workers: number;
  quiet: boolean;
  dotfiles: boolean;
  cacheControl: string | undefined;
  headerTimeout: number;
  idleTimeout: number;
  /** Seconds an old worker may finish its responses after a reload. */
  reloadGrace: number;
  maxConnections: number;
  /** MiB of file contents each worker keeps in memory. */
  cacheSize: number;
  pidFile: string | undefined;
  /** Set in a worker process started by the supervisor (internal flag). */
  workerId: number | undefined;
}

/** What the command line asked for. */
export type Command =
  | { kind: "serve"; config: Config }
  | { kind: "help" }
  | { kind: "version" };

/** A command line that cannot be run; the message is one line. */
export class UsageError extends Error {
  constructor(message: string) {
    // One line whatever a flag's value holds: a newline or another control
    // character in it is shown as \xNN.
    super(message.replace(
      // deno-lint-ignore no-control-regex
      /[\x00-\x1f\x7f]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
    ));
    this.name = "UsageError";
  }
}

/** The usage text printed by `--help` and after a usage error. */
export const USAGE = `Usage: httpd.ts [options]

Serves the files under a document root over HTTP/1.1.

Options:
  -r, --root DIR            document root (default: www)
  -p, --port N              port, 0 for any free one (default: 8080)
      --host ADDR           address to listen on (default: 0.0.0.0)
  -w, --workers N|auto      worker processes on one port (default: 1)
      --quiet               no access log on stdout
      --dotfiles            serve names starting with a dot
      --cache-control VALUE add Cache-Control: VALUE to files
      --header-timeout S    seconds for a complete request head (default: 10)
      --idle-timeout S      seconds an idle keep-alive connection lives (default: 15)
      --max-connections N   open connections per worker before 503 (default: 4096)
      --reload-grace S      seconds old workers may finish responses after
                            SIGHUP (default: 300)
      --cache-size MIB      file contents kept in memory per worker (default: 32)
      --pid-file PATH       write the (supervisor) process id to PATH
  -h, --help                show this help
  -V, --version             show the version`;

/**
 * Parses and validates the command line arguments.
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "./config.ts";
 * import assert from "node:assert/strict";
 * const command = parseCommandLine(["-r", ".", "-p", "9000"]);
 * assert.equal(command.kind === "serve" && command.config.port, 9000);
 * assert.throws(() => parseCommandLine(["-p", "70000"]), /port/);
 * ```
 */
export function parseCommandLine(args: string[]): Command {
  let values;
  try {
    ({ values } = parseArgs({
      args: withNegativeValues(args),
      strict: true,
      allowPositionals: false,
      options: {
        root: { type: "string", short: "r", default: "www" },
        port: { type: "string", short: "p", default: "8080" },
        host: { type: "string", default: "0.0.0.0" },
        workers: { type: "string", short: "w", default: "1" },
        quiet: { type: "boolean", default: false },
        dotfiles: { type: "boolean", default: false },
        "cache-control": { type: "string" },
        "header-timeout": { type: "string", default: "10" },
        "idle-timeout": { type: "string", default: "15" },
        "max-connections": { type: "string", default: "4096" },
        "reload-grace": { type: "string", default: "300" },
        "cache-size": { type: "string", default: "32" },
        "pid-file": { type: "string" },
        "worker-id": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", short: "V", default: false },
      },
    }));
  } catch (error) {
    // One line, as every usage error: node:util's may span several.
    throw new UsageError(errorMessage(error).split("\n").join(" "));
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  const cacheControl = values["cache-control"];
  if (cacheControl !== undefined && !/^[\x20-\x7e]+$/.test(cacheControl)) {
    throw new UsageError("Invalid --cache-control: printable ASCII only");
  }
  if (values.host === "") throw new UsageError("Invalid --host: empty");
  const workerId = values["worker-id"];
  return {
    kind: "serve",
    config: {
      root: checkRoot(values.root),
      port: integer("--port", values.port, 0, 65535),
      hostname: values.host,
      workers: values.workers === "auto"
        ? navigator.hardwareConcurrency
        : integer("--workers", values.workers, 1, 1024),
      quiet: values.quiet,
      dotfiles: values.dotfiles,
      cacheControl,
      headerTimeout: seconds("--header-timeout", values["header-timeout"]),
      idleTimeout: seconds("--idle-timeout", values["idle-timeout"]),
      reloadGrace: seconds("--reload-grace", values["reload-grace"]),
      maxConnections: integer(
        "--max-connections",
        values["max-connections"],
        1,
        1 << 20,
      ),
      cacheSize: integer("--cache-size", values["cache-size"], 1, 65536),
      pidFile: values["pid-file"],
      workerId: workerId === undefined
        ? undefined
        : integer("--worker-id", workerId, 1, 1 << 20),
    },
  };
}

/**
 * The flags that give a worker process `config`'s settings, but for what
 * the supervisor passes itself (root, port, worker id) or keeps to itself
 * (workers, pid file): {@linkcode parseCommandLine} of them, with those
 * added, gives the same configuration back.
 *
 * @example
 * ```ts
 * import { formatWorkerFlags, parseCommandLine } from "./config.ts";
 * import assert from "node:assert/strict";
 * const command = parseCommandLine(["-r", ".", "-w", "2", "--quiet"]);
 * assert.ok(command.kind === "serve");
 * const flags = formatWorkerFlags(command.config);
 * assert.ok(flags.includes("--quiet"));
 * const worker = parseCommandLine([...flags, "-r", ".", "--worker-id", "1"]);
 * assert.ok(worker.kind === "serve" && worker.config.quiet);
 * ```
 */
export function formatWorkerFlags(config: Config): string[] {
  // One argument each, --flag=value: a value starting with "-" (a
  // Cache-Control extension, say) must not be taken for a flag.
  const flags = [
    `--host=${config.hostname}`,
    `--header-timeout=${config.headerTimeout}`,
    `--idle-timeout=${config.idleTimeout}`,
    `--reload-grace=${config.reloadGrace}`,
    `--max-connections=${config.maxConnections}`,
    `--cache-size=${config.cacheSize}`,
  ];
  if (config.quiet) flags.push("--quiet");
  if (config.dotfiles) flags.push("--dotfiles");
  if (config.cacheControl !== undefined) {
    flags.push(`--cache-control=${config.cacheControl}`);
  }
  return flags;
}

/** The flags whose values are numbers. */
const NUMERIC_FLAGS = new Set([
  "-p",
  "--port",
  "-w",
  "--workers",
  "--header-timeout",
  "--idle-timeout",
  "--max-connections",
  "--reload-grace",
  "--cache-size",
  "--worker-id",
]);

/**
 * `args` with a negative number given to a numeric flag joined to it
 * (`-p -1` as `--port=-1`), so that it is refused by the flag's own range
 * check rather than by node:util, which takes it for a flag and asks for
 * the `--port=-XYZ` spelling.
 */
function withNegativeValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (NUMERIC_FLAGS.has(args[i]) && next !== undefined && /^-\d/.test(next)) {
      const flag = args[i].startsWith("--") ? args[i] : LONG[args[i]];
      joined.push(`${flag}=${next}`);
      i++;
    } else joined.push(args[i]);
  }
  return joined;
}

const LONG: Record<string, string> = { "-p": "--port", "-w": "--workers" };

function integer(
  flag: string,
  value: string,
  min: number,
  max: number,
): number {
  const n = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(
      `Invalid ${flag} '${value}': expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

function seconds(flag: string, value: string): number {
  const n = /^\d{1,6}(\.\d{1,3})?$/.test(value) ? Number(value) : NaN;
  if (!(n > 0 && n <= 86400)) {
    throw new UsageError(
      `Invalid ${flag} '${value}': expected seconds from 0.001 to 86400`,
    );
  }
  return n;
}

function checkRoot(root: string): string {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(root);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such directory"
      : error instanceof Deno.errors.NotCapable ||
          error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new UsageError(`Invalid --root '${root}': ${why}`);
  }
  if (!info.isDirectory) {
    throw new UsageError(`Invalid --root '${root}': not a directory`);
  }
  return root;
}
