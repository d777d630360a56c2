/**
 * A cache of what request paths resolve to: real path, identity, validators,
 * precompressed siblings and, for small files, the bytes. A hit costs no
 * system call; an answer is checked against the disk again once it is older
 * than the staleness window, so a changed file is served fresh within it.
 *
 * @module
 */

import { parseRequestPath, withoutQuery } from "../protocol/request_path.ts";
import { mediaType } from "./media_type.ts";
import {
  codingByName,
  findPrecompressedSiblings,
  type PrecompressedCoding,
} from "./precompressed.ts";
import {
  createRepresentation,
  type FileEntry,
  isSameFile,
  isUnchanged,
  type Representation,
} from "./representation.ts";
import { classifyError, resolvePath } from "./resolve_path.ts";
import { SINGLE_WRITE_LIMIT } from "./response.ts";
import { type OpenFile, TimedOpener } from "./timed_open.ts";

/** What a request path names. */
export type Lookup =
  | { readonly kind: "file"; readonly entry: FileEntry }
  /** A directory asked for without its slash; the answer adds the query. */
  | { readonly kind: "redirect"; readonly segments: readonly string[] }
  | { readonly kind: "not-found" }
  | { readonly kind: "forbidden" }
  /**
   * The file could not be opened just now: its open outlasted
   * `openTimeoutMs`, too many opens are stuck, or its path was swapped
   * twice while it was resolved. Try again later.
   */
  | { readonly kind: "unavailable" };

/** Options for {@linkcode FileCache}. */
export interface FileCacheOptions {
  /**
   * Serve dotfiles.
   *
   * @default {false}
   */
  dotfiles?: boolean;
  /**
   * How long an answer is trusted before it is checked again, in ms.
   *
   * @default {500}
   */
  maxStaleMs?: number;
  /**
   * Most files kept.
   *
   * @default {4096}
   */
  maxEntries?: number;
  /**
   * Largest file whose bytes are kept in memory; never more than a third of
   * `maxBytes` (less the head room).
   *
   * @default {1048576}
   */
  maxFileSize?: number;
  /**
   * Most memory for file contents. A file counts with its room for a head;
   * without one, a small file (up to `SINGLE_WRITE_LIMIT`) counts three
   * times: its bytes and the two complete responses built from them. An
   * entry that would count more than the whole budget is not kept.
   *
   * @default {33554432}
   */
  maxBytes?: number;
  /**
   * Free bytes kept in front of the content of each non-empty file held in
   * memory, where a response head is written in place: see
   * `Frame` (frame.ts). None when 0.
   *
   * @default {0}
   */
  headRoom?: number;
  /**
   * How long a request waits for a file to open, in ms. An open that never
   * returns (a FIFO swapped in under the root, with no writer) holds one of
   * Deno's pool threads, never the event loop; the requests waiting on it
   * get `unavailable` instead of waiting with it. While `MAX_STUCK_OPENS`
   * (timed_open.ts) opens are past this, no new one starts: files whose
   * bytes are held are checked again by stat, with no open, and served
   * throughout; bigger ones, opened for each request, are `unavailable`
   * meanwhile.
   *
   * @default {5000}
   */
  openTimeoutMs?: number;
  /**
   * Opens files.
   *
   * @default {Deno.open}
   */
  open?: OpenFile;
}

/** An answer for one request path, until it is checked again. */
interface Known {
  readonly checkedAt: number;
  /** The file's key in the entry table, or the answer when it is no file. */
  readonly answer: string | Lookup;
}

interface Slot {
  readonly lookup: { readonly kind: "file"; readonly entry: FileEntry };
  readonly bytes: number;
}

const NOT_FOUND: Lookup = { kind: "not-found" };
const FORBIDDEN: Lookup = { kind: "forbidden" };
const UNAVAILABLE: Lookup = { kind: "unavailable" };
/**
 * What a load settles on when the file it opened is not the one the path
 * led to when checked: the path was swapped in between (a deploy renaming
 * a new file into place, or a symlink out of the root). Never a lookup's
 * answer: the path is resolved again, once.
 */
const SWAPPED = { kind: "swapped" } as const;

/** Thrown by `#read` for a file that is not the one expected. */
class SwappedError extends Error {}
/** Request paths longer than this are resolved every time, not remembered. */
const MAX_KEY_LENGTH = 1024;
/** A load in progress, and when it started (a `performance.now()` value). */
interface Loading {
  readonly promise: Promise<Lookup | typeof SWAPPED>;
  readonly startedAt: number;
}

