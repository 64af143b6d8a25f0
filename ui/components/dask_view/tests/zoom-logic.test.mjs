// The pixel zoom's numbers and words, worked out by hand.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  addressInApp, clampShare, clipLeft, cutPercent, cutRunning, isPending, pixelReadout, sameSize, swipeAfterKey, viewKey,
} from "../logic/zoom-logic.js";

describe("the app's address from the component's frame", () => {
  test("at the app's root", () => {
    assert.equal(
      addressInApp("http://127.0.0.1:8501", "/component/ui.dask_view.dask_view/index.html", "app/static/p/1"),
      "http://127.0.0.1:8501/app/static/p/1",
    );
  });

  test("behind a base path", () => {
    assert.equal(
      addressInApp("https://example.org", "/dash/component/ui.dask_view.dask_view/index.html", "app/static/p"),
      "https://example.org/dash/app/static/p",
    );
  });
});

describe("the pictures shown", () => {
  const picture = (path, label, width, height, ready = 5) => ({
    path, label, pyramid: { width, height, ready_level: ready, max_level: 5 },
  });

  test("a pyramid is pending while its finest levels are being cut", () => {
    assert.equal(isPending(picture("a", "A", 10, 10, 3)), true);
    assert.equal(isPending(picture("a", "A", 10, 10, 5)), false);
  });

  test("the view's key: paths, labels, sizes and height, not the cut's progress", () => {
    const args = { before: picture("a", "Before", 100, 80, 3), after: picture("b", "After", 100, 80, 3), height: 600 };
    assert.equal(viewKey(args), '[["a","Before",100,80],["b","After",100,80],600]');
    const cut = { ...args, before: picture("a", "Before", 100, 80), after: picture("b", "After", 100, 80) };
    assert.equal(viewKey(cut), viewKey(args));
  });

  test("the same size: width and height alike", () => {
    assert.equal(sameSize(picture("a", "", 100, 80), picture("b", "", 100, 80)), true);
    assert.equal(sameSize(picture("a", "", 100, 80), picture("b", "", 80, 100)), false);
  });
});

describe("the cut's progress", () => {
  test("it runs until every picture's is complete, or it is stopped", () => {
    assert.equal(cutRunning(false, [null]), true);
    assert.equal(cutRunning(false, [{ complete: true }, { done: 1, total: 2 }]), true);
    assert.equal(cutRunning(false, [{ complete: true }, { complete: true }]), false);
    assert.equal(cutRunning(true, [null]), false);
  });

  test("in whole percent over the pending pictures", () => {
    assert.equal(cutPercent([null]), 0);
    assert.equal(cutPercent([{ done: 1, total: 4 }]), 25);
    assert.equal(cutPercent([{ complete: true }, { done: 1, total: 3 }]), 66); // (1 + 1/3) / 2
    assert.equal(cutPercent([{ done: 0, total: 0 }, { complete: true }]), 50);
    assert.equal(cutPercent([{ complete: true }, { complete: true }]), 100);
  });
});

describe("the swipe", () => {
  test("its share of the width stays within the frame", () => {
    assert.equal(clampShare(-0.1), 0);
    assert.equal(clampShare(0.4), 0.4);
    assert.equal(clampShare(1.3), 1);
  });

  test("the arrow keys move it by 2 % of the width; other keys not", () => {
    assert.equal(swipeAfterKey("ArrowLeft", 0.5), 0.48);
    assert.equal(swipeAfterKey("ArrowRight", 0.5), 0.52);
    assert.equal(swipeAfterKey("Enter", 0.5), null);
  });

  test("the after picture's clip starts at the line, within the picture", () => {
    assert.equal(clipLeft(-5, 100), 0);
    assert.equal(clipLeft(42.5, 100), 42.5);
    assert.equal(clipLeft(150, 100), 100);
  });
});

describe("the pixel readout", () => {
  const size = { x: 512, y: 256 };

  test("the pixel under the mouse and how large pixels are drawn", () => {
    assert.equal(pixelReadout({ x: 10.7, y: 3.2 }, size, 11), "pixel (10, 3) of 512 x 256, 11.0 screen pixels a side");
  });

  test("zoomed out: how many pixels a screen pixel stands for", () => {
    assert.equal(pixelReadout({ x: 0, y: 0 }, size, 0.25), "pixel (0, 0) of 512 x 256, 1 screen pixel for 4.0 a side");
  });

  test("nothing outside the picture", () => {
    assert.equal(pixelReadout({ x: -0.5, y: 3 }, size, 1), "");
    assert.equal(pixelReadout({ x: 512, y: 3 }, size, 1), "");
    assert.equal(pixelReadout({ x: 3, y: 256 }, size, 1), "");
  });
});
