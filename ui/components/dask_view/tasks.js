// The "tasks" view: a task graph to pan and zoom (graph.js), the tile picture (tiles.js)
// and the replay of a recorded run (replay.js), composed here: a choice of tile or task
// highlighted in all of them, the tooltip, and the frame's height. Python's arguments are
// those of ui/task_view.py's task_view_args.
//
// What the tests read is on the DOM: data-zoom and data-mode on .tv-graph, data-state on
// every task node (g#t<i>) and tile (rect.tv-tile), .tv-hit on the highlighted tasks and
// tiles, data-time on .tv-replay.
import { button, el } from "./dom.js";
import { TaskGraph } from "./graph.js";
import { loadStyle } from "./loader.js";
import { highlight, sameTile, spanHighlight, tasksOfTile } from "./logic/graph-data.js";
import { hint, taskName, taskTip, tileTip } from "./logic/words.js";
import { Replay } from "./replay.js";
import { TilePicture } from "./tiles.js";
import { Tip } from "./tip.js";

class TaskView {
  constructor(root, args, setHeight) {
    this.args = args;
    this.setHeight = setHeight;
    this.nodes = args.nodes;
    this.count = args.nodes.stage.length;
    this.selectedTile = null; // [row, col]
    this.selectedTask = null; // node index
    this.spanShown = false; // the recorded run's span highlighted
    this.tasksOfTile = tasksOfTile(this.nodes.tile);
    this.picture = null;
    this.replay = null;
    this.build(root);
  }

  build(root) {
    const args = this.args;
    this.element = el("div", "tv");
    root.replaceChildren(this.element);
    const leave = () => this.tip.hide();
    const colourOf = (task) => args.stages[this.nodes.stage[task]][1];

    this.graph = new TaskGraph(args, {
      click: (task) => this.select(null, task === this.selectedTask ? null : task),
      hover: (task, event) => this.showTip(task, event),
      leave,
      drawn: () => this.drawn(),
    });
    const bar = el("div", "tv-bar");
    for (const control of this.graph.controls) bar.appendChild(control);
    this.clearButton = button("Clear", "Clear the highlight", () => this.select(null, null));
    this.clearButton.hidden = true;
    bar.appendChild(this.clearButton);
    if (args.run && args.run.span && args.run.span.length) {
      this.spanButton = button("Span", "Highlight the span: the longest chain of tasks that each wait for the one before",
        () => this.select(null, null, !this.spanShown));
      this.spanButton.classList.add("tv-span-button");
      bar.appendChild(this.spanButton);
    }
    bar.appendChild(this.legend());
    this.element.appendChild(bar);

    const main = el("div", "tv-main");
    main.appendChild(this.graph.element);
    if (args.image) {
      this.picture = new TilePicture(args.image, this.nodes, this.tasksOfTile, colourOf, {
        click: (r, c) => this.select(sameTile(this.selectedTile, [r, c]) ? null : [r, c], null),
        hover: (r, c, event) => this.showTileTip(r, c, event),
        leave,
      });
      main.appendChild(this.picture.element);
    }
    this.element.appendChild(main);
    this.element.appendChild(el("div", "tv-hint", hint(Boolean(args.image))));
    if (args.run) {
      this.replay = new Replay(args.run, this.count, colourOf, {
        time: (states) => this.showStates(states),
        play: () => this.select(null, null),
        hover: (task, event) => this.showTip(task, event),
        leave,
        click: (task) => this.select(null, task),
      });
      this.element.appendChild(this.replay.element);
    }

    this.tip = new Tip(this.element);
    this.element.appendChild(this.tip.element);
    this.select(null, null);
    this.graph.show(args.mode || "tasks");
    // The frame follows the view's height: its style sheet arrives after the first
    // render, captions wrap, the replay may be added.
    new ResizeObserver(() => this.resize()).observe(this.element);
  }

  legend() {
    const legend = el("div", "tv-legend");
    for (const [name, colour] of this.args.stages) {
      const item = el("span", "tv-legend-item", name);
      const chip = el("i", "tv-chip");
      chip.style.background = colour;
      item.prepend(chip);
      legend.appendChild(item);
    }
    return legend;
  }

  resize() {
    this.setHeight(this.element.scrollHeight + 4);
  }

  // A layout drawn (first, or on a change of mode): the choice and the replay's time on it.
  drawn() {
    this.select(this.selectedTile, this.selectedTask, this.spanShown);
    if (this.replay) this.replay.setTime(this.replay.time);
  }

  // A tile (its tasks highlighted in the graph) or a task (its tile, region and borrowed
  // border outlined on the picture, its dependencies highlighted), or neither.
  // Or, with ``span``, the span of the recorded run.
  select(tile, task, span = false) {
    this.selectedTile = tile;
    this.selectedTask = task;
    this.spanShown = span;
    if (this.spanButton) this.spanButton.classList.toggle("tv-on", span);
    const { kind, hits, links } = span
      ? spanHighlight(this.args.run.span)
      : highlight(tile, task, this.tasksOfTile, this.graph.dependencies);
    this.clearButton.hidden = !kind;
    this.element.dataset.selected = kind;
    this.graph.highlight(hits, task, links);
    if (this.picture) this.picture.select(tile, task, task === null ? "" : taskName(task, this.nodes));
    if (tile || span) this.graph.reveal([...hits]);
  }

  showStates(states) {
    this.graph.paintStates(states);
    if (this.picture) this.picture.paintStates(states);
  }

  showTip(task, event) {
    const lines = taskTip(task, { nodes: this.nodes, stages: this.args.stages, run: this.args.run });
    this.tip.showTask(task, lines, event);
  }

  showTileTip(r, c, event) {
    const image = this.args.image;
    const tasks = (this.tasksOfTile.get(`${r},${c}`) || []).length;
    this.tip.showTile(tileTip(r, c, image.row_edges, image.col_edges, tasks), event);
  }

  pause() {
    if (this.replay) this.replay.pause();
  }
}

const shown = new WeakMap(); // root -> { signature, view }

export function render(root, args, { setHeight }) {
  // Applied whenever it arrives: the frame's height follows it (see resize).
  loadStyle("tasks.css").catch(() => {});
  // Streamlit renders again on every rerun of the page: a graph already laid out for the
  // same arguments stays as it is, zoom, highlight and replay time included.
  const signature = args.signature || JSON.stringify([args.dot, args.run && args.run.wall]);
  const before = shown.get(root);
  if (before && before.signature === signature && root.contains(before.view.element)) {
    before.view.resize();
    return;
  }
  if (before) before.view.pause();
  shown.set(root, { signature, view: new TaskView(root, args, setHeight) });
}
