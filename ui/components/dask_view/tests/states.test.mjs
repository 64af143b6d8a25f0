// The replay's states over time, worked out by hand.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  advance, clampTime, position, recorded, REPLAY_SECONDS, sliderValue, stateAt, statesAt, tally, tileStage, tileState, timeOfSlider,
} from "../logic/states.js";

describe("stateAt: a task that starts at 0.2 s and stops at 0.5 s", () => {
  const ran = [0, 0.2, 0.5];

  test("is waiting before it starts, and at its start", () => {
    assert.equal(stateAt(ran, 0), "waiting");
    assert.equal(stateAt(ran, 0.1), "waiting");
    assert.equal(stateAt(ran, 0.2), "waiting");
  });

  test("is running between its start and its stop", () => {
    assert.equal(stateAt(ran, 0.3), "running");
    assert.equal(stateAt(ran, 0.4999), "running");
  });

  test("is done from its stop on", () => {
    assert.equal(stateAt(ran, 0.5), "done");
    assert.equal(stateAt(ran, 0.6), "done");
  });

  test("a task the run did not record is unrecorded at any time", () => {
    assert.equal(stateAt(null, 0), "unrecorded");
    assert.equal(stateAt(undefined, 0.3), "unrecorded");
  });
});

describe("statesAt: every task of the graph", () => {
  // Two threads: task 0 from 0 to 0.4, task 1 from 0.2 to 0.5, task 2 not recorded.
  const run = { wall: 1, task: [[0, 0, 0.4], [1, 0.2, 0.5], null] };

  test("at 0 nothing has run, not even the task starting at 0", () => {
    assert.deepEqual(statesAt(run, 3, 0), ["waiting", "waiting", "unrecorded"]);
  });

  test("at 0.3 both run", () => {
    assert.deepEqual(statesAt(run, 3, 0.3), ["running", "running", "unrecorded"]);
  });

  test("at 0.45 the first is done, the second still runs", () => {
    assert.deepEqual(statesAt(run, 3, 0.45), ["done", "running", "unrecorded"]);
  });

  test("at the end every recorded task is done", () => {
    assert.deepEqual(statesAt(run, 3, 1), ["done", "done", "unrecorded"]);
  });

  test("at the end even a task whose stop the recording rounded past the end", () => {
    const late = { wall: 1, task: [[0, 0.9, 1.2]] };
    assert.deepEqual(statesAt(late, 1, 0.999), ["running"]);
    assert.deepEqual(statesAt(late, 1, 1), ["done"]);
  });

  test("tasks past the recording's list are unrecorded", () => {
    assert.deepEqual(statesAt({ wall: 1, task: [[0, 0, 0.5]] }, 2, 0.25), ["running", "unrecorded"]);
  });

  test("tally counts them", () => {
    assert.deepEqual(tally(statesAt(run, 3, 0.45)), { waiting: 0, running: 1, done: 1, unrecorded: 1 });
    assert.deepEqual(tally(statesAt(run, 3, 0.1)), { waiting: 1, running: 1, done: 0, unrecorded: 1 });
  });

  test("the recorded tasks, in the graph's order", () => {
    assert.deepEqual(recorded(run), [0, 1]);
    assert.deepEqual(recorded({ task: [null, [0, 0, 1], null, [1, 0, 1]] }), [1, 3]);
  });
});

describe("tileStage: the stage a tile shows", () => {
  const stageOf = (task) => ["read", "grayscale", "sobel", "clip"][task];

  test("none while all its tasks wait", () => {
    assert.equal(tileStage([0, 1], ["waiting", "waiting"], stageOf), null);
  });

  test("that of its last task to run or be done, in the graph's order", () => {
    assert.equal(tileStage([0, 1, 2], ["done", "running", "waiting"], stageOf), "grayscale");
    assert.equal(tileStage([0, 2, 3], ["done", "waiting", "done", "done"], stageOf), "clip");
  });

  test("its own tasks only", () => {
    assert.equal(tileStage([0], ["done", "done", "done"], stageOf), "read");
  });
});

describe("tileState: a tile from its tasks' states", () => {
  test("waiting while all its tasks wait", () => {
    assert.equal(tileState(["waiting", "waiting"]), "waiting");
  });

  test("running while one runs", () => {
    assert.equal(tileState(["done", "running", "waiting"]), "running");
  });

  test("running between its tasks too: some done, some to come", () => {
    assert.equal(tileState(["done", "waiting"]), "running");
  });

  test("done once all are", () => {
    assert.equal(tileState(["done", "done"]), "done");
  });

  test("tasks the run did not record are left out", () => {
    assert.equal(tileState(["unrecorded", "waiting"]), "waiting");
    assert.equal(tileState(["unrecorded", "done"]), "done");
  });

  test("a tile with no recorded task is done", () => {
    assert.equal(tileState([]), "done");
    assert.equal(tileState(["unrecorded"]), "done");
  });
});

describe("the slider and the play", () => {
  test("the time stays within the run", () => {
    assert.equal(clampTime(-1, 2), 0);
    assert.equal(clampTime(1.5, 2), 1.5);
    assert.equal(clampTime(3, 2), 2);
  });

  test("a time's position along 1000 steps, and the slider's rounded value", () => {
    assert.equal(position(0.5, 2), 250);
    assert.equal(sliderValue(1, 2), 500);
    assert.equal(sliderValue(0.0005, 2), 0); // 0.25 of a step
    assert.equal(sliderValue(2, 2), 1000);
  });

  test("a run of no length stays at the start", () => {
    assert.equal(position(0, 0), 0);
  });

  test("a slider's value back to a time", () => {
    assert.equal(timeOfSlider("250", 2), 0.5);
    assert.equal(timeOfSlider(1000, 3), 3);
  });

  test("playing shows the whole run in REPLAY_SECONDS", () => {
    assert.equal(REPLAY_SECONDS, 8);
    assert.equal(advance(0, 8000, 2.5), 2.5);
    assert.equal(advance(0, 1000, 8), 1);
    assert.equal(advance(1, 500, 2), 1.125); // half a second is 1/16 of the run
  });
});
