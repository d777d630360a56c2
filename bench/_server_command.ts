/**
 * The exact command line of each server under test.
 *
 * @module
 */
import { V8_FLAGS } from "../server/runtime_flags.ts";
import type { ServerSpec } from "./_types.ts";

/** Where and how a server runs. */
export interface ServerContext {
  /** Document root. */
  root: string;
  /** Loopback port. */
  port: number;
  /** Private directory for this server's config, logs and pid. */
  stateDir: string;
  /** The httpd entry point. */
  httpdPath: string;
  /** CPU to pin the server to, or undefined for no pinning. */
  cpu?: number;
}

const BASELINE = new URL("./baseline_deno_serve.ts", import.meta.url).pathname;
const CEILING = new URL("./ceiling_deno_listen.ts", import.meta.url).pathname;

/** argv that starts `spec` in the foreground. */
export function createServerCommand(
  spec: ServerSpec,
  ctx: ServerContext,
): string[] {
  const pin = ctx.cpu === undefined ? [] : ["taskset", "-c", `${ctx.cpu}`];
  return [...pin, ...serverArgv(spec, ctx)];
}

function serverArgv(spec: ServerSpec, ctx: ServerContext): string[] {
  const deno = Deno.execPath();
  switch (spec.kind) {
    case "httpd": {
      const permissions = spec.scoped
        ? ["--allow-net", `--allow-read=${ctx.root}`]
        : ["-A"];
      return [
        deno,
        "run",
        ...permissions,
        V8_FLAGS,
        ctx.httpdPath,
        "-r",
        ctx.root,
        "-p",
        `${ctx.port}`,
        "--host",
        "127.0.0.1",
        "-w",
        `${spec.workers}`,
        ...(spec.accessLog ? [] : ["--quiet"]),
      ];
    }
    case "nginx":
      return [
        "nginx",
        "-p",
        ctx.stateDir,
        "-e",
        `${ctx.stateDir}/error.log`,
        "-c",
        `${ctx.stateDir}/nginx.conf`,
      ];
    case "deno-serve":
    case "deno-listen":
      return [
        deno,
        "run",
        "--allow-net=127.0.0.1",
        `--allow-read=${ctx.root}`,
        V8_FLAGS, // the same heap settings as httpd, for a fair RSS figure
        spec.kind === "deno-serve" ? BASELINE : CEILING,
        ctx.root,
        `${ctx.port}`,
      ];
  }
}
