/**
 * Finds the sub-resources a browser fetches for an HTML page: images,
 * stylesheets and scripts. Deliberately small: it reads tags and attributes, not a full HTML parse,
 * which is enough for a saved page and keeps the test free of dependencies.
 *
 * @module
 */

/** Which kind of element or rule referenced a resource. */
export type RefKind = "image" | "stylesheet" | "script";

/** One sub-resource reference, resolved against the page's URL. */
export interface PageRef {
  /** What referenced it. */
  kind: RefKind;
  /** The absolute URL after resolution. */
  url: URL;
}

const COMMENT = /<!--[\s\S]*?-->/g;
// Elements whose raw text is not markup: a tag-like string inside them is
// not a tag.
const RAW_TEXT = /<(script|style|noscript|textarea)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const TAG = /<(img|link|script)\b([^>]*)>/gi;
const ATTRIBUTE =
  /([^\s"'=<>\/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

/** Decodes the few character references that appear in URLs. */
function decodeEntities(value: string): string {
  return value.replace(
    /&(amp|quot|apos|lt|gt|#(\d+)|#x([0-9a-f]+));/gi,
    (whole, name: string, decimal?: string, hex?: string) => {
      if (decimal) return String.fromCodePoint(Number(decimal));
      if (hex) return String.fromCodePoint(parseInt(hex, 16));
      const named: Record<string, string> = {
        amp: "&",
        quot: '"',
        apos: "'",
        lt: "<",
        gt: ">",
      };
      return named[name.toLowerCase()] ?? whole;
    },
  );
}

/** Parses an attribute list into a lower-cased name → decoded value map. */
export function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(ATTRIBUTE)) {
    const name = match[1].toLowerCase();
    // The first occurrence wins, as in the HTML tokenizer.
    if (attributes.has(name)) continue;
    const raw = match[2] ?? match[3] ?? match[4] ?? "";
    attributes.set(name, decodeEntities(raw));
  }
  return attributes;
}

/**
 * Lists the sub-resources `html` references, resolved against `pageUrl`.
 * Only what a browser with default settings fetches while rendering: `<img
 * src>`, `<link rel=stylesheet href>` and `<script src>`. Links (`<a>`),
 * icons and prefetch hints are left out. `srcset` is ignored because at a
 * device scale factor of 1 the browser uses `src`.
 */
export function findPageRefs(html: string, pageUrl: URL): PageRef[] {
  const refs: PageRef[] = [];
  // Keep script tags themselves (they load sources) but drop the bodies of
  // raw-text elements and comments, where tags are not tags.
  const markup = html.replace(COMMENT, "").replace(
    RAW_TEXT,
    (whole, name: string) =>
      name.toLowerCase() === "script"
        ? whole.slice(0, whole.indexOf(">") + 1)
        : "",
  );
  for (const match of markup.matchAll(TAG)) {
    const tag = match[1].toLowerCase();
    const attributes = parseAttributes(match[2]);
    let kind: RefKind | undefined;
    let target: string | undefined;
    if (tag === "img") {
      kind = "image";
      target = attributes.get("src");
    } else if (tag === "script") {
      kind = "script";
      target = attributes.get("src");
    } else {
      const rel = (attributes.get("rel") ?? "").toLowerCase().split(/\s+/);
      if (rel.includes("stylesheet") && !rel.includes("alternate")) {
        kind = "stylesheet";
        target = attributes.get("href");
      }
    }
    if (kind === undefined || target === undefined) continue;
    target = target.trim();
    if (target === "" || target.startsWith("data:")) continue;
    refs.push({ kind, url: new URL(target, pageUrl) });
  }
  return refs;
}
