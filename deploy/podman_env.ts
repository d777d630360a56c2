/**
 * Decides whether podman on this host needs deploy/containers.conf, shared by
 * deploy/build_image.ts and tests/ship/image_test.ts so both run podman the
 * same way.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/**
 * Podman's rootful default for RLIMIT_NOFILE and RLIMIT_NPROC, applied to
 * every container: a host whose hard limits are lower may refuse to raise
 * them (a sandbox without CAP_SYS_RESOURCE does).
 */
const PODMAN_DEFAULT_RLIMIT = 1048576;

/** The containers.conf shipped next to this file. */
export const CONTAINERS_CONF_PATH: string = fileURLToPath(
  new URL("./containers.conf", import.meta.url),
);

/** How podman should be run on this host. */
export interface PodmanEnv {
  /** Extra environment for every podman command (empty when none). */
  env: Record<string, string>;
  /** One line saying which configuration is used and why. */
  reason: string;
  /** A temporary file to remove when done, if one was written. */
  tempFile?: string;
}

/** Hard limits of this process, read from /proc/self/limits. */
export interface HardLimits {
  nofile: number;
  nproc: number;
}

function readHardLimits(): HardLimits | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/self/limits");
  } catch {
    return undefined;
  }
  const hard = (label: string): number => {
    const line = text.split("\n").find((l) => l.startsWith(label));
    // Columns: name (several words), soft, hard, units.
    const value = line?.slice(label.length).trim().split(/\s+/)[1];
    return value === undefined || value === "unlimited"
      ? Infinity
      : Number(value);
  };
  return { nofile: hard("Max open files"), nproc: hard("Max processes") };
}

/**
 * Picks the podman environment: the caller's CONTAINERS_CONF if set, else
 * deploy/containers.conf when the host's hard limits are below podman's
 * defaults (the case in sandboxed CI) or crun would meet a cgroup v1 or
 * hybrid layout, with its ulimits lowered in a temporary copy if the host
 * allows even less than the shipped values.
 *
 * @example
 * ```ts
 * import { createPodmanEnv } from "./podman_env.ts";
 * import assert from "node:assert/strict";
 * const { env, reason, tempFile } = createPodmanEnv();
 * assert.match(reason, /^Using /);
 * assert.ok(Object.keys(env).length <= 1);
 * if (tempFile) Deno.removeSync(tempFile);
 * ```
 */
export function createPodmanEnv(): PodmanEnv {
  const own = Deno.env.get("CONTAINERS_CONF");
  if (own) {
    return { env: {}, reason: `Using CONTAINERS_CONF=${own} from the caller` };
  }
  const limits = readHardLimits() ?? { nofile: Infinity, nproc: Infinity };
  const reasons: string[] = [];
  if (
    limits.nofile < PODMAN_DEFAULT_RLIMIT ||
    limits.nproc < PODMAN_DEFAULT_RLIMIT
  ) {
    reasons.push(
      `hard limits nofile=${limits.nofile} nproc=${limits.nproc} are below ` +
        `podman's defaults`,
    );
  }
  const needsRunc = isOnPath("crun") && !isCgroupV2Only();
  if (needsRunc) {
    reasons.push("crun is installed but the host is not on cgroup v2 alone");
  }
  if (reasons.length === 0) {
    return { env: {}, reason: "Using podman's own configuration" };
  }
  const shipped = Deno.readTextFileSync(CONTAINERS_CONF_PATH);
  // runc only where crun cannot work; a host with crun alone keeps it.
  const adjusted = adjustConf(shipped, limits, needsRunc || isOnPath("runc"));
  const why = reasons.join("; ");
  if (adjusted === shipped) {
    return {
      env: { CONTAINERS_CONF: CONTAINERS_CONF_PATH },
      reason: `Using CONTAINERS_CONF=${CONTAINERS_CONF_PATH} (${why})`,
    };
  }
  const tempFile = Deno.makeTempFileSync({
    prefix: "httpd-containers-",
    suffix: ".conf",
  });
  Deno.writeTextFileSync(tempFile, adjusted);
  return {
    env: { CONTAINERS_CONF: tempFile },
    reason: `Using an adjusted copy of ${CONTAINERS_CONF_PATH} (ulimits no ` +
      `higher than the host's, runc only where installed) at ${tempFile} ` +
      `(${why})`,
    tempFile,
  };
}

/** Whether /sys/fs/cgroup is a pure cgroup v2 mount (what crun expects). */
function isCgroupV2Only(): boolean {
  try {
    Deno.statSync("/sys/fs/cgroup/cgroup.controllers");
    return true;
  } catch {
    return false;
  }
}

/**
 * The shipped containers.conf for a host with these hard limits: its
 * ulimits lowered to them where they are higher, and its `runtime = "runc"`
 * line dropped unless `keepRunc` (podman then uses its own default runtime).
 *
 * @example
 * ```ts
 * import { adjustConf } from "./podman_env.ts";
 * import assert from "node:assert/strict";
 * const conf = '"nofile=16384:16384",\nruntime = "runc"\n';
 * assert.equal(
 *   adjustConf(conf, { nofile: 1024, nproc: Infinity }, false),
 *   '"nofile=1024:1024",\n',
 * );
 * ```
 */
export function adjustConf(
  shipped: string,
  limits: HardLimits,
  keepRunc: boolean,
): string {
  let conf = lowerUlimit(shipped, "nofile", limits.nofile);
  conf = lowerUlimit(conf, "nproc", limits.nproc);
  return keepRunc ? conf : conf.replace(/^runtime = "runc"\n/m, "");
}

/** Rewrites `"name=soft:hard"` in a containers.conf so hard ≤ `limit`. */
function lowerUlimit(conf: string, name: string, limit: number): string {
  const pattern = new RegExp(`"${name}=(\\d+):(\\d+)"`);
  const match = conf.match(pattern);
  if (!match || Number(match[2]) <= limit) return conf;
  return conf.replace(pattern, `"${name}=${limit}:${limit}"`);
}

/** Whether an executable named `name` is on PATH. */
export function isOnPath(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return true;
    } catch {
      // Not in this directory; keep looking.
    }
  }
  return false;
}
