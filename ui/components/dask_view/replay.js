// The replay of the recorded run: a timeline with a row per worker thread and a bar per
// task, a slider and Play, and the state of every task (waiting, running, done) at the
// time shown, which the view paints on the graph and the tiles.
//
// On the DOM, for the tests: data-wall, data-time, data-done, data-running and
// data-playing on .tv-replay; .tv-slider; the bars' data-task.
import { button, el, svgEl, taskAt } from "./dom.js";
import { barOf, ROW_HEIGHT } from "./logic/geometry.js";
import {
  advance, clampTime, position, recorded, sliderValue, SLIDER_STEPS, statesAt, tally, timeOfSlider,
} from "./logic/states.js";
import { clock, replayCaption } from "./logic/words.js";

// What the boxes and tiles look like in each state, as the caption says.
function stateLegend() {
  const legend = el("div", "tv-states");
  for (const [state, words] of [["waiting", "waiting"], ["running", "running"], ["done", "done: its stage's colour"]]) {
    const item = el("span", "", words);
    item.prepend(el("i", `tv-state-chip tv-${state}`));
    legend.appendChild(item);
  }
  return legend;
}

export class Replay {
  // ``run`` as Python gives it (wall, where, threads, task); ``count`` tasks in the graph;
  // ``colourOf(task)`` its stage's colour; ``on`` what the view does with the states at
  // each time shown, when Play starts, and when a bar is hovered, left or clicked:
  // { time(states), play(), hover(task, event), leave(), click(task) }.
  constructor(run, count, colourOf, on) {
    this.run = run;
    this.count = count;
    this.on = on;
    this.time = run.wall;
    this.playing = false;
    this.frame = null;
    const order = recorded(run);
    const replay = el("div", "tv-replay");
    replay.dataset.wall = String(run.wall);
    const controls = el("div", "tv-controls");
    this.playButton = button("▶ Play", "Replay the run from its start", () => this.toggle());
    this.playButton.classList.add("tv-play");
    controls.appendChild(this.playButton);
    this.slider = el("input", "tv-slider");
    Object.assign(this.slider, { type: "range", min: "0", max: String(SLIDER_STEPS), step: "1", value: String(SLIDER_STEPS) });
    this.slider.setAttribute("aria-label", "Time in the run");
    this.slider.addEventListener("input", () => {
      this.pause();
      this.setTime(timeOfSlider(this.slider.value, run.wall));
    });
    controls.appendChild(this.slider);
    this.clock = el("span", "tv-clock");
    controls.appendChild(this.clock);
    controls.appendChild(stateLegend());
    replay.appendChild(controls);
    replay.appendChild(el("div", "tv-caption", replayCaption(run, count - order.length)));

    const timeline = el("div", "tv-timeline");
    const labels = el("div", "tv-thread-labels");
    for (const name of run.threads) labels.appendChild(el("div", "tv-thread", name));
    timeline.appendChild(labels);
    const rows = run.threads.length * ROW_HEIGHT;
    const chart = svgEl("svg", { class: "tv-bars", viewBox: `0 0 1000 ${rows}`, preserveAspectRatio: "none" });
    chart.style.height = `${rows}px`;
    for (const index of order) {
      chart.appendChild(svgEl("rect", { ...barOf(run.task[index], run.wall), fill: colourOf(index), "data-task": index }));
    }
    this.cursor = svgEl("line", { class: "tv-cursor", y1: 0, y2: rows, "vector-effect": "non-scaling-stroke" });
    chart.appendChild(this.cursor);
    chart.addEventListener("mousemove", (event) => {
      const index = taskAt(event.target);
      if (index === null) on.leave();
      else on.hover(index, event);
    });
    chart.addEventListener("mouseleave", () => on.leave());
    chart.addEventListener("click", (event) => {
      const index = taskAt(event.target);
      if (index !== null) on.click(index);
    });
    timeline.appendChild(chart);
    replay.appendChild(timeline);
    this.element = replay;
    this.setTime(this.time);
  }

  // Show the run at ``time`` (seconds from its start, kept within the run).
  setTime(time) {
    const wall = this.run.wall;
    this.time = clampTime(time, wall);
    this.element.dataset.time = this.time.toFixed(6);
    this.slider.value = String(sliderValue(this.time, wall));
    this.clock.textContent = clock(this.time, wall);
    this.cursor.setAttribute("x1", position(this.time, wall));
    this.cursor.setAttribute("x2", position(this.time, wall));
    const states = statesAt(this.run, this.count, this.time);
    const counts = tally(states);
    this.element.dataset.done = String(counts.done);
    this.element.dataset.running = String(counts.running);
    this.on.time(states);
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    const wall = this.run.wall;
    this.on.play(); // a task or tile chosen before would keep the others dimmed
    if (this.time >= wall) this.setTime(0);
    this.playing = true;
    this.element.dataset.playing = "true";
    this.playButton.textContent = "❚❚ Pause";
    let last = performance.now();
    const step = (now) => {
      if (!this.playing) return;
      this.setTime(advance(this.time, now - last, wall));
      last = now;
      if (this.time >= wall) this.pause();
      else this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }

  pause() {
    this.playing = false;
    this.element.dataset.playing = "false";
    this.playButton.textContent = "▶ Play";
    cancelAnimationFrame(this.frame);
  }
}
