/**
 * `deno task soak`: steady load plus abrupt aborts against a fresh server
 * for a bounded number of minutes, sampling its RSS and open descriptors.
 *
 * ```sh
 * deno task soak                 # 2 minutes
 * deno task soak --minutes 10 --connections 64 --sample 5
 * ```
 *
 * Load comes from `wrk` when it is installed (keep-alive GETs of a small
 * file), otherwise from a built-in keep-alive client. Alongside, an abort
 * client opens connections and drops them mid-head, mid-body and after
 * unread big responses. Prints one row per sample and a summary; exits 1 if
 * the server dies, stops serving, or its descriptors do not return to the
 * baseline afterwards.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fetchRaw, RawClient, sleep } from "./_raw.ts";
import {
  BIG_PATH,
  FD_SLACK,
  runTool,
  SMALL_PATH,
  startServer,
  stopAndReport,
  waitForFds,
  warmUp,
} from "./_server.ts";
import { V8_FLAGS } from "../../server/runtime_flags.ts";
import { integerFlag } from "./_flags.ts";

const USAGE =
  `Usage: deno task soak [--minutes N] [--connections N] [--sample SECONDS]
  --minutes      load duration, 1 to 60 (default 2)
  --connections  keep-alive load connections, 1 to 512 (default 32)
  --sample       seconds between samples, 1 to 60 (default 5)
  --mode         both, load (no aborts) or aborts (no steady load); default both`;

const HOST = "Host: 127.0.0.1\r\n";

async function hasWrk(): Promise<boolean> {
  try {
    // wrk --version exits 1 after printing its version; running is enough.
    await new Deno.Command("wrk", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return true;
  } catch {
    return false;
  }
}

/** Keep-alive GET loop used when wrk is missing; returns the request count. */
async function builtinLoad(
  port: number,
  connections: number,
  until: number,
): Promise<number> {
  let done = 0;
  const request = `GET ${SMALL_PATH} HTTP/1.1\r\n${HOST}\r\n`;
  const lane = async () => {
    while (Date.now() < until) {
      await using client = await RawClient.open(port);
      for (let i = 0; i < 1000 && Date.now() < until; i++) {
        if (!await client.write(request)) break;
        const response = await client.readResponse({ timeoutMs: 15_000 });
        if (typeof response === "string") break;
        done++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, lane));
  return done;
}

/** Opens connections and drops them at awkward points until `until`. */
async function abortLoad(port: number, until: number): Promise<number> {
  const actions: ((c: RawClient) => Promise<unknown>)[] = [
    async () => {},
    (c) => c.write(`GET ${SMALL_PATH} HTTP/1.1\r\n${HOST}X-Half: `),
    (c) =>
      c.write(
        `POST ${SMALL_PATH} HTTP/1.1\r\n${HOST}Content-Length: 50000\r\n\r\nab`,
      ),
    async (c) => {
      await c.write(`GET ${BIG_PATH} HTTP/1.1\r\n${HOST}\r\n`);
      await c.readChunk(1000);
    },
    async (c) => {
      // A slow reader: a few small reads of a big body, then gone.
      await c.write(`GET ${BIG_PATH} HTTP/1.1\r\n${HOST}\r\n`);
      for (let i = 0; i < 5; i++) {
        await c.readChunk(500);
        await sleep(100);
      }
    },
  ];
  let done = 0;
  const lane = async (offset: number) => {
    for (let i = offset; Date.now() < until; i += 4) {
      await using client = await RawClient.open(port);
      await actions[i % actions.length](client);
      done++;
      await sleep(20);
    }
  };
  await Promise.all([0, 1, 2, 3].map(lane));
  return done;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      minutes: { type: "string" },
      connections: { type: "string" },
      sample: { type: "string" },
      mode: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const minutes = integerFlag("minutes", values.minutes, 2, 60);
  const connections = integerFlag("connections", values.connections, 32, 512);
  const sampleS = integerFlag("sample", values.sample, 5, 60);
  const mode = values.mode ?? "both";
  if (mode !== "both" && mode !== "load" && mode !== "aborts") {
    throw new Error(`Invalid --mode: ${mode}`);
  }

  await using server = await startServer({
    // The heap settings every entry point runs with (deno task start, the
    // workers, the benchmark), so the RSS figures are the ones users see.
    permissions: ["-A", V8_FLAGS],
    args: ["--header-timeout", "5", "--idle-timeout", "5"],
  });
  const baselineFds = await warmUp(server);
  const baselineRss = server.rssKiB();
  const useWrk = await hasWrk();
  const durationS = minutes * 60;
  const until = Date.now() + durationS * 1000;
  console.log(
    `soak: ${minutes} min against 127.0.0.1:${server.port} (pid ${server.pid}); ` +
      `load: ${
        useWrk ? "wrk" : "built-in client"
      }, ${connections} connections; mode ${mode}; ` +
      `baseline RSS ${(baselineRss / 1024).toFixed(1)} MiB, fds ${baselineFds}`,
  );

  const load = mode === "aborts"
    ? Promise.resolve("none")
    : useWrk
    ? new Deno.Command("wrk", {
      args: [
        "-t1",
        `-c${connections}`,
        `-d${durationS}s`,
        `--timeout`,
        "10s",
        `http://127.0.0.1:${server.port}${SMALL_PATH}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output().then((out) => new TextDecoder().decode(out.stdout))
    : builtinLoad(server.port, connections, until).then((n) => `${n} requests`);
  const aborts = mode === "load"
    ? Promise.resolve(0)
    : abortLoad(server.port, until);

  const samples: { t: number; rssKiB: number; fds: number }[] = [];
  const started = Date.now();
  console.log("   t(s)  RSS(MiB)   fds");
  while (Date.now() < until + 1000 && server.alive()) {
    const sample = {
      t: Math.round((Date.now() - started) / 1000),
      rssKiB: server.rssKiB(),
      fds: server.fdCount(),
    };
    samples.push(sample);
    console.log(
      `${String(sample.t).padStart(7)}  ${
        (sample.rssKiB / 1024).toFixed(1).padStart(8)
      }  ${String(sample.fds).padStart(5)}`,
    );
    await sleep(
      Math.min(sampleS * 1000, Math.max(0, until + 1000 - Date.now())),
    );
  }
  const loadSummary = await load;
  const abortCount = await aborts;

  let failed = false;
  if (!server.alive()) {
    console.log(`FAIL: the server died: ${server.stderr()}`);
    return 1;
  }
  const check = await fetchRaw(server.port, SMALL_PATH);
  if (check.status !== 200) {
    console.log(`FAIL: after the soak ${SMALL_PATH} got ${check.status}`);
    failed = true;
  }
  const finalFds = await waitForFds(server, baselineFds, 30_000);
  // A quiet pause lets the collector give back what it can.
  await sleep(5000);
  const finalRss = server.rssKiB();
  const half = Math.floor(samples.length / 2);
  const maxOf = (part: typeof samples) =>
    Math.max(...part.map((s) => s.rssKiB)) / 1024;
  const rss = samples.map((s) => s.rssKiB / 1024);
  const fds = samples.map((s) => s.fds);
  console.log(`load: ${loadSummary.trim().split("\n").join("\n      ")}`);
  console.log(`aborted connections: ${abortCount}`);
  console.log(
    `RSS MiB: baseline ${(baselineRss / 1024).toFixed(1)}, min ${
      Math.min(...rss).toFixed(1)
    }, ` +
      `max ${Math.max(...rss).toFixed(1)}, after a 5 s pause ${
        (finalRss / 1024).toFixed(1)
      }`,
  );
  if (half > 0) {
    console.log(
      `RSS MiB max, first half ${maxOf(samples.slice(0, half)).toFixed(1)}, ` +
        `second half ${maxOf(samples.slice(half)).toFixed(1)}`,
    );
  }
  console.log(
    `fds: baseline ${baselineFds}, min ${Math.min(...fds)}, max ${
      Math.max(...fds)
    }, ` +
      `after ${finalFds}`,
  );
  if (finalFds > baselineFds + FD_SLACK) {
    console.log(
      `FAIL: descriptors did not return to baseline (${finalFds} > ${baselineFds})`,
    );
    failed = true;
  }
  if (!await stopAndReport(server)) failed = true;
  return failed ? 1 : 0;
}

if (import.meta.main) await runTool(main, USAGE);
