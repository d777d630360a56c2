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

/** Every suite, in the order `--all` runs them. */
export const SUITES: readonly SuiteSpec[] = [
  COMPARE,
  WORKERS,
  ACCESS_LOG,
  PERMISSIONS,
];

/**
 * The suites named, narrowed to the server and mode ids given (all when
 * none are). Throws on an id that none of them has, or a suite left without
 * a server or a mode: a typo would otherwise run nothing and overwrite a
 * real run's results with an empty table.
 */
export function selectSuites(
  names: readonly string[],
  serverIds?: readonly string[],
  modeIds?: readonly string[],
): SuiteSpec[] {
  const chosen = names.map((name) => {
    const suite = SUITES.find((s) => s.name === name);
    if (suite === undefined) throw new Error(`Unknown suite: ${name}`);
    return suite;
  });
  const unknown = (ids: readonly string[] | undefined, known: string[]) =>
    ids?.filter((id) => !known.includes(id)) ?? [];
  const servers = chosen.flatMap((s) => s.servers.map((server) => server.id));
  const modes = chosen.flatMap((s) => s.modes.map((mode) => mode.id));
  for (
    const [what, ids, known] of [
      ["server", serverIds, servers],
      ["mode", modeIds, modes],
    ] as const
  ) {
    const missing = unknown(ids, known);
    if (missing.length > 0) {
      throw new Error(
        `Unknown ${what}: ${missing.join(", ")} (known: ${
          [...new Set(known)].join(", ")
        })`,
      );
    }
  }
  return chosen.map((suite) => {
    const narrowed = {
      ...suite,
      servers: suite.servers.filter((s) => serverIds?.includes(s.id) ?? true),
      modes: suite.modes.filter((m) => modeIds?.includes(m.id) ?? true),
    };
    if (narrowed.servers.length === 0 || narrowed.modes.length === 0) {
      throw new Error(
        `Suite ${suite.name} has none of the ${
          narrowed.servers.length === 0 ? "servers" : "modes"
        } asked for`,
      );
    }
    return narrowed;
  });
}
