import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
// @ts-types="@types/pngjs"
import { PNG } from "pngjs";
import { comparePngs, describeDiff } from "./_png.ts";

/** Encodes a width × height RGBA image filled by `pixel(x, y)`. */
function encode(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number, number],
): Uint8Array {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      png.data.set(pixel(x, y), (y * width + x) * 4);
    }
  }
  return new Uint8Array(PNG.sync.write(png) as Buffer);
}

const gradient = (x: number, y: number): [number, number, number, number] => [
  x * 16,
  y * 16,
  (x + y) * 8,
  255,
];

Deno.test("comparePngs() finds no difference between identical images", () => {
  const image = encode(16, 8, gradient);
  const diff = comparePngs(image, image);
  assert.equal(diff.differing, 0);
  assert.equal(diff.box, undefined);
  assert.deepEqual(diff.size, [16, 8]);
  assert.equal(describeDiff(diff), "0 differing pixels");
});

Deno.test("comparePngs() counts a one-level change in one channel", () => {
  const base = encode(16, 8, gradient);
  const nudged = encode(16, 8, (x, y) => {
    const [r, g, b, a] = gradient(x, y);
    return x === 5 && y === 3 ? [r, g, b + 1, a] : [r, g, b, a];
  });
  const diff = comparePngs(base, nudged);
  assert.equal(diff.differing, 1);
  assert.deepEqual(diff.box, { left: 5, top: 3, right: 5, bottom: 3 });
});

Deno.test("comparePngs() reports the box around scattered differences", () => {
  const base = encode(16, 8, gradient);
  const changed = encode(
    16,
    8,
    (x, y) =>
      (x === 2 && y === 6) || (x === 12 && y === 1)
        ? [0, 0, 0, 0]
        : gradient(x, y),
  );
  const diff = comparePngs(base, changed);
  assert.equal(diff.differing, 2);
  assert.deepEqual(diff.box, { left: 2, top: 1, right: 12, bottom: 6 });
});

Deno.test("comparePngs() treats different sizes as entirely different", () => {
  const diff = comparePngs(encode(4, 4, gradient), encode(4, 5, gradient));
  assert.equal(diff.sameSize, false);
  assert.equal(diff.differing, 20);
});
