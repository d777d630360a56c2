/**
 * The file handler over real TCP: status codes, path decoding and
 * containment, directories, dotfiles, media types, HEAD, and the fields every
 * response carries.
 */

import assert from "node:assert/strict";
import {
  copyTree,
  fetchRaw,
  FIXTURE_ROOT,
  get,
  header,
  IMF_FIXDATE,
  RawClient,
  type RawResponse,
  startCli,
  startServer,
  type TempDir,
  tempDir,
  text,
} from "./_harness.ts";

/**
 * The committed fixtures copied to a temporary directory, plus what git
 * cannot hold well: a `.git` directory, symlinks that point outside the root
 * (absolute), and files for the permission sandbox to deny.
 */
function fixtureRoot(): TempDir & { root: string; outside: string } {
  const dir = tempDir();
  const root = `${dir.path}/root`;
  const outside = `${dir.path}/outside`;
  copyTree(FIXTURE_ROOT, root);
  Deno.mkdirSync(outside);
  Deno.writeTextFileSync(`${outside}/secret.txt`, "outside the root\n");
  Deno.symlinkSync(`${outside}/secret.txt`, `${root}/escape.txt`);
  Deno.symlinkSync(outside, `${root}/escape-dir`);
  Deno.symlinkSync("../../outside/secret.txt", `${root}/dir/relative-escape`);
  Deno.mkdirSync(`${root}/.git`);
  Deno.writeTextFileSync(`${root}/.git/config`, "[core]\n");
  Deno.writeTextFileSync(`${root}/secret.txt`, "denied by the sandbox\n");
  Deno.mkdirSync(`${root}/private`);
  Deno.writeTextFileSync(`${root}/private/inner.txt`, "denied too\n");
  Deno.writeTextFileSync(`${root}/private/index.html`, "denied index\n");
  for (const name of ["sub dir", "100%", "what?"]) {
    Deno.mkdirSync(`${root}/${name}`);
    Deno.writeTextFileSync(`${root}/${name}/index.html`, `${name}\n`);
  }
  return { ...dir, root, outside, [Symbol.dispose]: dir[Symbol.dispose] };
}

interface Case {
  /** The request-target, sent as raw bytes (Latin-1). */
  target: string;
  status: number;
  /** Expected body for a 200. */
  body?: string;
  /** Expected Location for a 301. */
  location?: string;
}

