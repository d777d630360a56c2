/**
 * Pixel-exact comparison of two PNG files, decoded in-process with pngjs so
 * the verdict does not depend on parsing another tool's output.
 *
 * @module
 */

import { Buffer } from "node:buffer";
// @ts-types="@types/pngjs"
import { PNG } from "pngjs";

/** The smallest rectangle holding every differing pixel (inclusive). */
export interface DiffBox {
  /** Leftmost differing column. */
  left: number;
  /** Topmost differing row. */
  top: number;
  /** Rightmost differing column. */
  right: number;
  /** Bottom differing row. */
  bottom: number;
}

/** The outcome of {@linkcode comparePngs}. */
export interface PixelDiff {
  /** Width and height of the first image. */
  size: [number, number];
  /** Whether both images have the same dimensions. */
  sameSize: boolean;
  /** Pixels whose RGBA differs in any channel; all of them if sizes differ. */
  differing: number;
  /** Where the differences are, when there are any of the same size. */
  box?: DiffBox;
}

/** Decodes a PNG to 8-bit RGBA, whatever its colour type and depth. */
export function decodePng(
  bytes: Uint8Array,
): { width: number; height: number; rgba: Uint8Array } {
  const png = PNG.sync.read(Buffer.from(bytes));
  return {
    width: png.width,
    height: png.height,
    rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length),
  };
}

/**
 * Counts the pixels that differ between two PNGs, with no tolerance: one
 * level in one channel counts.
 */
export function comparePngs(a: Uint8Array, b: Uint8Array): PixelDiff {
  const first = decodePng(a);
  const second = decodePng(b);
  const size: [number, number] = [first.width, first.height];
  if (first.width !== second.width || first.height !== second.height) {
    return {
      size,
      sameSize: false,
      differing: Math.max(
        first.width * first.height,
        second.width * second.height,
      ),
    };
  }
  let differing = 0;
  let box: DiffBox | undefined;
  // Compare whole pixels as 32-bit words; the alignment holds because pngjs
  // allocates a fresh buffer per image, but copy if it ever does not.
  const words = (rgba: Uint8Array) =>
    rgba.byteOffset % 4 === 0
      ? new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length / 4)
      : new Uint32Array(rgba.slice().buffer);
  const left = words(first.rgba);
  const right = words(second.rgba);
  for (let i = 0; i < left.length; i++) {
    if (left[i] === right[i]) continue;
    differing++;
    const x = i % first.width;
    const y = Math.floor(i / first.width);
    if (box === undefined) {
      box = { left: x, top: y, right: x, bottom: y };
    } else {
      box.left = Math.min(box.left, x);
      box.right = Math.max(box.right, x);
      box.bottom = y;
    }
  }
  return { size, sameSize: true, differing, box };
}

/** A one-line summary for assertion messages. */
export function describeDiff(diff: PixelDiff): string {
  if (!diff.sameSize) return `sizes differ (first is ${diff.size.join("x")})`;
  if (diff.box === undefined) return "0 differing pixels";
  const { left, top, right, bottom } = diff.box;
  return `${diff.differing} differing pixels in ` +
    `x ${left}..${right}, y ${top}..${bottom}`;
}
