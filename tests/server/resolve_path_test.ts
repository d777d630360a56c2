import assert from "node:assert/strict";
import { parseRequestPath } from "../../protocol/request_path.ts";
import {
  classifyError,
  type Resolution,
  resolvePath,
  type ResolvePathOptions,
} from "../../server/resolve_path.ts";

/**
 * A scratch tree: `base/www` is the root, `base/www2` a sibling whose name
 * starts with the root's, `base/outside` a directory beside them.
 */
function makeTree(): { base: string; root: string; [Symbol.dispose](): void } {
  const base = Deno.realPathSync(Deno.makeTempDirSync());
  const root = `${base}/www`;
  for (const dir of ["www/dir", "www/sub/noindex", "www2", "outside"]) {
    Deno.mkdirSync(`${base}/${dir}`, { recursive: true });
  }
  const files: Record<string, string> = {
    "www/a.html": "a",
    "www/dir/index.html": "index",
    "www/.secret": "hidden",
    "www2/secret.txt": "sibling",
    "outside/secret.txt": "outside",
    "outside/index.html": "outside index",
  };
  for (const [name, text] of Object.entries(files)) {
    Deno.writeTextFileSync(`${base}/${name}`, text);
  }
  return {
    base,
    root,
    [Symbol.dispose]: () => Deno.removeSync(base, { recursive: true }),
  };
}

function resolve(
  root: string,
  target: string,
  options?: ResolvePathOptions,
): Resolution {
  return resolvePath(root, parseRequestPath(target), options);
}

/** The real path a resolution found, or its kind when it found no file. */
function found(resolution: Resolution): string {
  return resolution.kind === "file" ? resolution.path : resolution.kind;
}

Deno.test("resolvePath() finds a file by name and reports its real path, name and stat", () => {
  using tree = makeTree();
  const result = resolve(tree.root, "/a.html");
  assert.equal(result.kind, "file");
  assert.ok(result.kind === "file");
  assert.equal(result.path, `${tree.root}/a.html`);
  assert.equal(result.name, "a.html");
  assert.ok(result.info.isFile);
  assert.equal(result.info.size, 1);
  assert.equal(result.info.ino, Deno.statSync(`${tree.root}/a.html`).ino);
});

Deno.test("resolvePath() serves a directory's index only when asked with the slash", () => {
  using tree = makeTree();
  assert.equal(
    found(resolve(tree.root, "/dir/")),
    `${tree.root}/dir/index.html`,
  );
  const index = resolve(tree.root, "/dir/");
  assert.equal(index.kind === "file" && index.name, "index.html");
  assert.equal(resolve(tree.root, "/dir").kind, "redirect");
  assert.equal(
    found(resolve(tree.root, "/")),
    "not-found",
    "the root has no index",
  );
  assert.equal(resolve(tree.root, "/sub/noindex/").kind, "not-found");
});

Deno.test("resolvePath() answers not-found for what names no file", () => {
  using tree = makeTree();
  for (
    const target of ["/missing.html", "/dir/missing/", "/a.html/x", "/a.html/"]
  ) {
    assert.equal(resolve(tree.root, target).kind, "not-found", target);
  }
  // A name longer than any file system allows is not found, not an error.
  assert.equal(resolve(tree.root, `/${"n".repeat(300)}`).kind, "not-found");
  // A directory named like the index is no index.
  Deno.mkdirSync(`${tree.root}/sub/noindex/index.html`);
  assert.equal(resolve(tree.root, "/sub/noindex/").kind, "not-found");
});

Deno.test("resolvePath() forbids a path above the root without touching the disk", () => {
  assert.equal(
    resolvePath("/nonexistent-root", { kind: "outside" }).kind,
    "forbidden",
  );
});

Deno.test("resolvePath() hides dotfiles unless asked, but always serves .well-known", () => {
  using tree = makeTree();
  Deno.mkdirSync(`${tree.root}/.well-known`);
  Deno.writeTextFileSync(`${tree.root}/.well-known/security.txt`, "x");
  Deno.mkdirSync(`${tree.root}/.git`);
  Deno.writeTextFileSync(`${tree.root}/.git/config`, "x");
  assert.equal(resolve(tree.root, "/.secret").kind, "not-found");
  assert.equal(resolve(tree.root, "/.git/config").kind, "not-found");
  assert.equal(
    found(resolve(tree.root, "/.well-known/security.txt")),
    `${tree.root}/.well-known/security.txt`,
  );
  const options = { dotfiles: true };
  assert.equal(
    found(resolve(tree.root, "/.secret", options)),
    `${tree.root}/.secret`,
  );
  assert.equal(
    found(resolve(tree.root, "/.git/config", options)),
    `${tree.root}/.git/config`,
  );
});

Deno.test("resolvePath() follows a symlink inside the root, naming the file by the link", () => {
  using tree = makeTree();
  Deno.symlinkSync(`${tree.root}/a.html`, `${tree.root}/link.css`);
  Deno.symlinkSync("dir", `${tree.root}/linked`);
  const link = resolve(tree.root, "/link.css");
  assert.equal(found(link), `${tree.root}/a.html`);
  // The type comes from the name asked for, as with any server.
  assert.equal(link.kind === "file" && link.name, "link.css");
  assert.equal(
    found(resolve(tree.root, "/linked/")),
    `${tree.root}/dir/index.html`,
  );
});

