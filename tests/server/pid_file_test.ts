import assert from "node:assert/strict";
import { tempDir } from "./_harness.ts";

const PID_FILE_MODULE = new URL("../../server/pid_file.ts", import.meta.url)
  .href;

Deno.test("removePidFile() removes its file with write permission alone", async () => {
  // Without read permission the file cannot be checked for another owner;
  // it is removed anyway rather than left behind (or a prompt raised).
  using dir = tempDir();
  const path = `${dir.path}/httpd.pid`;
  const script = `
    import { removePidFile, writePidFile } from ${
    JSON.stringify(PID_FILE_MODULE)
  };
    const failure = await writePidFile(Deno.args[0]);
    if (failure !== undefined) throw new Error(failure);
    await removePidFile(Deno.args[0]);
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `--allow-write=${path}`, "-", path],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.throws(() => Deno.statSync(path), Deno.errors.NotFound);
});
