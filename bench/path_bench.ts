/**
 * Path parsing and resolution cost:
 * `deno bench --allow-read --allow-write bench/path_bench.ts`.
 *
 * `resolvePath()` figures include its file system calls (realpathSync,
 * lstatSync, all synchronous) on a temporary directory, so they show what a
 * request pays before any cache.
 *
 * @module
 */
import { parseRequestPath } from "../protocol/request_path.ts";
import { resolvePath } from "../server/resolve_path.ts";

const root = await Deno.realPath(
  await Deno.makeTempDir({ prefix: "httpd-path-bench-" }),
);
await Deno.mkdir(`${root}/docs/nested`, { recursive: true });
await Deno.writeTextFile(`${root}/1k.html`, "x".repeat(1024));
await Deno.writeTextFile(`${root}/docs/nested/index.html`, "<p>hi</p>");
await Deno.writeTextFile(`${root}/space in name.txt`, "hello");
globalThis.addEventListener("unload", () => {
  Deno.removeSync(root, { recursive: true });
});

const SIMPLE = parseRequestPath("/1k.html");
const INDEX = parseRequestPath("/docs/nested/");
const ESCAPED = parseRequestPath("/space%20in%20name.txt");
const MISSING = parseRequestPath("/no/such/file.html");

Deno.bench("parseRequestPath() /1k.html", { group: "parse" }, () => {
  parseRequestPath("/1k.html");
});

Deno.bench("parseRequestPath() escapes, dot segments, query", {
  group: "parse",
}, () => {
  parseRequestPath("/a/./b/../space%20in%20name.txt?x=1");
});

Deno.bench("resolvePath() file", { group: "resolve" }, () => {
  resolvePath(root, SIMPLE);
});

Deno.bench("resolvePath() directory index", { group: "resolve" }, () => {
  resolvePath(root, INDEX);
});

Deno.bench("resolvePath() escaped name", { group: "resolve" }, () => {
  resolvePath(root, ESCAPED);
});

Deno.bench("resolvePath() missing file", { group: "resolve" }, () => {
  resolvePath(root, MISSING);
});

// References: the floor of one revalidation per request, sync and async.
Deno.bench("reference: Deno.statSync()", { group: "syscall" }, () => {
  Deno.statSync(`${root}/1k.html`);
});

Deno.bench("reference: await Deno.stat()", { group: "syscall" }, async () => {
  await Deno.stat(`${root}/1k.html`);
});

Deno.bench("reference: await Deno.realPath()", {
  group: "syscall",
}, async () => {
  await Deno.realPath(`${root}/1k.html`);
});
