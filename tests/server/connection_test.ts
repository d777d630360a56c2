import assert from "node:assert/strict";
import { Connection } from "../../server/connection.ts";
import type { Response } from "../../server/response.ts";

/**
 * A socket that hands out `input` in one read, then the end of the stream,
 * and records what the connection does to it.
 */
class RecordingConn {
  readonly calls: string[] = [];
  readonly remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  #input: Uint8Array | undefined;

  constructor(input: string) {
    this.#input = new TextEncoder().encode(input);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    const input = this.#input;
    this.#input = undefined;
    if (input === undefined) return Promise.resolve(null);
    buffer.set(input);
    return Promise.resolve(input.length);
  }

  write(bytes: Uint8Array): Promise<number> {
    this.calls.push(`write ${bytes.length}`);
    return Promise.resolve(bytes.length);
  }

  setNoDelay(on: boolean): void {
    this.calls.push(`nodelay ${on}`);
  }

  closeWrite(): Promise<void> {
    this.calls.push("closeWrite");
    return Promise.resolve();
  }

  close(): void {
    this.calls.push("close");
  }
}

async function serve(input: string, body: Uint8Array): Promise<string[]> {
  const conn = new RecordingConn(input);
  const response: Response = {
    status: 200,
    fields: "",
    contentLength: body.length,
    body,
  };
  const connection = new Connection(conn as unknown as Deno.TcpConn, {
    handler: () => response,
    log: undefined,
    report: (where, error) => assert.fail(`${where}: ${error}`),
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
  });
  await connection.serve();
  return conn.calls;
}

const SMALL = new Uint8Array(100);
const BIG = new Uint8Array(100_000);
/** The calls, with writes of a head (and a small body) named as such. */
const shapeOf = (calls: string[]) =>
  calls.map((call) => call.replace(/^write \d{3}$/, "write head"));

Deno.test("Connection writes a lone small answer without touching TCP_NODELAY", async () => {
  const calls = await serve(
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    SMALL,
  );
  assert.deepEqual(shapeOf(calls), ["write head", "close"]);
});

Deno.test("Connection turns off Nagle before a second response's write", async () => {
  const calls = await serve(
    "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
    SMALL,
  );
  assert.deepEqual(shapeOf(calls), [
    "write head",
    "nodelay true",
    "write head",
    "close",
  ]);
});

Deno.test("Connection turns off Nagle before a big body that follows its head", async () => {
  const calls = await serve(
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    BIG,
  );
  assert.deepEqual(shapeOf(calls), [
    "write head",
    "nodelay true",
    `write ${BIG.length}`,
    "close",
  ]);
});
