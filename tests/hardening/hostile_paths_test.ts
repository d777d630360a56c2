import { deepEqual, equal, ok } from "node:assert/strict";
import { exchange, latin1, LOOPBACK, parseReplyStream, quote } from "./_raw.ts";
import { startServer } from "./_server.ts";

interface HostileCase {
  /** What the case attacks. */
  name: string;
  /** The request target, sent raw (no client normalises it). */
  target: string;
  /**
   * The one status the server gives, the same with `-A` and with
   * `--allow-read=ROOT` (measured); no case's outcome depends on the
   * platform (any POSIX system: the fixture needs symlinks and a FIFO).
   */
  expect: number;
  /** Request method. @default "GET" */
  method?: string;
}

const SECRET_NAME = "secret.txt";

// Layout built by makeFixture(): BASE/secret.txt beside BASE/root/, which is
// the document root. Every case that climbs out aims at BASE/secret.txt.
// Outside the root is 403; a malformed escape, %00 or a decoded path that is
// not UTF-8 is 400; a name that does not exist after one decoding is 404, as
// is one too long for the file system (ENAMETOOLONG) and a symlink loop
// (ELOOP, Deno's FilesystemLoop): the server classifies both as not found,
// like a broken link.
const CASES: readonly HostileCase[] = [
  // Controls: these resolve inside the root and must be served.
  { name: "plain file", target: "/a.txt", expect: 200 },
  {
    name: "dot segments inside the root",
    target: "/sub/../a.txt",
    expect: 200,
  },
  {
    name: "encoded dot segments inside the root",
    target: "/sub/%2e%2e/a.txt",
    expect: 200,
  },

  { name: "dot-dot", target: "/../secret.txt", expect: 403 },
  {
    name: "dot-dot after a directory",
    target: "/sub/../../secret.txt",
    expect: 403,
  },
  { name: "dot then dot-dot", target: "/./../secret.txt", expect: 403 },
  {
    name: "double slash then dot-dot",
    target: "//../secret.txt",
    expect: 403,
  },
  {
    name: "dot-dot through a file",
    target: "/a.txt/../../secret.txt",
    expect: 403,
  },
  {
    name: "many dot-dots",
    target: "/" + "../".repeat(13) + "etc/passwd",
    expect: 403,
  },
  {
    name: "2000 dot-dots",
    target: "/" + "../".repeat(2000) + SECRET_NAME,
    expect: 403,
  },
  { name: "%2e%2e", target: "/%2e%2e/secret.txt", expect: 403 },
  { name: "%2E%2E upper case", target: "/%2E%2E/secret.txt", expect: 403 },
  { name: "half encoded .%2e", target: "/.%2e/secret.txt", expect: 403 },
  { name: "%2f encoded slash", target: "/..%2fsecret.txt", expect: 403 },
  {
    name: "all encoded %2e%2e%2f",
    target: "/%2e%2e%2fsecret.txt",
    expect: 403,
  },
  {
    name: "encoded slashes after a directory",
    target: "/sub%2f..%2f..%2fsecret.txt",
    expect: 403,
  },
  { name: "%5c encoded backslash", target: "/..%5csecret.txt", expect: 403 },
  { name: "%5c twice", target: "/sub%5c..%5c..%5csecret.txt", expect: 403 },
  // A raw backslash is not a URI character, but the request line takes any
  // visible byte (protocol/chars.ts TARGET); a segment holding one, sent or
  // decoded, could only name something outside the root: 403, as for %5c.
  { name: "raw backslash", target: "/..\\secret.txt", expect: 403 },
  {
    name: "raw backslashes after a directory",
    target: "/sub\\..\\..\\secret.txt",
    expect: 403,
  },
  { name: "%00 alone", target: "/%00", expect: 400 },
  { name: "%00 before an extension", target: "/a.txt%00.html", expect: 400 },
  { name: "%00 in a dot-dot", target: "/..%00/secret.txt", expect: 400 },
  { name: "malformed escape %", target: "/%", expect: 400 },
  { name: "malformed escape %zz", target: "/%zz/secret.txt", expect: 400 },
  { name: "truncated escape %2", target: "/a.txt%2", expect: 400 },
  // Decoded once, %25 gives a literal "%2e%2e" name that does not exist.
  {
    name: "double encoding %252e%252e",
    target: "/%252e%252e/secret.txt",
    expect: 404,
  },
  {
    name: "double encoding with slash",
    target: "/%252e%252e%252fsecret.txt",
    expect: 404,
  },
  // %c0%ae decodes to bytes that are not UTF-8 (an overlong "."): refused
  // as a bad path, never taken for "..".
  {
    name: "overlong UTF-8 dots",
    target: "/%c0%ae%c0%ae/secret.txt",
    expect: 400,
  },
  {
    name: "dot-dot-semicolon is a plain name",
    target: "/..;/secret.txt",
    expect: 404,
  },
  {
    name: "four dots is a plain name",
    target: "/....//secret.txt",
    expect: 404,
  },
  // RFC 9112 3.2.2: a server must accept absolute-form; its path is judged
  // like an origin-form one, so the dot-dot is 403, not a 400.
  {
    name: "absolute-form dot-dot",
    target: `http://${LOOPBACK}/../secret.txt`,
    expect: 403,
  },
  {
    name: "absolute-form encoded dot-dot",
    target: `http://${LOOPBACK}/%2e%2e/secret.txt`,
    expect: 403,
  },
  { name: "asterisk-form with GET", target: "*", expect: 400 },
  // The method is refused before the target is looked at: 405 (with
  // Allow: GET, HEAD), as for any method but GET and HEAD.
  {
    name: "asterisk-form with OPTIONS",
    target: "*",
    method: "OPTIONS",
    expect: 405,
  },
  { name: "target without a slash", target: "secret.txt", expect: 400 },
  // NAME_MAX is 255: 250 is a long missing name; 300 and 7000 fail with
  // ENAMETOOLONG, which is a plain 404 as well, not a 400 or a 5xx.
  { name: "250-byte segment", target: "/" + "s".repeat(250), expect: 404 },
  {
    name: "300-byte segment",
    target: "/" + "s".repeat(300),
    expect: 404,
  },
  {
    name: "7000-byte segment",
    target: "/" + "s".repeat(7000) + "/x",
    expect: 404,
  },
  // ELOOP on every POSIX system: a link to itself at once, and 45 links in
  // one path are over the most any follows (40 on Linux, 32 on macOS and
  // the BSDs).
  { name: "symlink to itself", target: "/loop", expect: 404 },
  {
    name: "through a symlink to itself",
    target: "/loop/x",
    expect: 404,
  },
  {
    name: "two symlinks pointing at each other",
    target: "/l1",
    expect: 404,
  },
  {
    name: "symlink to its own directory, 45 deep",
    target: "/dirloop".repeat(45) + "/a.txt",
    expect: 404,
  },
  { name: "symlink to the secret", target: "/escape.txt", expect: 403 },
  {
    name: "index.html that is a symlink out",
    target: "/linkdir/",
    expect: 403,
  },
  // The root's path is a prefix of this one's: only a whole segment counts.
  {
    name: "symlink into a sibling whose name extends the root's",
    target: "/sibling.txt",
    expect: 403,
  },
  // Refused as the FIFO itself is when asked for by name.
  { name: "index.html that is a FIFO", target: "/fifodir/", expect: 403 },
  { name: "absolute symlink to the secret", target: "/abs.txt", expect: 403 },
  {
    name: "symlinked directory outside the root",
    target: "/outdir/secret.txt",
    expect: 403,
  },
];

