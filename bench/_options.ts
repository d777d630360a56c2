/**
 * Command-line options of `bench/run.ts`.
 *
 * @module
 */
import type { ClientFamily } from "./_clients.ts";
import { MODES } from "./_modes.ts";

/** ab refuses fewer requests than connections; its modes open this many. */
const AB_CONNECTIONS = Math.max(
  ...Object.values(MODES).filter((m) => m.tool.startsWith("ab"))
    .map((m) => m.connections),
);

/** Parsed options. */
export interface BenchOptions {
  /** Suite names to run, in order. */
  suites: string[];
  /** Smoke run: one round, few requests, short durations. */
  quick: boolean;
  /** Rounds per (mode, server). @default 3 (1 with --quick) */
  rounds: number;
  /** Requests per ab run. @default 50000 (5000 with --quick) */
  requests: number;
  /** Seconds per wrk run. @default 10 (2 with --quick) */
  durationSeconds: number;
  /**
   * Only these server ids, if given; when undefined, every server of the
   * suite runs.
   *
   * @default {undefined}
   */
  servers?: string[];
  /**
   * Only these mode ids, if given; when undefined, every mode of the suite
   * runs.
   *
   * @default {undefined}
   */
  modes?: string[];
  /** Load generator family; "auto" picks oha when installed. @default "auto" */
  client: ClientFamily | "auto";
  /** The httpd entry point. @default "httpd.ts" */
  httpd: string;
  /** Keep the temp directory (document root, configs, logs). */
  keep: boolean;
  help: boolean;
}

/** Usage text. */
export const USAGE = `Usage: deno run -A bench/run.ts [options]

Runs httpd, nginx, a Deno.serve baseline and a canned-answer Deno.listen
ceiling side by side on loopback and writes bench/results/<suite>.{json,md,svg}.

Suites (default: --compare):
  --compare        httpd vs nginx vs Deno.serve and the ceiling, 1 worker,
                   pinned (issue 4)
  --workers        httpd -w 1 vs -w 2 vs nginx 2 workers (issue 3)
  --log            access log on vs --quiet, and nginx with/without (issue 5)
  --perms          httpd -A vs --allow-net --allow-read=ROOT
  --all            all four

Options:
  --quick          smoke run (1 round, 5000 requests, 2 s wrk): 1-2 min
  --rounds N       rounds per server and mode (default 3)
  --requests N     requests per ab run, at least 100 (default 50000)
  --duration S     seconds per wrk run (default 10)
  --servers A,B    only these server ids (httpd nginx deno-serve ceiling ...)
  --modes A,B      only these modes (ab-k-1k ab-r-1k wrk-1k wrk-38b
                   wrk-954k wrk-10m)
  --client C       auto | oha | ab-wrk (default auto: oha when installed)
  --httpd PATH     httpd entry point (default httpd.ts)
  --keep           keep the temp directory for inspection
  --help           this text
`;

const SUITE_FLAGS: Record<string, string> = {
  "--compare": "compare",
  "--workers": "workers",
  "--log": "access-log",
  "--perms": "permissions",
};

/** Parses `args`; throws on an unknown flag or a bad value. */
export function parseOptions(args: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    suites: [],
    quick: false,
    rounds: NaN,
    requests: NaN,
    durationSeconds: NaN,
    client: "auto",
    httpd: "httpd.ts",
    keep: false,
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`Missing value: ${flag}`);
      return v;
    };
    if (flag in SUITE_FLAGS) o.suites.push(SUITE_FLAGS[flag]);
    else if (flag === "--all") o.suites.push(...Object.values(SUITE_FLAGS));
    else if (flag === "--quick") o.quick = true;
    else if (flag === "--rounds") o.rounds = positive(flag, value());
    else if (flag === "--requests") o.requests = positive(flag, value());
    else if (flag === "--duration") o.durationSeconds = positive(flag, value());
    else if (flag === "--servers") o.servers = value().split(",");
    else if (flag === "--modes") o.modes = value().split(",");
    else if (flag === "--client") o.client = client(value());
    else if (flag === "--httpd") o.httpd = value();
    else if (flag === "--keep") o.keep = true;
    else if (flag === "--help" || flag === "-h") o.help = true;
    else throw new Error(`Unknown option: ${flag}`);
  }
  if (o.suites.length === 0) o.suites.push("compare");
  o.suites = [...new Set(o.suites)];
  o.rounds = isNaN(o.rounds) ? (o.quick ? 1 : 3) : o.rounds;
  o.requests = isNaN(o.requests) ? (o.quick ? 5000 : 50000) : o.requests;
  o.durationSeconds = isNaN(o.durationSeconds)
    ? (o.quick ? 2 : 10)
    : o.durationSeconds;
  if (o.requests < AB_CONNECTIONS) {
    throw new Error(
      `Invalid value for --requests: ${o.requests} (at least ` +
        `${AB_CONNECTIONS}, one per connection of the ab modes)`,
    );
  }
  return o;
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`Invalid value for ${flag}: ${text}`);
  }
  return n;
}

function client(text: string): ClientFamily | "auto" {
  if (text === "auto" || text === "oha" || text === "ab-wrk") return text;
  throw new Error(`Invalid value for --client: ${text}`);
}
