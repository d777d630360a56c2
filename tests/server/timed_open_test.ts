import assert from "node:assert/strict";
import { MAX_STUCK_OPENS, TimedOpener } from "../../server/timed_open.ts";
import { tempDir } from "./_harness.ts";

Deno.test("TimedOpener passes an open's file and its error through", async () => {
  using dir = tempDir();
  const path = `${dir.path}/a.txt`;
  Deno.writeTextFileSync(path, "a");
  const opener = new TimedOpener(Deno.open, 5_000);
  const file = await opener.open(path);
  assert.ok(file !== undefined);
  file.close();
  await assert.rejects(opener.open(`${dir.path}/none`), Deno.errors.NotFound);
  const throwing = new TimedOpener(() => {
    throw new Deno.errors.PermissionDenied("no");
  }, 5_000);
  await assert.rejects(throwing.open(path), Deno.errors.PermissionDenied);
});

Deno.test("TimedOpener closes a file that opens too late, and starts no open while too many are stuck", async () => {
  using dir = tempDir();
  const path = `${dir.path}/a.txt`;
  Deno.writeTextFileSync(path, "a");
  const late: (() => Promise<Deno.FsFile>)[] = [];
  let opens = 0;
  const opener = new TimedOpener(() => {
    opens++;
    return new Promise<Deno.FsFile>((resolve) => {
      late.push(async () => {
        const file = await Deno.open(path);
        resolve(file);
        return file;
      });
    });
  }, 1);
  for (let i = 0; i < MAX_STUCK_OPENS; i++) {
    assert.equal(await opener.open(path), undefined);
  }
  assert.equal(opens, MAX_STUCK_OPENS);
  // All stuck: answered at once, without asking for another open.
  assert.equal(await opener.open(path), undefined);
  assert.equal(opens, MAX_STUCK_OPENS);
  // One returns, late: its file is closed, and a new open may start.
  const file = await late[0]();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.throws(() => file.statSync(), Deno.errors.BadResource);
  assert.equal(await opener.open(path), undefined);
  assert.equal(opens, MAX_STUCK_OPENS + 1);
  // The rest return too, each closed: no resource leaks out of the test.
  for (const open of late.slice(1)) await open();
  await new Promise((resolve) => setTimeout(resolve, 0));
});