interface Fixture {
  base: string;
  root: string;
  secret: string;
}

async function makeFixture(): Promise<Fixture> {
  const base = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "httpd-hostile-" }),
  );
  const root = `${base}/root`;
  const secret = `TOP-SECRET-${crypto.randomUUID()}`;
  await Deno.writeTextFile(`${base}/${SECRET_NAME}`, secret);
  await Deno.mkdir(`${root}/sub`, { recursive: true });
  await Deno.writeTextFile(`${root}/a.txt`, "inside");
  await Deno.writeTextFile(`${root}/sub/b.txt`, "inside too");
  await Deno.symlink("loop", `${root}/loop`);
  await Deno.symlink("l2", `${root}/l1`);
  await Deno.symlink("l1", `${root}/l2`);
  await Deno.symlink(".", `${root}/dirloop`);
  await Deno.symlink(`../${SECRET_NAME}`, `${root}/escape.txt`);
  await Deno.symlink(`${base}/${SECRET_NAME}`, `${root}/abs.txt`);
  await Deno.symlink("..", `${root}/outdir`);
  await Deno.mkdir(`${root}/linkdir`);
  await Deno.symlink(`../../${SECRET_NAME}`, `${root}/linkdir/index.html`);
  await Deno.mkdir(`${base}/root2`);
  await Deno.writeTextFile(`${base}/root2/s.txt`, secret);
  await Deno.symlink("../root2/s.txt", `${root}/sibling.txt`);
  await Deno.mkdir(`${root}/fifodir`);
  const fifo = await new Deno.Command("mkfifo", {
    args: [`${root}/fifodir/index.html`],
  }).output();
  if (!fifo.success) throw new Error("mkfifo failed");
  return { base, root, secret };
}

