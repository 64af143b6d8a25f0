// The graph as data: tiles' tasks, ids, edges, dependencies, highlights.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  colourOfClass, dependenciesOf, edgeEnds, highlight, sameTile, spanHighlight, tasksOfTile,
} from "../logic/graph-data.js";

test("each tile's tasks, in the graph's order; tasks of no tile left out", () => {
  const tasks = tasksOfTile([[0, 0], null, [0, 0], [1, 2]]);
  assert.deepEqual([...tasks], [["0,0", [0, 2]], ["1,2", [3]]]);
});

describe("Graphviz's names", () => {
  test("an edge's title names its ends", () => {
    assert.deepEqual(edgeEnds("t3->t7"), [3, 7]);
    assert.equal(edgeEnds("t3->x"), null);
    assert.equal(edgeEnds("cluster"), null);
    assert.equal(edgeEnds(""), null);
  });
});

test("each task's dependencies, from the edges into it", () => {
  const edges = [[0, 2], [1, 2], [2, 3], [3, 9]]; // the last ends past the graph's 4 tasks
  assert.deepEqual(dependenciesOf(edges, 4), [[], [], [0, 1], [2]]);
});

describe("what a choice highlights", () => {
  const tiles = tasksOfTile([[0, 0], [0, 1], [0, 0], null]);
  const dependencies = [[], [], [0, 1], [2]];

  test("a tile: its tasks", () => {
    const { kind, hits } = highlight([0, 0], null, tiles, dependencies);
    assert.equal(kind, "tile");
    assert.deepEqual([...hits], [0, 2]);
  });

  test("a tile without tasks: nothing, but the tile is chosen", () => {
    const { kind, hits } = highlight([5, 5], null, tiles, dependencies);
    assert.equal(kind, "tile");
    assert.equal(hits.size, 0);
  });

  test("a task: itself and what it depends on", () => {
    const { kind, hits } = highlight(null, 2, tiles, dependencies);
    assert.equal(kind, "task");
    assert.deepEqual([...hits].sort(), [0, 1, 2]);
  });

  test("task 0, whose dependencies are not known before the graph is laid out: itself", () => {
    assert.deepEqual([...highlight(null, 0, tiles, null).hits], [0]);
  });

  test("neither: nothing", () => {
    assert.deepEqual(highlight(null, null, tiles, dependencies), { kind: "", hits: new Set() });
    assert.equal(highlight(null, undefined, tiles, dependencies).kind, "");
  });

  test("the same tile chosen again clears it", () => {
    assert.equal(sameTile([1, 2], [1, 2]), true);
    assert.equal(sameTile([1, 2], [2, 1]), false);
    assert.equal(sameTile(null, [1, 2]), false);
  });
});

test("the overview's stage classes to their colours", () => {
  const colours = colourOfClass([["read", "#f00", "stage-read"], ["sobel", "#0f0", "stage-sobel"]]);
  assert.equal(colours.get("stage-sobel"), "#0f0");
  assert.equal(colours.size, 2);
});

describe("the span", () => {
  test("highlights its tasks and the edges from each to the next, not one that skips a task", () => {
    const { kind, hits, links } = spanHighlight([4, 7, 9]);
    assert.equal(kind, "span");
    assert.deepEqual([...hits], [4, 7, 9]);
    assert.deepEqual([...links], ["4,7", "7,9"]);
    assert.equal(links.has("4,9"), false);
  });

  test("a run without one highlights nothing", () => {
    assert.equal(spanHighlight(undefined).hits.size, 0);
    assert.equal(spanHighlight([3]).links.size, 0);
  });
});
