import assert from "node:assert/strict";
import { DEFAULT_MEDIA_TYPE, mediaType } from "../../server/media_type.ts";

/** [file name, exact Content-Type]. */
const TYPES: [string, string][] = [
  // The exact types the brief requires, without a charset.
  ["index.html", "text/html"],
  ["style.css", "text/css"],
  ["app.js", "text/javascript"],
  ["photo.jpg", "image/jpeg"],
  ["photo.jpeg", "image/jpeg"],
  ["logo.png", "image/png"],
  ["anim.gif", "image/gif"],
  ["movie.swf", "application/x-shockwave-flash"],
  // Extensions mime-db gives to two types of the same source: nginx's
  // mime.types decides where it lists the extension.
  ["clip.mp4", "video/mp4"],
  ["clip.MP4", "video/mp4"],
  ["feed.xml", "text/xml"],
  ["clip.3gpp", "video/3gpp"],
  ["letter.rtf", "application/rtf"],
  // ... and what browsers play where it does not.
  ["clip.mpg4", "video/mp4"],
  ["clip.mts", "video/mp2t"],
  // Untouched neighbours.
  ["clip.m4v", "video/x-m4v"],
  ["clip.3gp", "video/3gpp"],
  ["song.mp4a", "audio/mp4"],
  ["clip.ts", "video/mp2t"],
  // When several types claim an extension, the better source wins: IANA
  // over Apache, and Apache over nginx.
  ["song.aac", "audio/aac"],
  ["stream.ra", "audio/x-pn-realaudio"],
  // A type mime-db lists without a source still names its extensions, but
  // never one a sourced type claims too.
  ["config.json5", "application/json5"],
  ["song.mp3", "audio/mpeg"],
  ["archive.zip", "application/zip"],
  // A dotfile's name is all extension, as in nginx and Go's path.Ext().
  [".html", "text/html"],
  [".htaccess", DEFAULT_MEDIA_TYPE],
  ["README", DEFAULT_MEDIA_TYPE],
  ["trailing.", DEFAULT_MEDIA_TYPE],
];

Deno.test("mediaType() gives the exact Content-Type for each extension", async (t) => {
  for (const [name, type] of TYPES) {
    await t.step(`mediaType(${JSON.stringify(name)}) is ${type}`, () => {
      assert.equal(mediaType(name), type);
    });
  }
});
