// The task graph's panel: its layout (in the worker), the SVG Graphviz drew, panned and
// zoomed by svg-pan-zoom, its two modes (every task, or the overview of one box per kind
// of operation), the highlight of chosen tasks and the replay's state on each task node.
//
// Labels too small to read at the zoom shown are hidden, and a note says to zoom in: they
// come back as one zooms in.
//
// On the DOM, for the tests: data-mode, data-ready, data-zoom, data-labels ("shown" or
// "hidden") and data-layout-ms on .tv-graph; data-task and data-state on each task node
// g#t<i>; .tv-hit and .tv-chosen.
import { button, el, taskAt } from "./dom.js";
import { layOut } from "./layout.js";
import { loadScript } from "./loader.js";
import { colourOfClass, dependenciesOf, edgeEnds } from "./logic/graph-data.js";
import { around, centring, dragged, labelsReadable, revealScale, widening } from "./logic/geometry.js";
import { layingOut, ZOOM_FOR_LABELS } from "./logic/words.js";

const XLINK = "http://www.w3.org/1999/xlink";

export class TaskGraph {
  // ``args`` as Python gives them (dot, overview, stages, nodes, height); ``on`` what the
  // view does when a task is clicked, hovered or left, and once a layout is drawn:
  // { click(task), hover(task, event), leave(), drawn() }.
  constructor(args, on) {
    this.args = args;
    this.on = on;
    this.count = args.nodes.stage.length;
    this.dependencies = null; // task -> the tasks it takes results from, once laid out
    this.edges = []; // [element, from, to]
    this.layouts = {}; // mode -> Promise of SVG text
    this.mode = null;
    this.svg = null;
    this.panZoom = null;
    this.taskNodes = [];
    this.painted = []; // the replay's state each task node shows
    this.element = el("div", "tv-graph");
    this.element.style.height = `${args.height || 480}px`;
    this.status = el("div", "tv-status");
    this.element.appendChild(this.status);
    this.zoomNote = el("div", "tv-zoom-note", ZOOM_FOR_LABELS);
    this.zoomNote.hidden = true;
    this.element.appendChild(this.zoomNote);
    this.labelPoints = 0; // the labels' font size, in the laid-out graph's units
    this.controls = this.buildControls();
  }

  // The mode toggle and the zoom buttons, for the view's bar.
  buildControls() {
    this.modeButtons = {};
    const toggle = el("div", "tv-toggle");
    toggle.setAttribute("role", "group");
    for (const [mode, label, title] of [
      ["tasks", "Every task", `One node per task: ${this.count.toLocaleString("en")} of them`],
      ["overview", "Overview", "One box per kind of operation, with the number of tasks it runs"],
    ]) {
      const choice = button(label, title, () => this.show(mode));
      choice.dataset.mode = mode;
      this.modeButtons[mode] = choice;
      toggle.appendChild(choice);
    }
    return [
      toggle,
      button("+", "Zoom in", () => this.panZoom && this.panZoom.zoomIn()),
      button("−", "Zoom out", () => this.panZoom && this.panZoom.zoomOut()),
      button("Fit", "Show the whole graph", () => this.fit()),
    ];
  }

  async show(mode) {
    if (mode === this.mode) return;
    const dot = mode === "overview" ? this.args.overview : this.args.dot;
    if (!dot) return;
    this.mode = mode;
    this.element.dataset.mode = mode;
    this.element.dataset.ready = "false";
    for (const [name, choice] of Object.entries(this.modeButtons)) {
      choice.classList.toggle("tv-on", name === mode);
      choice.disabled = !(name === "overview" ? this.args.overview : this.args.dot);
    }
    if (this.panZoom) {
      this.panZoom.destroy();
      this.panZoom = null;
    }
    if (this.svg) this.svg.remove();
    this.svg = null;
    this.zoomNote.hidden = true;
    this.status.hidden = false;
    this.status.textContent = layingOut(mode, this.count);
    const started = performance.now();
    let text;
    try {
      await loadScript("vendor/svg-pan-zoom.min.js");
      this.layouts[mode] = this.layouts[mode] || layOut(dot);
      text = await this.layouts[mode];
    } catch (error) {
      this.status.textContent = `Could not lay out the graph: ${error.message}`;
      return;
    }
    if (this.mode !== mode) return; // switched again while this one was laid out
    this.attach(text, mode);
    this.element.dataset.layoutMs = String(Math.round(performance.now() - started));
    this.element.dataset.ready = "true";
    this.status.hidden = true;
  }

  attach(text, mode) {
    const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
    if (mode === "tasks") this.readEdges(svg);
    // Graphviz's own tooltips (the tasks' Dask keys) would show beside this view's.
    for (const link of svg.querySelectorAll("a")) link.removeAttributeNS(XLINK, "title");
    for (const title of svg.querySelectorAll("title")) title.remove();
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.classList.add("tv-svg");
    const label = svg.querySelector("g.node text");
    this.labelPoints = (label && parseFloat(label.getAttribute("font-size"))) || 14;
    this.element.appendChild(svg);
    this.svg = svg;

    this.taskNodes = new Array(this.count).fill(null);
    if (mode === "tasks") {
      for (let index = 0; index < this.count; index++) {
        const node = svg.getElementById ? svg.getElementById(`t${index}`) : svg.querySelector(`#t${index}`);
        if (!node) continue;
        node.dataset.task = String(index);
        this.taskNodes[index] = node;
        paint(node, this.args.stages[this.args.nodes.stage[index]][1]);
      }
    } else {
      // The overview's boxes carry the stage-<name> classes of the stages they belong to.
      const colours = colourOfClass(this.args.stages);
      for (const node of svg.querySelectorAll("g.node")) {
        for (const name of node.classList) {
          if (colours.has(name)) paint(node, colours.get(name));
        }
      }
    }
    this.panZoom = svgPanZoom(svg, {
      zoomEnabled: true, controlIconsEnabled: false, fit: true, center: true,
      minZoom: 0.5, maxZoom: Math.max(20, this.count / 20), zoomScaleSensitivity: 0.3,
      dblClickZoomEnabled: true,
      onZoom: () => this.zoomed(),
    });
    this.firstView(mode);
    this.listen(svg);
    this.painted = [];
    this.on.drawn();
  }

