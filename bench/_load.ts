/**
 * Runs one bounded client against one server while sampling its memory.
 *
 * @module
 */
import {
  type ClientFamily,
  createClientCommand,
  type LoadSettings,
} from "./_clients.ts";
import { busyShare, readCoreTicks, readTreeCpuSeconds } from "./_cpu.ts";
import { sampleRss } from "./_rss.ts";
import type { RunningServer } from "./_server_process.ts";
import type { ModeSpec, RunRecord } from "./_types.ts";
import { errorMessage } from "../server/error_report.ts";

/** Runs `mode` once against `server`; a client failure becomes `error`. */
export async function runLoad(
  family: ClientFamily,
  server: RunningServer,
  mode: ModeSpec,
  load: LoadSettings,
  round: number,
): Promise<RunRecord> {
  const client = createClientCommand(
    family,
    mode,
    server.origin + mode.path,
    load,
  );
  const cpuBefore = readTreeCpuSeconds(server.pid);
  // Cores are read only when both sides are pinned: unpinned, a core's
  // busy share mixes the client with the server.
  const { cpu: clientCpu, serverCpu } = load;
  const pinned = clientCpu !== undefined && serverCpu !== undefined;
  const clientBefore = pinned ? readCoreTicks(clientCpu) : undefined;
  const serverBefore = pinned ? readCoreTicks(serverCpu) : undefined;
  const stopSampling = sampleRss(server.pid);
  const output = await new Deno.Command(client.argv[0], {
    args: client.argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const peak = stopSampling();
  const serverCpuSeconds = readTreeCpuSeconds(server.pid) - cpuBefore;
  const clientCoreBusy = pinned
    ? busyShare(clientBefore, readCoreTicks(clientCpu))
    : undefined;
  const serverCoreBusy = pinned
    ? busyShare(serverBefore, readCoreTicks(serverCpu))
    : undefined;
  const base = {
    server: server.spec.id,
    mode: mode.id,
    round,
    peakTreeRssBytes: peak.treeBytes,
    peakProcessRssBytes: peak.processBytes,
    serverCpuSeconds,
    ...(clientCoreBusy === undefined ? {} : { clientCoreBusy }),
    ...(serverCoreBusy === undefined ? {} : { serverCoreBusy }),
    command: client.argv.join(" "),
  };
  const stdout = new TextDecoder().decode(output.stdout);
  try {
    return { ...base, ...client.parse(stdout) };
  } catch (error) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    const reason = [`exit ${output.code}`, errorMessage(error), stderr]
      .filter((s) => s).join("; ");
    return {
      ...base,
      value: 0,
      requests: 0,
      failed: 0,
      non2xx: 0,
      bytes: 0,
      seconds: 0,
      error: reason.slice(0, 500),
    };
  }
}