const PATH_CASES: Case[] = [
  {
    target: "/",
    status: 200,
    body: "<!doctype html>\n<title>fixture root</title>\n",
  },
  {
    target: "/index.html",
    status: 200,
    body: "<!doctype html>\n<title>fixture root</title>\n",
  },
  { target: "/with%20space.txt", status: 200, body: "with space\n" },
  { target: "/f%C3%BCnke.txt", status: 200, body: "fünke\n" },
  { target: "/f%c3%bcnke.txt", status: 200, body: "fünke\n" },
  // Raw UTF-8 bytes, as curl sends them; chars.ts accepts them as obs-text.
  { target: "/f\xc3\xbcnke.txt", status: 200, body: "fünke\n" },
  { target: "/100%25.txt", status: 200, body: "one hundred percent\n" },
  // Decoded exactly once: %2525A -> "%25A", and %2541 -> "%41", never "A".
  { target: "/%2525A.txt", status: 200, body: "percent 25 A\n" },
  { target: "/%2541.txt", status: 200, body: "percent 41\n" },
  { target: "/%25A.txt", status: 404 }, // names "%A.txt"
  { target: "/%41.txt", status: 404 }, // names "A.txt"
  { target: "/empty.txt", status: 200, body: "" },
  { target: "/text..txt", status: 200, body: "text dot dot\n" },
  { target: "/alias.txt", status: 200, body: "with space\n" }, // symlink inside
  { target: "/missing.txt", status: 404 },
  { target: "/missing/", status: 404 },
  { target: "/missing/deeper.txt", status: 404 },
  // The query and fragment are ignored, even when they look like paths.
  { target: "/with%20space.txt?x=1&y=2", status: 200, body: "with space\n" },
  {
    target: "/with%20space.txt?../../etc/passwd",
    status: 200,
    body: "with space\n",
  },
  { target: "/with%20space.txt#top", status: 200, body: "with space\n" },
  { target: "/with%20space.txt?q=%zz#f", status: 200, body: "with space\n" },
  {
    target: "/?x",
    status: 200,
    body: "<!doctype html>\n<title>fixture root</title>\n",
  },
  // Absolute-form names the same path.
  { target: "http://test/with%20space.txt", status: 200, body: "with space\n" },
  // Directories.
  {
    target: "/dir/",
    status: 200,
    body: "<!doctype html>\n<title>dir index</title>\n",
  },
  {
    target: "/dir/index.html",
    status: 200,
    body: "<!doctype html>\n<title>dir index</title>\n",
  },
  {
    target: "/dir/?x=1",
    status: 200,
    body: "<!doctype html>\n<title>dir index</title>\n",
  },
  {
    target: "/nested/deeper/",
    status: 200,
    body: "<!doctype html>\n<title>deeper index</title>\n",
  },
  { target: "/nodir/", status: 404 },
  {
    target: "/nodir/file.txt",
    status: 200,
    body: "a file in a directory without an index\n",
  },
  { target: "/dir", status: 301, location: "/dir/" },
  { target: "/dir?a=1&b=2", status: 301, location: "/dir/?a=1&b=2" },
  { target: "/nested/deeper?x", status: 301, location: "/nested/deeper/?x" },
  { target: "/nodir", status: 301, location: "/nodir/" },
  { target: "/sub%20dir", status: 301, location: "/sub%20dir/" },
  { target: "/100%25", status: 301, location: "/100%25/" },
  { target: "/what%3F?a=b", status: 301, location: "/what%3F/?a=b" },
  { target: "/what%3F/", status: 200, body: "what?\n" },
  { target: "/index.html/", status: 404 },
  { target: "/with%20space.txt/", status: 404 },
  { target: "/dir/page.txt/", status: 404 },
  // Dot segments resolve, inside the root.
  {
    target: "/./dir/./index.html",
    status: 200,
    body: "<!doctype html>\n<title>dir index</title>\n",
  },
  { target: "/dir/../with%20space.txt", status: 200, body: "with space\n" },
  { target: "/dir/%2e%2e/with%20space.txt", status: 200, body: "with space\n" },
  {
    target: "/nested/deeper/../../dir/page.txt",
    status: 200,
    body: "dir page\n",
  },
  { target: "//dir//page.txt", status: 200, body: "dir page\n" },
  // Above the root, hidden separators, symlinks out: 403.
  { target: "/..", status: 403 },
  { target: "/../", status: 403 },
  { target: "/../etc/passwd", status: 403 },
  { target: "/dir/../../etc/passwd", status: 403 },
  { target: "/%2e%2e/etc/passwd", status: 403 },
  { target: "/%2E%2E/%2E%2E/etc/passwd", status: 403 },
  { target: "/dir%2Fpage.txt", status: 403 },
  { target: "/dir%2fpage.txt", status: 403 },
  { target: "/dir%5Cpage.txt", status: 403 },
  { target: "/dir\\page.txt", status: 403 },
  { target: "/..%2Fetc%2Fpasswd", status: 403 },
  { target: "/..\\..\\etc\\passwd", status: 403 },
  { target: "/escape.txt", status: 403 },
  { target: "/escape-dir/secret.txt", status: 403 },
  { target: "/escape-dir/", status: 403 },
  { target: "/dir/relative-escape", status: 403 },
  // Malformed escapes, control bytes, non-UTF-8: 400.
  { target: "/100%.txt", status: 400 },
  { target: "/%zz", status: 400 },
  { target: "/%4", status: 400 },
  { target: "/%", status: 400 },
  { target: "/%00", status: 400 },
  { target: "/a%00.txt", status: 400 },
  { target: "/with%20space.txt%00.html", status: 400 },
  { target: "/%0a", status: 400 },
  { target: "/%7f", status: 400 },
  { target: "/%ff.txt", status: 400 },
  { target: "/%C3.txt", status: 400 },
  // Dotfile segments are hidden; .well-known is not.
  { target: "/.hidden", status: 404 },
  { target: "/.env", status: 404 },
  { target: "/.git/config", status: 404 },
  { target: "/.git/", status: 404 },
  { target: "/.git", status: 404 },
  { target: "/dir/.secret", status: 404 },
  { target: "/%2Ehidden", status: 404 },
  {
    target: "/.well-known/security.txt",
    status: 200,
    body: "Contact: mailto:security@example.test\n",
  },
];

Deno.test("GET answers each awkward or hostile path with its status", async (t) => {
  using fixtures = fixtureRoot();
  await using server = startServer({ root: fixtures.root });
  for (const c of PATH_CASES) {
    await t.step(`GET ${JSON.stringify(c.target)} -> ${c.status}`, async () => {
      const response = await fetchRaw(server.port, get(c.target));
      assert.equal(response.status, c.status, response.head);
      if (c.body !== undefined) assert.equal(text(response), c.body);
      if (c.location !== undefined) {
        assert.equal(header(response, "location"), c.location);
      }
    });
  }
  assert.deepEqual(server.reports, []);
});

