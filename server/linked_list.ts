/**
 * A doubly linked list whose `push` hands back the link that `remove`
 * takes: constant time both ways, one small link object per value, and no
 * reference left behind by a removed value.
 *
 * The listener keeps its open connections in one, for a reason of garbage
 * collection. A minor GC (scavenge) treats every pointer from the old
 * generation into the young one as live without asking whether the old
 * object holding it is: a dead object in the old generation keeps the young
 * ones it points to alive, and so they are promoted in their turn, until
 * the next full GC finds them all dead. A
 * `Set` of connections leaves such pointers behind (V8's hash tables grow
 * and shrink by copying, and a table given up still points to the
 * connections it held), and so would a list whose removed links kept
 * pointing at their neighbours. Under a new connection per request (ab -r,
 * 1 KB file) V8 promoted about 200 KB of connections per scavenge with a
 * `Set` against almost nothing with this list, and each scavenge took 0.8
 * to 1.3 ms against 0.3 (`--v8-flags=--trace-gc-nvp`).
 *
 * @module
 */

/** One value's place in a {@linkcode LinkedList}; opaque to its users. */
export interface Link<T> {
  readonly value: T;
}

/** A link as the list sees it; `list` is unset once the value is removed. */
interface Node<T> extends Link<T> {
  list: LinkedList<T> | undefined;
  previous: Node<T> | undefined;
  next: Node<T> | undefined;
}

/**
 * Values in the order they were pushed.
 *
 * @example
 * ```ts
 * import { LinkedList } from "./linked_list.ts";
 * import assert from "node:assert/strict";
 * const list = new LinkedList<string>();
 * const a = list.push("a");
 * list.push("b");
 * list.remove(a);
 * const seen: string[] = [];
 * list.forEach((value) => seen.push(value));
 * assert.deepEqual(seen, ["b"]);
 * assert.equal(list.size, 1);
 * ```
 */
export class LinkedList<T> {
  #first: Node<T> | undefined;
  #last: Node<T> | undefined;
  #size = 0;
  /** How many `forEach` calls are under way (one may call another). */
  #walking = 0;
  /** Nodes removed during a walk, whose `next` it may still need. */
  #removedDuringWalk: Node<T>[] = [];

  /** How many values are in the list. */
  get size(): number {
    return this.#size;
  }

  /** Adds `value` at the end; the link returned removes it again. */
  push(value: T): Link<T> {
    const node: Node<T> = {
      value,
      list: this,
      previous: this.#last,
      next: undefined,
    };
    if (this.#last === undefined) this.#first = node;
    else this.#last.next = node;
    this.#last = node;
    this.#size++;
    return node;
  }

  /**
   * Removes the value of `link`; false, changing nothing, when it was
   * removed already (or cleared away, or belongs to another list).
   */
  remove(link: Link<T>): boolean {
    const node = link as Node<T>;
    if (node.list !== this) return false;
    if (node.previous === undefined) this.#first = node.next;
    else node.previous.next = node.next;
    if (node.next === undefined) this.#last = node.previous;
    else node.next.previous = node.previous;
    this.#size--;
    this.#forget(node);
    return true;
  }

  /** Removes every value; their links then remove nothing. */
  clear(): void {
    let node = this.#first;
    this.#first = this.#last = undefined;
    this.#size = 0;
    while (node !== undefined) {
      const next = node.next;
      this.#forget(node);
      node = next;
    }
  }

  /**
   * Calls `visit` with each value in order. Values removed meanwhile, by
   * `visit` or not, are not visited any more. Values pushed meanwhile are
   * visited, except when the walk stands on a removed value that was last
   * when it was removed: the walk ends there.
   */
  forEach(visit: (value: T) => void): void {
    this.#walking++;
    try {
      for (let node = this.#first; node !== undefined; node = node.next) {
        if (node.list === this) visit(node.value);
      }
    } finally {
      if (--this.#walking === 0 && this.#removedDuringWalk.length > 0) {
        for (const node of this.#removedDuringWalk) node.next = undefined;
        this.#removedDuringWalk = [];
      }
    }
  }

  /**
   * Unlinks a node taken out of the list, so that it points nowhere: only
   * its `next` is kept while a walk may stand on it, until the walk ends.
   */
  #forget(node: Node<T>): void {
    node.list = undefined;
    node.previous = undefined;
    if (this.#walking === 0) node.next = undefined;
    else this.#removedDuringWalk.push(node);
  }
}
