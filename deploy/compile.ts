/**
 * `deno task compile`: builds the single binary `dist/httpd` with
 * `deno compile`, embedding the permissions httpd.ts needs.
 *
 * Usage: `deno run -A deploy/compile.ts [--output PATH] [--root DIR]
 * [--install-path PATH]`
 *
 * - `--output PATH` where to write the binary (default `dist/httpd`).
 * - `--root DIR` scopes the embedded read permission to DIR and embeds
 *   `-r DIR`, for a binary that can read nothing else. Without it the binary
 *   may read any path its user can, and the server's own real-path check is
 *   what keeps requests inside the root given with `-r` at run time.
 * - `--install-path PATH` the absolute path the binary will run from. `-w N`
 *   re-runs the binary itself (`Deno.execPath()`), so run permission is
 *   embedded for exactly that one file (default: the output path).
 *
 * `deno compile` needs the `denort` runtime, downloaded from dl.deno.land on
 * first use (and cached in DENO_DIR) or taken from `DENORT_BIN`. When neither
 * works this prints one line saying so and exits with status 3.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { V8_FLAGS } from "../server/runtime_flags.ts";
import { errorMessage } from "../server/error_report.ts";

/** Exit status when the denort runtime is unavailable. */
export const EXIT_NO_RUNTIME = 3;

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));

const USAGE =
  "Usage: deno run -A deploy/compile.ts [--output PATH] [--root DIR] " +
  "[--install-path PATH]";

/** What to build. */
export interface CompileOptions {
  /**
   * Where the binary is written.
   * @default {"dist/httpd"}
   */
  output: string;
  /**
   * Document root to scope the read permission to; unset means read anywhere.
   * @default {undefined}
   */
  root?: string;
  /**
   * Absolute path the binary will be run from, for the run permission.
   * @default {output}
   */
  installPath?: string;
}

/**
 * Builds the `deno compile` argument list for `options`, paths made absolute
 * so nothing depends on the directory the binary is later started from.
 *
 * @example
 * ```ts
 * import { createCompileArgs } from "./compile.ts";
 * import assert from "node:assert/strict";
 * const args = createCompileArgs({ output: "/tmp/httpd" });
 * assert.ok(args.includes("--allow-run=/tmp/httpd"));
 * ```
 */
export function createCompileArgs(options: CompileOptions): string[] {
  const output = resolve(REPO_ROOT, options.output);
  // Deno.execPath() in the binary is a real path, so the run permission
  // must name the real directory too (e.g. /tmp may be a symlink).
  let installPath = options.installPath ?? output;
  if (options.installPath === undefined) {
    try {
      installPath = join(Deno.realPathSync(dirname(output)), basename(output));
    } catch {
      // The directory does not exist yet; the plain absolute path will do.
    }
  }
  // The real path: the server serves from the root's real path, and a
  // permission on a symlinked spelling of it would not match.
  const root = options.root === undefined
    ? undefined
    : Deno.realPathSync(options.root);
  const args = [
    "compile",
    "--unstable-net",
    V8_FLAGS,
    "--no-prompt",
    "--allow-net",
    root === undefined ? "--allow-read" : `--allow-read=${root}`,
    `--allow-run=${installPath}`,
    "--output",
    output,
    resolve(REPO_ROOT, "httpd.ts"),
  ];
  // Arguments after the script are embedded and come before the user's, so
  // a later `-r` on the command line would still win (and then be refused
  // by the sandbox, which is the point of a scoped build).
  if (root !== undefined) args.push("-r", root);
  return args;
}

/**
 * Turns deno's multi-line compile error into one line when the cause is the
 * missing denort runtime; `undefined` for any other failure.
 *
 * @example
 * ```ts
 * import { describeRuntimeFailure } from "./compile.ts";
 * import assert from "node:assert/strict";
 * const stderr = "0: Setting up base binary.\n" +
 *   "1: error sending request for url (https://dl.deno.land/x/denort.zip)";
 * const line = describeRuntimeFailure(stderr, {});
 * assert.ok(line?.startsWith("Cannot compile"));
 * ```
 */
export function describeRuntimeFailure(
  stderr: string,
  env: { DENORT_BIN?: string },
): string | undefined {
  const text = stderr;
  if (env.DENORT_BIN && /Could not find denort|denort/i.test(text)) {
    const cause = text.match(/\d+: (?!Could not find)(.+\(os error \d+\))/);
    return `Cannot compile: DENORT_BIN=${env.DENORT_BIN} is not a usable ` +
      `denort binary${cause ? ` (${cause[1].trim()})` : ""}`;
  }
  const url = text.match(/https:\/\/\S*denort\S*?\.zip/)?.[0];
  if (url || /Setting up base binary/.test(text)) {
    return `Cannot compile: the denort runtime could not be downloaded ` +
      `from ${url ?? "dl.deno.land"} and DENORT_BIN is not set; ` +
      `set DENORT_BIN to a denort ${Deno.version.deno} binary ` +
      `or run where that URL is reachable`;
  }
  return undefined;
}

async function main(): Promise<number> {
  let options: CompileOptions;
  try {
    const { values } = parseArgs({
      args: Deno.args,
      options: {
        output: { type: "string", default: "dist/httpd" },
        root: { type: "string" },
        "install-path": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const installPath = values["install-path"];
    if (installPath !== undefined && !isAbsolute(installPath)) {
      throw new Error("--install-path must be absolute");
    }
    options = { output: values.output, root: values.root, installPath };
  } catch (error) {
    console.error(
      `Cannot parse arguments: ${errorMessage(error)}\n${USAGE}`,
    );
    return 2;
  }
  if (options.root !== undefined) {
    try {
      if (!Deno.statSync(options.root).isDirectory) throw new Error();
    } catch {
      console.error(`Cannot compile: root ${options.root} is not a directory`);
      return 2;
    }
  }

  await Deno.mkdir(dirname(resolve(REPO_ROOT, options.output)), {
    recursive: true,
  });
  const args = createCompileArgs(options);
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: REPO_ROOT,
    // Plain text, so the failure can be recognised and summarised.
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  if (result.success) {
    await Deno.stderr.write(result.stderr);
    const output = resolve(REPO_ROOT, options.output);
    // A DENORT_BIN pointing at the full deno CLI "compiles" fine but yields
    // plain deno; catch that here rather than at the first request.
    const probe = await new Deno.Command(output, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output().catch(() => undefined);
    const version = new TextDecoder().decode(probe?.stdout).trim();
    if (!version.startsWith("httpd.ts")) {
      await Deno.remove(output).catch(() => {});
      console.error(
        `Cannot compile: the built binary answers --version with ` +
          `"${version.split("\n")[0]}" instead of httpd.ts; ` +
          `is DENORT_BIN the deno CLI rather than denort?`,
      );
      return 1;
    }
    console.error(`Built ${output} (${version})`);
    return 0;
  }
  const line = describeRuntimeFailure(stderr, {
    DENORT_BIN: Deno.env.get("DENORT_BIN"),
  });
  if (line !== undefined) {
    console.error(line);
    return EXIT_NO_RUNTIME;
  }
  await Deno.stderr.write(result.stderr);
  console.error("Cannot compile: deno compile failed (see above)");
  return 1;
}

if (import.meta.main) Deno.exit(await main());
