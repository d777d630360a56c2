/**
 * Checks that a server answers the fixtures correctly before it is measured:
 * a fast wrong answer must not win a benchmark.
 *
 * @module
 */
import { FIXTURES, INDEXLESS_DIR } from "./_fixtures.ts";

/** Problems found, one sentence each; empty when all is well. */
export async function checkServer(origin: string): Promise<string[]> {
  const problems: string[] = [];
  for (const { path, size } of Object.values(FIXTURES)) {
    const response = await fetch(origin + path);
    const body = new Uint8Array(await response.arrayBuffer());
    if (response.status !== 200) {
      problems.push(`GET ${path}: status ${response.status}, expected 200`);
    } else if (body.length !== size) {
      problems.push(`GET ${path}: ${body.length} bytes, expected ${size}`);
    }
  }
  for (const path of [INDEXLESS_DIR, "/no-such-file"]) {
    const response = await fetch(origin + path);
    await response.body?.cancel();
    if (response.status !== 404) {
      problems.push(`GET ${path}: status ${response.status}, expected 404`);
    }
  }
  return problems;
}
