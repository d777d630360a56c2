/**
 * End to end in a real browser: headless Chromium loads
 * /httptest/wikipedia_russia.html from httpd, from nginx and straight from
 * disk, and the three screenshots must be identical to the pixel. The access
 * log and raw requests then show that every sub-resource the page references
 * was served with status 200 and the right Content-Type.
 *
 * Needs Chromium and nginx (Debian: `apt-get install -y chromium nginx`);
 * without them the test fails with that hint instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseAccessLogLine, targetPath } from "./_access_log.ts";
import { findChromium, takeScreenshot } from "./_chromium.ts";
import { type RunningHttpd, startHttpd } from "./_httpd.ts";
import { findNginx, type RunningNginx, startNginx } from "./_nginx.ts";
import { findPageRefs } from "./_page_refs.ts";
import { comparePngs, describeDiff } from "./_png.ts";
import { pollUntil, REPO_ROOT, SUITE_ROOT } from "./_process.ts";
import { rawGet } from "./_raw_get.ts";

const PAGE = "/httptest/wikipedia_russia.html";
const WIDTH = 1280;
const HEIGHT = 2000;
/** Shown in the infobox near the top, so it is inside the viewport. */
const DROPPED_IMAGE =
  "/httptest/wikipedia_russia_files/125px-Flag_of_Russia.png";
/** Where `E2E_SAVE_SCREENSHOT=1` puts httpd's screenshot for the README. */
const README_SHOT = join(REPO_ROOT, "docs", "e2e", "wikipedia_russia.png");

/** The media types the page's files must be served with, by extension. */
const EXPECTED_TYPES: Record<string, string> = {
  ".css": "text/css",
  ".gif": "image/gif",
  ".html": "text/html",
  ".jpeg": "image/jpeg",
  ".jpg": "image/jpeg",
  ".png": "image/png",
};

/** The media type without parameters, lower-cased (`text/css`). */
function essence(value: string | undefined): string | undefined {
  return value?.split(";")[0].trim().toLowerCase();
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then((info) => info.isFile, () => false);
}

/** The page's same-origin sub-resources, split by presence on disk. */
async function pageResources(): Promise<
  { present: string[]; absent: string[] }
> {
  const html = await Deno.readTextFile(join(SUITE_ROOT, PAGE));
  const origin = "http://127.0.0.1";
  const paths = new Set<string>();
  for (const ref of findPageRefs(html, new URL(PAGE, origin))) {
    if (ref.url.origin !== origin) continue;
    paths.add(decodeURIComponent(ref.url.pathname));
  }
  const present: string[] = [];
  const absent: string[] = [];
  for (const path of [...paths].sort()) {
    (await exists(join(SUITE_ROOT, path)) ? present : absent).push(path);
  }
  return { present, absent };
}

/**
 * A copy of the page's tree without {@linkcode DROPPED_IMAGE}, made of
 * symbolic links so it costs nothing: the negative control that proves the
 * comparison can fail.
 */
async function treeWithoutOneImage(dir: string): Promise<string> {
  const files = "/httptest/wikipedia_russia_files";
  await Deno.mkdir(join(dir, files), { recursive: true });
  await Deno.symlink(join(SUITE_ROOT, PAGE), join(dir, PAGE));
  for await (const entry of Deno.readDir(join(SUITE_ROOT, files))) {
    const path = `${files}/${entry.name}`;
    if (path === DROPPED_IMAGE) continue;
    await Deno.symlink(join(SUITE_ROOT, path), join(dir, path));
  }
  return join(dir, PAGE);
}

