/**
 * Builds localhost/httpd:latest with deploy/build_image.ts (what `deno task
 * image` runs), runs it with `--network host --read-only` on a free loopback
 * port, fetches a file of www/, checks the server is not root and that the
 * health check passes, then stops it with SIGTERM and checks it was gone in
 * under 3 s with exit status 0.
 *
 * Runs only with HTTPD_IMAGE_TEST=1 (`deno task test:image`), so the default
 * test run stays fast, and only where podman is installed; otherwise it is
 * ignored with a printed reason. HTTPD_IMAGE_REUSE=1 reuses an image already
 * built earlier in the same run (e.g. by `deno task image`).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createPodmanEnv, isOnPath } from "../../deploy/podman_env.ts";
import { IMAGE_TAG } from "../../deploy/build_image.ts";
import {
  announceSkip,
  exists,
  findFreePort,
  REPO_ROOT,
  request,
} from "./_server.ts";

/** The bound for a graceful stop; asserted generously as-is. */
const STOP_LIMIT_MS = 3000;
/** How long the server in the container may take to print its ready line. */
const READY_TIMEOUT_MS = 60_000;

function skipReason(): string | undefined {
  if (Deno.env.get("HTTPD_IMAGE_TEST") !== "1") {
    return "set HTTPD_IMAGE_TEST=1 (deno task test:image) to build and run " +
      "the podman image";
  }
  if (!isOnPath("podman")) {
    return "podman is not installed (apt-get install podman runc)";
  }
  if (!exists(join(REPO_ROOT, "httpd.ts"))) {
    return "httpd.ts does not exist yet";
  }
  return undefined;
}

const reason = skipReason();
if (reason) announceSkip("image_test.ts", reason);

const penv = reason ? undefined : createPodmanEnv();

/** Runs podman, returning its output; throws with stderr when it fails. */
async function podman(
  args: string[],
  timeoutMs = 60_000,
): Promise<string> {
  const out = await new Deno.Command("podman", {
    args,
    env: penv?.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `podman ${args.join(" ")} exited ${out.code}:\n` +
        new TextDecoder().decode(out.stderr),
    );
  }
  return stdout.trim();
}

async function buildOrReuse(): Promise<void> {
  if (Deno.env.get("HTTPD_IMAGE_REUSE") === "1") {
    const exists = await new Deno.Command("podman", {
      args: ["image", "exists", IMAGE_TAG],
      env: penv?.env,
      stdout: "null",
      stderr: "null",
    }).output();
    if (exists.success) return;
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "deploy/build_image.ts"],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(150_000),
  }).output();
  const log = new TextDecoder().decode(out.stderr);
  // The first and last lines say which podman configuration and base were
  // used: worth keeping in the test output.
  const lines = log.trim().split("\n");
  console.log(`build_image.ts: ${lines[0]}\nbuild_image.ts: ${lines.at(-1)}`);
  assert.ok(out.success, `deploy/build_image.ts failed:\n${log}`);
}

/** The file of www/ the test fetches, as a URL path and its bytes. */
function pickWwwFile(): { path: string; bytes: Uint8Array } {
  const www = join(REPO_ROOT, "www");
  const names = [...Deno.readDirSync(www)]
    .filter((e) => e.isFile && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
  const name = names.includes("index.html") ? "index.html" : names[0];
  assert.ok(name, "www/ has no file to fetch");
  return {
    path: `/${encodeURIComponent(name)}`,
    bytes: Deno.readFileSync(join(www, name)),
  };
}

async function waitUntilListening(container: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let logs = "";
  while (Date.now() < deadline) {
    logs = await new Deno.Command("podman", {
      args: ["logs", container],
      env: penv?.env,
      stdout: "piped",
      stderr: "piped",
    }).output().then((o) =>
      new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr)
    );
    if (/listening on http:\/\//.test(logs)) return;
    const state = await podman([
      "inspect",
      "--format",
      "{{.State.Status}}",
      container,
    ]);
    if (state !== "running") break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`The container did not start listening:\n${logs}`);
}

/** Real and effective uids of the container's PID 1, read on the host. */
async function readServerUids(container: string): Promise<number[]> {
  const pid = await podman([
    "inspect",
    "--format",
    "{{.State.Pid}}",
    container,
  ]);
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const line = status.split("\n").find((l) => l.startsWith("Uid:"));
  assert.ok(line, `no Uid line in /proc/${pid}/status`);
  return line.slice(4).trim().split(/\s+/).map(Number);
}

async function runContainer(workers: number): Promise<void> {
  const port = findFreePort();
  const name = `httpd-image-test-${Deno.pid}-${port}`;
  await podman([
    "run",
    "--detach",
    "--name",
    name,
    "--network",
    "host",
    "--read-only",
    IMAGE_TAG,
    "-p",
    String(port),
    "--host",
    "127.0.0.1",
    // -w 1 runs in one process, so there is no separate supervisor.
    ...(workers > 1 ? ["-w", String(workers)] : []),
  ]);
  try {
    await waitUntilListening(name);

    const file = pickWwwFile();
    const got = await request(port, "GET", file.path);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, file.bytes);
    const missing = await request(port, "GET", "/no-such-file");
    assert.equal(missing.status, 404);

    const uids = await readServerUids(name);
    console.log(`server uids (real, effective, saved, fs): ${uids.join(" ")}`);
    assert.ok(uids.every((uid) => uid !== 0), "the server must not be root");
    // Every process, workers included: psgo descriptors only, so podman
    // needs no ps(1) inside the image.
    const top = await podman(["top", name, "user", "pid", "args"]);
    console.log(top);
    const rows = top.split("\n").slice(1).filter((row) => row.trim() !== "");
    const expected = workers > 1 ? 1 + workers : 1;
    assert.equal(rows.length, expected, "one supervisor plus the workers");
    for (const row of rows) {
      const user = row.trim().split(/\s+/)[0];
      assert.ok(user !== "root" && user !== "0", `runs as root: ${row}`);
    }

    // HEALTHCHECK from the image, run on demand (no systemd timers needed).
    await podman(["healthcheck", "run", name]);

    const started = performance.now();
    await podman(["stop", "--time", "10", name]);
    const stopMs = Math.round(performance.now() - started);
    const exitCode = await podman([
      "inspect",
      "--format",
      "{{.State.ExitCode}}",
      name,
    ]);
    console.log(`podman stop took ${stopMs} ms, exit code ${exitCode}`);
    assert.equal(exitCode, "0", "SIGTERM must end the server with status 0");
    assert.ok(
      stopMs < STOP_LIMIT_MS,
      `stopping took ${stopMs} ms, more than ${STOP_LIMIT_MS} ms`,
    );
  } finally {
    await podman(["rm", "--force", name]).catch((error) =>
      console.error(`Cannot remove container ${name}: ${error.message}`)
    );
  }
}

Deno.test({
  name:
    "localhost/httpd:latest builds, serves www/ read-only as non-root and " +
    "stops on SIGTERM in under 3 s",
  ignore: reason !== undefined,
  async fn(t) {
    try {
      await t.step("build", buildOrReuse);
      await t.step("single process", () => runContainer(1));
      await t.step({
        name: "-w 2",
        ignore: !exists(join(REPO_ROOT, "server/workers.ts")),
        fn: () => runContainer(2),
      });
    } finally {
      if (penv?.tempFile) await Deno.remove(penv.tempFile).catch(() => {});
    }
  },
});
