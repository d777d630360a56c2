/**
 * Runs one suite: start every server and check it, then for each mode warm
 * every server up and alternate the servers round by round, and fold the
 * runs into cells.
 *
 * @module
 */
import type { ClientFamily, LoadSettings } from "./_clients.ts";
import type { MachineInfo } from "./_machine.ts";
import { runLoad } from "./_load.ts";
import { checkServer } from "./_sanity.ts";
import { type RunningServer, startServer } from "./_server_process.ts";
import { aggregate } from "./_stats.ts";
import type { SuiteSpec } from "./_suites.ts";
import type {
  ModeSpec,
  RunRecord,
  ServerOutcome,
  ServerSpec,
  SuiteResult,
} from "./_types.ts";
import { formatValue } from "./_units.ts";
import { errorMessage } from "../server/error_report.ts";

/** How a suite is run. */
export interface RunSettings {
  family: ClientFamily;
  rounds: number;
  requests: number;
  durationSeconds: number;
  ohaJsonFlag?: string[];
  /** Document root with the fixtures. */
  root: string;
  /** Parent of each server's private state directory. */
  stateDir: string;
  /** Project directory: the servers' working directory. */
  cwd: string;
  httpdPath: string;
  /**
   * Checks a started server's answers before it is measured: its problems,
   * one sentence each.
   *
   * @default {checkServer}
   */
  check?: (origin: string) => Promise<string[]>;
}

const SERVER_CPU = 0;
const CLIENT_CPU = 1;
const PAUSE_MS = 300;

/** Runs `suite` and returns its result; servers are always stopped. */
export async function runSuite(
  suite: SuiteSpec,
  settings: RunSettings,
  machine: MachineInfo,
  command: string,
): Promise<SuiteResult> {
  const startedAt = new Date().toISOString();
  const load: LoadSettings = {
    requests: settings.requests,
    durationSeconds: settings.durationSeconds,
    cpu: suite.pinned ? CLIENT_CPU : undefined,
    serverCpu: suite.pinned ? SERVER_CPU : undefined,
    ohaJsonFlag: settings.ohaJsonFlag,
  };
  const outcomes: ServerOutcome[] = [];
  const running: RunningServer[] = [];
  const runs: RunRecord[] = [];
  try {
    for (const spec of suite.servers) {
      const server = await start(spec, suite, settings, outcomes);
      if (server) running.push(server);
    }
    for (const mode of suite.modes) {
      for (const server of running) {
        await warmUp(settings.family, server, mode, load);
      }
      for (let round = 1; round <= settings.rounds; round++) {
        for (const server of roundOrder(running, round)) {
          const run = await runLoad(settings.family, server, mode, load, round);
          runs.push(run);
          report(suite.name, run, settings.rounds, mode);
          await pause(PAUSE_MS);
        }
      }
    }
  } finally {
    for (const server of running) await server.stop();
  }
  for (const server of running) {
    const outcome = outcomes.find((o) => o.id === server.spec.id);
    if (outcome) outcome.accessLogBytes = await fileSize(server.accessLogPath);
  }
  return {
    name: suite.name,
    title: suite.title,
    reference: suite.reference,
    pinned: suite.pinned,
    command,
    startedAt,
    finishedAt: new Date().toISOString(),
    loadAverageAtEnd: Deno.readTextFileSync("/proc/loadavg").trim(),
    machine,
    settings: {
      client: settings.family,
      rounds: settings.rounds,
      requests: settings.requests,
      durationSeconds: settings.durationSeconds,
    },
    servers: outcomes,
    modes: suite.modes,
    cells: aggregate(
      runs,
      suite.modes,
      running.map((s) => s.spec.id),
      suite.reference,
    ),
    runs,
  };
}

/**
 * The order in which round `round` (from 1) runs `servers`: each round
 * starts one further along, so that over as many rounds as there are
 * servers each runs in each place once, first as often as last. Only the
 * place is balanced: the order is rotated, not shuffled, so a server
 * always follows the same one.
 *
 * @example
 * ```ts
 * import { roundOrder } from "./_runner.ts";
 * roundOrder(["a", "b", "c"], 2); // ["b", "c", "a"]
 * ```
 */
export function roundOrder<T>(servers: readonly T[], round: number): T[] {
  if (servers.length === 0) return [];
  const first = (round - 1) % servers.length;
  return [...servers.slice(first), ...servers.slice(0, first)];
}

async function start(
  spec: ServerSpec,
  suite: SuiteSpec,
  settings: RunSettings,
  outcomes: ServerOutcome[],
): Promise<RunningServer | undefined> {
  const outcome: ServerOutcome = {
    id: spec.id,
    label: spec.label,
    problems: [],
  };
  outcomes.push(outcome);
  let server: RunningServer | undefined;
  try {
    server = await startServer(spec, {
      root: settings.root,
      port: freePort(),
      stateDir: `${settings.stateDir}/${suite.name}-${spec.id}`,
      httpdPath: settings.httpdPath,
      cpu: suite.pinned ? SERVER_CPU : undefined,
    }, settings.cwd);
    outcome.command = server.command.join(" ");
    outcome.problems = await (settings.check ?? checkServer)(server.origin);
    if (outcome.problems.length === 0) return server;
    // A fast wrong answer must not count: such a server is not measured.
    for (const problem of outcome.problems) {
      console.warn(`[${suite.name}] ${spec.id}: ${problem}`);
    }
    console.warn(`[${suite.name}] not measuring ${spec.id}: wrong answers`);
    await server.stop();
    return undefined;
  } catch (error) {
    outcome.error = errorMessage(error);
    console.warn(`[${suite.name}] skipping ${spec.id}: ${outcome.error}`);
    // Started, then failed its check: stopped here, since no suite's
    // cleanup knows of it.
    await server?.stop();
    return undefined;
  }
}

/**
 * An unrecorded run of `mode` before its first round, so that no round
 * measures a cold path: V8 optimizes the code each mode exercises (a
 * keep-alive request, a new connection, a big file's stream) only once it
 * runs hot, and keeps at it well past 10,000 requests. After that few, the
 * first 50,000 of ab -k ran 10% slower than the next ones; warmed up with
 * ab -k alone, httpd's first ab -r run reached 0.87× nginx where the next
 * ones reached about 1.0×.
 */
async function warmUp(
  family: ClientFamily,
  server: RunningServer,
  mode: ModeSpec,
  load: LoadSettings,
): Promise<void> {
  await runLoad(family, server, mode, warmUpLoad(load), 0);
}

/**
 * The warm-up's load: twice a recorded ab run's requests, at most 100,000,
 * or half a recorded wrk run's duration, at least a second.
 */
export function warmUpLoad(load: LoadSettings): LoadSettings {
  return {
    ...load,
    requests: Math.min(load.requests * 2, 100_000),
    durationSeconds: Math.max(1, Math.ceil(load.durationSeconds / 2)),
  };
}

function report(suite: string, run: RunRecord, rounds: number, mode: ModeSpec) {
  const what = `[${suite}] ${run.mode} ${run.round}/${rounds} ${run.server}`;
  if (run.error) {
    console.log(`${what}: error: ${run.error}`);
    return;
  }
  const rss = (run.peakTreeRssBytes / 2 ** 20).toFixed(0);
  console.log(
    `${what}: ${formatValue(run.value, mode.metric)} ` +
      `(${run.failed} failed, ${run.non2xx} non-2xx, ${rss} MiB)`,
  );
}

/** A port free right now on loopback (the kernel picks it). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function fileSize(path: string): Promise<number> {
  return (await Deno.stat(path).catch(() => ({ size: 0 }))).size;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
