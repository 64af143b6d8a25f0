// The task view's words, worked out by hand.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  area, borderWords, clock, count, hint, layingOut, pace, replayCaption, seconds, span, taskCaption, taskName, taskTip,
  tileTip, tilesCaption,
} from "../logic/words.js";

describe("regions", () => {
  test("a span names rows then columns", () => {
    assert.equal(span([0, 64, 128, 192]), "rows 0:64, columns 128:192");
  });

  test("an area is rows times columns", () => {
    assert.equal(area([0, 64, 128, 192]), 4096);
    assert.equal(area([10, 20, 5, 8]), 30);
  });
});

describe("borderWords", () => {
  test("nothing when a task reads what it computes", () => {
    assert.equal(borderWords([10, 20, 10, 20], [10, 20, 10, 20]), "");
  });

  test("a one-pixel frame all round is a border of 1 pixel", () => {
    assert.equal(borderWords([10, 20, 10, 20], [9, 21, 9, 21]), " (a border of up to 1 pixel from its neighbours)");
  });

  test("the widest side counts, in pixels", () => {
    // 2 rows above, 1 below, none left or right.
    assert.equal(borderWords([10, 20, 10, 20], [8, 21, 10, 20]), " (a border of up to 2 pixels from its neighbours)");
  });

  test("reading more than twice its area is cutting out of a chunk", () => {
    // 100 pixels out of 1,024.
    assert.equal(borderWords([0, 10, 0, 10], [0, 32, 0, 32]), " (it cuts its pixels out of those)");
  });

  test("reading exactly twice its area is still a border", () => {
    assert.equal(borderWords([0, 10, 0, 10], [0, 20, 0, 10]), " (a border of up to 10 pixels from its neighbours)");
  });
});

describe("seconds", () => {
  test("under 10 ms with two decimals", () => {
    assert.equal(seconds(0.005), "5.00 ms");
    assert.equal(seconds(0), "0.00 ms");
  });

  test("under a second in milliseconds with one decimal", () => {
    assert.equal(seconds(0.01), "10.0 ms");
    assert.equal(seconds(0.25), "250.0 ms");
  });

  test("from a second on in seconds", () => {
    assert.equal(seconds(1), "1.00 s");
    assert.equal(seconds(2.5), "2.50 s");
  });
});

test("counts take a plural but for one", () => {
  assert.equal(count(0, "task"), "0 tasks");
  assert.equal(count(1, "task"), "1 task");
  assert.equal(count(7, "task"), "7 tasks");
});

test("the status while laying out names the tasks, with thousands separated", () => {
  assert.equal(layingOut("tasks", 1716), "Laying out 1,716 tasks…");
  assert.equal(layingOut("overview", 1716), "Laying out the overview…");
});

test("the hint speaks of tiles only where there is a picture", () => {
  assert.match(hint(true), /click it to see its tile, or click a tile to see its tasks\.$/);
  assert.match(hint(false), /click it to see what it depends on\.$/);
});

describe("tooltips", () => {
  const stages = [["read", "#aaa", "stage-read"], ["sobel", "#bbb", "stage-sobel"]];
  const nodes = {
    stage: [0, 1],
    label: ["read tile (0, 0)", ""],
    region: [null, [0, 10, 0, 10]],
    reads: [null, [0, 11, 0, 11]],
    tile: [[0, 0], null],
  };
  const run = { wall: 1, where: "threads in the server", threads: ["thread 0", "thread 1"], task: [[1, 0.2, 0.5], null] };

  test("a task is named by its label, or by its number without one", () => {
    assert.equal(taskName(0, nodes), "read tile (0, 0)");
    assert.equal(taskName(1, nodes), "task 1");
    assert.equal(taskName(2, { stage: [] }), "task 2");
  });

  test("a recorded task: what it does and where, stage, tile and when and where it ran", () => {
    assert.deepEqual(taskTip(0, { nodes, stages, run }), [
      ["read tile (0, 0)", "tv-tip-key"],
      ["Stage: read"],
      ["Tile (0, 0)"],
      ["Ran 300.0 ms, from 200.0 ms, on thread 1", "tv-tip-run"],
    ]);
  });

  test("a task with pixels the run did not record, without a label", () => {
    assert.deepEqual(taskTip(1, { nodes, stages, run }), [
      ["task 1", "tv-tip-key"],
      ["Stage: sobel"],
      ["Computes rows 0:10, columns 0:10 of the image"],
      ["Reads rows 0:11, columns 0:11 (a border of up to 1 pixel from its neighbours)"],
      ["Not in the recorded run", "tv-tip-run"],
    ]);
  });

  test("no run, no line about it", () => {
    assert.equal(taskTip(0, { nodes, stages, run: null }).length, 3);
  });

  test("a tile: its name, its pixels and its tasks", () => {
    assert.deepEqual(tileTip(1, 2, [0, 32, 64], [0, 16, 32, 48], 7), [
      ["Tile (1, 2)", "tv-tip-key"],
      ["rows 32:64, columns 32:48"],
      ["7 tasks: click to highlight them"],
    ]);
  });
});

