/**
 * Generates the document root every server serves: the same bytes for all.
 *
 * @module
 */

/** A generated file: its URL path and size in bytes. */
export interface Fixture {
  path: string;
  size: number;
}

/** The benchmark files, named by size. */
export const FIXTURES = {
  tiny: { path: "/38b.txt", size: 38 },
  small: { path: "/1k.html", size: 1024 },
  page: { path: "/954k.html", size: 954_824 },
  large: { path: "/10m.bin", size: 10 * 1024 * 1024 },
} as const satisfies Record<string, Fixture>;

/** A directory without an index file: every server must answer 404. */
export const INDEXLESS_DIR = "/empty-dir/";

/**
 * Writes the fixtures into a fresh temporary directory and returns its path.
 * Directories are made world-readable because nginx workers drop root.
 */
export async function createDocumentRoot(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "httpd-bench-root-" });
  await Deno.chmod(root, 0o755);
  for (const fixture of Object.values(FIXTURES)) {
    const file = root + fixture.path;
    await Deno.writeFile(file, createContent(fixture.size), { mode: 0o644 });
    await Deno.chmod(file, 0o644);
  }
  await Deno.mkdir(root + INDEXLESS_DIR, { mode: 0o755 });
  return root;
}

/** Deterministic printable bytes, so text and binary files compare alike. */
function createContent(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = 0x2545f491;
  for (let i = 0; i < size; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = i % 64 === 63 ? 0x0a : 0x21 + ((state >>> 16) % 94);
  }
  return bytes;
}