/** A file opened after checking it is still the one described. */
export interface OpenedFile {
  /** The open file; whoever receives it closes it. */
  readonly file: Deno.FsFile;
  /** The open file's own stat. */
  readonly info: Deno.FileInfo;
}

/**
 * Resolves request targets to files under one root, remembering the answers
 * (404s and 403s too, so that scanners cost no system calls either).
 *
 * Request paths are remembered separately from files, so aliases of one file
 * (`/a`, `/./a`, `/%61`) share one copy of it. Metadata calls here are
 * synchronous on purpose: answered from the kernel's caches in
 * microseconds, they are cheaper than a round trip through Deno's blocking
 * thread pool, and they happen at most once per path per window. Opens are
 * not: an open can block for good (a FIFO swapped in after the stat), so it
 * goes through the pool, and a lookup that opens a file answers with a
 * promise. Reads of the opened file (a regular file, by its own stat) are
 * synchronous again.
 *
 * @example
 * ```ts
 * import { FileCache } from "./file_cache.ts";
 * import assert from "node:assert/strict";
 * const cache = new FileCache(Deno.realPathSync(new URL("../www", import.meta.url)));
 * const found = await cache.lookup("/index.html?query=ignored");
 * assert.equal(found.kind === "file" && found.entry.contentType, "text/html");
 * // Known now: answered at once, without a promise or a system call.
 * assert.equal(cache.lookup("/index.html"), found);
 * assert.equal((await cache.lookup("/missing")).kind, "not-found");
 * ```
 */
export class FileCache {
  readonly #root: string;
  readonly #dotfiles: boolean;
  readonly #maxStaleMs: number;
  readonly #maxEntries: number;
  readonly #maxFileSize: number;
  readonly #maxBytes: number;
  readonly #headRoom: number;
  readonly #opener: TimedOpener;
  readonly #known = new Map<string, Known>();
  readonly #slots = new Map<string, Slot>();
  /** Files being opened and read, by slot key: one load serves them all. */
  readonly #loading = new Map<string, Loading>();
  /**
   * Checks of a request path waiting on a load, by the path's key, and the
   * moment they began: lookups of that same moment share them.
   */
  readonly #checking = new Map<
    string,
    { readonly answer: Promise<Lookup>; readonly at: number }
  >();
  #bytes = 0;

