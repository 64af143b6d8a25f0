// The replay of a recorded run, as numbers: which tasks are waiting, running or done at a
// time, the state of a tile from its tasks', the slider's position and the play's pace. A
// run records, for each task of the graph, [thread, start, stop] in seconds from the run's
// start, or null for a task it did not see; ``wall`` is the run's length. No DOM here.

export const REPLAY_SECONDS = 8; // a replay lasts this long on screen, whatever the run's length
export const SLIDER_STEPS = 1000; // the slider's positions, from the start to the end

// One task's state at ``time``, from what the run recorded of it (``ran``).
export function stateAt(ran, time) {
  if (!ran) return "unrecorded";
  if (time <= ran[1]) return "waiting"; // at 0 nothing has run, not even the first task
  return time < ran[2] ? "running" : "done";
}

// The state of each of the ``count`` tasks at ``time``; at the run's end every recorded
// task is done, whatever rounding the slider did.
export function statesAt(run, count, time) {
  const end = time >= run.wall;
  const states = new Array(count);
  for (let index = 0; index < count; index++) {
    const ran = run.task[index];
    states[index] = end && ran ? "done" : stateAt(ran, time);
  }
  return states;
}

// How many tasks are in each state: { waiting, running, done, unrecorded }.
export function tally(states) {
  const counts = { waiting: 0, running: 0, done: 0, unrecorded: 0 };
  for (const state of states) counts[state]++;
  return counts;
}

// A tile's state from its tasks' (those the run did not record left out): waiting until
// one starts, done once all are, running in between, even while none of them runs.
export function tileState(states) {
  const recorded = states.filter((state) => state !== "unrecorded");
  if (recorded.some((state) => state === "running")) return "running";
  if (recorded.length && recorded.every((state) => state === "waiting")) return "waiting";
  if (recorded.some((state) => state !== "done")) return "running"; // some done, some to come
  return "done";
}

// The stage a tile shows: that of its last task (in the graph's order, which runs a
// tile's stages in turn) that runs or is done; null while all wait. ``tasks`` are the
// tile's, ``states`` every task's, ``stageOf(task)`` a task's stage.
export function tileStage(tasks, states, stageOf) {
  for (let i = tasks.length - 1; i >= 0; i--) {
    const state = states[tasks[i]];
    if (state === "running" || state === "done") return stageOf(tasks[i]);
  }
  return null;
}

// The recorded tasks, in the graph's order: those the timeline draws a bar for.
export function recorded(run) {
  const order = [];
  run.task.forEach((ran, index) => { if (ran) order.push(index); });
  return order;
}

export function clampTime(time, wall) {
  return Math.min(Math.max(time, 0), wall);
}

// Where ``time`` lies along the run, from 0 to ``SLIDER_STEPS`` (unrounded: the cursor's x).
export function position(time, wall) {
  return (time / Math.max(wall, 1e-9)) * SLIDER_STEPS;
}

// The slider's value for ``time``, and the time of a slider's value.
export function sliderValue(time, wall) {
  return Math.round(position(time, wall));
}

export function timeOfSlider(value, wall) {
  return (Number(value) / SLIDER_STEPS) * wall;
}

// The time to show ``elapsedMs`` later while playing: the whole run in REPLAY_SECONDS.
export function advance(time, elapsedMs, wall) {
  return time + (elapsedMs / 1000) * (wall / REPLAY_SECONDS);
}
