import assert from "node:assert/strict";
import { SpareDescriptor } from "../../server/_spare_descriptor.ts";
import { tempDir } from "./_harness.ts";

Deno.test("SpareDescriptor: released and taken again while open, never again once closed", () => {
  using dir = tempDir();
  const spare = new SpareDescriptor(dir.path);
  assert.equal(spare.release(), true);
  assert.equal(spare.release(), false);
  assert.equal(spare.take(), true);
  assert.equal(spare.take(), true);
  spare.close();
  // The accept loop may still ask for it back after the stop: a descriptor
  // opened then would outlive the server.
  assert.equal(spare.take(), false);
  assert.equal(spare.release(), false);
});

Deno.test("SpareDescriptor holds nothing while its path cannot be opened, and takes it once it can", () => {
  // The accept loop admits a connection only when the spare is held again:
  // a spare that could not be opened must not count as held.
  using dir = tempDir();
  const path = `${dir.path}/root`;
  const spare = new SpareDescriptor(path);
  assert.equal(spare.take(), false);
  assert.equal(spare.release(), false);
  Deno.mkdirSync(path);
  assert.equal(spare.take(), true);
  spare.close();
  assert.equal(spare.release(), false);
});
