/**
 * The comparisons the harness runs: which servers, which modes, which one
 * is the reference for ratios, and whether server and client are pinned.
 *
 * @module
 */
import { type ModeId, MODES } from "./_modes.ts";
import type { ModeSpec, ServerSpec } from "./_types.ts";

/** One side-by-side comparison. */
export interface SuiteSpec {
  /** Results are written as `bench/results/<name>.*`. */
  name: string;
  title: string;
  servers: ServerSpec[];
  modes: ModeSpec[];
  /** Server id whose median is the denominator of every ratio. */
  reference: string;
  /** Pin servers to CPU 0 and the client to CPU 1 (one-worker suites). */
  pinned: boolean;
}

const HTTPD: ServerSpec = {
  id: "httpd",
  label: "httpd -w 1",
  kind: "httpd",
  workers: 1,
};
const NGINX: ServerSpec = {
  id: "nginx",
  label: "nginx 1 worker",
  kind: "nginx",
  workers: 1,
};
const DENO_SERVE: ServerSpec = {
  id: "deno-serve",
  label: "Deno.serve baseline",
  kind: "deno-serve",
  workers: 1,
};
const CEILING: ServerSpec = {
  id: "ceiling",
  label: "Deno.listen ceiling",
  kind: "deno-listen",
  workers: 1,
};

function modes(...ids: ModeId[]): ModeSpec[] {
  return ids.map((id) => MODES[id]);
}

const SMALL = modes("ab-k-1k", "ab-r-1k", "wrk-1k");
const ALL = modes(
  "ab-k-1k",
  "ab-r-1k",
  "wrk-1k",
  "wrk-38b",
  "wrk-954k",
  "wrk-10m",
);

/**
 * Issue 4: httpd vs nginx vs Deno.serve, one worker each, with the
 * canned-answer ceiling of TypeScript over `Deno.Conn` beside them.
 */
export const COMPARE: SuiteSpec = {
  name: "compare",
  title: "httpd vs nginx vs Deno.serve, and the Deno.listen ceiling " +
    "(1 worker, pinned)",
  servers: [HTTPD, NGINX, DENO_SERVE, CEILING],
  modes: ALL,
  reference: "nginx",
  pinned: true,
};

/** Issue 3: -w 1 vs -w 2 vs nginx with two workers, unpinned. */
export const WORKERS: SuiteSpec = {
  name: "workers",
  title: "httpd -w 1 vs -w 2 vs nginx worker_processes 2 (unpinned)",
  servers: [
    HTTPD,
    { ...HTTPD, id: "httpd-w2", label: "httpd -w 2", workers: 2 },
    { ...NGINX, id: "nginx-w2", label: "nginx 2 workers", workers: 2 },
  ],
  modes: SMALL,
  reference: "nginx-w2",
  pinned: false,
};

/** Issue 5: the cost of the access log, next to nginx's. */
export const ACCESS_LOG: SuiteSpec = {
  name: "access-log",
  title: "Access log on vs --quiet (1 worker, pinned, log to a file)",
  servers: [
    { ...HTTPD, label: "httpd --quiet" },
    { ...HTTPD, id: "httpd-log", label: "httpd access log", accessLog: true },
    { ...NGINX, label: "nginx access_log off" },
    {
      ...NGINX,
      id: "nginx-log",
      label: "nginx access_log on",
      accessLog: true,
    },
  ],
  modes: modes("ab-k-1k", "wrk-1k"),
  reference: "nginx",
  pinned: true,
};

/** Issue 4: `-A` vs `--allow-net --allow-read=ROOT`. */
export const PERMISSIONS: SuiteSpec = {
  name: "permissions",
  title: "httpd -A vs permission-scoped (1 worker, pinned)",
  servers: [
    { ...HTTPD, label: "httpd -A" },
    { ...HTTPD, id: "httpd-scoped", label: "httpd scoped", scoped: true },
    NGINX,
  ],
  modes: modes("ab-k-1k", "ab-r-1k", "wrk-1k", "wrk-954k", "wrk-10m"),
  reference: "nginx",
  pinned: true,
};
