/**
 * A cache of what request paths resolve to: real path, identity, validators,
 * precompressed siblings and, for small files, the bytes. A hit costs no
 * system call; an entry is checked against the disk again once it is older
 * than the staleness window, so a changed file is served fresh within it.
 *
 * @module
 */

import { formatHttpDate } from "../protocol/date.ts";
import { formatEtag } from "../protocol/etag.ts";
import { parseRequestPath } from "../protocol/request_path.ts";
import { mediaType } from "./media_type.ts";
import {
  PRECOMPRESSED_SUFFIXES,
  type PrecompressedCoding,
} from "./precompressed.ts";
import { classifyError, resolvePath } from "./resolve_path.ts";

/** One file on disk: the original or a precompressed sibling. */
export interface Representation {
  /** Its real path. */
  readonly path: string;
  readonly size: number;
  /** Modification time in ms, or undefined where the platform has none. */
  readonly mtimeMs: number | undefined;
  readonly ino: number | null;
  /** Strong ETag from size, mtime and inode. */
  readonly etag: string;
  /** `Content-Encoding` of a sibling; undefined for the original. */
  readonly coding: PrecompressedCoding | undefined;
  /** The content, for files up to the cache's size limit. */
  readonly bytes: Uint8Array | undefined;
}

/** A request path that names a file. */
export interface FileEntry {
  readonly contentType: string;
  readonly original: Representation;
  /** Precompressed siblings, br before gzip; empty for most files. */
  readonly encoded: readonly Representation[];
}

/** What a request path names. */
export type Lookup =
  | { readonly kind: "file"; readonly entry: FileEntry }
  | { readonly kind: "redirect"; readonly location: string }
  | { readonly kind: "not-found" }
  | { readonly kind: "forbidden" };

/** Options for {@linkcode FileCache}. */
export interface FileCacheOptions {
  /** Serve dotfiles. @default {false} */
  dotfiles?: boolean;
  /** How long an entry is trusted before it is checked again, in ms. @default {500} */
  maxStaleMs?: number;
  /** Most entries kept. @default {4096} */
  maxEntries?: number;
  /** Largest file whose bytes are kept in memory. @default {65536} */
  maxFileSize?: number;
  /** Most bytes of file content kept in memory. @default {67108864} */
  maxBytes?: number;
}

interface Slot {
  entry: FileEntry;
  checkedAt: number;
  bytes: number;
}

/**
 * Resolves request targets to files under one root, remembering the answer.
 * File system calls here are synchronous on purpose: they are metadata calls
 * answered from the kernel's caches in microseconds, cheaper than a
 * round trip through Deno's blocking thread pool, and they happen at most
 * once per path per staleness window.
 *
 * @example
 * ```ts ignore
 * import { FileCache } from "./file_cache.ts";
 * const cache = new FileCache(Deno.realPathSync("www"));
 * const found = cache.lookup("/index.html");
 * ```
 */
export class FileCache {
  readonly #root: string;
  readonly #dotfiles: boolean;
  readonly #maxStaleMs: number;
  readonly #maxEntries: number;
  readonly #maxFileSize: number;
  readonly #maxBytes: number;
  readonly #slots = new Map<string, Slot>();
  #bytes = 0;

  constructor(root: string, options?: FileCacheOptions) {
    this.#root = root;
    this.#dotfiles = options?.dotfiles ?? false;
    this.#maxStaleMs = options?.maxStaleMs ?? 500;
    this.#maxEntries = options?.maxEntries ?? 4096;
    this.#maxFileSize = options?.maxFileSize ?? 65536;
    this.#maxBytes = options?.maxBytes ?? 64 << 20;
  }

