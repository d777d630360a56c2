/**
 * Sends generated fuzz cases to a running server and checks each reply.
 * Shared by the bounded CI test and `deno task fuzz`.
 *
 * @module
 */

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
}

/** Checks one reply; returns a failure reason or undefined. */
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
  let parsed = parseReplyStream(bytes, { guessHead: true });
  let truncatedByReset = false;
  if (typeof parsed === "string" && end === "reset") {
    // A reset may cut the last response short; what came before must
    // still be well formed.
    const cut = lastStatusLineStart(bytes);
    if (cut >= 0) {
      const before = parseReplyStream(bytes.subarray(0, cut), {
        guessHead: true,
      });
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
  if (fuzzCase.expectOk !== undefined) {
    const ok = responses.filter((r) => r.status === 200).length;
    if (ok !== fuzzCase.expectOk || responses.length !== fuzzCase.expectOk) {
      return {
        reason: `expected ${fuzzCase.expectOk} x 200, got ${
          responses.map((r) => r.status).join(",") || "none"
        }`,
        responses,
        truncatedByReset,
      };
    }
  }
  return { responses, truncatedByReset };
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
    `failures:${report.failures.length}`;
}
