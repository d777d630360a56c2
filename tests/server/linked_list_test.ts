import assert from "node:assert/strict";
import { type Link, LinkedList } from "../../server/linked_list.ts";

function valuesOf<T>(list: LinkedList<T>): T[] {
  const values: T[] = [];
  list.forEach((value) => values.push(value));
  return values;
}

/** What a link points to, which the list keeps to itself. */
function pointers(link: Link<unknown>): unknown[] {
  const node = link as unknown as { previous?: unknown; next?: unknown };
  return [node.previous, node.next].filter((p) => p !== undefined);
}

Deno.test("LinkedList keeps values in push order and removes any of them", () => {
  const list = new LinkedList<string>();
  const [a, b, c, d] = ["a", "b", "c", "d"].map((v) => list.push(v));
  assert.equal(list.size, 4);
  assert.equal(list.remove(b), true); // from the middle
  assert.deepEqual(valuesOf(list), ["a", "c", "d"]);
  assert.equal(list.remove(a), true); // the first
  assert.equal(list.remove(d), true); // the last
  assert.deepEqual(valuesOf(list), ["c"]);
  assert.equal(list.size, 1);
  list.push("e");
  assert.deepEqual(valuesOf(list), ["c", "e"]);
  assert.equal(list.remove(c), true); // the only one before "e"
  assert.deepEqual(valuesOf(list), ["e"]);
});

Deno.test("LinkedList.remove() changes nothing for a link already gone or foreign", () => {
  const list = new LinkedList<number>();
  const one = list.push(1);
  list.push(2);
  assert.equal(list.remove(one), true);
  assert.equal(list.remove(one), false);
  assert.equal(list.size, 1);
  const other = new LinkedList<number>();
  const foreign = other.push(3);
  assert.equal(list.remove(foreign), false);
  assert.equal(list.size, 1);
  assert.equal(other.size, 1);
  assert.deepEqual(valuesOf(list), [2]);
  assert.deepEqual(valuesOf(other), [3]);
});

Deno.test("LinkedList.clear() empties it; the old links then remove nothing", () => {
  const list = new LinkedList<number>();
  const links = [1, 2, 3].map((v) => list.push(v));
  list.clear();
  assert.equal(list.size, 0);
  assert.deepEqual(valuesOf(list), []);
  const four = list.push(4);
  for (const link of links) assert.equal(list.remove(link), false);
  assert.equal(list.size, 1);
  assert.deepEqual(valuesOf(list), [4]);
  assert.equal(list.remove(four), true);
  assert.equal(list.size, 0);
});

Deno.test("LinkedList.forEach() survives removals made while it walks", () => {
  const list = new LinkedList<string>();
  const links = new Map(
    ["a", "b", "c", "d", "e"].map((v) => [v, list.push(v)]),
  );
  const seen: string[] = [];
  list.forEach((value) => {
    seen.push(value);
    if (value === "b") {
      list.remove(links.get("b")!); // the one being visited
      list.remove(links.get("c")!); // the next one, not visited then
      list.remove(links.get("a")!); // one already visited
    }
  });
  assert.deepEqual(seen, ["a", "b", "d", "e"]);
  assert.deepEqual(valuesOf(list), ["d", "e"]);
  assert.equal(list.size, 2);
});

Deno.test("LinkedList.forEach() visits values pushed meanwhile and stops when cleared", () => {
  const list = new LinkedList<number>();
  list.push(1);
  const seen: number[] = [];
  list.forEach((value) => {
    seen.push(value);
    if (value < 3) list.push(value + 1);
  });
  assert.deepEqual(seen, [1, 2, 3]);
  const cleared: number[] = [];
  list.forEach((value) => {
    cleared.push(value);
    list.clear();
  });
  assert.deepEqual(cleared, [1]);
  assert.equal(list.size, 0);
});

Deno.test("LinkedList.forEach() ends on the last value removed, before values pushed after it", () => {
  // The documented exception: the removed last link has no next to follow.
  const list = new LinkedList<string>();
  list.push("a");
  const b = list.push("b");
  const seen: string[] = [];
  list.forEach((value) => {
    seen.push(value);
    if (value === "b") {
      list.remove(b);
      list.push("c");
    }
  });
  assert.deepEqual(seen, ["a", "b"]);
  assert.deepEqual(valuesOf(list), ["a", "c"]);
});

Deno.test("LinkedList: a removed link points to no other, once no walk needs it", () => {
  // A dead link that still pointed at live ones would keep them from the
  // young generation's garbage collection (see the module's comment).
  const list = new LinkedList<number>();
  const [a, b, c] = [1, 2, 3].map((v) => list.push(v));
  list.remove(b);
  assert.deepEqual(pointers(b), []);
  let during: unknown[] = [];
  list.forEach((value) => {
    if (value === 1) {
      list.remove(a);
      during = pointers(a); // the walk still goes on from here
    }
  });
  assert.equal(during.length, 1);
  assert.deepEqual(pointers(a), []);
  // A walk inside a walk: the links are let go when the outer one ends.
  list.push(4);
  list.forEach(() => {
    list.forEach((value) => {
      if (value === 3) list.remove(c);
    });
    assert.equal(pointers(c).length, 1);
  });
  assert.deepEqual(pointers(c), []);
  const rest = [list.push(5), list.push(6)];
  list.clear();
  for (const link of rest) assert.deepEqual(pointers(link), []);
  assert.deepEqual(valuesOf(list), []);
});

Deno.test("LinkedList.forEach() lets links go even when a visit throws", () => {
  const list = new LinkedList<number>();
  const one = list.push(1);
  list.push(2);
  assert.throws(() =>
    list.forEach(() => {
      list.remove(one);
      throw new Error("visit failed");
    }), /visit failed/);
  assert.deepEqual(pointers(one), []);
  // And the next removal outside any walk lets go at once, even of a link
  // with a neighbour on each side.
  const three = list.push(3);
  list.push(4);
  list.remove(three);
  assert.deepEqual(pointers(three), []);
});
