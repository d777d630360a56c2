/**
 * `deno task image`: builds `localhost/httpd:latest` from the Containerfile
 * with podman, also where no container registry can be reached (mime-db
 * still comes from the npm registry).
 *
 * Usage: `deno run -A deploy/build_image.ts [--base IMAGE] [--local-base]
 * [--tag NAME]`
 *
 * The base is the Containerfile's pinned `ARG BASE` default (the official
 * Deno image, docker.io/denoland/deno:2.9.6) when it is present or can be
 * pulled. Otherwise a
 * base is assembled FROM scratch out of the deno binary running this script
 * and the shared libraries `ldd` lists for it, tagged
 * `localhost/deno-base:<version>`, and the Containerfile is built on that.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPodmanEnv, isOnPath, type PodmanEnv } from "./podman_env.ts";
import { errorMessage } from "../server/error_report.ts";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const CONTAINERFILE = join(REPO_ROOT, "Containerfile");

/** Name of the image this script builds unless `--tag` says otherwise. */
export const IMAGE_TAG = "localhost/httpd:latest";
/** Name of the locally assembled base image. */
export const LOCAL_BASE_TAG = `localhost/deno-base:${Deno.version.deno}`;
/** Uid and gid of the unprivileged user, the same as the official image's. */
const DENO_UID = 1993;
/** Label recording which deno binary a local base was assembled from. */
const SOURCE_LABEL = "httpd.deno-source";
/** How long a pull may take before the official base counts as unreachable. */
const PULL_TIMEOUT_MS = 60_000;

const USAGE = "Usage: deno run -A deploy/build_image.ts [--base IMAGE] " +
  "[--local-base] [--tag NAME]";

/** Reads the default of `ARG BASE=` from the Containerfile. */
export function readDefaultBase(containerfile: string): string {
  const match = containerfile.match(/^ARG BASE=(\S+)\s*$/m);
  if (!match) throw new Error("Cannot find ARG BASE=… in the Containerfile");
  return match[1];
}

/** Runs podman, its output shown unless `quiet` (then piped); resolves with it. */
async function podman(
  penv: PodmanEnv,
  args: string[],
  options: { quiet?: boolean; timeoutMs?: number } = {},
): Promise<Deno.CommandOutput> {
  const signal = options.timeoutMs === undefined
    ? undefined
    : AbortSignal.timeout(options.timeoutMs);
  return await new Deno.Command("podman", {
    args,
    env: penv.env,
    stdin: "null",
    stdout: options.quiet ? "piped" : "inherit",
    stderr: options.quiet ? "piped" : "inherit",
    signal,
  }).output();
}

/** Lists the files `ldd` says `binary` loads, the dynamic loader included. */
async function listSharedLibraries(binary: string): Promise<string[]> {
  const out = await new Deno.Command("ldd", {
    args: [binary],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `Cannot list the libraries of ${binary}: ldd failed: ` +
        new TextDecoder().decode(out.stderr).trim(),
    );
  }
  const paths: string[] = [];
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or
    // "/lib64/ld-linux-x86-64.so.2 (0x…)"; linux-vdso has no file.
    const match = line.match(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/);
    if (match) paths.push(match[1]);
  }
  if (paths.length === 0) {
    throw new Error(`Cannot list the libraries of ${binary}: ldd found none`);
  }
  return paths;
}

/** Fails unless `path` starts with the ELF magic number. */
function assertElf(path: string): void {
  const file = Deno.openSync(path);
  try {
    const head = new Uint8Array(4);
    file.readSync(head);
    if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c) {
      throw new Error(`Cannot use ${path} as the base's deno: not an ELF file`);
    }
  } finally {
    file.close();
  }
}

/**
 * Assembles a FROM scratch base holding deno at /usr/bin/deno (where the
 * official image has it, so `--allow-run=/usr/bin/deno` fits both), its
 * libraries at the paths the loader expects, an unprivileged `deno` user and
 * a sticky /tmp.
 */
