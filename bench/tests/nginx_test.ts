import assert from "node:assert/strict";
import { hasProgram } from "../_machine.ts";
import { formatNginxConf } from "../_nginx_conf.ts";
import { checkServer } from "../_sanity.ts";
import { withServer } from "./_with_server.ts";

const HAS_NGINX = await hasProgram("nginx");
if (!HAS_NGINX) {
  console.warn("SKIPPED: nginx is not installed (apt-get install nginx)");
}

Deno.test("formatNginxConf() mirrors Debian's static-file defaults", () => {
  const conf = formatNginxConf({
    root: "/srv/root",
    port: 8081,
    workers: 2,
    stateDir: "/tmp/state",
    accessLog: false,
  });
  for (
    const line of [
      "worker_processes 2;",
      "daemon off;",
      "pid /tmp/state/nginx.pid;",
      "error_log /tmp/state/error.log warn;",
      "sendfile on;",
      "access_log off;",
      "listen 127.0.0.1:8081;",
      "root /srv/root;",
      "try_files ${uri}index.html =404;",
    ]
  ) {
    assert.ok(conf.includes(line), `missing: ${line}`);
  }
});

Deno.test({
  name: "startServer() runs nginx that serves every fixture and 404s an " +
    "index-less directory",
  ignore: !HAS_NGINX,
  async fn() {
    await withServer(
      { id: "nginx", label: "nginx", kind: "nginx", workers: 1 },
      async (server) => {
        assert.deepEqual(await checkServer(server.origin), []);
      },
    );
  },
});

Deno.test("formatNginxConf() writes the access log into the state directory when asked", () => {
  const options = {
    root: "/srv/root",
    port: 8081,
    workers: 1,
    stateDir: "/tmp/state",
  };
  const on = formatNginxConf({ ...options, accessLog: true });
  assert.ok(on.includes("access_log /tmp/state/access.log;"));
  assert.ok(!on.includes("access_log off;"));
  assert.ok(
    formatNginxConf({ ...options, accessLog: false })
      .includes("access_log off;"),
  );
});
