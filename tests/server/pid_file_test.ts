import assert from "node:assert/strict";
import { removePidFile } from "../../server/pid_file.ts";
import { tempDir } from "./_harness.ts";

const PID_FILE_MODULE = new URL("../../server/pid_file.ts", import.meta.url)
  .href;

/** Runs `script` with the pid file module and `path` as its argument. */
async function runWithPidFile(
  script: string,
  path: string,
  permissions: string[],
): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, "-", path],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(
    `import { removePidFile, writePidFile } from ${
      JSON.stringify(PID_FILE_MODULE)
    };\n${script}`,
  ));
  await writer.close();
  const { code, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
}

Deno.test("removePidFile() removes its file with write permission alone", async () => {
  // Without read permission the file cannot be checked for another owner;
  // it is removed anyway rather than left behind (or a prompt raised).
  using dir = tempDir();
  const path = `${dir.path}/httpd.pid`;
  await runWithPidFile(
    `
    const failure = await writePidFile(Deno.args[0]);
    if (failure !== undefined) throw new Error(failure);
    removePidFile(Deno.args[0]);
    `,
    path,
    [`--allow-write=${path}`],
  );
  assert.throws(() => Deno.statSync(path), Deno.errors.NotFound);
});

Deno.test("removePidFile() leaves a file another process claimed, with read permission for that file alone", async () => {
  // The permission to read only the pid file is enough to check its owner.
  using dir = tempDir();
  const path = `${dir.path}/httpd.pid`;
  await runWithPidFile(
    `
    const failure = await writePidFile(Deno.args[0]);
    if (failure !== undefined) throw new Error(failure);
    Deno.writeTextFileSync(Deno.args[0], "999999\\n");
    removePidFile(Deno.args[0]);
    `,
    path,
    [`--allow-read=${path}`, `--allow-write=${path}`],
  );
  assert.equal(Deno.readTextFileSync(path), "999999\n");
});

Deno.test("removePidFile() settles quietly when the file is gone or cannot be read", () => {
  using dir = tempDir();
  removePidFile(`${dir.path}/never-written.pid`);
  Deno.mkdirSync(`${dir.path}/a-directory.pid`);
  removePidFile(`${dir.path}/a-directory.pid`); // not a file it wrote
  assert.ok(Deno.statSync(`${dir.path}/a-directory.pid`).isDirectory);
});
