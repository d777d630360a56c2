/**
 * A file as it is served: its identity, its validators and, for a small
 * file, its bytes, read from an open file and its stat. Whether a later
 * stat still shows the same file, unchanged, is decided here too.
 *
 * @module
 */

import { formatEtag } from "../protocol/etag.ts";
import { Frame } from "./frame.ts";
import type { PrecompressedCoding } from "./precompressed.ts";

/** One file on disk: the original or a precompressed sibling. */
export interface Representation {
  /** Its real path. */
  readonly path: string;
  /** Its size in bytes. */
  readonly size: number;
  /** Modification time in ms, or undefined where the platform has none. */
  readonly mtimeMs: number | undefined;
  /**
   * Status change time in ms (whole seconds from Deno), or undefined where
   * the platform has none: it moves on a rewrite that puts the old mtime
   * back, so it is checked too.
   */
  readonly ctimeMs: number | undefined;
  /** The device and inode: the file's identity, checked again before an open. */
  readonly dev: number;
  /** See `dev`; `null` where the platform has no inodes. */
  readonly ino: number | null;
  /**
   * Strong ETag from size, times and inode (and content, while racy);
   * none for a racy file whose bytes are not held (see `racy`).
   */
  readonly etag: string | undefined;
  /**
   * `Content-Encoding` of a sibling, or of an original compressed by name
   * (`.svgz`); undefined for the others.
   */
  readonly coding: PrecompressedCoding | undefined;
  /** The content, for files up to the cache's size limit. */
  readonly bytes: Uint8Array | undefined;
  /**
   * What holds `bytes` when the cache keeps room for a head in front of
   * them (see `headRoom`), for a file that is not empty.
   */
  readonly frame: Frame | undefined;
  /**
   * Described so soon after its last change that a same-size rewrite would
   * not show in the stat (within the same millisecond, or within the same
   * second if it puts the old mtime back: Deno gives the ctime in whole
   * seconds): described again next time. Held bytes are then told apart by
   * a hash of them in the ETag; a file whose bytes are not held gets no
   * ETag at all until it settles, so that no tag given out for it can
   * validate a later rewrite.
   */
  readonly racy: boolean;
}

/** A file as a request path names it. */
export interface FileEntry {
  /** The exact `Content-Type`, from the file name's extension. */
  readonly contentType: string;
  /** The file itself. */
  readonly original: Representation;
  /** Precompressed siblings, br before gzip; empty for most files. */
  readonly encoded: readonly Representation[];
}

/** How {@linkcode createRepresentation} reads a file. */
export interface RepresentationOptions {
  /** Largest file whose bytes are read and kept; bigger ones are described only. */
  readonly maxFileSize: number;
  /** Free bytes kept in front of the bytes of a file that is not empty; none when 0. */
  readonly headRoom: number;
}

/** A file changed this recently may change again unseen by its stat. */
const RACY_MS = 2000;

/**
 * Describes an open regular file from its stat `info`, with its bytes if it
 * is small; `previous` (the same file's last description) is returned
 * instead when nothing in it changed, so that what was built on it stays.
 */
export function createRepresentation(
  file: Deno.FsFile,
  path: string,
  info: Deno.FileInfo,
  coding: PrecompressedCoding | undefined,
  previous: Representation | undefined,
  options: RepresentationOptions,
): Representation {
  if (
    previous !== undefined && !previous.racy && isUnchanged(previous, info)
  ) {
    return previous;
  }
  const mtimeMs = info.mtime?.getTime();
  const ctimeMs = info.ctime?.getTime();
  let bytes: Uint8Array | undefined;
  let frame: Frame | undefined;
  if (info.size <= options.maxFileSize) {
    if (options.headRoom > 0 && info.size > 0) {
      frame = new Frame(options.headRoom, info.size);
      bytes = frame.body;
    } else bytes = new Uint8Array(info.size);
    const filled = readInto(file, bytes);
    // Shrunk while we read: keep what is there, it is what a reader sees.
    if (filled < bytes.length) {
      bytes = bytes.subarray(0, filled);
      frame = undefined;
    }
  }
  const size = bytes?.length ?? info.size;
  // A write between the stat and the read would put new bytes under the
  // old stat's validators: if the stat moved meanwhile, the bytes are
  // told apart by their hash, and read again at the next check. Bytes not
  // held cannot be hashed: such a file goes without an ETag meanwhile.
  const racy = isRecentChange(info) ||
    (bytes !== undefined &&
      !hasSameStat({ size: info.size, mtimeMs, ctimeMs }, file.statSync()));
  let etag: string | undefined;
  if (bytes !== undefined || !racy) {
    const suffix = [
      coding,
      racy && bytes !== undefined ? hash(bytes) : undefined,
    ].filter((s) => s !== undefined);
    etag = formatEtag(
      { size, mtimeMs: mtimeMs ?? 0, ctimeMs, ino: info.ino },
      suffix.length > 0 ? suffix.join("-") : undefined,
    );
  }
  const representation: Representation = {
    path,
    size,
    mtimeMs,
    ctimeMs,
    dev: info.dev,
    ino: info.ino,
    etag,
    coding,
    bytes,
    frame,
    racy,
  };
  // Unchanged after all: keep the old object, and with it what was built on
  // it. (The very file, by its stat: a racy one whose bytes are not held
  // has no ETag to say so.)
  return previous !== undefined && previous.etag === etag &&
      previous.racy === racy && isUnchanged(previous, info) &&
      sameBytes(previous.bytes, bytes)
    ? previous
    : representation;
}

