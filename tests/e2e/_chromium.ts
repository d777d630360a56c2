/**
 * Headless Chromium as a screenshot tool, configured so that the same page
 * gives the same pixels however it is delivered (disk, nginx or httpd).
 *
 * @module
 */

import {
  findExecutable,
  spawnCollected,
  stopChild,
  withDeadline,
} from "./_process.ts";

/** Names the browser goes by on common distributions, most likely first. */
const CHROMIUM_NAMES = [
  "chromium",
  "chromium-browser",
  "google-chrome-stable",
  "google-chrome",
];

/** Printed when no browser is found; the test must fail, never skip. */
export const CHROMIUM_MISSING =
  "Cannot find Chromium: install it (Debian: `apt-get install -y chromium`) " +
  "or point CHROMIUM_BIN at a Chromium or Chrome executable";

/**
 * Finds the browser: `CHROMIUM_BIN` if set, else the first of the usual
 * names on `PATH`. Throws {@linkcode CHROMIUM_MISSING} when there is none.
 */
export async function findChromium(): Promise<string> {
  const fromEnv = Deno.env.get("CHROMIUM_BIN");
  if (fromEnv) {
    const found = await Deno.stat(fromEnv).then(
      (info) => info.isFile,
      () => false,
    );
    if (!found) {
      throw new Error(
        `${CHROMIUM_MISSING} (CHROMIUM_BIN=${fromEnv} does not exist)`,
      );
    }
    return fromEnv;
  }
  for (const name of CHROMIUM_NAMES) {
    const path = await findExecutable(name);
    if (path) return path;
  }
  throw new Error(CHROMIUM_MISSING);
}

/** Options for {@linkcode takeScreenshot}. */
export interface ScreenshotOptions {
  /** The browser executable, from {@linkcode findChromium}. */
  chromium: string;
  /** The page to load (`file://` or `http://127.0.0.1:…`). */
  url: string;
  /** Where the PNG goes. */
  output: string;
  /** A scratch directory; a fresh profile is made inside it. */
  workDir: string;
  /**
   * Viewport width in CSS pixels.
   * @default 1280
   */
  width?: number;
  /**
   * Viewport height in CSS pixels.
   * @default 2000
   */
  height?: number;
  /**
   * Hard limit for one browser run, in milliseconds.
   * @default 45000
   */
  timeoutMs?: number;
}

/**
 * The flags, with the reason for each. Kept in one table so the README and a
 * reviewer see exactly what "deterministic" means here.
 */
function chromiumFlags(profile: string, width: number, height: number) {
  return [
    "--headless",
    // Root (CI, containers) cannot use the setuid/user-namespace sandbox.
    "--no-sandbox",
    // Software raster only: no GPU, and the same path on every machine.
    "--disable-gpu",
    // Partial raster re-rasterises invalidated tiles as resources arrive;
    // the order depends on network timing and left a 2-pixel anti-aliasing
    // difference on a rounded corner between file:// and http:// loads.
    "--disable-partial-raster",
    "--run-all-compositor-stages-before-draw",
    // Virtual time lets pending timers run before the capture, in a bounded
    // virtual budget instead of a real-time sleep.
    "--virtual-time-budget=10000",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    `--window-size=${width},${height}`,
    // The page links to wikimedia.org hosts. Fail every name but loopback at
    // once, so a machine with internet access renders the same page as a
    // closed one, and nothing leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--no-proxy-server",
    "--disable-quic",
    // Without these the browser phones home at start-up; on a closed network
    // those connections are refused and slow the run down.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    `--user-data-dir=${profile}`,
  ];
}

/**
 * Loads `url` in headless Chromium and writes a PNG of the viewport.
 * Throws with the browser's last stderr lines if no screenshot appears.
 */
export async function takeScreenshot(
  options: ScreenshotOptions,
): Promise<void> {
  const width = options.width ?? 1280;
  const height = options.height ?? 2000;
  const timeoutMs = options.timeoutMs ?? 45_000;
  // A new empty profile per run: no cache, no cookies, nothing carried over.
  const profile = await Deno.makeTempDir({
    dir: options.workDir,
    prefix: "profile_",
  });
  await Deno.remove(options.output).catch(() => {});
  const child = spawnCollected(options.chromium, {
    args: [
      ...chromiumFlags(profile, width, height),
      `--screenshot=${options.output}`,
      options.url,
    ],
  });
  let timedOut = false;
  let status: Deno.CommandStatus;
  try {
    try {
      await withDeadline(child.process.status, timeoutMs, "browser exit");
    } catch {
      timedOut = true;
    }
    // The browser exits by itself after the capture; stopChild reaps it (or
    // ends it after a timeout) and drains the pipes, which a helper process
    // may still hold.
    status = (await stopChild(child, "SIGTERM", 5_000)).status;
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
  const written = await Deno.stat(options.output).then(
    (info) => info.isFile && info.size > 0,
    () => false,
  );
  if (timedOut || !written || !status.success) {
    const tail = child.stderr.filter((line) => !/dbus/i.test(line)).slice(-15)
      .join("\n");
    throw new Error(
      `Cannot take a screenshot of ${options.url}: ` +
        (timedOut ? `no exit within ${timeoutMs} ms` : `exit ${status.code}`) +
        `, screenshot ${written ? "written" : "missing"}\n${tail}`,
    );
  }
}
