/**
 * Sends generated fuzz cases to a running server and checks each reply.
 * Shared by the bounded CI test and `deno task fuzz`.
 *
 * @module
 */

import { SUITE_ROOT } from "../_child.ts";
import { type FuzzCase, generateCase } from "./_fuzz.ts";
import {
  latin1,
  parseReplyStream,
  quote,
  RawClient,
  type RawResponse,
  type ReadEnd,
  saysClose,
} from "./_raw.ts";

/** Statuses that end the connection: each must carry `Connection: close`. */
export const CLOSING_STATUSES: ReadonlySet<number> = new Set([
  400,
  408,
  414,
  431,
  501,
  503,
  505,
]);

/** Options for {@linkcode runFuzz}. */
export interface FuzzOptions {
  /** Server port on 127.0.0.1. */
  port: number;
  /** Run seed. */
  seed: number;
  /** Upper bound on the number of cases. */
  iterations: number;
  /** Upper bound on the run time; no new case starts after it. */
  durationMs: number;
  /**
   * Cases in flight at once.
   * @default 8
   */
  concurrency?: number;
  /**
   * A case with no end of reply by then counts as a hang.
   * @default 10000
   */
  caseTimeoutMs?: number;
  /**
   * Stop after this many failures.
   * @default 5
   */
  maxFailures?: number;
  /** Called every `progressEvery` cases. */
  onProgress?: (done: number) => void;
  /** @default 500 */
  progressEvery?: number;
}

/** One failed case, with what is needed to replay it. */
export interface FuzzFailure {
  seed: number;
  index: number;
  kind: string;
  reason: string;
  /** The input as a JSON-escaped Latin-1 string. */
  input: string;
  /** Write sizes used. */
  segments: number[];
  /** The reply received, JSON-escaped and shortened. */
  reply: string;
}

/** Totals of one fuzz run. */
export interface FuzzReport {
  cases: number;
  elapsedMs: number;
  failures: FuzzFailure[];
  /** Responses seen per status code. */
  statuses: Map<number, number>;
  /** How each reply ended. */
  ends: Record<ReadEnd, number>;
  /** Replies that took over 2 s (a server waiting for a timeout, not EOF). */
  slow: number;
  /** Replies cut short by a reset inside a response (no lingering close). */
  resetTruncated: number;
  /** Sanity cases run: their 200s and bodies were checked. */
  sanityCases: number;
  /** Oversized cases run: their one status was checked. */
  oversizedCases: number;
}

/**
 * Checks one reply; returns a failure reason or undefined. Any reply must
 * be well-formed responses, each closing status saying so and ending the
 * stream; a sanity case must get exactly its files, each a 200 with the
 * file's bytes; an oversized case, exactly one response with its status.
 */
