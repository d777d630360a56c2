/**
 * A bounded GET for the harness's own checks: a server under test that
 * accepts a connection and never answers must fail the check, not hold the
 * benchmark.
 *
 * @module
 */

/** What a GET answered: its status and whole body. */
export interface Fetched {
  status: number;
  body: Uint8Array;
}

/**
 * GETs `url` and reads the whole body, or rejects once `ms` have passed.
 */
export async function fetchWithin(url: string, ms: number): Promise<Fetched> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`no answer from ${url} within ${ms} ms`)),
    ms,
  );
  try {
    const response = await fetch(url, { signal: controller.signal });
    const body = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, body };
  } finally {
    clearTimeout(timer);
  }
}