Deno.test("resolvePath() forbids every symlink that leads out of the root", () => {
  using tree = makeTree();
  Deno.symlinkSync(`${tree.base}/outside/secret.txt`, `${tree.root}/file-out`);
  Deno.symlinkSync(`${tree.base}/outside`, `${tree.root}/dir-out`);
  Deno.symlinkSync("../outside", `${tree.root}/relative-out`);
  // A sibling whose path starts with the root's is still outside it.
  Deno.symlinkSync(`${tree.base}/www2/secret.txt`, `${tree.root}/sibling`);
  Deno.symlinkSync(
    `${tree.base}/outside/index.html`,
    `${tree.root}/sub/noindex/index.html`,
  );
  for (
    const target of [
      "/file-out",
      "/dir-out/secret.txt",
      "/dir-out/",
      "/relative-out/secret.txt",
      "/sibling",
      "/sub/noindex/",
    ]
  ) {
    assert.equal(resolve(tree.root, target).kind, "forbidden", target);
  }
});

Deno.test("resolvePath() answers not-found for a symlink loop or a dangling link", () => {
  using tree = makeTree();
  Deno.symlinkSync("loop-b", `${tree.root}/loop-a`);
  Deno.symlinkSync("loop-a", `${tree.root}/loop-b`);
  Deno.symlinkSync("nowhere", `${tree.root}/dangling`);
  assert.equal(resolve(tree.root, "/loop-a").kind, "not-found");
  assert.equal(resolve(tree.root, "/dangling").kind, "not-found");
});

Deno.test("resolvePath() refuses a FIFO, by name or as an index, rather than open it", () => {
  using tree = makeTree();
  const mkfifo = (path: string) => {
    const { success } = new Deno.Command("mkfifo", { args: [path] })
      .outputSync();
    assert.ok(success, `mkfifo ${path}`);
  };
  mkfifo(`${tree.root}/pipe`);
  mkfifo(`${tree.root}/sub/noindex/index.html`);
  assert.equal(resolve(tree.root, "/pipe").kind, "forbidden");
  assert.equal(resolve(tree.root, "/sub/noindex/").kind, "forbidden");
});

Deno.test("resolvePath() takes a root of / as it is, without a second slash", () => {
  const deno = Deno.realPathSync(Deno.execPath());
  assert.equal(found(resolve("/", encodeURI(deno))), deno);
  assert.equal(resolve("/", "/").kind, "not-found", "no /index.html");
  const dir = deno.slice(0, deno.lastIndexOf("/"));
  assert.equal(resolve("/", encodeURI(dir)).kind, "redirect");
});

Deno.test("classifyError() maps each file system error to one answer and rethrows the rest", () => {
  const forbidden = [Deno.errors.PermissionDenied, Deno.errors.NotCapable];
  for (const ErrorClass of forbidden) {
    assert.equal(
      classifyError(new ErrorClass("x")),
      "forbidden",
      ErrorClass.name,
    );
  }
  const notFound = [
    Deno.errors.NotFound,
    Deno.errors.NotADirectory,
    Deno.errors.FilesystemLoop,
    Deno.errors.IsADirectory,
    Deno.errors.InvalidData,
  ];
  for (const ErrorClass of notFound) {
    assert.equal(
      classifyError(new ErrorClass("x")),
      "not-found",
      ErrorClass.name,
    );
  }
  const tooLong = Object.assign(new Error("File name too long"), {
    code: "ENAMETOOLONG",
  });
  assert.equal(classifyError(tooLong), "not-found");
  for (
    const error of [
      new Error("disk on fire"),
      new Deno.errors.Interrupted("x"),
      new Deno.errors.BadResource("x"),
      undefined,
      null,
    ]
  ) {
    assert.throws(() => classifyError(error), (thrown) => thrown === error);
  }
});

Deno.test("resolvePath() forbids what the process may not read, in a root only partly granted", async () => {
  using tree = makeTree();
  const script = `${tree.base}/probe.ts`;
  const module = (name: string) =>
    new URL(`../../${name}`, import.meta.url).href;
  Deno.writeTextFileSync(
    script,
    `import { parseRequestPath } from "${module("protocol/request_path.ts")}";
import { resolvePath } from "${module("server/resolve_path.ts")}";
const kinds = ["/dir/", "/a.html"].map((target) =>
  resolvePath(${JSON.stringify(tree.root)}, parseRequestPath(target)).kind
);
console.log(JSON.stringify(kinds));
`,
  );
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-prompt",
      `--allow-read=${tree.root}/dir`,
      script,
    ],
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 0, text);
  // The granted directory's index is found; the file beside it, which
  // exists, is refused rather than reported missing or thrown.
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), [
    "file",
    "forbidden",
  ]);
});