export function checkReply(
  fuzzCase: FuzzCase,
  bytes: Uint8Array,
  end: ReadEnd,
): { reason?: string; responses: RawResponse[]; truncatedByReset: boolean } {
  if (end === "deadline") {
    return {
      reason: "hang: no end of reply before the per-case deadline",
      responses: [],
      truncatedByReset: false,
    };
  }
  if (end === "limit") {
    return {
      reason: "reply over the byte limit",
      responses: [],
      truncatedByReset: false,
    };
  }
  // Only a case of unknown methods lets a body-less 200 pass for a HEAD
  // answer: a sanity case is all GETs, so each 200 must carry its body.
  const guessHead = fuzzCase.expectFiles === undefined;
  let parsed = parseReplyStream(bytes, { guessHead });
  let truncatedByReset = false;
  if (typeof parsed === "string" && end === "reset") {
    // A reset may cut the last response short; what came before must
    // still be well formed.
    const cut = lastStatusLineStart(bytes);
    if (cut >= 0) {
      const before = parseReplyStream(bytes.subarray(0, cut), { guessHead });
      if (
        typeof before !== "string" && looksLikeHeadStart(bytes.subarray(cut))
      ) {
        parsed = before;
        truncatedByReset = true;
      }
    }
  }
  if (typeof parsed === "string") {
    return {
      reason: `malformed reply: ${parsed}`,
      responses: [],
      truncatedByReset,
    };
  }
  const responses = parsed;
  for (let i = 0; i < responses.length; i++) {
    const response = responses[i];
    if (CLOSING_STATUSES.has(response.status) && !saysClose(response)) {
      return {
        reason: `${response.status} without Connection: close`,
        responses,
        truncatedByReset,
      };
    }
    if (saysClose(response) && i < responses.length - 1) {
      return {
        reason: `a response followed ${
          JSON.stringify(response.statusLine)
        } with Connection: close`,
        responses,
        truncatedByReset,
      };
    }
    if (
      response.status >= 500 && response.status !== 501 &&
      response.status !== 503 &&
      response.status !== 505
    ) {
      return {
        reason: `server error ${response.status}`,
        responses,
        truncatedByReset,
      };
    }
  }
  const statuses = responses.map((r) => r.status).join(",") || "none";
  if (fuzzCase.expectStatus !== undefined) {
    // One request, then end of stream: one answer, never none.
    if (
      responses.length !== 1 || responses[0].status !== fuzzCase.expectStatus
    ) {
      return {
        reason: `expected one ${fuzzCase.expectStatus}, got ${statuses}`,
        responses,
        truncatedByReset,
      };
    }
  }
  if (fuzzCase.expectFiles !== undefined) {
    const files = fuzzCase.expectFiles;
    if (
      responses.length !== files.length ||
      responses.some((r) => r.status !== 200)
    ) {
      return {
        reason: `expected ${files.length} x 200, got ${statuses}`,
        responses,
        truncatedByReset,
      };
    }
    for (let i = 0; i < files.length; i++) {
      const expected = suiteFile(files[i]);
      if (!sameBytes(responses[i].body, expected)) {
        return {
          reason: `response ${i + 1}: body of ${responses[i].body.length} ` +
            `bytes is not ${files[i]} (${expected.length} bytes)`,
          responses,
          truncatedByReset,
        };
      }
    }
  }
  return { responses, truncatedByReset };
}

/** Files of the suite root already read, by path. */
const suiteFiles = new Map<string, Uint8Array>();

