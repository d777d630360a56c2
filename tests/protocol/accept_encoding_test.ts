import assert from "node:assert/strict";
import {
  type AcceptEncodingEntry,
  chooseEncoding,
  parseAcceptEncoding,
} from "../../protocol/accept_encoding.ts";

const BOTH = ["br", "gzip"] as const;

/** [name, Accept-Encoding value, available codings, expected choice]. */
const ROWS: [string, string | undefined, readonly string[], string][] = [
  // Presence of the field.
  ["no field means identity (safe default)", undefined, BOTH, "identity"],
  ["an empty value means identity", "", BOTH, "identity"],

  // §12.5.3 rule 3: a listed coding is acceptable unless q=0.
  ["a listed coding is chosen", "gzip", BOTH, "gzip"],
  ["br is chosen when listed", "br", BOTH, "br"],
  [
    "on a tie the server's order decides (br first)",
    "gzip, deflate, br",
    BOTH,
    "br",
  ],
  ["the higher weight wins", "br;q=0.5, gzip", BOTH, "gzip"],
  ["q=0 refuses a coding", "br;q=0, gzip", BOTH, "gzip"],
  [
    "q=0 on everything listed leaves identity",
    "br;q=0, gzip;q=0",
    BOTH,
    "identity",
  ],
  ["the smallest positive weight still accepts", "br;q=0.001", BOTH, "br"],
  ["q=0. is zero", "gzip;q=0.", BOTH, "identity"],
  ["q=1.000 is one", "gzip;q=1.000", BOTH, "gzip"],
  [
    "an unlisted coding is not acceptable",
    "deflate, compress",
    BOTH,
    "identity",
  ],
  ["a coding not available is never chosen", "br", ["gzip"], "identity"],
  ["no available coding means identity", "gzip, br", [], "identity"],

  // "*" matches every coding not listed.
  ["* accepts any coding", "*", BOTH, "br"],
  ["*;q=0 refuses every unlisted coding", "*;q=0", BOTH, "identity"],
  ["a listed coding beats *;q=0", "*;q=0, gzip", BOTH, "gzip"],
  ["* gives its weight to unlisted codings only", "br;q=0, *", BOTH, "gzip"],
  ["* covers identity too", "*;q=0.5, gzip;q=0.1", BOTH, "br"],
  [
    "* lends identity its weight, over a weaker coding",
    "gzip;q=0.3, *;q=0.5",
    ["gzip"],
    "identity",
  ],

  // §12.5.3 rule 2: identity.
  ["identity alone means identity", "identity", BOTH, "identity"],
  [
    "identity preferred by weight wins",
    "identity, gzip;q=0.5",
    BOTH,
    "identity",
  ],
  ["a coding beats identity on a tie", "gzip, identity", BOTH, "gzip"],
  ["an unmentioned identity ranks last", "gzip;q=0.1", BOTH, "gzip"],
  [
    "identity;q=0 with nothing acceptable still gives identity",
    "identity;q=0",
    BOTH,
    "identity",
  ],
  [
    "identity;q=0 with an acceptable coding gives the coding",
    "identity;q=0, gzip;q=0.2",
    BOTH,
    "gzip",
  ],

  // Syntax.
  ["coding names are case-insensitive", "GZIP", BOTH, "gzip"],
  ["the q parameter name is case-insensitive", "gzip;Q=0.5", BOTH, "gzip"],
  ["OWS around ';' is allowed", "gzip ; q=0.5", BOTH, "gzip"],
  ["x-gzip is gzip", "x-gzip", BOTH, "gzip"],
  ["empty members are skipped", " , ,gzip,, ", BOTH, "gzip"],
  [
    "a member with a parameter besides q is skipped",
    "br;q=1;level=9",
    BOTH,
    "identity",
  ],
  ["a weight above 1 drops the member", "gzip;q=2", BOTH, "identity"],
  ["a weight of 1.1 drops the member", "gzip;q=1.1", BOTH, "identity"],
  [
    "more than three decimals drop the member",
    "gzip;q=0.1234",
    BOTH,
    "identity",
  ],
  ["a non-numeric weight drops the member", "gzip;q=high", BOTH, "identity"],
  ["another parameter drops the member", "gzip;level=9", BOTH, "identity"],
  ["a dropped member does not hide the others", "br;q=2, gzip", BOTH, "gzip"],
  ["a duplicate keeps the lowest weight", "gzip;q=0, gzip", BOTH, "identity"],
];

Deno.test("chooseEncoding() follows RFC 9110 §12.5.3", async (t) => {
  for (const [name, value, available, expected] of ROWS) {
    await t.step(`chooseEncoding(): ${name}`, () => {
      assert.equal(chooseEncoding(value, available), expected);
    });
  }
});

Deno.test("parseAcceptEncoding() reads members with their weights", () => {
  const rows: [string, AcceptEncodingEntry[]][] = [
    ["", []],
    ["gzip", [{ coding: "gzip", q: 1 }]],
    ["br;q=0.8, GZIP;q=0.5", [{ coding: "br", q: 0.8 }, {
      coding: "gzip",
      q: 0.5,
    }]],
    ["*;q=0", [{ coding: "*", q: 0 }]],
    ["identity; q=0.5", [{ coding: "identity", q: 0.5 }]],
    ["x-gzip, x-compress", [{ coding: "gzip", q: 1 }, {
      coding: "compress",
      q: 1,
    }]],
    ["gzip;q=2, br", [{ coding: "br", q: 1 }]],
    ["g zip, br;", []], // not a token; an empty parameter is no weight
  ];
  for (const [value, expected] of rows) {
    assert.deepEqual(
      parseAcceptEncoding(value),
      expected,
      JSON.stringify(value),
    );
  }
});
