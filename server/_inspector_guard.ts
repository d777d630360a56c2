/**
 * SIGUSR1 and Deno's inspector. From 2.9.2 on, Deno answers SIGUSR1 as
 * Node does (denoland/deno#35738): it starts its inspector on
 * 127.0.0.1:9229, a debugger with no authentication, in which anyone on the
 * host can run code with the process's permissions; Deno offers no way to
 * turn that off. Log rotation sends SIGUSR1 out of habit (nginx reopens its
 * logs on it); httpd.ts has no log file to reopen. So at the signal the
 * process closes the inspector again as soon as it is up, where it may
 * (`--allow-sys`, which `-A` includes), and otherwise exits at once: the
 * inspector closes only with the process. Either way the debugger is open
 * for the moment between the signal and this process's answer to it, not
 * longer; that moment is not nothing.
 *
 * @module
 */

import inspector from "node:inspector";

/** How long the inspector may take to come up after the signal. */
const INSPECTOR_WAIT_MS = 1000;

/**
 * The SIGUSR1 listener. `say` gets one line that tells what was done;
 * `exitNow`, called after it when the process may not close the inspector,
 * must end the process at once (with status 1, for a service manager to
 * restart it), giving that line a moment to be written.
 *
 * @example
 * ```ts ignore
 * import { guardInspector } from "./_inspector_guard.ts";
 * const listener = guardInspector(console.error, () => Deno.exit(1));
 * Deno.addSignalListener("SIGUSR1", listener);
 * ```
 */
export function guardInspector(
  say: (line: string) => void,
  exitNow: () => void,
): () => void {
  // Queried once, before any signal: touching the inspector without the
  // permission could prompt for it on a terminal.
  const mayClose = mayUseInspector();
  return () => {
    if (!mayClose) {
      say(`httpd.ts: SIGUSR1: ${EXITING}`);
      exitNow();
      return;
    }
    const until = performance.now() + INSPECTOR_WAIT_MS;
    // The inspector comes up on a thread of its own: looked for at every
    // turn of the event loop until it is there.
    const closeWhenUp = () => {
      try {
        if (inspector.url() !== undefined) {
          inspector.close();
          say(`httpd.ts: SIGUSR1: ${CLOSED}`);
        } else if (performance.now() < until) setTimeout(closeWhenUp, 0);
        else say(`httpd.ts: SIGUSR1: ${NONE}`);
      } catch (error) {
        say(
          `httpd.ts: SIGUSR1: cannot close Deno's debugger on 127.0.0.1:9229 (${error}): ${EXIT}`,
        );
        exitNow();
      }
    };
    closeWhenUp();
  };
}

const CLOSED =
  "closed the debugger Deno opened for it on 127.0.0.1:9229 (there is no log file to reopen; do not send SIGUSR1)";
const NONE = "ignored (there is no log file to reopen)";
const EXIT = "exiting at once, status 1";
const EXITING =
  `Deno opens its debugger on 127.0.0.1:9229 for it, open to anyone on this host, and only --allow-sys lets httpd.ts close it: ${EXIT}`;

/**
 * Whether this process has the permission to use the inspector, a kind of
 * sys permission that Deno's types do not list.
 */
function mayUseInspector(): boolean {
  const descriptor = { name: "sys", kind: "inspector" };
  try {
    return Deno.permissions.querySync(
      descriptor as unknown as Deno.PermissionDescriptor,
    ).state === "granted";
  } catch {
    return false; // a Deno that knows no such permission
  }
}
