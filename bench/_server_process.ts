/**
 * Starts a server under test in the foreground, waits until it answers, and
 * stops it together with every process it spawned.
 *
 * @module
 */
import { fetchWithin } from "./_fetch.ts";
import { FIXTURES } from "./_fixtures.ts";
import { formatNginxConf } from "./_nginx_conf.ts";
import { listProcessTree } from "./_rss.ts";
import { createServerCommand, type ServerContext } from "./_server_command.ts";
import type { ServerSpec } from "./_types.ts";
import { errorMessage } from "../server/error_report.ts";

/** A started server. */
export interface RunningServer {
  spec: ServerSpec;
  /** Pid of the server's root process (the shell execs into it). */
  pid: number;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** The command line, for the record. */
  command: string[];
  /** Where its access log goes (httpd: stdout; nginx: a file). */
  accessLogPath: string;
  /** SIGTERM to the root, then, once it exits or after 5 s, SIGKILL to whatever of the tree (as listed before) is left. */
  stop(): Promise<void>;
}

/** Stop functions of the servers started and not yet stopped. */
const live = new Set<() => Promise<void>>();

/** Stops every server still running (for a signal handler). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...live].map((stop) => stop()));
}

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
/** Redirects through the shell, then execs, so the pid is the server's own. */
const EXEC_REDIRECTED = 'o=$1; e=$2; shift 2; exec "$@" >"$o" 2>"$e"';

/** Starts `spec`; throws with the server's stderr if it does not come up. */
export async function startServer(
  spec: ServerSpec,
  ctx: ServerContext,
  cwd: string,
): Promise<RunningServer> {
  await Deno.mkdir(ctx.stateDir, { recursive: true });
  if (spec.kind === "nginx") {
    const conf = formatNginxConf({
      root: ctx.root,
      port: ctx.port,
      workers: spec.workers,
      stateDir: ctx.stateDir,
      accessLog: spec.accessLog ?? false,
    });
    await Deno.writeTextFile(`${ctx.stateDir}/nginx.conf`, conf);
  }
  const command = createServerCommand(spec, ctx);
  const stdoutPath = `${ctx.stateDir}/stdout.log`;
  const stderrPath = `${ctx.stateDir}/stderr.log`;
  const child = new Deno.Command("sh", {
    args: ["-c", EXEC_REDIRECTED, "sh", stdoutPath, stderrPath, ...command],
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const origin = `http://127.0.0.1:${ctx.port}`;
  const stop = async () => {
    live.delete(stop);
    await stopTree(child, status);
  };
  live.add(stop);
  try {
    await waitUntilServing(origin + FIXTURES.small.path, () => exited);
  } catch (error) {
    await stop();
    const stderr = await Deno.readTextFile(stderrPath).catch(() => "");
    throw new Error(
      `Cannot start ${spec.id}: ${errorMessage(error)}\n${stderr.trim()}`,
    );
  }
  const accessLogPath = spec.kind === "nginx"
    ? `${ctx.stateDir}/access.log`
    : stdoutPath;
  return { spec, pid: child.pid, origin, command, accessLogPath, stop };
}

async function waitUntilServing(
  url: string,
  hasExited: () => boolean,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error("process exited");
    try {
      const left = Math.max(1, deadline - Date.now());
      if ((await fetchWithin(url, left)).status === 200) return;
    } catch {
      // Not listening yet, or not answering in time.
    }
    await delay(100);
  }
  throw new Error(`no 200 from ${url} within ${READY_TIMEOUT_MS} ms`);
}

async function stopTree(
  child: Deno.ChildProcess,
  status: Promise<Deno.CommandStatus>,
): Promise<void> {
  const tree = listProcessTree(child.pid);
  signal(child.pid, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    status,
    new Promise((resolve) => timer = setTimeout(resolve, STOP_GRACE_MS)),
  ]);
  clearTimeout(timer);
  const survivors = tree.filter(isAlive);
  if (survivors.length > 0) {
    console.warn(`Killing ${survivors.length} process(es) left after SIGTERM`);
  }
  for (const pid of survivors) signal(pid, "SIGKILL");
  await status;
}

function isAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: Deno.Signal): void {
  try {
    Deno.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const id = setTimeout(resolve, ms);
    Deno.unrefTimer(id);
  });
}
