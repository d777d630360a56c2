import assert from "node:assert/strict";
import { adjustConf, CONTAINERS_CONF_PATH } from "../../deploy/podman_env.ts";

const SHIPPED = Deno.readTextFileSync(CONTAINERS_CONF_PATH);

Deno.test("adjustConf() keeps the shipped file where the host allows its limits and has runc", () => {
  const roomy = { nofile: 1 << 20, nproc: 1 << 20 };
  assert.equal(adjustConf(SHIPPED, roomy, true), SHIPPED);
});

Deno.test("adjustConf() lowers each ulimit to the host's hard limit, no further", () => {
  const conf = adjustConf(SHIPPED, { nofile: 4096, nproc: 1 << 20 }, true);
  assert.match(conf, /"nofile=4096:4096"/);
  assert.match(conf, /"nproc=32768:32768"/, "nproc was within the limit");
  const both = adjustConf(SHIPPED, { nofile: 4096, nproc: 2000 }, true);
  assert.match(both, /"nproc=2000:2000"/);
  assert.match(both, /^runtime = "runc"$/m);
});

Deno.test("adjustConf() drops runc where it is not to be kept, and nothing else", () => {
  const roomy = { nofile: 1 << 20, nproc: 1 << 20 };
  const conf = adjustConf(SHIPPED, roomy, false);
  assert.doesNotMatch(conf, /runtime\s*=/);
  assert.match(conf, /^cgroup_manager = "cgroupfs"$/m);
  assert.equal(
    conf.split("\n").length,
    SHIPPED.split("\n").length - 1,
    "one line fewer",
  );
});
