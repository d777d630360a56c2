/**
 * Shared shapes of the benchmark harness: what a server, a load mode, one
 * measured run and one aggregated cell look like.
 *
 * @module
 */
import type { ClientFamily } from "./_clients.ts";
import type { MachineInfo } from "./_machine.ts";

/** What a mode measures: requests per second, or response bytes per second. */
export type Metric = "req/s" | "bytes/s";

/** The load generator invocation style a mode uses. */
export type ToolKind = "ab-keepalive" | "ab-close" | "wrk";

/** One load pattern against one file. */
export interface ModeSpec {
  /** Short stable id used in file names and JSON, e.g. `ab-k-1k`. */
  id: string;
  /** Human label for tables and charts. */
  label: string;
  /** Request path on every server, e.g. `/1k.html`. */
  path: string;
  /** How the load is generated. */
  tool: ToolKind;
  /** Concurrent connections. */
  connections: number;
  /** What the figure means. */
  metric: Metric;
}

/** A server under test, before it is started. */
export interface ServerSpec {
  /** Short stable id, e.g. `httpd-w1`. */
  id: string;
  /** Human label for tables and charts. */
  label: string;
  /** Which program this is. */
  kind: "httpd" | "nginx" | "deno-serve" | "deno-listen";
  /** Worker processes (1 for the baseline and the ceiling). */
  workers: number;
  /** httpd only: run with `--allow-net --allow-read=ROOT` instead of `-A`. */
  scoped?: boolean;
  /** httpd: write the access log (no `--quiet`); nginx: `access_log` on. */
  accessLog?: boolean;
}

/** What the client reported for one run. */
export interface LoadResult {
  /** Requests per second or bytes per second, per the mode's metric. */
  value: number;
  /** Completed requests. */
  requests: number;
  /** Failed requests (connect, read, write, timeout, length errors). */
  failed: number;
  /** Responses whose status was not 2xx. */
  non2xx: number;
  /** Response bytes received (headers and bodies). */
  bytes: number;
  /** Wall time of the run in seconds. */
  seconds: number;
}

/** One measured run of one mode against one server. */
export interface RunRecord extends LoadResult {
  server: string;
  mode: string;
  round: number;
  /** Peak summed RSS of the server's process tree during the run. */
  peakTreeRssBytes: number;
  /** Peak RSS of the largest single process of the tree during the run. */
  peakProcessRssBytes: number;
  /** CPU seconds (user + system) the server's tree spent during the run. */
  serverCpuSeconds: number;
  /**
   * Share of the client's core that was busy during the run, 0 to 1, when
   * client and server are pinned to cores of their own.
   */
  clientCoreBusy?: number;
  /** Share of the server's core that was busy, likewise. */
  serverCoreBusy?: number;
  /** Set when the client failed to produce a result. */
  error?: string;
  /** The client command line. */
  command: string;
}

/** Aggregate of all rounds of one mode against one server. */
export interface Cell {
  server: string;
  mode: string;
  metric: Metric;
  median: number;
  min: number;
  max: number;
  /** Median divided by the reference server's median, if that exists. */
  ratio?: number;
  /** Median of requests (req/s modes) or bytes (bytes/s) per server CPU-second. */
  perCpuSecond: number;
  /** perCpuSecond divided by the reference server's, if that exists. */
  perCpuRatio?: number;
  /** Median busy share of the client's core over the rounds, when pinned. */
  clientCoreBusy?: number;
  /** Median busy share of the server's core over the rounds, when pinned. */
  serverCoreBusy?: number;
  /** Sum over rounds. */
  failed: number;
  /** Sum over rounds. */
  non2xx: number;
  /** Runs that produced no result. */
  errors: number;
  peakTreeRssBytes: number;
  peakProcessRssBytes: number;
  values: number[];
}

/** A server as it went: its command, or why it did not start. */
export interface ServerOutcome {
  id: string;
  label: string;
  command?: string;
  error?: string;
  /** Sanity-check failures (wrong status or length). */
  problems: string[];
  /** Size of the access log it wrote, if any. */
  accessLogBytes?: number;
}

/** Everything a suite produced; written as JSON and rendered. */
export interface SuiteResult {
  name: string;
  title: string;
  reference: string;
  pinned: boolean;
  command: string;
  startedAt: string;
  finishedAt: string;
  loadAverageAtEnd: string;
  machine: MachineInfo;
  settings: {
    client: ClientFamily;
    rounds: number;
    requests: number;
    durationSeconds: number;
  };
  servers: ServerOutcome[];
  modes: ModeSpec[];
  cells: Cell[];
  runs: RunRecord[];
}