describe("the tile picture's caption", () => {
  const image = { shape: [64, 48], row_edges: [0, 32, 64], col_edges: [0, 16, 32, 48] };

  test("the grid: rows x columns of tiles, the image width x height", () => {
    assert.equal(
      tilesCaption(image, null, 0),
      "2 x 3 tiles of the 48 x 64 image. Click a tile to highlight its tasks; click a task to see its tile.",
    );
  });

  test("a chosen tile and its tasks", () => {
    assert.equal(
      tilesCaption(image, [1, 2], 7),
      "Tile (1, 2): its 7 tasks are highlighted in the graph, the others dimmed.",
    );
  });

  test("a task: its tiles, its pixels and the frame it reads", () => {
    assert.equal(
      taskCaption("Sobel edges, chunk (0, 0)", { tiles: ["0,0", "0,1"], region: [0, 10, 12, 20], reads: [0, 11, 11, 21] }),
      'Task "Sobel edges, chunk (0, 0)" (tiles (0, 0) (0, 1), outlined) computes rows 0:10, columns 12:20 and reads rows 0:11, '
        + "columns 11:21 (a border of up to 1 pixel from its neighbours), the shaded frame.",
    );
  });

  test("a task on one tile", () => {
    assert.equal(
      taskCaption("read tile (1, 1)", { tiles: ["1,1"], region: [32, 64, 16, 32], reads: null }),
      'Task "read tile (1, 1)" (tile (1, 1), outlined) computes rows 32:64, columns 16:32.',
    );
  });

  test("a task without pixels", () => {
    assert.equal(taskCaption("Otsu's level", { tiles: [], region: null, reads: null }), 'Task "Otsu\'s level" holds no pixels of the image.');
  });
});

describe("the replay's words", () => {
  const run = { wall: 2.5, where: "threads in the server" };

  test("the caption names the run's length, place and pace, and the states as the legend shows them", () => {
    assert.equal(
      replayCaption(run, 0),
      "The last run, 2.50 s of wall time on threads in the server: one row per worker thread, one bar per task, "
        + "coloured by stage. Slide, or Play, to see the tasks and tiles go from waiting (grey) to running (outlined) "
        + "to done (their stage's colour); Play shows 2.50 s of run played over 8 s, 3.2 times slower than it ran.",
    );
  });

  test("the pace: how many times slower (or faster) Play shows the run", () => {
    assert.equal(pace(0.522), "522.0 ms of run played over 8 s, 15 times slower than it ran");
    assert.equal(pace(16), "16.00 s of run played over 8 s, 2.0 times faster than it ran");
    assert.equal(pace(8), "8.00 s of run played over 8 s, as fast as it ran");
  });

  test("and the tasks the recording misses", () => {
    assert.ok(replayCaption(run, 1234).endsWith(
      " 1,234 of the graph's tasks are not in the recording: they keep their colour.",
    ));
  });

  test("the clock: the time shown of the run's length", () => {
    assert.equal(clock(0.25, 2.5), "250.0 ms of 2.50 s");
  });
});