Deno.test("httpd serves wikipedia_russia.html to Chromium exactly as file:// and nginx do", async (t) => {
  // Missing tools are a failure with an install hint, never a skip: CI
  // installs both, so absence there is a broken pipeline.
  const chromium = await findChromium();
  const nginxBin = await findNginx();
  assert.ok(
    await exists(join(SUITE_ROOT, PAGE)),
    `Cannot find the suite data: ${
      join(SUITE_ROOT, PAGE)
    } (shared/ must sit beside the repository)`,
  );
  const { present, absent } = await pageResources();
  const work = await Deno.makeTempDir({ prefix: "httpd_e2e_" });
  let keepWork = false;
  let httpd: RunningHttpd | undefined;
  let nginx: RunningNginx | undefined;
  try {
    const nginxDir = join(work, "nginx");
    await Deno.mkdir(nginxDir);
    nginx = await startNginx(nginxBin, nginxDir, SUITE_ROOT);
    const starting = performance.now();
    httpd = await startHttpd(SUITE_ROOT);
    const ms = Math.round(performance.now() - starting);
    console.log(`httpd listening on port ${httpd.port} after ${ms} ms`);
    const running = httpd;
    const reference = nginx;

    const shots = {
      file: join(work, "file.png"),
      nginx: join(work, "nginx.png"),
      httpd: join(work, "httpd.png"),
      dropped: join(work, "dropped.png"),
    };
    const shoot = async (url: string, output: string) => {
      const started = performance.now();
      const options = { chromium, url, output, workDir: work };
      await takeScreenshot({ ...options, width: WIDTH, height: HEIGHT });
      // Informational only: timings are never asserted here.
      const ms = Math.round(performance.now() - started);
      console.log(`screenshot of ${url} in ${ms} ms`);
    };
    await shoot(pathToFileURL(join(SUITE_ROOT, PAGE)).href, shots.file);
    await shoot(`http://127.0.0.1:${reference.port}${PAGE}`, shots.nginx);
    // Nothing else has talked to httpd yet, so every log line until the raw
    // requests below comes from the browser.
    await shoot(`http://127.0.0.1:${running.port}${PAGE}`, shots.httpd);
    const dropped = await treeWithoutOneImage(join(work, "dropped"));
    await shoot(pathToFileURL(dropped).href, shots.dropped);
    const png = {
      file: await Deno.readFile(shots.file),
      nginx: await Deno.readFile(shots.nginx),
      httpd: await Deno.readFile(shots.httpd),
      dropped: await Deno.readFile(shots.dropped),
    };

    const results: boolean[] = [];
    results.push(
      await t.step(
        "nginx and file:// agree, so the rendering is deterministic",
        () => {
          const diff = comparePngs(png.nginx, png.file);
          assert.equal(
            diff.differing,
            0,
            `nginx vs file://: ${describeDiff(diff)}`,
          );
        },
      ),
    );
    results.push(
      await t.step(
        "httpd's screenshot has zero differing pixels from file://",
        () => {
          const diff = comparePngs(png.httpd, png.file);
          assert.deepEqual(diff.size, [WIDTH, HEIGHT]);
          assert.equal(
            diff.differing,
            0,
            `httpd vs file://: ${describeDiff(diff)}`,
          );
        },
      ),
    );
    results.push(
      await t.step(
        "httpd's screenshot has zero differing pixels from nginx",
        () => {
          const diff = comparePngs(png.httpd, png.nginx);
          assert.equal(
            diff.differing,
            0,
            `httpd vs nginx: ${describeDiff(diff)}`,
          );
        },
      ),
    );
    results.push(
      await t.step(
        "the comparison fails for the page with one image missing",
        () => {
          assert.ok(
            present.includes(DROPPED_IMAGE),
            `${DROPPED_IMAGE} is not referenced`,
          );
          const versusFile = comparePngs(png.dropped, png.file);
          const versusHttpd = comparePngs(png.dropped, png.httpd);
          console.log(
            `  one image missing vs file://: ${describeDiff(versusFile)}`,
          );
          assert.ok(
            versusFile.differing > 0,
            "Dropping an image changed no pixel",
          );
          assert.ok(
            versusHttpd.differing > 0,
            "Dropping an image changed no pixel",
          );
        },
      ),
    );

    // The log is written asynchronously; wait (bounded) until every path
    // the browser must have asked for shows up, then judge what is there.
    const browserLog = () =>
      running.child.stdout.flatMap((line) => parseAccessLogLine(line) ?? []);
    const wanted = [PAGE, ...present, ...absent];
    await pollUntil(
      running.child,
      () => {
        const logged = new Set(
          browserLog().map((entry) => targetPath(entry.target)),
        );
        return wanted.every((path) => logged.has(path)) ? true : undefined;
      },
      15_000,
      "access-log lines for every sub-resource",
    ).catch(() => {});
    // Taken before the raw requests below, which must not count as the
    // browser's.
    const log = browserLog();

    results.push(
      await t.step(
        "the browser got 200 from httpd for the page and every sub-resource in the tree",
        () => {
          assert.ok(
            log.length > 0,
            "httpd wrote no Combined Log Format line on stdout",
          );
          assert.ok(
            present.filter((path) => extname(path) === ".css").length >= 2,
          );
          assert.ok(
            present.length >= 100,
            `only ${present.length} local sub-resources found`,
          );
          const problems: string[] = [];
          for (const path of [PAGE, ...present]) {
            const entries = log.filter((entry) =>
              targetPath(entry.target) === path
            );
            if (entries.length === 0) problems.push(`${path}: never requested`);
            for (const entry of entries) {
              if (entry.method !== "GET" || entry.status !== 200) {
                problems.push(
                  `${path}: ${entry.method} answered ${entry.status}`,
                );
              }
              // Only the browser has talked to httpd so far; the logged
              // User-Agent confirms the request was Chromium's.
              if (!entry.userAgent.includes("HeadlessChrome")) {
                problems.push(`${path}: User-Agent ${entry.userAgent}`);
              }
            }
          }
          assert.deepEqual(problems, [], problems.join("\n"));
          console.log(
            `  ${present.length} sub-resources + the page: 200 in the access log`,
          );
        },
      ),
    );
    results.push(
      await t.step(
        "the referenced files missing from the tree were answered 404",
        () => {
          // The suite's pages name files that are not in its data: without
          // any, this step would test nothing.
          assert.ok(absent.length > 0, "no referenced file is missing");
          const problems: string[] = [];
          for (const path of absent) {
            const statuses = log.filter((entry) =>
              targetPath(entry.target) === path
            )
              .map((entry) => entry.status);
            if (
              statuses.length === 0 || statuses.some((status) => status !== 404)
            ) {
              problems.push(
                `${path}: ${statuses.join(", ") || "never requested"}`,
              );
            }
          }
          assert.deepEqual(problems, [], problems.join("\n"));
          console.log(
            `  ${absent.length} referenced files not in the tree: 404`,
          );
        },
      ),
    );
    results.push(
      await t.step(
        "each sub-resource has the right Content-Type and its file's bytes",
        async () => {
          const problems: string[] = [];
          for (const path of [PAGE, ...present]) {
            const expected = EXPECTED_TYPES[extname(path).toLowerCase()];
            const ours = await rawGet(running.port, path);
            const theirs = await rawGet(reference.port, path);
            const disk = await Deno.readFile(join(SUITE_ROOT, path));
            const type = essence(ours.headers.get("content-type"));
            if (expected === undefined) {
              problems.push(`${path}: no expected type for its extension`);
            }
            if (ours.status !== 200) {
              problems.push(`${path}: status ${ours.status}`);
            }
            if (type !== expected) {
              problems.push(`${path}: Content-Type ${type}, want ${expected}`);
            }
            if (essence(theirs.headers.get("content-type")) !== expected) {
              problems.push(
                `${path}: nginx says ${theirs.headers.get("content-type")}`,
              );
            }
            if (
              ours.body.length !== disk.length ||
              !ours.body.every((byte, i) => byte === disk[i])
            ) {
              problems.push(
                `${path}: body differs from the file (${ours.body.length} vs ${disk.length} bytes)`,
              );
            }
          }
          assert.deepEqual(problems, [], problems.join("\n"));
        },
      ),
    );
    results.push(
      await t.step("httpd stops with exit code 0 on SIGTERM", async () => {
        const stopped = await running.stop();
        httpd = undefined;
        assert.equal(
          stopped.killed,
          false,
          "httpd ignored SIGTERM and was killed",
        );
        assert.equal(stopped.status.code, 0);
      }),
    );

    if (Deno.env.get("E2E_SAVE_SCREENSHOT") === "1") {
      await Deno.mkdir(join(REPO_ROOT, "docs", "e2e"), { recursive: true });
      await Deno.copyFile(shots.httpd, README_SHOT);
      console.log(`  saved httpd's screenshot to ${README_SHOT}`);
    }
    if (results.includes(false)) {
      keepWork = true;
      console.error(`Screenshots kept for inspection in ${work}`);
    }
  } finally {
    await httpd?.stop();
    await nginx?.stop();
    if (!keepWork) await Deno.remove(work, { recursive: true });
  }
});
