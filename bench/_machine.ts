/**
 * Describes the machine and tool versions a result was measured with.
 *
 * @module
 */

/** Facts that make a figure comparable (or not) with another run. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memTotal: string;
  kernel: string;
  deno: string;
  nginx: string;
  wrk: string;
  ab: string;
  oha: string;
  /** The project's commit, or "uncommitted". */
  commit: string;
  /** /proc/loadavg when the run started: a busy machine shows here. */
  loadAverageAtStart: string;
}

/** Gathers the machine description; missing tools read "not installed". */
export async function describeMachine(cwd: string): Promise<MachineInfo> {
  const cpuinfo = readOr("/proc/cpuinfo", "");
  const meminfo = readOr("/proc/meminfo", "");
  return {
    cpus: navigator.hardwareConcurrency,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    memTotal: formatMemory(/^MemTotal:\s*(\d+) kB$/m.exec(meminfo)?.[1]),
    kernel: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: `deno ${Deno.version.deno}`,
    nginx: (await firstLine(["nginx", "-v"])).replace("nginx version: ", ""),
    // "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer"
    wrk: (await firstLine(["wrk", "-v"])).split(" [")[0],
    // "This is ApacheBench, Version 2.3 <$Revision$>"
    ab: (await firstLine(["ab", "-V"])).replace(/^This is | <.*$/g, ""),
    oha: await firstLine(["oha", "--version"]),
    commit: await firstLine(["git", "-C", cwd, "rev-parse", "--short", "HEAD"])
      .then((c) => /^[0-9a-f]+$/.test(c) ? c : "uncommitted"),
    loadAverageAtStart: readOr("/proc/loadavg", "unknown").trim(),
  };
}

/** Whether a program can be run (it is on PATH). */
export async function hasProgram(name: string): Promise<boolean> {
  return (await firstLine(["sh", "-c", `command -v ${name}`])) !==
    "not installed";
}

/** First non-empty line a command prints on stdout or stderr. */
async function firstLine(argv: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    return text.split("\n").map((l) => l.trim()).find((l) => l) ??
      "not installed";
  } catch {
    return "not installed";
  }
}

function formatMemory(kilobytes: string | undefined): string {
  return kilobytes === undefined
    ? "unknown"
    : `${(Number(kilobytes) / 2 ** 20).toFixed(1)} GiB RAM`;
}

function readOr(path: string, fallback: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}
