/**
 * `Accept-Encoding` (RFC 9110 §12.5.3): parsing with q-values, and the
 * choice of one content coding among those a file is available in.
 *
 * @module
 */

import { isToken, trimOws } from "./chars.ts";

/** One list member of `Accept-Encoding`. */
export interface AcceptEncodingEntry {
  /** The content coding, lowercased; `"*"` and `"identity"` included. */
  coding: string;
  /** The weight, 0 (refused) to 1 (default). */
  q: number;
}

// weight = OWS ";" OWS "q=" qvalue (§12.4.2); the name is case-insensitive.
const WEIGHT = /^[qQ]=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** Names RFC 9110 §8.4.1 tells a recipient to treat as equivalent. */
const CODING_ALIASES: Readonly<Record<string, string>> = {
  "x-gzip": "gzip",
  "x-compress": "compress",
};

/**
 * Parses an `Accept-Encoding` value into its members, in order. A member
 * that is not a token with at most a valid `q` weight (`gzip;q=2`,
 * `gzip;level=9`, `gz ip`) is dropped, as if the client had not listed it:
 * guessing a weight could send a coding the client cannot decode. Empty
 * members are skipped. `x-gzip` reads as `gzip`.
 *
 * @example
 * ```ts
 * import { parseAcceptEncoding } from "./accept_encoding.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseAcceptEncoding("GZIP;q=0.5, br, *;q=0, x;q=7"), [
 *   { coding: "gzip", q: 0.5 },
 *   { coding: "br", q: 1 },
 *   { coding: "*", q: 0 },
 * ]);
 * ```
 */
export function parseAcceptEncoding(value: string): AcceptEncodingEntry[] {
  const entries: AcceptEncodingEntry[] = [];
  for (const member of value.split(",")) {
    const [name, ...params] = member.split(";").map(trimOws);
    if (name === "" && params.length === 0) continue;
    // codings = content-coding / "identity" / "*", all tokens (RFC 9110 §12.5.3).
    if (!isToken(name) || params.length > 1) continue;
    let q = 1;
    if (params.length === 1) {
      const m = WEIGHT.exec(params[0]);
      if (!m) continue;
      q = Number(m[1]);
    }
    const coding = name.toLowerCase();
    entries.push({ coding: CODING_ALIASES[coding] ?? coding, q });
  }
  return entries;
}

/**
 * Chooses the content coding to send among `available` (the codings a file
 * exists in, in the server's order of preference, e.g. `["br", "gzip"]`),
 * or `"identity"` for the file as is. Rules (RFC 9110 §12.5.3):
 *
 * - A listed coding has its own weight; `*` gives its weight to every
 *   coding not listed, identity included; a weight of 0 refuses.
 * - The highest weight wins; on a tie, the earlier coding in `available`,
 *   and any coding over identity (it is the smaller response).
 * - Identity not mentioned (neither by name nor by `*`) is acceptable but
 *   preferred last.
 * - No field at all: identity. The RFC allows any coding then, but clients
 *   that send no `Accept-Encoding` are often ones that cannot decode one.
 * - An empty field value: identity (the client wants no coding).
 * - Nothing acceptable, even identity refused: identity anyway. §12.1 lets
 *   a server disregard the field instead of answering 406, and a 406 for a
 *   static file helps nobody.
 *
 * Duplicate members keep the lowest weight, so a refusal always stands.
 *
 * @example
 * ```ts
 * import { chooseEncoding } from "./accept_encoding.ts";
 * import assert from "node:assert/strict";
 * assert.equal(chooseEncoding("gzip, deflate, br", ["br", "gzip"]), "br");
 * assert.equal(chooseEncoding("br;q=0, gzip", ["br", "gzip"]), "gzip");
 * assert.equal(chooseEncoding("gzip;q=0", ["gzip"]), "identity");
 * assert.equal(chooseEncoding(undefined, ["br", "gzip"]), "identity");
 * ```
 */
export function chooseEncoding(
  value: string | undefined,
  available: readonly string[],
): string {
  if (value === undefined) return "identity";
  const weights = new Map<string, number>();
  for (const { coding, q } of parseAcceptEncoding(value)) {
    weights.set(coding, Math.min(q, weights.get(coding) ?? 1));
  }
  const star = weights.get("*");
  const weightOf = (coding: string) => weights.get(coding) ?? star ?? 0;

  let best = "identity";
  let bestQ = 0;
  for (const candidate of available) {
    const coding = candidate.toLowerCase();
    if (coding === "identity") continue;
    const q = weightOf(coding);
    if (q > bestQ) {
      best = candidate;
      bestQ = q;
    }
  }
  if (bestQ === 0) return "identity";
  // An unmentioned identity ranks below every coding the client listed.
  const identityQ = weights.get("identity") ?? star ?? 0;
  return bestQ >= identityQ ? best : "identity";
}
