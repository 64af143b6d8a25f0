// Regions, tiles, zooms and placements, worked out by hand.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  around, barOf, borderPath, centring, dragged, MAX_WIDEN, rectOf, revealScale, tileRects, tilesCovered, tilesOf,
  labelsReadable, tipBeside, tipLeftOf, widening, zoomedView,
} from "../logic/geometry.js";

describe("regions in picture coordinates", () => {
  test("a region (top, bottom, left, right) as a rectangle: x is the column", () => {
    assert.deepEqual(rectOf([10, 20, 30, 50]), { x: 30, y: 10, width: 20, height: 10 });
  });

  test("the tiles of a grid, row by row", () => {
    // Rows 0:32 and 32:64, columns 0:16 and 16:48.
    assert.deepEqual(tileRects([0, 32, 64], [0, 16, 48]), [
      { r: 0, c: 0, name: "0,0", x: 0, y: 0, width: 16, height: 32 },
      { r: 0, c: 1, name: "0,1", x: 16, y: 0, width: 32, height: 32 },
      { r: 1, c: 0, name: "1,0", x: 0, y: 32, width: 16, height: 32 },
      { r: 1, c: 1, name: "1,1", x: 16, y: 32, width: 32, height: 32 },
    ]);
  });
});

describe("the tiles a region covers", () => {
  const rows = [0, 32, 64];
  const cols = [0, 16, 48];

  test("a region across a corner of four tiles covers all four", () => {
    assert.deepEqual(tilesCovered([30, 40, 10, 20], rows, cols), ["0,0", "0,1", "1,0", "1,1"]);
  });

  test("a region that is a tile covers it alone, not the tiles it touches", () => {
    assert.deepEqual(tilesCovered([0, 32, 0, 16], rows, cols), ["0,0"]);
    assert.deepEqual(tilesCovered([32, 64, 16, 48], rows, cols), ["1,1"]);
  });

  test("a task's tiles: its own, else those its region covers, else none", () => {
    const nodes = { tile: [[1, 0], null, null], region: [[32, 64, 0, 16], [0, 32, 16, 48], null] };
    assert.deepEqual(tilesOf(0, nodes, rows, cols), ["1,0"]);
    assert.deepEqual(tilesOf(1, nodes, rows, cols), ["0,1"]);
    assert.deepEqual(tilesOf(2, nodes, rows, cols), []);
  });
});

describe("the picture zoomed onto a task", () => {
  test("a margin of 0.6 of the longer side plus 2 pixels all round", () => {
    // 10 rows by 20 columns: a margin of 20 * 0.6 + 2 = 14.
    assert.deepEqual(zoomedView([10, 20, 30, 50], [0, 0, 100, 80]), [16, -4, 48, 38]);
  });

  test("no region: the whole picture", () => {
    assert.deepEqual(zoomedView(null, [0, 0, 100, 80]), [0, 0, 100, 80]);
  });

  test("the border read: the outer frame less the region, drawn even-odd", () => {
    assert.equal(borderPath([9, 21, 9, 21], [10, 20, 10, 20]), "M9,9H21V21H9Z M10,10H20V20H10Z");
  });

  test("no region: the inner rectangle is the frame itself", () => {
    assert.equal(borderPath([0, 8, 0, 4], null), "M0,0H4V8H0Z M0,0H4V8H0Z");
  });
});

describe("the timeline's bars, 1000 units for the run", () => {
  test("a task of thread 1 from 0.5 s to 1.5 s of a 2 s run", () => {
    assert.deepEqual(barOf([1, 0.5, 1.5], 2), { x: 250, y: 18, width: 500, height: 12 });
  });

  test("never thinner than half a unit", () => {
    assert.equal(barOf([0, 1, 1.0001], 2).width, 0.5);
  });
});

describe("zooming the graph", () => {
  test("the first view widens a narrow graph to 95 % of the panel", () => {
    assert.equal(widening({ width: 1000, viewBox: { width: 200 }, realZoom: 1 }), 4.75);
    assert.equal(widening({ width: 1000, viewBox: { width: 400 }, realZoom: 0.5 }), 4.75);
  });

  test("not for less than 1.2 times, nor more than MAX_WIDEN", () => {
    assert.equal(widening({ width: 1000, viewBox: { width: 900 }, realZoom: 1 }), 1);
    assert.equal(widening({ width: 1000, viewBox: { width: 10 }, realZoom: 1 }), MAX_WIDEN);
  });

  test("the box around several, and its centre", () => {
    const boxes = [{ left: 10, right: 20, top: 5, bottom: 15 }, { left: 30, right: 40, top: 0, bottom: 10 }];
    assert.deepEqual(around(boxes), { left: 10, right: 40, top: 0, bottom: 15, x: 25, y: 7.5 });
  });

  test("highlighted tasks zoomed to fill 80 % of the panel, at most MAX_WIDEN", () => {
    const panel = { width: 600, height: 300 };
    assert.equal(revealScale({ left: 0, right: 400, top: 0, bottom: 100 }, panel), 1.2);
    assert.equal(revealScale({ left: 0, right: 30, top: 0, bottom: 15 }, panel), MAX_WIDEN); // 16 capped
  });

  test("no zoom where they nearly fill it already", () => {
    assert.equal(revealScale({ left: 0, right: 480, top: 0, bottom: 100 }, { width: 600, height: 300 }), null);
    assert.equal(revealScale({ left: 0, right: 500, top: 0, bottom: 100 }, { width: 600, height: 300 }), null); // 0.96
  });

  test("then panned for their centre to be the panel's", () => {
    assert.deepEqual(centring({ x: 25, y: 7.5 }, { left: 0, top: 0, width: 100, height: 50 }), { x: 25, y: 17.5 });
    assert.deepEqual(centring({ x: 150, y: 60 }, { left: 100, top: 20, width: 100, height: 80 }), { x: 0, y: 0 });
  });
});

describe("pointer", () => {
  test("a press moved more than 4 pixels is a drag, not a click", () => {
    assert.equal(dragged([0, 0], [3, 4]), true); // 5 pixels
    assert.equal(dragged([0, 0], [4, 0]), false);
    assert.equal(dragged([0, 0], [2, 2]), false);
    assert.equal(dragged(null, [100, 100]), false); // no press seen
  });

  test("a task's tooltip 14 pixels below and right of the pointer", () => {
    const view = { left: 10, top: 20, width: 500 };
    assert.deepEqual(tipBeside(100, 50, view, 200), { left: 104, top: 44 });
  });

  test("kept within the view's width", () => {
    const view = { left: 10, top: 20, width: 500 };
    assert.deepEqual(tipBeside(400, 50, view, 200), { left: 296, top: 44 });
    assert.deepEqual(tipBeside(400, 50, view, 600), { left: 0, top: 44 });
  });

  test("a tile's tooltip 10 pixels left of and above the pointer, never past the view's left or top", () => {
    const view = { left: 10, top: 20, width: 500 };
    assert.deepEqual(tipLeftOf(300, 250, view, 120, 60), { left: 160, top: 160 });
    assert.deepEqual(tipLeftOf(50, 50, view, 120, 60), { left: 0, top: 0 });
  });
});

describe("labels", () => {
  test("readable from 8 screen pixels up", () => {
    assert.equal(labelsReadable(10, 0.8), true);
    assert.equal(labelsReadable(10, 0.79), false);
    assert.equal(labelsReadable(14, 2), true);
  });
});
