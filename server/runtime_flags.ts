/**
 * The V8 flag every httpd.ts process runs with (tasks, workers, the
 * compiled binary, the container image, the benchmark).
 *
 * V8 grows its young generation up to 16 MiB per semi-space under a steady
 * allocation rate, whether or not anything survives; a server allocating a
 * little per request reaches that within seconds and its resident set sits
 * near 165 MiB. Capping the semi-space at 2 MiB keeps a loaded worker at
 * 75-91 MiB (under 100), and measured throughput does not change (bench/, README): the
 * objects of a request die young, so the extra scavenges are cheap.
 *
 * @module
 */

/** The flag, as `deno run` and `deno compile` take it. */
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=2";