async function buildLocalBase(penv: PodmanEnv): Promise<void> {
  // Deno.execPath() is the real ELF even when `deno` on PATH is an npm shim.
  const deno = Deno.realPathSync(Deno.execPath());
  assertElf(deno);
  // Rebuilding would add another 100 MB layer each time: reuse the base
  // when it was assembled from this very binary.
  const info = Deno.statSync(deno);
  const source = `${deno} ${Deno.version.deno} ${info.size} ` +
    `${info.mtime?.getTime() ?? 0}`;
  const labelled = await podman(penv, [
    "image",
    "inspect",
    "--format",
    `{{index .Labels "${SOURCE_LABEL}"}}`,
    LOCAL_BASE_TAG,
  ], { quiet: true });
  if (
    labelled.success &&
    new TextDecoder().decode(labelled.stdout).trim() === source
  ) {
    console.error(`Reusing ${LOCAL_BASE_TAG}, assembled from ${source}`);
    return;
  }
  console.error(`Assembling ${LOCAL_BASE_TAG} from ${deno}`);
  const context = await Deno.makeTempDir({ prefix: "httpd-base-" });
  try {
    const rootfs = join(context, "rootfs");
    for (const dir of ["usr/bin", "etc", "tmp", "deno-dir", "home/deno"]) {
      await Deno.mkdir(join(rootfs, dir), { recursive: true });
    }
    await Deno.chmod(join(rootfs, "tmp"), 0o1777);
    await Deno.copyFile(deno, join(rootfs, "usr/bin/deno"));
    await Deno.chmod(join(rootfs, "usr/bin/deno"), 0o755);
    for (const lib of await listSharedLibraries(deno)) {
      const target = join(rootfs, lib);
      await Deno.mkdir(dirname(target), { recursive: true });
      // copyFile follows symlinks, so the versioned file lands under the
      // name the loader asks for.
      await Deno.copyFile(lib, target);
    }
    await Deno.writeTextFile(
      join(rootfs, "etc/passwd"),
      "root:x:0:0:root:/root:/sbin/nologin\n" +
        `deno:x:${DENO_UID}:${DENO_UID}:deno:/home/deno:/sbin/nologin\n`,
    );
    await Deno.writeTextFile(
      join(rootfs, "etc/group"),
      `root:x:0:\ndeno:x:${DENO_UID}:\n`,
    );
    await Deno.writeTextFile(
      join(context, "Containerfile"),
      [
        "FROM scratch",
        "COPY rootfs/ /",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" +
        " DENO_DIR=/deno-dir",
        `LABEL org.opencontainers.image.description="deno ${Deno.version.deno}` +
        ` assembled from the host binary by httpd.ts deploy/build_image.ts"`,
        `LABEL ${SOURCE_LABEL}="${source}"`,
        'CMD ["deno", "--version"]',
        "",
      ].join("\n"),
    );
    const out = await podman(penv, [
      "build",
      "--format",
      "docker",
      "--tag",
      LOCAL_BASE_TAG,
      context,
    ]);
    if (!out.success) throw new Error("Cannot build the local base image");
  } finally {
    await Deno.remove(context, { recursive: true });
  }
}

/** Whether `image` is in local storage, or could be pulled within a minute. */
async function hasOrPulls(penv: PodmanEnv, image: string): Promise<boolean> {
  const exists = await podman(penv, ["image", "exists", image], {
    quiet: true,
  });
  if (exists.success) return true;
  console.error(`Pulling ${image}`);
  try {
    const pull = await podman(penv, ["pull", "--quiet", image], {
      quiet: true,
      timeoutMs: PULL_TIMEOUT_MS,
    });
    if (pull.success) return true;
    const why = new TextDecoder().decode(pull.stderr).trim().split("\n").pop();
    console.error(`Cannot pull ${image}: ${why}`);
  } catch (error) {
    console.error(`Cannot pull ${image}: ${errorMessage(error)}`);
  }
  return false;
}

/** The CA bundle handed to the build as a secret, if the host has one. */
function findCaBundle(): string | undefined {
  const candidates = [
    Deno.env.get("SSL_CERT_FILE"),
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
  ];
  for (const path of candidates) {
    if (!path) continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Try the next one.
    }
  }
  return undefined;
}

/** Options of {@linkcode buildImage}. */
export interface BuildImageOptions {
  /**
   * Base image to build on; unset means the Containerfile default, or a
   * local base when that cannot be had.
   * @default {undefined}
   */
  base?: string;
  /**
   * Skip the registry and use the locally assembled base.
   * @default {false}
   */
  localBase?: boolean;
  /**
   * Name of the built image.
   * @default {"localhost/httpd:latest"}
   */
  tag?: string;
}

/** Builds the image; resolves with the base used, throws on failure. */
export async function buildImage(
  options: BuildImageOptions = {},
): Promise<string> {
  if (!isOnPath("podman")) {
    throw new Error("Cannot build the image: podman is not installed");
  }
  const penv = createPodmanEnv();
  console.error(penv.reason);
  try {
    let base = options.base;
    if (base === undefined) {
      const official = readDefaultBase(Deno.readTextFileSync(CONTAINERFILE));
      if (!options.localBase && await hasOrPulls(penv, official)) {
        base = official;
      } else {
        await buildLocalBase(penv);
        base = LOCAL_BASE_TAG;
      }
    }
    const args = [
      "build",
      // HEALTHCHECK only exists in the docker image format, not in OCI.
      "--format",
      "docker",
      "--build-arg",
      `BASE=${base}`,
      "--tag",
      options.tag ?? IMAGE_TAG,
      "--file",
      CONTAINERFILE,
    ];
    // Lets the build's dependency download trust the same CAs as this host
    // (e.g. a TLS-inspecting proxy); it is mounted for that one step only.
    const ca = findCaBundle();
    if (ca) args.push("--secret", `id=ca,src=${ca}`);
    args.push(REPO_ROOT);
    const out = await podman(penv, args);
    if (!out.success) {
      throw new Error(`Cannot build ${options.tag ?? IMAGE_TAG}`);
    }
    return base;
  } finally {
    if (penv.tempFile) await Deno.remove(penv.tempFile).catch(() => {});
  }
}

async function main(): Promise<number> {
  let options: BuildImageOptions;
  try {
    const { values } = parseArgs({
      args: Deno.args,
      options: {
        base: { type: "string" },
        "local-base": { type: "boolean", default: false },
        tag: { type: "string", default: IMAGE_TAG },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    options = {
      base: values.base,
      localBase: values["local-base"],
      tag: values.tag,
    };
  } catch (error) {
    console.error(
      `Cannot parse arguments: ${errorMessage(error)}\n${USAGE}`,
    );
    return 2;
  }
  try {
    const base = await buildImage(options);
    console.error(`Built ${options.tag} on ${base}`);
    return 0;
  } catch (error) {
    console.error(errorMessage(error));
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
