/**
 * Checks that a server answers the fixtures correctly before it is measured:
 * a fast wrong answer must not win a benchmark.
 *
 * @module
 */
import { fetchWithin } from "./_fetch.ts";
import { FIXTURES, INDEXLESS_DIR } from "./_fixtures.ts";

/** How long one check's answer, body included, may take. */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * Problems found, one sentence each; empty when all is well. Rejects when
 * an answer, body included, takes longer than `timeoutMs`.
 */
export async function checkServer(
  origin: string,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<string[]> {
  const problems: string[] = [];
  for (const { path, size } of Object.values(FIXTURES)) {
    const { status, body } = await fetchWithin(origin + path, timeoutMs);
    if (status !== 200) {
      problems.push(`GET ${path}: status ${status}, expected 200`);
    } else if (body.length !== size) {
      problems.push(`GET ${path}: ${body.length} bytes, expected ${size}`);
    }
  }
  for (const path of [INDEXLESS_DIR, "/no-such-file"]) {
    const { status } = await fetchWithin(origin + path, timeoutMs);
    if (status !== 404) {
      problems.push(`GET ${path}: status ${status}, expected 404`);
    }
  }
  return problems;
}
