import assert from "node:assert/strict";
import { findPageRefs, parseAttributes } from "./_page_refs.ts";

const PAGE = new URL("http://127.0.0.1/httptest/page.html");

function refs(html: string): string[] {
  return findPageRefs(html, PAGE).map((ref) => `${ref.kind} ${ref.url.href}`);
}

Deno.test("parseAttributes() reads quoted, unquoted and bare attributes", () => {
  const attributes = parseAttributes(
    ` src="a b.png" alt='it''s' width=22 async data-x="&amp;&#65;&#x42;"`,
  );
  assert.equal(attributes.get("src"), "a b.png");
  assert.equal(attributes.get("alt"), "it");
  assert.equal(attributes.get("width"), "22");
  assert.equal(attributes.get("async"), "");
  assert.equal(attributes.get("data-x"), "&AB");
});

Deno.test("parseAttributes() keeps the first of repeated attributes", () => {
  assert.equal(parseAttributes(`SRC="one" src="two"`).get("src"), "one");
});

Deno.test("findPageRefs() resolves images, stylesheets and scripts against the page", () => {
  const html = `<link rel="stylesheet" href="files/a.css">
    <img src="files/b.png" srcset="//cdn.example/b2.png 2x">
    <script src="/abs.js"></script>
    <IMG SRC=../up.gif>`;
  assert.deepEqual(refs(html), [
    "stylesheet http://127.0.0.1/httptest/files/a.css",
    "image http://127.0.0.1/httptest/files/b.png",
    "script http://127.0.0.1/abs.js",
    "image http://127.0.0.1/up.gif",
  ]);
});

Deno.test("findPageRefs() resolves protocol-relative URLs to another origin", () => {
  const [ref] = findPageRefs(`<img src="//upload.example/x.png">`, PAGE);
  assert.equal(ref.url.origin, "http://upload.example");
});

Deno.test("findPageRefs() skips links, icons, data URLs, comments and raw text", () => {
  const html = `<a href="files/doc.png">x</a>
    <link rel="shortcut icon" href="favicon.ico">
    <link rel="alternate stylesheet" href="alt.css">
    <link rel="dns-prefetch" href="//meta.example/">
    <img src="data:image/png;base64,AAAA">
    <!-- <img src="commented.png"> -->
    <script>document.write('<img src="written.png">')</script>
    <style>.x { content: '<img src="styled.png">' }</style>
    <noscript><img src="noscript.png"></noscript>
    <textarea><img src="textarea.png"></textarea>`;
  assert.deepEqual(refs(html), []);
});

Deno.test("findPageRefs() decodes character references in URLs", () => {
  assert.deepEqual(refs(`<img src="a.png?x=1&amp;y=2">`), [
    "image http://127.0.0.1/httptest/a.png?x=1&y=2",
  ]);
});