/** The bytes of a file under the suite root, read once. */
function suiteFile(path: string): Uint8Array {
  let bytes = suiteFiles.get(path);
  if (bytes === undefined) {
    bytes = Deno.readFileSync(SUITE_ROOT + path);
    suiteFiles.set(path, bytes);
  }
  return bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function lastStatusLineStart(bytes: Uint8Array): number {
  return latin1(bytes).lastIndexOf("HTTP/1.1 ");
}

function looksLikeHeadStart(bytes: Uint8Array): boolean {
  return /^HTTP\/1\.1 [1-5]\d\d /.test(latin1(bytes.subarray(0, 13)));
}

/** Sends one case on a fresh connection and returns how the reply ended. */
export async function sendCase(
  port: number,
  fuzzCase: FuzzCase,
  caseTimeoutMs: number,
): Promise<{ bytes: Uint8Array; end: ReadEnd; elapsedMs: number }> {
  const started = Date.now();
  await using client = await RawClient.open(port);
  // The writes race the read: a server that answers early and closes must
  // not leave the client stuck writing into a dead socket.
  const writing = (async () => {
    if (fuzzCase.segments.length <= 1) await client.write(fuzzCase.bytes);
    else await client.writeSegments(fuzzCase.bytes, fuzzCase.segments, 1);
    await client.closeWrite();
  })();
  const result = await client.readUntilClose({
    timeoutMs: caseTimeoutMs,
    maxBytes: 32 * 1024 * 1024,
  });
  await client.dispose();
  await writing;
  return {
    bytes: result.bytes,
    end: result.end,
    elapsedMs: Date.now() - started,
  };
}

/** Runs cases `0..iterations-1` of `seed` (bounded by time) and checks them. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const concurrency = options.concurrency ?? 8;
  const caseTimeoutMs = options.caseTimeoutMs ?? 10_000;
  const maxFailures = options.maxFailures ?? 5;
  const progressEvery = options.progressEvery ?? 500;
  const started = Date.now();
  const stopAt = started + options.durationMs;
  const report: FuzzReport = {
    cases: 0,
    elapsedMs: 0,
    failures: [],
    statuses: new Map(),
    ends: { close: 0, reset: 0, deadline: 0, limit: 0 },
    slow: 0,
    resetTruncated: 0,
    sanityCases: 0,
    oversizedCases: 0,
  };
  let next = 0;
  const lane = async () => {
    while (
      next < options.iterations && Date.now() < stopAt &&
      report.failures.length < maxFailures
    ) {
      const index = next++;
      const fuzzCase = generateCase(options.seed, index);
      let reason: string | undefined;
      let reply = "";
      try {
        const sent = await sendCase(options.port, fuzzCase, caseTimeoutMs);
        reply = quote(sent.bytes, 600);
        report.ends[sent.end]++;
        if (sent.elapsedMs > 2000) report.slow++;
        const checked = checkReply(fuzzCase, sent.bytes, sent.end);
        reason = checked.reason;
        if (checked.truncatedByReset) report.resetTruncated++;
        for (const response of checked.responses) {
          report.statuses.set(
            response.status,
            (report.statuses.get(response.status) ?? 0) + 1,
          );
        }
      } catch (error) {
        reason = `client error: ${
          error instanceof Error ? `${error.name}: ${error.message}` : error
        }`;
      }
      report.cases++;
      if (fuzzCase.expectFiles !== undefined) report.sanityCases++;
      if (fuzzCase.expectStatus !== undefined) report.oversizedCases++;
      if (reason !== undefined) {
        report.failures.push({
          seed: options.seed,
          index,
          kind: fuzzCase.kind,
          reason,
          input: quote(fuzzCase.bytes, 300),
          segments: fuzzCase.segments.slice(0, 50),
          reply,
        });
      }
      if (report.cases % progressEvery === 0) {
        options.onProgress?.(report.cases);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  report.elapsedMs = Date.now() - started;
  return report;
}

/** A multi-line description of a failure for the console. */
export function describeFailure(failure: FuzzFailure): string {
  return [
    `seed=${failure.seed} index=${failure.index} kind=${failure.kind}`,
    `  reason:   ${failure.reason}`,
    `  input:    ${failure.input}`,
    `  replay:   deno task fuzz --seed ${failure.seed} --replay ${failure.index}`,
    `  segments: ${JSON.stringify(failure.segments)}`,
    `  reply:    ${failure.reply}`,
  ].join("\n");
}

/**
 * The failures worth printing: at most `perReason` for each distinct reason,
 * so one bug does not drown the others.
 */
export function distinctFailures(
  failures: readonly FuzzFailure[],
  perReason = 2,
): FuzzFailure[] {
  const seen = new Map<string, number>();
  const out: FuzzFailure[] = [];
  for (const failure of failures) {
    const key = failure.reason.replace(/\d+/g, "N");
    const count = seen.get(key) ?? 0;
    seen.set(key, count + 1);
    if (count < perReason) out.push(failure);
  }
  return out;
}

/** A one-paragraph summary of a run. */
export function describeReport(report: FuzzReport): string {
  const statuses = [...report.statuses.entries()].sort((a, b) => a[0] - b[0])
    .map(([status, count]) => `${status}:${count}`).join(" ");
  return `${report.cases} cases in ${
    (report.elapsedMs / 1000).toFixed(1)
  } s; ` +
    `statuses ${statuses || "none"}; ends close:${report.ends.close} ` +
    `reset:${report.ends.reset} deadline:${report.ends.deadline}; ` +
    `slow(>2s):${report.slow}; reset-truncated:${report.resetTruncated}; ` +
    `sanity:${report.sanityCases} oversized:${report.oversizedCases}; ` +
    `failures:${report.failures.length}`;
}
