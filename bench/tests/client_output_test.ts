import assert from "node:assert/strict";
import { parseAbOutput } from "../_parse_ab.ts";
import { parseOhaOutput } from "../_parse_oha.ts";
import { parseWrkOutput } from "../_parse_wrk.ts";

// Trimmed from a real `ab -q -r -n 20 -c 2` run against a server answering 404.
const AB_REPORT = `Benchmarking 127.0.0.1 (be patient).....done

Concurrency Level:      2
Time taken for tests:   0.017 seconds
Complete requests:      20
Failed requests:        3
   (Connect: 0, Receive: 1, Length: 2, Exceptions: 0)
Non-2xx responses:      20
Total transferred:      10400 bytes
HTML transferred:       6700 bytes
Requests per second:    1164.08 [#/sec] (mean)
Time per request:       1.718 [ms] (mean)
`;

Deno.test("parseAbOutput() reads counts, non-2xx and the rate", () => {
  assert.deepEqual(parseAbOutput(AB_REPORT), {
    value: 1164.08,
    requests: 20,
    failed: 3,
    non2xx: 20,
    bytes: 10400,
    seconds: 0.017,
  });
});

Deno.test("parseAbOutput() counts no non-2xx when ab prints no such line", () => {
  const report = AB_REPORT.replace(/^Non-2xx.*\n/m, "");
  assert.equal(parseAbOutput(report).non2xx, 0);
});

Deno.test("parseAbOutput() throws when ab aborted before its report", () => {
  assert.throws(
    () =>
      parseAbOutput(
        "Benchmarking 127.0.0.1\napr_socket_recv: Connection reset by peer (104)\n",
      ),
    /Cannot parse ab output: apr_socket_recv: Connection reset by peer/,
  );
});

const WRK_REPORT = `Running 1s test @ http://127.0.0.1:18556/missing
  2172 requests in 1.10s, 1.08MB read
  Non-2xx or 3xx responses: 2172
WRK_JSON {"requests":2172,"bytes":1129440,"duration_us":1100045,"connect":1,"read":2,"write":3,"status":2172,"timeout":4}
`;

Deno.test("parseWrkOutput() reads requests per second from the report line", () => {
  const result = parseWrkOutput(WRK_REPORT, "req/s");
  assert.equal(result.value, 2172 / 1.100045);
  assert.equal(result.requests, 2172);
  assert.equal(result.failed, 10);
  assert.equal(result.non2xx, 2172);
  assert.equal(result.seconds, 1.100045);
});

Deno.test("parseWrkOutput() reads bytes per second for a bytes/s mode", () => {
  const result = parseWrkOutput(WRK_REPORT, "bytes/s");
  assert.equal(result.value, 1129440 / 1.100045);
});

Deno.test("parseWrkOutput() throws without the report line", () => {
  assert.throws(
    () => parseWrkOutput("unable to connect to 127.0.0.1:1\n", "req/s"),
    /Cannot parse wrk output: no report line/,
  );
});

// Shaped like oha's documented JSON output, with fields the parser ignores left out.
const OHA_REPORT = JSON.stringify({
  summary: {
    successRate: 0.99,
    total: 2.5,
    requestsPerSec: 40000,
    totalData: 102400000,
    sizePerSec: 40960000,
  },
  statusCodeDistribution: { "200": 99990, "404": 10 },
  errorDistribution: { "connection closed": 3 },
});

Deno.test("parseOhaOutput() reads rates, statuses and errors", () => {
  assert.deepEqual(parseOhaOutput(OHA_REPORT, "req/s"), {
    value: 40000,
    requests: 100000,
    failed: 3,
    non2xx: 10,
    bytes: 102400000,
    seconds: 2.5,
  });
  assert.equal(parseOhaOutput(OHA_REPORT, "bytes/s").value, 40960000);
});

Deno.test("parseWrkOutput() throws on a zero duration rather than dividing by it", () => {
  assert.throws(
    () =>
      parseWrkOutput(
        WRK_REPORT.replace('"duration_us":1100045', '"duration_us":0'),
        "req/s",
      ),
    /Cannot parse wrk output: zero duration/,
  );
});

Deno.test("parseOhaOutput() counts every 2xx status as success", () => {
  const report = JSON.stringify({
    ...JSON.parse(OHA_REPORT),
    statusCodeDistribution: {
      "200": 10,
      "204": 1,
      "206": 2,
      "199": 3,
      "301": 4,
    },
  });
  const result = parseOhaOutput(report, "req/s");
  assert.equal(result.requests, 20);
  assert.equal(result.non2xx, 7);
});
