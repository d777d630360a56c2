/**
 * BENCH-ONLY CEILING — not part of httpd and never shipped.
 *
 * About the least work an HTTP/1.1 server written in TypeScript over
 * `Deno.Conn` can do per request. Every file at the top of ROOT is read into
 * memory at start, with its response built once (its Date is the start
 * time). A request is recognised by its request line and Connection field
 * alone, or, when it repeats the connection's previous request byte for
 * byte, by that comparison alone. Every answer is one prebuilt buffer. No
 * stat, no header parsing, no limits, no timeouts, no logging: unfit to
 * serve anything but the benchmark's files to its clients. It shows, in the
 * same run, how close httpd comes to what the runtime allows, mode by mode
 * (the "bare `Deno.listen` loop" of the performance issue).
 *
 * Usage: `deno run --allow-net --allow-read ceiling_deno_listen.ts ROOT PORT`
 *
 * @module
 */

/** One prebuilt response, head and body, and where its body starts. */
interface Prebuilt {
  bytes: Uint8Array;
  headLength: number;
}

/** A file's answers to requests that keep the connection and that close it. */
interface Answer {
  keepAlive: Prebuilt;
  close: Prebuilt;
}

const TYPES: Record<string, string> = {
  html: "text/html",
  txt: "text/plain",
};
const CLOSE_FIELD = /\r\nconnection:[ \t]*close/i;
const KEEP_ALIVE_FIELD = /\r\nconnection:[ \t]*keep-alive/i;
const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Reads every regular file at the top of `root` into a prebuilt answer. */
function loadAnswers(root: string): Map<string, Answer> {
  const date = new Date().toUTCString();
  const answers = new Map<string, Answer>();
  for (const entry of Deno.readDirSync(root)) {
    if (!entry.isFile) continue;
    const body = Deno.readFileSync(`${root}/${entry.name}`);
    const extension = entry.name.slice(entry.name.lastIndexOf(".") + 1);
    const type = TYPES[extension] ?? "application/octet-stream";
    const build = (connection: string): Prebuilt => {
      const head = encoder.encode(
        `HTTP/1.1 200 OK\r\nServer: ceiling\r\nDate: ${date}\r\n` +
          `Content-Type: ${type}\r\nContent-Length: ${body.length}\r\n` +
          `Connection: ${connection}\r\n\r\n`,
      );
      const bytes = new Uint8Array(head.length + body.length);
      bytes.set(head);
      bytes.set(body, head.length);
      return { bytes, headLength: head.length };
    };
    answers.set(`/${entry.name}`, {
      keepAlive: build("keep-alive"),
      close: build("close"),
    });
  }
  return answers;
}

const NOT_FOUND = encoder.encode(
  "HTTP/1.1 404 Not Found\r\nServer: ceiling\r\nContent-Length: 0\r\n" +
    "Connection: close\r\n\r\n",
);
const BAD_REQUEST = encoder.encode(
  "HTTP/1.1 400 Bad Request\r\nServer: ceiling\r\nContent-Length: 0\r\n" +
    "Connection: close\r\n\r\n",
);

/** Index just past the blank line ending the head that starts at `from`, or -1. */
function headEnd(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (
      buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 &&
      buf[i + 3] === 10
    ) return i + 4;
  }
  return -1;
}

/** What to send for one head, and whether the connection stays open. */
interface Reply {
  bytes: Uint8Array;
  keepAlive: boolean;
}

/** Heads longer than this are not kept for comparison with the next one. */
const MAX_KEPT_HEAD = 1024;

/** Whether `buf[start, stop)` holds exactly the bytes of `head`. */
function repeats(
  head: Uint8Array,
  buf: Uint8Array,
  start: number,
  stop: number,
): boolean {
  if (stop - start !== head.length) return false;
  for (let i = 0; i < head.length; i++) {
    if (buf[start + i] !== head[i]) return false;
  }
  return true;
}

/** The reply to one head, decoded as text. */
function answer(answers: Map<string, Answer>, head: string): Reply {
  const lineEnd = head.indexOf("\r\n");
  const [method, target, version] = head.slice(0, lineEnd).split(" ");
  if (
    (method !== "GET" && method !== "HEAD") || target === undefined ||
    !version?.startsWith("HTTP/1.")
  ) return { bytes: BAD_REQUEST, keepAlive: false };
  const query = target.indexOf("?");
  const found = answers.get(query < 0 ? target : target.slice(0, query));
  if (found === undefined) return { bytes: NOT_FOUND, keepAlive: false };
  const keepAlive = version === "HTTP/1.1"
    ? !CLOSE_FIELD.test(head)
    : KEEP_ALIVE_FIELD.test(head);
  const { bytes, headLength } = keepAlive ? found.keepAlive : found.close;
  return {
    bytes: method === "HEAD" ? bytes.subarray(0, headLength) : bytes,
    keepAlive,
  };
}

async function serveConnection(
  conn: Deno.TcpConn,
  answers: Map<string, Answer>,
): Promise<void> {
  const buf = new Uint8Array(16384);
  let end = 0;
  let replies = 0;
  let previous: Reply | undefined;
  let previousHead = new Uint8Array(0);
  try {
    while (end < buf.length) {
      const n = await conn.read(buf.subarray(end));
      if (n === null) return;
      end += n;
      let start = 0;
      for (let stop; (stop = headEnd(buf, start, end)) >= 0; start = stop) {
        let reply = previous;
        if (reply === undefined || !repeats(previousHead, buf, start, stop)) {
          reply = answer(answers, latin1.decode(buf.subarray(start, stop)));
          const small = stop - start <= MAX_KEPT_HEAD;
          previous = reply.keepAlive && small ? reply : undefined;
          if (previous !== undefined) previousHead = buf.slice(start, stop);
        }
        const { bytes, keepAlive } = reply;
        // Nagle's algorithm would hold a second reply's tail until an ACK.
        if (++replies === 2) conn.setNoDelay(true);
        for (let sent = 0; sent < bytes.length;) {
          sent += await conn.write(bytes.subarray(sent));
        }
        if (!keepAlive) return;
      }
      buf.copyWithin(0, start, end);
      end -= start;
    }
  } catch {
    // The client went away: nothing to do.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

if (import.meta.main) {
  const [root, port] = Deno.args;
  if (!root || !port) {
    console.error("Usage: ceiling_deno_listen.ts ROOT PORT");
    Deno.exit(2);
  }
  const answers = loadAnswers(root);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(port) });
  for await (const conn of listener) serveConnection(conn, answers);
}