  /** A cache of files under `root`, a real path (see `Deno.realPath`). */
  constructor(root: string, options?: FileCacheOptions) {
    this.#root = root;
    this.#dotfiles = options?.dotfiles ?? false;
    this.#maxStaleMs = options?.maxStaleMs ?? 500;
    this.#maxEntries = options?.maxEntries ?? 4096;
    this.#maxBytes = options?.maxBytes ?? 32 << 20;
    this.#headRoom = options?.headRoom ?? 0;
    // A file and its two siblings, each with its head room, must fit the
    // budget together: a smaller budget holds smaller files, and streams
    // the rest, rather than hold one entry beyond it.
    this.#maxFileSize = Math.max(
      0,
      Math.min(
        options?.maxFileSize ?? 1 << 20,
        Math.floor(this.#maxBytes / 3) - this.#headRoom,
      ),
    );
    this.#opener = new TimedOpener(
      options?.open ?? Deno.open,
      options?.openTimeoutMs ?? 5000,
    );
  }

  /**
   * What `target` names, as of `now` (a `performance.now()` value): at once
   * when known or when no file needs opening, else a promise that never
   * rejects for a file's sake. Throws a `RequestError` (400) for a target
   * that is not a decodable path.
   */
  lookup(
    target: string,
    now: number = performance.now(),
  ): Lookup | Promise<Lookup> {
    return this.#lookup(target, now, true);
  }

  #lookup(
    target: string,
    now: number,
    retry: boolean,
  ): Lookup | Promise<Lookup> {
    const key = withoutQuery(target);
    const known = this.#known.get(key);
    if (known !== undefined && now - known.checkedAt < this.#maxStaleMs) {
      const answer = known.answer;
      if (typeof answer !== "string") return answer;
      const slot = this.#slots.get(answer);
      if (slot !== undefined) return slot.lookup;
    }
    // Requests that arrive together (a batch of connections read in one
    // turn of the event loop, all at one coarse moment) would each resolve
    // the path again while the first one's load settles: they share it.
    const checking = this.#checking.get(key);
    if (retry && checking?.at === now) return checking.answer;
    const path = parseRequestPath(target);
    const found = resolvePath(this.#root, path, { dotfiles: this.#dotfiles });
    switch (found.kind) {
      case "not-found":
        return this.#remember(key, now, NOT_FOUND);
      case "forbidden":
        return this.#remember(key, now, FORBIDDEN);
      case "redirect":
        return this.#remember(
          key,
          now,
          path.kind === "inside"
            ? { kind: "redirect", segments: path.segments }
            : NOT_FOUND,
        );
    }
    const contentType = mediaType(found.name);
    const slotKey = `${found.path}\0${contentType}`;
    let loading = this.#loading.get(slotKey);
    if (loading === undefined) {
      loading = {
        promise: this.#loadSlot(slotKey, found.path, contentType, found.info),
        startedAt: now,
      };
      this.#loading.set(slotKey, loading);
    }
    // Remembered as of the start of the load, which may be older than this
    // lookup: the answer expires no later for having waited on the disk.
    const checkedAt = Math.min(now, loading.startedAt);
    const checked = loading.promise.then((answer) =>
      answer.kind === "swapped"
        // Resolved once more; swapped again by then means a flurry of
        // renames, or someone racing us on purpose: try again later.
        ? (retry ? this.#lookup(target, performance.now(), false) : UNAVAILABLE)
        : answer.kind === "file"
        ? this.#remember(key, checkedAt, answer, slotKey)
        : answer === UNAVAILABLE
        ? answer
        : this.#remember(key, checkedAt, answer)
    );
    if (retry) {
      const check = { answer: checked, at: now };
      this.#checking.set(key, check);
      const done = () => {
        if (this.#checking.get(key) === check) this.#checking.delete(key);
      };
      checked.then(done, done);
    }
    return checked;
  }

  /** Forgets what `target` named, e.g. after its file turned out to have changed. */
  forget(target: string): void {
    this.#known.delete(withoutQuery(target));
  }

  /**
   * Opens a file the cache described, if its path still leads to that very
   * file (checked to be inside the root): `"changed"` if it does not any
   * more, `"unavailable"` if it did not open in time.
   */
  async openSame(
    representation: Representation,
  ): Promise<OpenedFile | "changed" | "unavailable"> {
    // lstat, before opening: a symlink put in its place must not be
    // followed, and a FIFO is better not opened.
    const before = Deno.lstatSync(representation.path);
    if (!isSameFile(representation, before)) return "changed";
    const file = await this.#opener.open(representation.path);
    if (file === undefined) return "unavailable";
    try {
      const info = file.statSync();
      if (isSameFile(representation, info)) return { file, info };
    } catch (error) {
      file.close();
      throw error;
    }
    file.close();
    return "changed";
  }

  /** Remembers what a request path named (unless too long to be worth it). */
  #remember(
    key: string,
    now: number,
    answer: Lookup,
    slotKey?: string,
  ): Lookup {
    // An answer from a check that started before the one remembered (two
    // loads of one path, the older slower) must not replace it.
    const existing = this.#known.get(key);
    if (
      key.length <= MAX_KEY_LENGTH &&
      (existing === undefined || existing.checkedAt <= now)
    ) {
      // Re-inserted, so that the oldest checked go first when full.
      this.#known.delete(key);
      if (this.#known.size >= this.#maxEntries * 2) {
        this.#known.delete(this.#known.keys().next().value!);
      }
      this.#known.set(key, { checkedAt: now, answer: slotKey ?? answer });
    }
    return answer;
  }

  /**
   * Describes a file afresh (opening it unless its stat shows it
   * unchanged), stores it, and settles on what it is; done with, it leaves
   * `#loading`, so the next check describes it anew.
   */
  async #loadSlot(
    slotKey: string,
    path: string,
    contentType: string,
    expected: Deno.FileInfo,
  ): Promise<Lookup | typeof SWAPPED> {
    try {
      let entry: FileEntry | undefined;
      try {
        entry = await this.#load(
          path,
          contentType,
          this.#slots.get(slotKey)?.lookup.entry,
          expected,
        );
      } catch (error) {
        this.#drop(slotKey);
        if (error instanceof SwappedError) return SWAPPED;
        return classifyError(error) === "forbidden" ? FORBIDDEN : NOT_FOUND;
      }
      if (entry === undefined) return UNAVAILABLE;
      // Read again after the wait: other loads may have evicted it.
      const slot = this.#slots.get(slotKey);
      if (slot?.lookup.entry === entry) {
        // Checked and unchanged: it goes to the back of the eviction order.
        // A file is checked at most once per trust window, so one still
        // asked for outlives those not asked for since their last check.
        this.#slots.delete(slotKey);
        this.#slots.set(slotKey, slot);
        return slot.lookup;
      }
      this.#drop(slotKey);
      return this.#store(slotKey, entry);
    } finally {
      this.#loading.delete(slotKey);
    }
  }

  /**
   * Describes a file and its siblings, reusing `previous` where nothing
   * changed; `undefined` if the original did not open in time. Only the
   * original's errors are thrown: a sibling that cannot be read is left out.
   * `expected` is the original as its path was resolved.
   */
  async #load(
    path: string,
    contentType: string,
    previous: FileEntry | undefined,
    expected: Deno.FileInfo,
  ): Promise<FileEntry | undefined> {
    // A file compressed by name (`.svgz`) is sent as it is, coding and
    // all: there is no plainer form to choose, nor siblings to look for.
    const inherent = codingByName(path);
    // Opened side by side, so that opens that hang cost one timeout, not
    // one each.
    const siblings = inherent === undefined
      ? findPrecompressedSiblings(path)
      : [];
    const [first, ...rest] = await Promise.allSettled([
      this.#read(path, expected, inherent, previous?.original),
      ...siblings.map((sibling) =>
        this.#read(
          sibling.path,
          sibling.info,
          sibling.coding,
          previous?.encoded.find((r) => r.coding === sibling.coding),
        )
      ),
    ]);
    if (first.status === "rejected") throw first.reason;
    const original = first.value;
    if (original === undefined) return undefined;
    // A sibling that is unreadable, gone or swapped since its lstat, or
    // slow to open, is left out, as in findPrecompressedSiblings: the
    // original is always a correct answer, so a sibling's trouble must not
    // turn it into a 403, 404 or 503.
    const encoded: Representation[] = [];
    for (const result of rest) {
      if (result.status === "fulfilled" && result.value !== undefined) {
        encoded.push(result.value);
      }
    }
    const unchanged = previous !== undefined &&
      previous.original === original &&
      previous.encoded.length === encoded.length &&
      previous.encoded.every((r, i) => r === encoded[i]);
    return unchanged ? previous : { contentType, original, encoded };
  }

  /**
   * Opens `path` and reads it if small, reusing `previous` if unchanged;
   * `undefined` if it did not open in time. Throws `SwappedError` if what
   * opened is not `expected`, the file found at `path` by lstat: the
   * path's last check (inside the root, a regular file) held for that
   * file, not for whatever a rename or a new symlink put there since.
   */
  async #read(
    path: string,
    expected: Deno.FileInfo,
    coding: PrecompressedCoding | undefined,
    previous: Representation | undefined,
  ): Promise<Representation | undefined> {
    // Unchanged by its stat: no open, so a file already known is served
    // even while opens hang.
    if (
      previous !== undefined && !previous.racy && isSameFile(previous, expected)
    ) {
      const info = Deno.statSync(path);
      if (!info.isFile) throw new Deno.errors.NotFound("Not a regular file");
      if (isUnchanged(previous, info)) return previous;
    }
    const file = await this.#opener.open(path);
    if (file === undefined) return undefined;
    try {
      const info = file.statSync();
      if (!info.isFile) throw new Deno.errors.NotFound("Not a regular file");
      if (info.ino !== expected.ino || info.dev !== expected.dev) {
        throw new SwappedError(`${path} was swapped before it opened`);
      }
      return createRepresentation(file, path, info, coding, previous, {
        maxFileSize: this.#maxFileSize,
        headRoom: this.#headRoom,
      });
    } finally {
      file.close();
    }
  }

  #store(key: string, entry: FileEntry): Lookup {
    let bytes = 0;
    for (const r of [entry.original, ...entry.encoded]) {
      const size = r.bytes?.length ?? 0;
      // A file's head is written in its frame; without one, a small file's
      // two complete responses (see Wire) hold it again.
      bytes += r.frame?.byteLength ??
        (size <= SINGLE_WRITE_LIMIT ? 3 * size : size);
    }
    const lookup = { kind: "file", entry } as const;
    // More than the whole budget (a file and its siblings near the size
    // limit without head room, or one that lost its frame): answered this
    // once, not kept, and nothing else is evicted for it.
    if (bytes > this.#maxBytes) return lookup;
    // Evict the least recently checked first: Map iteration is insertion
    // order, and a check that finds a file unchanged re-inserts it.
    for (const oldKey of this.#slots.keys()) {
      if (
        this.#slots.size < this.#maxEntries &&
        this.#bytes + bytes <= this.#maxBytes
      ) break;
      this.#drop(oldKey);
    }
    this.#slots.set(key, { lookup, bytes });
    this.#bytes += bytes;
    return lookup;
  }

  #drop(key: string): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    this.#bytes -= slot.bytes;
  }
}