  /**
   * What `target` names. Throws a `RequestError` (400) for a target that is
   * not a decodable path.
   */
  lookup(target: string): Lookup {
    const key = pathOf(target);
    const now = performance.now();
    const slot = this.#slots.get(key);
    if (slot !== undefined && now - slot.checkedAt < this.#maxStaleMs) {
      return { kind: "file", entry: slot.entry };
    }
    const path = parseRequestPath(target);
    const found = resolvePath(this.#root, path, { dotfiles: this.#dotfiles });
    if (found.kind !== "file") {
      if (slot !== undefined) this.#drop(key, slot);
      if (found.kind === "redirect" && path.kind === "inside") {
        return {
          kind: "redirect",
          location: redirectLocation(path.segments, path.query),
        };
      }
      return found.kind === "redirect" ? { kind: "not-found" } : found;
    }
    try {
      const entry = this.#load(found.path, found.name, slot?.entry);
      if (slot !== undefined) this.#drop(key, slot);
      this.#store(key, entry, now);
      return { kind: "file", entry };
    } catch (error) {
      if (slot !== undefined) this.#drop(key, slot);
      return { kind: classifyError(error) };
    }
  }

  /** Forgets `target`, e.g. after its file turned out to have changed. */
  forget(target: string): void {
    const key = pathOf(target);
    const slot = this.#slots.get(key);
    if (slot !== undefined) this.#drop(key, slot);
  }

  #load(
    path: string,
    name: string,
    previous: FileEntry | undefined,
  ): FileEntry {
    const original = this.#read(path, undefined, previous?.original);
    const encoded: Representation[] = [];
    for (const [coding, suffix] of Object.entries(PRECOMPRESSED_SUFFIXES)) {
      const siblingPath = path + suffix;
      let info: Deno.FileInfo;
      try {
        // lstat: a sibling that is a symlink could point anywhere; skip it.
        info = Deno.lstatSync(siblingPath);
      } catch {
        continue;
      }
      if (!info.isFile) continue;
      const before = previous?.encoded.find((r) => r.coding === coding);
      encoded.push(
        this.#read(siblingPath, coding as PrecompressedCoding, before),
      );
    }
    return { contentType: mediaType(name), original, encoded };
  }

  /** Stats `path` and reads it if small, reusing `previous` if unchanged. */
  #read(
    path: string,
    coding: PrecompressedCoding | undefined,
    previous: Representation | undefined,
  ): Representation {
    const file = Deno.openSync(path);
    try {
      const info = file.statSync();
      if (!info.isFile) throw new Deno.errors.NotFound("Not a regular file");
      const mtimeMs = info.mtime?.getTime();
      if (
        previous !== undefined && previous.size === info.size &&
        previous.mtimeMs === mtimeMs && previous.ino === info.ino
      ) {
        return previous;
      }
      let bytes: Uint8Array | undefined;
      if (info.size <= this.#maxFileSize) {
        bytes = new Uint8Array(info.size);
        let filled = 0;
        while (filled < bytes.length) {
          const n = file.readSync(bytes.subarray(filled));
          if (n === null) break;
          filled += n;
        }
        // Shrunk while we read: keep what is there, it is what a reader sees.
        if (filled < bytes.length) bytes = bytes.subarray(0, filled);
      }
      const size = bytes?.length ?? info.size;
      return {
        path,
        size,
        mtimeMs,
        ino: info.ino,
        etag: formatEtag(
          { size, mtimeMs: mtimeMs ?? 0, ino: info.ino },
          coding,
        ),
        coding,
        bytes,
      };
    } finally {
      file.close();
    }
  }

  #store(key: string, entry: FileEntry, now: number): void {
    let bytes = entry.original.bytes?.length ?? 0;
    for (const r of entry.encoded) bytes += r.bytes?.length ?? 0;
    // Evict least recently stored first: Map iteration is insertion order,
    // and entries are re-inserted whenever they are checked again.
    for (const [oldKey, old] of this.#slots) {
      if (
        this.#slots.size < this.#maxEntries &&
        this.#bytes + bytes <= this.#maxBytes
      ) break;
      this.#drop(oldKey, old);
    }
    this.#slots.set(key, { entry, checkedAt: now, bytes });
    this.#bytes += bytes;
  }

  #drop(key: string, slot: Slot): void {
    if (this.#slots.get(key) !== slot) return;
    this.#slots.delete(key);
    this.#bytes -= slot.bytes;
  }
}

/** The last-modified date of a representation, as sent. */
export function lastModified(
  representation: Representation,
): string | undefined {
  const ms = representation.mtimeMs;
  return ms === undefined ? undefined : formatHttpDate(new Date(ms));
}

// The cache key: the target without query or fragment, which never change
// what file is served.
function pathOf(target: string): string {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3f || c === 0x23) return target.slice(0, i);
  }
  return target;
}

// The same path with its slash; segments are re-encoded so the Location
// value is plain ASCII whatever the client sent.
function redirectLocation(segments: readonly string[], query: string): string {
  let location = "/";
  for (const segment of segments) location += `${encodeURIComponent(segment)}/`;
  // The query is still raw bytes, one character each: escape them as bytes.
  return location +
    query.replace(
      /[^\x21-\x7e]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
    );
}
