/**
 * Runs the real supervisor over the fake worker, for tests that need a
 * worker whose faults they control. Usage:
 * `deno run -A supervisor.ts '<SupervisorOptions as JSON>'`.
 *
 * @module
 */

import {
  runSupervisor,
  type SupervisorOptions,
} from "../../../server/workers.ts";

const options = JSON.parse(Deno.args[0]) as SupervisorOptions;
Deno.exit(
  await runSupervisor({
    ...options,
    workerModule: new URL("./fake_worker.ts", import.meta.url).href,
  }),
);
