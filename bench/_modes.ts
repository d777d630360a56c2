/**
 * The load patterns of issue 4, each bound to one fixture.
 *
 * @module
 */
import { FIXTURES } from "./_fixtures.ts";
import type { ModeSpec } from "./_types.ts";

/** Every mode the harness knows, by id. */
export const MODES = {
  "ab-k-1k": {
    id: "ab-k-1k",
    label: "1 KB, ab -k -c100 (keep-alive)",
    path: FIXTURES.small.path,
    tool: "ab-keepalive",
    connections: 100,
    metric: "req/s",
  },
  "ab-r-1k": {
    id: "ab-r-1k",
    label: "1 KB, ab -c100 -r (new connection per request)",
    path: FIXTURES.small.path,
    tool: "ab-close",
    connections: 100,
    metric: "req/s",
  },
  "wrk-1k": {
    id: "wrk-1k",
    label: "1 KB, wrk -c100",
    path: FIXTURES.small.path,
    tool: "wrk",
    connections: 100,
    metric: "req/s",
  },
  "wrk-38b": {
    id: "wrk-38b",
    label: "38 B, wrk -c100",
    path: FIXTURES.tiny.path,
    tool: "wrk",
    connections: 100,
    metric: "req/s",
  },
  "wrk-954k": {
    id: "wrk-954k",
    label: "954 KB, wrk -c10 (bytes/s)",
    path: FIXTURES.page.path,
    tool: "wrk",
    connections: 10,
    metric: "bytes/s",
  },
  "wrk-10m": {
    id: "wrk-10m",
    label: "10 MB, wrk -c10 (bytes/s)",
    path: FIXTURES.large.path,
    tool: "wrk",
    connections: 10,
    metric: "bytes/s",
  },
} as const satisfies Record<string, ModeSpec>;

/** A mode id. */
export type ModeId = keyof typeof MODES;