/**
 * `representation` as a newer stat of the same file (same device and inode)
 * describes it, for a file that is not held in memory: racy, without an
 * ETag, if that stat shows a change in the last 2 s.
 */
export function restat(
  representation: Representation,
  info: Deno.FileInfo,
): Representation {
  if (hasSameStat(representation, info)) return representation;
  const mtimeMs = info.mtime?.getTime();
  const ctimeMs = info.ctime?.getTime();
  const racy = isRecentChange(info);
  return {
    ...representation,
    size: info.size,
    mtimeMs,
    ctimeMs,
    etag: racy ? undefined : formatEtag(
      { size: info.size, mtimeMs: mtimeMs ?? 0, ctimeMs, ino: info.ino },
      representation.coding,
    ),
    racy,
  };
}

/**
 * Whether a stat shows a change in the last 2 s: a rewrite after those 2 s
 * moves the ctime to a later second, and with it the ETag. The change is
 * dated by the ctime, which no call can set, and the mtime when that is
 * later (Deno gives the ctime in whole seconds, the mtime in milliseconds),
 * but not by an mtime in the future, put there by hand, which says nothing
 * of when the file last changed.
 */
function isRecentChange(info: Deno.FileInfo): boolean {
  const now = Date.now();
  const mtimeMs = info.mtime?.getTime();
  const changedMs = Math.max(
    info.ctime?.getTime() ?? -Infinity,
    mtimeMs !== undefined && mtimeMs <= now ? mtimeMs : -Infinity,
  );
  return now - changedMs < RACY_MS;
}

/**
 * Whether a stat gives the size and times `representation` was made from:
 * the same content, as far as a stat can tell (see `racy` for where it
 * cannot). The file's identity is another question (see `isUnchanged`).
 */
function hasSameStat(
  representation: Pick<Representation, "size" | "mtimeMs" | "ctimeMs">,
  info: Deno.FileInfo,
): boolean {
  return representation.size === info.size &&
    representation.mtimeMs === info.mtime?.getTime() &&
    representation.ctimeMs === info.ctime?.getTime();
}

/** Whether a stat shows the very file, unchanged, that `previous` describes. */
export function isUnchanged(
  previous: Representation,
  info: Deno.FileInfo,
): boolean {
  return hasSameStat(previous, info) && previous.ino === info.ino &&
    previous.dev === info.dev;
}

/** Whether a stat shows a regular file with the identity `representation` has. */
export function isSameFile(
  representation: Representation,
  info: Deno.FileInfo,
): boolean {
  return info.isFile && info.ino === representation.ino &&
    info.dev === representation.dev;
}

/** Reads until `bytes` is full or the file ends; how many bytes were read. */
function readInto(file: Deno.FsFile, bytes: Uint8Array): number {
  let filled = 0;
  while (filled < bytes.length) {
    const n = file.readSync(bytes.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

function sameBytes(
  a: Uint8Array | undefined,
  b: Uint8Array | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** FNV-1a, 32 bits, in base 36: tells two contents apart, cheaply. */
function hash(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h ^ bytes[i], 0x01000193);
  }
  return (h >>> 0).toString(36);
}
