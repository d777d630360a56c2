/**
 * File name extension to Content-Type, from mime-db (the database
 * std/media_types is generated from) with a few pinned answers.
 *
 * @module
 */

import db from "mime-db";

interface MimeEntry {
  source?: string;
  extensions?: string[];
}

/**
 * Answers that are fixed whatever mime-db says: the types browsers and the
 * public test suite expect, without a charset parameter (nginx's choice; a
 * page declares its own charset).
 */
const PINNED: Readonly<Record<string, string>> = {
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  js: "text/javascript",
  mjs: "text/javascript",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  swf: "application/x-shockwave-flash",
  txt: "text/plain",
  json: "application/json",
  svg: "image/svg+xml",
  wasm: "application/wasm",
  // Extensions mime-db gives to two types of the same source, where its
  // alphabetical order would pick the wrong one: nginx's mime.types
  // decides, and for the ones it lacks, what browsers play. application/mp4
  // is for MP4 files without audio or video (RFC 4337 §2); Chromium
  // downloads rather than plays it.
  mp4: "video/mp4",
  mpg4: "video/mp4",
  mts: "video/mp2t",
  "3gpp": "video/3gpp",
  xml: "text/xml",
};

/** When two types claim an extension, the better-sourced one wins. */
const SOURCE_RANK: Readonly<Record<string, number>> = {
  iana: 3,
  apache: 2,
  nginx: 1,
};

function buildTable(): Map<string, string> {
  const table = new Map<string, string>();
  const ranks = new Map<string, number>();
  for (const [type, entry] of Object.entries(db as Record<string, MimeEntry>)) {
    const rank = SOURCE_RANK[entry.source ?? ""] ?? 0;
    for (const extension of entry.extensions ?? []) {
      if ((ranks.get(extension) ?? -1) < rank) {
        table.set(extension, type);
        ranks.set(extension, rank);
      }
    }
  }
  for (const [extension, type] of Object.entries(PINNED)) {
    table.set(extension, type);
  }
  return table;
}

const TYPES = buildTable();

/** What a file of unknown type is sent as. */
export const DEFAULT_MEDIA_TYPE = "application/octet-stream";

/**
 * The Content-Type for a file name, by its extension, case-insensitively.
 *
 * @example
 * ```ts
 * import { mediaType } from "./media_type.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mediaType("index.HTML"), "text/html");
 * assert.equal(mediaType("app.js"), "text/javascript");
 * assert.equal(mediaType("README"), "application/octet-stream");
 * ```
 */
export function mediaType(name: string): string {
  const dot = name.lastIndexOf(".");
  if (dot < 0 || dot === name.length - 1) return DEFAULT_MEDIA_TYPE;
  return TYPES.get(name.slice(dot + 1).toLowerCase()) ?? DEFAULT_MEDIA_TYPE;
}
