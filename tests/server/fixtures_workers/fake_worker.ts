/**
 * A stand-in worker for the supervisor tests: listens with reusePort,
 * announces itself like httpd.ts does, answers every request with a
 * 200 that names the worker, and logs one stdout line per request.
 *
 * Flags: -r ROOT -p PORT --host HOST --worker-id N, and for fault
 * tests --fail-start (exit 1 before listening), --crash-after-ready
 * (exit 70 a moment after announcing itself), --hang-after-ready (a
 * blocked event loop after a moment of heartbeats, which it sends like
 * httpd.ts's workers), --hang-at-ready (blocked from its ready line on),
 * --never-ready (listening, but it never says so) and --ignore-stop (deaf to SIGTERM, SIGINT, the retire signal and its stdin closing: only SIGKILL
 * ends it), and --plan=FILE: worker N follows line N of FILE, which is
 * `crash=MS` (crash MS ms after its ready line), `fail=MS` (fail to start
 * after MS ms, never ready) or empty or missing (stay up). FILE must be
 * under the root, which workers may read.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  HEARTBEAT_MARK,
  linkToSupervisor,
  RETIRE_SIGNAL,
} from "../../../server/worker_link.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    root: { type: "string", short: "r" },
    port: { type: "string", short: "p" },
    host: { type: "string" },
    "worker-id": { type: "string" },
    "fail-start": { type: "boolean" },
    "crash-after-ready": { type: "boolean" },
    "hang-after-ready": { type: "boolean" },
    "hang-at-ready": { type: "boolean" },
    "never-ready": { type: "boolean" },
    "ignore-stop": { type: "boolean" },
    plan: { type: "string" },
  },
});
const id = Number(values["worker-id"]);
// Worker N follows line N (ids count up from 1 as workers are spawned).
const [step, delay] = values.plan === undefined
  ? []
  : (Deno.readTextFileSync(values.plan).split("\n")[id - 1] ?? "").split("=");
if (step !== undefined && !["", "crash", "fail"].includes(step)) {
  throw new Error(`unknown plan step: ${step}`); // a typo in a test's plan
}
if (step === "fail") {
  await new Promise((resolve) => setTimeout(resolve, Number(delay)));
  console.error("httpd.ts: Cannot start: failed as planned");
  Deno.exit(2);
}
if (values["fail-start"]) {
  // Like httpd.ts's usage errors: the cause, then more lines than the
  // supervisor keeps of a worker's output.
  console.error("httpd.ts: Cannot start: asked to fail");
  for (let i = 1; i <= 12; i++) console.error(`  usage line ${i}`);
  Deno.exit(2);
}
// The root must be readable under the permissions the supervisor gave.
Deno.statSync(values.root ?? ".");

const listener = Deno.listen({
  hostname: values.host ?? "127.0.0.1",
  port: Number(values.port),
  reusePort: true,
});
/** Open connections, and whether each waits between two requests. */
const open = new Map<Deno.Conn, { idle: boolean }>();
const encoder = new TextEncoder();

async function serveConnection(conn: Deno.Conn): Promise<void> {
  const state = { idle: false };
  open.set(conn, state);
  const buffer = new Uint8Array(4096);
  let text = "";
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      state.idle = false;
      text += new TextDecoder().decode(buffer.subarray(0, n));
      let end: number;
      while ((end = text.indexOf("\r\n\r\n")) !== -1) {
        const head = text.slice(0, end);
        const requestLine = head.slice(0, head.indexOf("\r\n"));
        text = text.slice(end + 4);
        const keepAlive = requestLine.endsWith("HTTP/1.1")
          ? !/\r\nconnection: *close/i.test(head)
          : /\r\nconnection: *keep-alive/i.test(head);
        const close = stopping || !keepAlive;
        // Same length from every worker, so load tools see no difference.
        const body = `worker ${String(id).padStart(4, "0")}\n`;
        await conn.write(encoder.encode(
          `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: ${
            close ? "close" : "keep-alive"
          }\r\n\r\n${body}`,
        ));
        console.log(`"${requestLine}" 200 pid=${Deno.pid}`);
        if (close) return;
      }
      state.idle = text === "";
      if (stopping && state.idle) return;
    }
  } catch {
    // Client went away.
  } finally {
    open.delete(conn);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  listener.close();
  await accepting;
  // Idle keep-alive connections are closed; busy ones answer, then close.
  for (const [conn, state] of open) {
    if (state.idle) conn.close();
  }
  for (let i = 0; i < 100 && open.size > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ignoreStop = values["ignore-stop"] ?? false;
for (const signal of ["SIGTERM", "SIGINT", RETIRE_SIGNAL] as const) {
  Deno.addSignalListener(signal, () => {
    if (!ignoreStop) shutdown().then(() => Deno.exit(0));
  });
}
// Its heartbeats are written without waiting, as a real worker's are.
linkToSupervisor(
  () => ignoreStop ? Promise.resolve() : shutdown().then(() => Deno.exit(0)),
  (line) => void Deno.stderr.write(encoder.encode(`${line}\n`)).catch(() => {}),
);

const accepting = (async () => {
  try {
    for await (const conn of listener) serveConnection(conn);
  } catch {
    // Listener closed.
  }
})();
if (!values["never-ready"]) {
  console.error(`worker ${id} ready pid=${Deno.pid} ${HEARTBEAT_MARK}`);
}
if (values["hang-at-ready"]) {
  // Blocked before it could even read the request for heartbeats.
  while (true) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
if (step === "crash") {
  setTimeout(() => {
    console.error(`fatal: crashed as planned after ${delay} ms`);
    Deno.exit(70);
  }, Number(delay));
}
if (values["crash-after-ready"]) {
  setTimeout(() => {
    // An error it reported and survived, then the one it dies of.
    console.error("httpd.ts: unexpected error in handler: survived");
    console.error("fatal: crashed after start");
    Deno.exit(70);
  }, 100);
}
if (values["hang-after-ready"]) {
  setTimeout(() => {
    // A blocked event loop: no heartbeat, no answer, the socket still open.
    while (true) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }, 1500);
}
