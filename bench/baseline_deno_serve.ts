/**
 * BENCH-ONLY BASELINE — not part of httpd and never shipped.
 *
 * The smallest static file server most Deno users would write with
 * `Deno.serve`: open, stat the open file, stream it. It exists only so the benchmark
 * shows where httpd stands against the obvious alternative.
 *
 * Usage: `deno run --allow-net --allow-read baseline_deno_serve.ts ROOT PORT`
 *
 * @module
 */

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  css: "text/css",
  js: "text/javascript",
  json: "application/json",
};

async function handle(root: string, request: Request): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method Not Allowed\n", { status: 405 });
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url).pathname);
  } catch {
    return new Response("Bad Request\n", { status: 400 });
  }
  if (path.split("/").includes("..")) {
    return new Response("Forbidden\n", { status: 403 });
  }
  if (path.endsWith("/")) path += "index.html";
  let file: Deno.FsFile;
  try {
    file = await Deno.open(root + path);
  } catch {
    return new Response("Not Found\n", { status: 404 });
  }
  const info = await file.stat();
  if (!info.isFile) {
    file.close();
    return new Response("Not Found\n", { status: 404 });
  }
  const ext = path.slice(path.lastIndexOf(".") + 1);
  const headers = {
    "content-type": TYPES[ext] ?? "application/octet-stream",
    "content-length": `${info.size}`,
  };
  if (request.method === "HEAD") {
    file.close();
    return new Response(null, { headers });
  }
  return new Response(file.readable, { headers });
}

if (import.meta.main) {
  const [root, port] = Deno.args;
  if (!root || !port) {
    console.error("Usage: baseline_deno_serve.ts ROOT PORT");
    Deno.exit(2);
  }
  Deno.serve(
    { hostname: "127.0.0.1", port: Number(port), onListen() {} },
    (request) => handle(root, request),
  );
}