  // Graphviz titles each edge "t<from>->t<to>": the dependencies, read before the titles
  // go (they would show as the browser's own tooltips).
  readEdges(svg) {
    this.edges = [];
    for (const edge of svg.querySelectorAll("g.edge")) {
      const title = edge.querySelector("title");
      const ends = title && edgeEnds(title.textContent);
      if (ends) this.edges.push([edge, ...ends]);
    }
    this.dependencies = dependenciesOf(this.edges.map(([, from, to]) => [from, to]), this.count);
  }

  // The whole graph, fitted to the panel.
  fit() {
    if (!this.panZoom) return;
    this.panZoom.resize();
    this.panZoom.fit();
    this.panZoom.center();
    this.zoomed();
  }

  // The zoom shown, on the DOM, and the labels shown only where they can be read.
  zoomed() {
    if (!this.panZoom || !this.svg) return;
    this.element.dataset.zoom = this.panZoom.getZoom().toFixed(3);
    const readable = labelsReadable(this.labelPoints, this.panZoom.getSizes().realZoom);
    this.svg.classList.toggle("tv-no-labels", !readable);
    this.element.dataset.labels = readable ? "shown" : "hidden";
    this.zoomNote.hidden = readable;
  }

  // The whole graph if it fills the panel's width; else, for every task, the top of it, as
  // wide as the panel: a grid of tiles lays out as a tall column whose boxes would be
  // specks. The overview, a few boxes, is always shown whole.
  firstView(mode) {
    this.fit();
    if (mode !== "tasks") return;
    const sizes = this.panZoom.getSizes();
    const widen = widening(sizes);
    if (widen > 1) this.panZoom.zoomAtPoint(widen, { x: sizes.width / 2, y: 0 });
    this.zoomed();
  }

  // Bring the highlighted tasks into view: zoomed to fill most of the panel (a tile's
  // tasks are specks in a whole 16 x 16 graph), and centred.
  reveal(indices, zoomed = false) {
    if (!this.svg || this.mode !== "tasks" || !this.panZoom || !indices.length) return;
    const boxes = indices.map((index) => this.taskNodes[index]).filter(Boolean).map((node) => node.getBoundingClientRect());
    if (!boxes.length) return;
    const box = around(boxes);
    const panel = this.svg.getBoundingClientRect();
    const scale = revealScale(box, panel);
    if (!zoomed && scale !== null) {
      this.panZoom.zoomAtPoint(this.panZoom.getZoom() * scale, { x: box.x - panel.left, y: box.y - panel.top });
      this.reveal(indices, true); // measured again at the new zoom, then centred
      return;
    }
    this.panZoom.panBy(centring(box, panel));
  }

  listen(svg) {
    let pressed = null;
    svg.addEventListener("pointerdown", (event) => { pressed = [event.clientX, event.clientY]; });
    svg.addEventListener("click", (event) => {
      const moved = dragged(pressed, [event.clientX, event.clientY]);
      pressed = null;
      if (moved) return; // the end of a pan
      const index = taskAt(event.target);
      if (index !== null) this.on.click(index);
    });
    svg.addEventListener("mousemove", (event) => {
      const index = taskAt(event.target);
      if (index === null) this.on.leave();
      else this.on.hover(index, event);
    });
    svg.addEventListener("mouseleave", () => this.on.leave());
  }

  // ``hits`` (a Set of tasks) highlighted, the others dimmed where there are any; ``chosen``
  // (a task or null) outlined; an edge lit where both ends are hits, or, given ``links``
  // (a Set of "from,to"), where it is one of them. Only the graph of every task shows them.
  highlight(hits, chosen, links = null) {
    if (!this.svg || this.mode !== "tasks") return;
    this.svg.classList.toggle("tv-focus", hits.size > 0);
    this.taskNodes.forEach((node, index) => {
      if (!node) return;
      node.classList.toggle("tv-hit", hits.has(index));
      node.classList.toggle("tv-chosen", index === chosen);
    });
    for (const [edge, from, to] of this.edges) {
      edge.classList.toggle("tv-hit", links ? links.has(`${from},${to}`) : hits.has(from) && hits.has(to));
    }
  }

  // The replay's state of each task on its node, written only where it changed.
  paintStates(states) {
    states.forEach((state, index) => {
      if (state === this.painted[index]) return;
      this.painted[index] = state;
      const node = this.taskNodes[index];
      if (node) node.dataset.state = state;
    });
  }
}

function paint(node, colour) {
  for (const shape of node.querySelectorAll("ellipse, polygon, path")) shape.setAttribute("fill", colour);
}
