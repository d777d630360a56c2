import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { chooseEncoding } from "../../protocol/accept_encoding.ts";
import {
  codingByName,
  findPrecompressedSiblings,
  PRECOMPRESSED_SUFFIXES,
  type PrecompressedSibling,
} from "../../server/precompressed.ts";

const WWW = new URL("../fixtures/semantics/www/", import.meta.url).pathname;

/** Runs `body` on a temporary `page.html` with the given sibling suffixes. */
async function withFiles(
  siblings: string[],
  body: (path: string, dir: string) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/page.html`;
    await Deno.writeTextFile(path, "<p>original</p>");
    for (const suffix of siblings) {
      await Deno.writeTextFile(path + suffix, `encoded ${suffix}`);
    }
    await body(path, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * What the handler does with the siblings: choose among them for the
 * request's Accept-Encoding; `selected` is undefined to serve the original.
 */
function select(
  path: string,
  acceptEncoding: string | undefined,
): { hasSiblings: boolean; selected?: PrecompressedSibling } {
  const siblings = findPrecompressedSiblings(path);
  if (siblings.length === 0) return { hasSiblings: false };
  const coding = chooseEncoding(acceptEncoding, siblings.map((s) => s.coding));
  return {
    hasSiblings: true,
    selected: siblings.find((s) => s.coding === coding),
  };
}

/** [name, siblings present, Accept-Encoding, expected coding or undefined]. */
const ROWS: [string, string[], string | undefined, string | undefined][] = [
  ["both siblings, br preferred", [".br", ".gz"], "gzip, br", "br"],
  ["both siblings, br refused", [".br", ".gz"], "br;q=0, gzip", "gzip"],
  [
    "both siblings, gzip preferred by weight",
    [".br", ".gz"],
    "br;q=0.5, gzip",
    "gzip",
  ],
  ["only .gz, client accepts br and gzip", [".gz"], "br, gzip", "gzip"],
  ["only .gz, client accepts br only", [".gz"], "br", undefined],
  ["only .br, client accepts gzip only", [".br"], "gzip", undefined],
  ["a .gz sibling with gzip;q=0", [".gz"], "gzip;q=0", undefined],
  ["no Accept-Encoding field", [".br", ".gz"], undefined, undefined],
  ["an empty Accept-Encoding", [".br", ".gz"], "", undefined],
  ["no sibling at all", [], "gzip, br", undefined],
];

Deno.test("findPrecompressedSiblings() with chooseEncoding() picks the sibling Accept-Encoding allows", async (t) => {
  for (const [name, siblings, acceptEncoding, expected] of ROWS) {
    await t.step(`findPrecompressedSiblings(): ${name}`, async () => {
      await withFiles(siblings, (path) => {
        const choice = select(path, acceptEncoding);
        assert.equal(choice.hasSiblings, siblings.length > 0);
        assert.equal(choice.selected?.coding, expected);
        if (choice.selected !== undefined) {
          const suffix = PRECOMPRESSED_SUFFIXES[choice.selected.coding];
          assert.equal(choice.selected.path, path + suffix);
          assert.equal(choice.selected.info.size, `encoded ${suffix}`.length);
        }
      });
    });
  }
});

Deno.test("findPrecompressedSiblings() lists regular files in server order", async () => {
  await withFiles([".gz", ".br"], (path) => {
    const siblings = findPrecompressedSiblings(path);
    assert.deepEqual(siblings.map((s) => s.coding), ["br", "gzip"]);
    assert.ok(siblings.every((s) => s.info.isFile));
  });
});

Deno.test("findPrecompressedSiblings() ignores a directory named like a sibling", async () => {
  await withFiles([".br"], async (path) => {
    await Deno.mkdir(`${path}.gz`);
    const siblings = findPrecompressedSiblings(path);
    assert.deepEqual(siblings.map((s) => s.coding), ["br"]);
  });
});

Deno.test("findPrecompressedSiblings() ignores a symbolic link named like a sibling", async () => {
  await withFiles([], async (path, dir) => {
    await Deno.writeTextFile(`${dir}/elsewhere`, "outside");
    await Deno.symlink(`${dir}/elsewhere`, `${path}.gz`);
    assert.deepEqual(findPrecompressedSiblings(path), []);
    const choice = select(path, "gzip");
    assert.deepEqual(choice, { hasSiblings: false });
  });
});

Deno.test("findPrecompressedSiblings() finds nothing for a missing file or directory", async () => {
  await withFiles([], (_path, dir) => {
    assert.deepEqual(findPrecompressedSiblings(`${dir}/missing.js`), []);
    assert.deepEqual(findPrecompressedSiblings(`${dir}/no/such/dir/a.js`), []);
  });
});

Deno.test("findPrecompressedSiblings() works on the semantics fixtures", () => {
  const app = select(`${WWW}app.js`, "gzip, deflate, br");
  assert.equal(app.selected?.coding, "br");
  const css = select(`${WWW}style.css`, "br;q=1, gzip;q=0.5");
  assert.equal(css.selected?.coding, "gzip");
  const plain = select(`${WWW}plain.txt`, "gzip, br");
  assert.deepEqual(plain, { hasSiblings: false });
  const trap = select(`${WWW}trap.txt`, "gzip");
  assert.deepEqual(trap, { hasSiblings: false });
});

Deno.test("findPrecompressedSiblings() treats any stat error as no sibling", async () => {
  await withFiles([".br", ".gz"], (path) => {
    // ENOTDIR: the original is a file, not a directory.
    assert.deepEqual(findPrecompressedSiblings(`${path}/a.js`), []);
    // ENAMETOOLONG.
    assert.deepEqual(
      findPrecompressedSiblings(`${path}${"x".repeat(5000)}`),
      [],
    );
  });
});

Deno.test("the fixture siblings decode to their originals", async () => {
  const app = await Deno.readFile(`${WWW}app.js`);
  assert.deepEqual(
    new Uint8Array(gunzipSync(await Deno.readFile(`${WWW}app.js.gz`))),
    app,
  );
  assert.deepEqual(
    new Uint8Array(
      brotliDecompressSync(await Deno.readFile(`${WWW}app.js.br`)),
    ),
    app,
  );
  const css = await Deno.readFile(`${WWW}style.css`);
  assert.deepEqual(
    new Uint8Array(gunzipSync(await Deno.readFile(`${WWW}style.css.gz`))),
    css,
  );
});

Deno.test("codingByName() reads the coding from the extension alone, in any case", () => {
  assert.equal(codingByName("/srv/www/logo.svgz"), "gzip");
  assert.equal(codingByName("/srv/www/LOGO.SvGz"), "gzip");
  // A name that is the extension's word without a dot has no extension.
  assert.equal(codingByName("svgz"), undefined);
  assert.equal(codingByName("/srv/www/logo.svg"), undefined);
  assert.equal(codingByName("/srv/www/logo.svgz.txt"), undefined);
});
