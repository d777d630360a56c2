import assert from "node:assert/strict";
import { refuse } from "../../server/_refusal.ts";
import { within } from "../../server/_within.ts";

/**
 * A client connection that sends `chunks`, then nothing more until it is
 * closed (or, with `ends`, its end of input).
 */
class ScriptedConn {
  readonly written: Uint8Array[] = [];
  closed = false;
  #chunks: Uint8Array[];
  #ends: boolean;
  #reject: ((error: Error) => void) | undefined;

  constructor(chunks: string[], ends = false) {
    this.#chunks = chunks.map((chunk) => new TextEncoder().encode(chunk));
    this.#ends = ends;
  }

  write(bytes: Uint8Array): Promise<number> {
    this.written.push(bytes.slice());
    return Promise.resolve(bytes.length);
  }

  closeWrite(): Promise<void> {
    return Promise.resolve();
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.closed) {
      return Promise.reject(new Deno.errors.BadResource("closed"));
    }
    const chunk = this.#chunks.shift();
    if (chunk !== undefined) {
      buffer.set(chunk);
      return Promise.resolve(chunk.length);
    }
    if (this.#ends) return Promise.resolve(null);
    return new Promise((_, reject) => this.#reject = reject);
  }

  close(): void {
    this.closed = true;
    this.#reject?.(new Deno.errors.BadResource("closed"));
  }

  text(): string {
    return this.written.map((bytes) => new TextDecoder().decode(bytes)).join(
      "",
    );
  }
}

const LONG = 60_000;

/** Refuses `conn`; whether that ended within `ms`, and the refusal. */
async function refuseWithin(
  conn: ScriptedConn,
  headOnly: boolean,
  ms: number,
): Promise<{ ended: boolean; refusal: Promise<void> }> {
  const refusal = refuse(conn as unknown as Deno.TcpConn, {
    lingerMs: LONG,
    headOnly,
  });
  const ended = await within(refusal.then(() => true), ms) ?? false;
  return { ended, refusal };
}

Deno.test("refuse() on the spare closes once the request's head is in, not when the client closes", async () => {
  // The spare descriptor is the one the next refusal needs: a client that
  // keeps its socket open must not hold it for the whole linger.
  const conn = new ScriptedConn(["GET / HTTP/1.1\r\nHo", "st: t\r\n\r\n"]);
  const { ended } = await refuseWithin(conn, true, 5_000);
  assert.equal(ended, true, "still waiting for the client to close");
  assert.equal(conn.closed, true);
  assert.match(conn.text(), /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.match(conn.text(), /\r\nConnection: close\r\n/);
});

Deno.test("refuse() on the spare reads a head ended by bare LFs, and is not fooled by empty lines before it", async (t) => {
  await t.step("bare LF", async () => {
    const conn = new ScriptedConn(["GET / HTTP/1.1\nHost: t\n\n"]);
    assert.equal((await refuseWithin(conn, true, 5_000)).ended, true);
  });
  await t.step("empty lines, then a head under way", async () => {
    // Line ends before a request line are allowed (RFC 9112 §2.2): no head
    // has ended, and closing now could reset the rest on its way.
    const conn = new ScriptedConn(["\r\n\r\n\n", "GET / HTTP/1.1\r\n"]);
    const { ended, refusal } = await refuseWithin(conn, true, 300);
    assert.equal(ended, false, "closed before the head was in");
    conn.close(); // as the linger's timer would
    await refusal;
  });
});

Deno.test("refuse() over the connection limit reads until the client closes", async () => {
  const conn = new ScriptedConn(["GET / HTTP/1.1\r\nHost: t\r\n\r\n"]);
  const { ended, refusal } = await refuseWithin(conn, false, 300);
  assert.equal(ended, false, "closed while the client might still send");
  conn.close();
  await refusal;
  const ends = new ScriptedConn(["GET / HTTP/1.1\r\nHost: t\r\n\r\n"], true);
  assert.equal((await refuseWithin(ends, false, 5_000)).ended, true);
  assert.equal(ends.closed, true);
});