const mkfifoSkip = (() => {
  try {
    new Deno.Command("mkfifo", { args: ["--version"] }).outputSync();
    return undefined;
  } catch {
    return "mkfifo is not available to create a FIFO";
  }
})();
if (mkfifoSkip) console.warn(`SKIPPED: the FIFO tests: ${mkfifoSkip}`);

Deno.test({
  name: "GET of a FIFO answers 403 at once instead of hanging",
  ignore: mkfifoSkip !== undefined,
  async fn() {
    using fixtures = fixtureRoot();
    Deno.mkdirSync(`${fixtures.root}/fifodir`);
    for (const path of ["fifo", "fifodir/index.html"]) {
      const made = new Deno.Command("mkfifo", {
        args: [`${fixtures.root}/${path}`],
      }).outputSync();
      assert.ok(made.success, `mkfifo ${path}`);
    }
    await using server = startServer({ root: fixtures.root });
    assert.equal((await fetchRaw(server.port, get("/fifo"))).status, 403);
    // As the directory's index, it is refused alike.
    assert.equal((await fetchRaw(server.port, get("/fifodir/"))).status, 403);
  },
});

Deno.test("GET serves dotfiles when dotfiles is set, but never outside the root", async () => {
  using fixtures = fixtureRoot();
  await using server = startServer({ root: fixtures.root, dotfiles: true });
  const cases: [string, number, string?][] = [
    ["/.hidden", 200, "hidden\n"],
    ["/.env", 200, "SECRET=do-not-serve\n"],
    ["/.git/config", 200, "[core]\n"],
    ["/dir/.secret", 200, "hidden in dir\n"],
    ["/.well-known/security.txt", 200],
    ["/escape.txt", 403],
    ["/../etc/passwd", 403],
  ];
  for (const [target, status, body] of cases) {
    const response = await fetchRaw(server.port, get(target));
    assert.equal(response.status, status, target);
    if (body !== undefined) assert.equal(text(response), body);
  }
});

Deno.test("GET answers 403 for a file the process may not read", async () => {
  // As root, chmod 000 stops nothing: Deno's permission sandbox denies instead.
  using fixtures = fixtureRoot();
  const root = fixtures.root;
  await using cli = await startCli({
    args: ["-r", root, "--quiet"],
    permissions: [
      "--allow-net",
      `--allow-read=${root}`,
      `--deny-read=${root}/secret.txt,${root}/private`,
    ],
  });
  const cases: [string, number][] = [
    ["/secret.txt", 403],
    ["/private/inner.txt", 403],
    ["/private/", 403],
    ["/with%20space.txt", 200],
    ["/escape.txt", 403],
  ];
  for (const [target, status] of cases) {
    const response = await fetchRaw(cli.port, get(target));
    assert.equal(response.status, status, target);
  }
  const exit = await cli.stop("SIGTERM");
  assert.equal(exit.code, 0, cli.stderr());
});

const MEDIA_TYPES: [string, string][] = [
  ["/index.html", "text/html"],
  ["/", "text/html"],
  ["/upper.HTML", "text/html"],
  ["/style.css", "text/css"],
  ["/app.js", "text/javascript"],
  ["/photo.jpg", "image/jpeg"],
  ["/photo.jpeg", "image/jpeg"],
  ["/logo.png", "image/png"],
  ["/shout.PNG", "image/png"],
  ["/anim.gif", "image/gif"],
  ["/movie.swf", "application/x-shockwave-flash"],
  ["/data.json", "application/json"],
  ["/doc.pdf", "application/pdf"],
  ["/notes.md", "text/markdown"],
  ["/with%20space.txt", "text/plain"],
  ["/.well-known/security.txt", "text/plain"],
  ["/noext", "application/octet-stream"],
  ["/blob.qqqzz", "application/octet-stream"],
];

Deno.test("GET sends the exact Content-Type by extension, case-insensitively", async (t) => {
  await using server = startServer({ root: FIXTURE_ROOT });
  for (const [target, type] of MEDIA_TYPES) {
    await t.step(`${target} is ${type}`, async () => {
      const response = await fetchRaw(server.port, get(target));
      assert.equal(response.status, 200);
      assert.equal(header(response, "content-type"), type);
    });
  }
});