async function runBattery(permissions: string[]): Promise<void> {
  const fixture = await makeFixture();
  try {
    await using server = await startServer({
      root: fixture.root,
      permissions: permissions.map((p) => p.replace("ROOT", fixture.root)),
    });
    const problems: string[] = [];
    for (const { name, target, expect, method } of CASES) {
      const request =
        `${method ?? "GET"} ${target} HTTP/1.1\r\nHost: ${LOOPBACK}\r\n` +
        `Connection: close\r\n\r\n`;
      const result = await exchange(server.port, request, {
        timeoutMs: 15_000,
      });
      const text = latin1(result.bytes);
      if (text.includes(fixture.secret) || text.includes("root:x:0:0")) {
        problems.push(
          `${name}: LEAKED a file outside the root: ${quote(result.bytes)}`,
        );
        continue;
      }
      if (result.end === "deadline") {
        problems.push(`${name}: no reply and no close within 15 s`);
        continue;
      }
      const responses = parseReplyStream(result.bytes);
      if (typeof responses === "string" || responses.length !== 1) {
        problems.push(`${name}: bad reply ${quote(result.bytes, 200)}`);
      } else if (responses[0].status !== expect) {
        const shown = JSON.stringify(target.slice(0, 80));
        problems.push(
          `${name}: ${shown} expected ${expect}, got ${responses[0].status}`,
        );
      }
      if (!server.alive()) {
        problems.push(`${name}: the server died: ${server.stderr()}`);
        break;
      }
    }
    deepEqual(problems, []);
    equal(server.complaints(), "", "a quiet server logs nothing unexpected");
    equal((await server.stop()).code, 0);
  } finally {
    await Deno.remove(fixture.base, { recursive: true });
  }
}

Deno.test("hostile paths get their 4xx and never reveal a file outside the root", async () => {
  await runBattery(["-A"]);
});

Deno.test("hostile paths under --allow-read=ROOT: symlinks out are 403, PermissionDenied never crashes", async () => {
  await runBattery(["--allow-net=127.0.0.1", "--allow-read=ROOT"]);
});

Deno.test("hostile path table states a 4xx for every attack", () => {
  for (const { name, expect } of CASES) {
    if (expect === 200) continue;
    ok(expect >= 400 && expect < 500, name);
  }
});
