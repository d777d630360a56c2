/**
 * The public http-test-suite's cases, run against the command line serving
 * `../shared/suite-root`, with requests shaped like the suite's (Python's
 * http.client: HTTP/1.1, Host, Accept-Encoding: identity).
 */

import assert from "node:assert/strict";
import {
  fetchRaw,
  header,
  RawClient,
  startCli,
  SUITE_ROOT,
  tempDir,
  text,
} from "./_harness.ts";

function suiteGet(target: string, method = "GET"): string {
  return `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    "Accept-Encoding: identity\r\n\r\n";
}

interface SuiteCase {
  name: string;
  target: string;
  status: number;
  length?: number;
  type?: string;
  body?: string;
}

const CASES: SuiteCase[] = [
  {
    name: "directory index",
    target: "/httptest/dir2/",
    status: 200,
    length: 34,
    type: "text/html",
  },
  { name: "index not found", target: "/httptest/dir1/", status: 404 },
  {
    name: "file not found",
    target: "/httptest/smdklcdsmvdfjnvdfjvdfvdfvdfvvdfdfvfd.html",
    status: 404,
  },
  {
    name: "file in nested folders",
    target: "/httptest/dir1/dir12/dir123/deep.txt",
    status: 200,
    length: 20,
    body: "bingo, you found it\n",
  },
  {
    name: "file with query string",
    target: "/httptest/dir2/page.html?arg1=value&arg2=value",
    status: 200,
    length: 38,
    type: "text/html",
  },
  {
    name: "file with spaces",
    target: "/httptest/space%20in%20name.txt",
    status: 200,
    length: 19,
    body: "letters and spaces\n",
  },
  {
    name: "urlencoded file name",
    target: "/httptest/dir2/%70%61%67%65%2e%68%74%6d%6c",
    status: 200,
    length: 38,
    type: "text/html",
  },
  {
    name: "file with a dot in its name",
    target: "/httptest/text..txt",
    status: 200,
    length: 5,
    body: "hello",
  },
  {
    name: "file path with a trailing slash",
    target: "/httptest/dir2/page.html/",
    status: 404,
  },
  {
    name: "document root escaping",
    target: `/httptest/${"../".repeat(13)}etc/passwd`,
    status: 403,
  },
  {
    name: "large file",
    target: "/httptest/wikipedia_russia.html",
    status: 200,
    length: 954824,
    type: "text/html",
  },
  {
    name: "filetype html",
    target: "/httptest/dir2/page.html",
    status: 200,
    length: 38,
    type: "text/html",
  },
  {
    name: "filetype css",
    target: "/httptest/splash.css",
    status: 200,
    length: 98620,
    type: "text/css",
  },
  {
    name: "filetype gif",
    target: "/httptest/pic_ask.gif",
    status: 200,
    length: 1747,
    type: "image/gif",
  },
  {
    name: "filetype jpeg",
    target: "/httptest/ef35c.jpeg",
    status: 200,
    length: 160462,
    type: "image/jpeg",
  },
  {
    name: "filetype jpg",
    target: "/httptest/160313.jpg",
    status: 200,
    length: 267037,
    type: "image/jpeg",
  },
  {
    name: "filetype png",
    target: "/httptest/logo.v2.png",
    status: 200,
    length: 1754,
    type: "image/png",
  },
  {
    name: "filetype swf",
    target: "/httptest/b16261023.swf",
    status: 200,
    length: 35344,
    type: "application/x-shockwave-flash",
  },
];

Deno.test("the public suite's cases pass against the command line", async (t) => {
  await using cli = await startCli({ args: ["-r", SUITE_ROOT, "--quiet"] });
  for (const c of CASES) {
    await t.step(`${c.name}: GET ${c.target} -> ${c.status}`, async () => {
      const response = await fetchRaw(cli.port, suiteGet(c.target));
      assert.equal(response.status, c.status, response.head);
      if (c.length !== undefined) {
        assert.equal(header(response, "content-length"), String(c.length));
        assert.equal(response.body.length, c.length);
      }
      if (c.type !== undefined) {
        assert.equal(header(response, "content-type"), c.type);
      }
      if (c.body !== undefined) assert.equal(text(response), c.body);
      if (c.status === 200) {
        const file = c.target.replace(/\?.*/, "").replace(/\/$/, "/index.html");
        const expected = Deno.readFileSync(
          `${SUITE_ROOT}${decodeURIComponent(file)}`,
        );
        assert.deepEqual(response.body, expected);
      }
    });
  }

  await t.step("server header on /httptest/", async () => {
    const response = await fetchRaw(cli.port, suiteGet("/httptest/"));
    assert.equal(header(response, "server"), "httpd.ts/0.1.0");
  });

  await t.step("POST is refused with 405", async () => {
    const response = await fetchRaw(
      cli.port,
      "POST /httptest/dir2/page.html HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        "Content-Length: 0\r\n\r\n",
    );
    assert.equal(response.status, 405);
  });

  await t.step("HEAD over HTTP/1.0 without Host", async () => {
    using client = await RawClient.connect(cli.port);
    await client.send("HEAD /httptest/dir2/page.html HTTP/1.0\r\n\r\n");
    const response = await client.readResponse({ head: true });
    assert.equal(response.version, "HTTP/1.1");
    assert.equal(response.status, 200);
    assert.equal(response.reason, "OK");
    assert.match(response.head, /\r\nContent-Length: 38(\r\n|$)/);
    assert.equal(header(response, "content-type"), "text/html");
    // No body, then the server closes.
    assert.equal((await client.readToEnd()).length, 0);
  });

  await t.step(
    "an empty request of one LF, then a close: no answer, no harm",
    async () => {
      {
        using client = await RawClient.connect(cli.port);
        await client.send("\n");
        // An empty line is no request: nothing is answered, and the
        // client's close ends the connection quietly.
        await client.closeWrite();
        assert.equal((await client.readToEnd()).length, 0);
      }
      {
        // The suite's own form: a close without waiting.
        using client = await RawClient.connect(cli.port);
        await client.send("\n");
      }
      const response = await fetchRaw(
        cli.port,
        suiteGet("/httptest/dir2/page.html"),
      );
      assert.equal(response.status, 200);
    },
  );

  const exit = await cli.stop("SIGTERM");
  assert.equal(exit.code, 0, cli.stderr());
});

Deno.test("a .js file is served as text/javascript", async () => {
  // The suite's JavaScript is not in shared/: bring our own.
  using dir = tempDir();
  Deno.mkdirSync(`${dir.path}/httptest`);
  const script = "var jQuery = function () { return 'jquery'; };\n";
  Deno.writeTextFileSync(`${dir.path}/httptest/jquery-1.9.1.js`, script);
  await using cli = await startCli({ args: ["-r", dir.path, "--quiet"] });
  const response = await fetchRaw(
    cli.port,
    suiteGet("/httptest/jquery-1.9.1.js"),
  );
  assert.equal(response.status, 200);
  assert.equal(header(response, "content-type"), "text/javascript");
  assert.equal(header(response, "content-length"), String(script.length));
  assert.equal(text(response), script);
  const exit = await cli.stop("SIGTERM");
  assert.equal(exit.code, 0, cli.stderr());
});