Deno.test("HEAD sends the fields GET would send and no body", async (t) => {
  using fixtures = fixtureRoot();
  await using server = startServer({ root: fixtures.root });
  const targets = [
    "/index.html",
    "/dir/",
    "/empty.txt",
    "/app.js",
    "/missing.txt",
    "/dir",
    "/escape.txt",
    "/.hidden",
  ];
  // One keep-alive connection: a body sent after a HEAD answer would be
  // read as the next status line and fail the parse.
  using client = await RawClient.connect(server.port);
  for (const target of targets) {
    await t.step(`HEAD ${target}`, async () => {
      await client.send(`HEAD ${target} HTTP/1.1\r\nHost: test\r\n\r\n`);
      const head = await client.readResponse({ head: true });
      await client.send(`GET ${target} HTTP/1.1\r\nHost: test\r\n\r\n`);
      const full = await client.readResponse();
      assert.deepEqual(withoutDate(head), withoutDate(full));
      assert.equal(head.status, full.status);
    });
  }
  await client.send(
    "HEAD /index.html HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
  );
  const last = await client.readResponse({ head: true });
  assert.equal(last.status, 200);
  assert.equal(header(last, "content-length"), "44");
  assert.equal((await client.readToEnd()).length, 0);
});

function withoutDate(response: RawResponse): [string, string][] {
  return response.fields.filter(([name]) => name !== "date");
}

const ANY_STATUS: [string, number][] = [
  [get("/index.html"), 200],
  [get("/empty.txt"), 200],
  [get("/dir"), 301],
  [get("/../x"), 403],
  [get("/missing"), 404],
  [get("/%zz"), 400],
  [
    "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    405,
  ],
  ["GET / HTTP/1.1\r\n\r\n", 400],
  ["GET / HTTP/2.0\r\nHost: test\r\n\r\n", 505],
  ["GET / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n\r\n", 400],
  [
    "GET / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    501,
  ],
  [`GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: test\r\n\r\n`, 414],
  [`GET / HTTP/1.1\r\nHost: test\r\n${"X-Filler: y\r\n".repeat(120)}\r\n`, 431],
];

Deno.test("every response carries Date, Server, Connection and Content-Length", async (t) => {
  await using server = startServer({ root: FIXTURE_ROOT });
  for (const [request, status] of ANY_STATUS) {
    await t.step(
      `${status} for ${JSON.stringify(request.slice(0, 40))}`,
      async () => {
        using client = await RawClient.connect(server.port);
        await client.send(request);
        const response = await client.readResponse();
        assert.equal(response.status, status);
        assert.equal(response.version, "HTTP/1.1");
        assert.match(header(response, "date") ?? "", IMF_FIXDATE);
        assert.equal(header(response, "server"), "httpd.ts/0.1.0");
        // Each asked to close, or was refused: the answer says so.
        assert.equal(header(response, "connection"), "close");
        // Content-Length counts the whole body: nothing follows it.
        assert.ok(header(response, "content-length") !== undefined);
        assert.equal((await client.readToEnd()).length, 0);
      },
    );
  }
});

Deno.test("error answers are short plain text that echo no path", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  const cases: [string, number][] = [
    [get("/no-such-secret-name.txt"), 404],
    [get("/../no-such-secret-name"), 403],
    [get("/no-such-secret-name%zz"), 400],
    ["DELETE /no-such-secret-name HTTP/1.1\r\nHost: test\r\n\r\n", 405],
  ];
  for (const [request, status] of cases) {
    const response = await fetchRaw(server.port, request);
    assert.equal(response.status, status);
    assert.equal(header(response, "content-type"), "text/plain; charset=utf-8");
    assert.ok(response.body.length > 0 && response.body.length <= 64);
    assert.ok(!text(response).includes("secret"), text(response));
    assert.ok(!text(response).includes(FIXTURE_ROOT), text(response));
  }
});

const REFUSED_METHODS = [
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
  "TRACE",
  "BREW",
  "get",
];

Deno.test("any method but GET and HEAD gets 405 with Allow: GET, HEAD", async (t) => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  for (const method of REFUSED_METHODS) {
    await t.step(method, async () => {
      await client.send(
        `${method} /index.html HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n`,
      );
      const response = await client.readResponse();
      assert.equal(response.status, 405);
      assert.equal(header(response, "allow"), "GET, HEAD");
      assert.equal(text(response), "405 Method Not Allowed\n");
    });
  }
  // The connection survived every 405.
  await client.send(get("/with%20space.txt"));
  const response = await client.readResponse();
  assert.equal(response.status, 200);
  assert.equal(text(response), "with space\n");
});

Deno.test("GET of an empty file sends Content-Length: 0 and keeps the connection", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  await client.send("GET /empty.txt HTTP/1.1\r\nHost: test\r\n\r\n");
  const empty = await client.readResponse();
  assert.equal(empty.status, 200);
  assert.equal(header(empty, "content-length"), "0");
  assert.equal(header(empty, "connection"), "keep-alive");
  await client.send(get("/text..txt"));
  assert.equal(text(await client.readResponse()), "text dot dot\n");
});
