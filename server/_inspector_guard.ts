/**
 * SIGUSR1 and Deno's inspector. From 2.9.2 on, Deno answers SIGUSR1 as
 * Node does (denoland/deno#35738): it starts its inspector on
 * 127.0.0.1:9229, a debugger with no authentication, in which anyone on the
 * host can run code with the process's permissions. Log rotation sends
 * SIGUSR1 out of habit (nginx reopens its logs on it); httpd.ts has no log
 * file to reopen. So the signal closes the inspector again where the
 * process may (`--allow-sys`, which `-A` includes), and stops the process
 * gracefully where it may not: the inspector closes only with it.
 *
 * @module
 */

/** How long the inspector may take to come up after the signal. */
const INSPECTOR_WAIT_MS = 1000;
/** How often it is looked for meanwhile. */
const POLL_MS = 10;

/** What the listener of {@linkcode guardInspector} did. */
export type InspectorOutcome = "closed" | "none" | "stopping";

/**
 * The SIGUSR1 listener: it closes the inspector the signal opened, or
 * calls `stop` when this process may not; `say` gets one line that tells
 * which, and `done` (for tests) the outcome.
 *
 * @example
 * ```ts ignore
 * import { guardInspector } from "./_inspector_guard.ts";
 * const listener = guardInspector(console.error, () => Deno.exit(0));
 * Deno.addSignalListener("SIGUSR1", listener);
 * ```
 */
export function guardInspector(
  say: (line: string) => void,
  stop: () => void,
  done?: (outcome: InspectorOutcome) => void,
): () => void {
  return () => {
    closeInspector().then((outcome) => {
      say(`httpd.ts: SIGUSR1: ${MESSAGES[outcome]}`);
      if (outcome === "stopping") stop();
      done?.(outcome);
    });
  };
}

const MESSAGES: Record<InspectorOutcome, string> = {
  closed:
    "closed the debugger Deno opened for it on 127.0.0.1:9229 (there is no log file to reopen)",
  none: "ignored (there is no log file to reopen)",
  stopping:
    "Deno opens its debugger on 127.0.0.1:9229 for it, open to anyone on this host, and only --allow-sys lets httpd.ts close it: stopping gracefully",
};

/** Closes the inspector once it is up; "stopping" when it may not. */
async function closeInspector(): Promise<InspectorOutcome> {
  // Queried first: touching the inspector without the permission could
  // prompt for it on a terminal. ("inspector" is a kind of sys permission
  // that Deno's types do not list.)
  const descriptor = { name: "sys", kind: "inspector" };
  const { state } = await Deno.permissions.query(
    descriptor as unknown as Deno.PermissionDescriptor,
  );
  if (state !== "granted") return "stopping";
  const inspector = await import("node:inspector");
  for (let waited = 0; waited <= INSPECTOR_WAIT_MS; waited += POLL_MS) {
    if (inspector.url() !== undefined) {
      inspector.close();
      return "closed";
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return "none";
}
