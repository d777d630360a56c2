/**
 * The command line the supervisor runs for one worker.
 *
 * @module
 */

import { formatAuthority } from "./_authority.ts";
import { V8_FLAGS } from "./runtime_flags.ts";

/** What a worker command is built from. */
export interface WorkerCommandOptions {
  /** CLI arguments shared by every worker, without the supervisor's flags. */
  workerArgs: string[];
  /** Absolute real path of the document root. */
  root: string;
  /** Listen address. */
  hostname: string;
  /** Listen port, already resolved (never 0). */
  port: number;
  /** Module run by `deno run`; unused in a compiled binary. */
  workerModule: string;
  /**
   * Whether this process is a `deno compile` binary, whose permissions are
   * embedded and whose arguments are the program's own.
   *
   * @default {Deno.build.standalone}
   */
  standalone?: boolean;
}

/**
 * Builds the arguments for `Deno.execPath()` that start worker `id`.
 *
 * The root and port are added here, after the shared arguments, as the
 * supervisor resolved them: the root must be the real path the read
 * permission names, and port 0 must already be the one port every worker
 * shares.
 *
 * @example
 * ```ts
 * import { createWorkerArgs } from "./_worker_command.ts";
 * const args = createWorkerArgs({
 *   workerArgs: ["--quiet"],
 *   root: "/srv/www",
 *   hostname: "127.0.0.1",
 *   port: 8080,
 *   workerModule: "file:///app/httpd.ts",
 *   standalone: false,
 * }, 2);
 * // ["run", "--allow-read=/srv/www", "--allow-net=127.0.0.1:8080",
 * //  "--unstable-net", "--v8-flags=--max-semi-space-size=2",
 * //  "file:///app/httpd.ts", "--quiet", "-r", "/srv/www",
 * //  "-p", "8080", "--worker-id", "2"]
 * ```
 */
export function createWorkerArgs(
  options: WorkerCommandOptions,
  id: number,
): string[] {
  const programArgs = [
    ...options.workerArgs,
    "-r",
    options.root,
    "-p",
    String(options.port),
    "--worker-id",
    String(id),
  ];
  if (options.standalone ?? Deno.build.standalone) {
    // A compiled binary runs its embedded module with its embedded
    // permissions; it takes no runtime flags.
    return programArgs;
  }
  return [
    "run",
    `--allow-read=${options.root}`,
    `--allow-net=${formatAuthority(options.hostname, options.port)}`,
    // Explicit so workers can use reusePort even when the supervisor was
    // started with --unstable-net instead of a deno.json that says so.
    "--unstable-net",
    V8_FLAGS,
    options.workerModule,
    ...programArgs,
  ];
}
