import assert from "node:assert/strict";
import { formatAuthority } from "../../server/_authority.ts";

Deno.test("formatAuthority() brackets IPv6 literals only", () => {
  assert.equal(formatAuthority("127.0.0.1", 80), "127.0.0.1:80");
  assert.equal(formatAuthority("localhost", 80), "localhost:80");
  assert.equal(formatAuthority("::", 80), "[::]:80");
  assert.equal(formatAuthority("[::1]", 80), "[::1]:80");
});
