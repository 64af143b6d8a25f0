// The "tasks" view: a task graph to pan and zoom, the tile picture, and the replay of a
// recorded run. Graphviz (viz.js, WebAssembly) lays the graph out in a Web Worker, so that
// a graph of thousands of tasks does not freeze the page; svg-pan-zoom moves it.
//
// What the tests read is on the DOM: data-zoom and data-mode on .tv-graph, data-state on
// every task node (g#t<i>) and tile (rect.tv-tile), .tv-hit on the highlighted tasks and
// tiles, data-time on .tv-replay.
(() => {
  const REPLAY_SECONDS = 8;   // a replay lasts this long on screen, whatever the run's length
  const ROW_HEIGHT = 16;      // pixels per worker thread on the timeline
  const CLICK_SLOP = 4;       // pixels a press may move and still count as a click, not a drag
  const MAX_WIDEN = 12;       // the most the first view zooms in to fill the panel's width
  const SVG_NS = "http://www.w3.org/2000/svg";

  function injectStyle() {
    if (document.getElementById("tasks-css")) return;
    const link = document.createElement("link");
    link.id = "tasks-css";
    link.rel = "stylesheet";
    link.href = "tasks.css";
    document.head.appendChild(link);
  }

  const scripts = {};
  function loadScript(src) {
    if (!scripts[src]) {
      scripts[src] = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = src;
        script.onload = resolve;
        script.onerror = () => reject(new Error(`could not load ${src}`));
        document.head.appendChild(script);
      });
    }
    return scripts[src];
  }

  // -- layout: DOT -> SVG text, in a worker when the browser allows one --------------------

  let layoutWorker = null;
  const waiting = new Map();
  let nextRequest = 0;

  function startWorker() {
    // A worker from a blob: a file of its own would be a second script to serve, and the
    // worker still loads the vendored Graphviz from this app, by its full address.
    const viz = new URL("vendor/viz-global.js", document.baseURI).href;
    const source = `importScripts(${JSON.stringify(viz)});
const ready = Viz.instance();
onmessage = async (event) => {
  const viz = await ready;
  try { postMessage({ id: event.data.id, svg: viz.renderString(event.data.dot, { format: "svg" }) }); }
  catch (error) { postMessage({ id: event.data.id, error: String(error) }); }
};`;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
    worker.onmessage = (event) => {
      const { id, svg, error } = event.data;
      const request = waiting.get(id);
      waiting.delete(id);
      if (error) request.reject(new Error(error));
      else request.resolve(svg);
    };
    worker.onerror = (event) => {
      for (const request of waiting.values()) request.reject(new Error(event.message || "layout failed"));
      waiting.clear();
    };
    return worker;
  }

  async function layOut(dot) {
    try {
      layoutWorker = layoutWorker || startWorker();
    } catch (error) {
      // No workers in this frame: lay out here, the page waits meanwhile.
      await loadScript("vendor/viz-global.js");
      const viz = await Viz.instance();
      return viz.renderString(dot, { format: "svg" });
    }
    const id = nextRequest++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      layoutWorker.postMessage({ id, dot });
    });
  }

  // -- words -----------------------------------------------------------------------------

  function span([top, bottom, left, right]) {
    return `rows ${top}:${bottom}, columns ${left}:${right}`;
  }

  function area([top, bottom, left, right]) {
    return (bottom - top) * (right - left);
  }

  // Why a task reads more than it computes: a filter borrows a border from its neighbours;
  // a piece cut out of a chunk reads the chunk.
  function borderWords(region, reads) {
    const sides = [region[0] - reads[0], reads[1] - region[1], region[2] - reads[2], reads[3] - region[3]];
    const widest = Math.max(...sides);
    if (widest <= 0) return "";
    if (2 * area(region) < area(reads)) return " (it cuts its pixels out of those)";
    return ` (a border of up to ${widest} pixel${widest === 1 ? "" : "s"} from its neighbours)`;
  }

  function seconds(value) {
    return value < 1 ? `${(value * 1000).toFixed(value < 0.01 ? 2 : 1)} ms` : `${value.toFixed(2)} s`;
  }

  function el(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function svgEl(tag, attributes) {
    const element = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, value);
    return element;
  }

  function button(text, title, onClick) {
    const element = el("button", "tv-button", text);
    element.type = "button";
    element.title = title;
    element.addEventListener("click", onClick);
    return element;
  }

  // -- the view ----------------------------------------------------------------------------

  class TaskView {
    constructor(root, args, setHeight) {
      this.args = args;
      this.setHeight = setHeight;
      this.nodes = args.nodes;
      this.count = args.nodes.stage.length;
      this.keys = new Array(this.count).fill("");  // read from the laid-out graph's tooltips
      this.layouts = {};          // mode -> Promise of SVG text
      this.mode = null;
      this.panZoom = null;
      this.selectedTile = null;   // [row, col]
      this.selectedTask = null;   // node index
      this.states = new Array(this.count).fill(null);
      this.tasksOfTile = new Map();
      this.nodes.tile.forEach((tile, index) => {
        if (!tile) return;
        const name = tile.join(",");
        if (!this.tasksOfTile.has(name)) this.tasksOfTile.set(name, []);
        this.tasksOfTile.get(name).push(index);
      });
      this.build(root);
    }

    build(root) {
      const args = this.args;
      this.element = el("div", "tv");
      root.replaceChildren(this.element);

      const bar = el("div", "tv-bar");
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
      bar.appendChild(toggle);
      bar.appendChild(button("+", "Zoom in", () => this.panZoom && this.panZoom.zoomIn()));
      bar.appendChild(button("−", "Zoom out", () => this.panZoom && this.panZoom.zoomOut()));
      bar.appendChild(button("Fit", "Show the whole graph", () => this.fit()));
      this.clearButton = button("Clear", "Clear the highlight", () => this.select(null, null));
      this.clearButton.hidden = true;
      bar.appendChild(this.clearButton);
      const legend = el("div", "tv-legend");
      for (const [name, colour] of args.stages) {
        const item = el("span", "tv-legend-item", name);
        const chip = el("i", "tv-chip");
        chip.style.background = colour;
        item.prepend(chip);
        legend.appendChild(item);
      }
      bar.appendChild(legend);
      this.element.appendChild(bar);

      const main = el("div", "tv-main");
      this.graph = el("div", "tv-graph");
      this.graph.style.height = `${args.height || 480}px`;
      this.status = el("div", "tv-status");
      this.graph.appendChild(this.status);
      main.appendChild(this.graph);
      if (args.image) main.appendChild(this.buildTiles(args.image));
      this.element.appendChild(main);

      this.hint = el("div", "tv-hint",
        "Wheel or the buttons to zoom, drag to pan. Hover over a task for what it computes; click it "
        + (args.image ? "to see its tile, or click a tile to see its tasks." : "to see what it depends on."));
      this.element.appendChild(this.hint);
      if (args.run) this.element.appendChild(this.buildReplay(args.run));

      this.tip = el("div", "tv-tip");
      this.tip.hidden = true;
      this.element.appendChild(this.tip);
      this.select(null, null);
      this.show(args.mode || "tasks");
      // The frame follows the view's height: its style sheet arrives after the first
      // render, captions wrap, the replay may be added.
      new ResizeObserver(() => this.resize()).observe(this.element);
    }

    resize() {
      this.setHeight(this.element.scrollHeight + 4);
    }

    // -- the graph ---------------------------------------------------------------------------

    async show(mode) {
      if (mode === this.mode) return;
      const dot = mode === "overview" ? this.args.overview : this.args.dot;
      if (!dot) return;
      this.mode = mode;
      this.graph.dataset.mode = mode;
      this.graph.dataset.ready = "false";
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
      this.status.hidden = false;
      this.status.textContent = mode === "overview"
        ? "Laying out the overview…"
        : `Laying out ${this.count.toLocaleString("en")} tasks…`;
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
      if (this.mode !== mode) return;  // switched again while this one was laid out
      this.attach(text, mode);
      this.graph.dataset.layoutMs = String(Math.round(performance.now() - started));
      this.graph.dataset.ready = "true";
      this.status.hidden = true;
    }

    attach(text, mode) {
      const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
      if (mode === "tasks") this.readEdges(svg);
      // Graphviz's own tooltips would show beside this view's; the tasks' are their keys.
      const XLINK = "http://www.w3.org/1999/xlink";
      for (const link of svg.querySelectorAll("a")) {
        const node = link.closest("g.node");
        const index = node && /^t\d+$/.test(node.id) ? Number(node.id.slice(1)) : -1;
        if (mode === "tasks" && index >= 0 && index < this.count) this.keys[index] = link.getAttributeNS(XLINK, "title") || "";
        link.removeAttributeNS(XLINK, "title");
      }
      for (const title of svg.querySelectorAll("title")) title.remove();
      svg.removeAttribute("width");
      svg.removeAttribute("height");
      svg.classList.add("tv-svg");
      this.graph.appendChild(svg);
      this.svg = svg;

      this.taskNodes = new Array(this.count).fill(null);
      if (mode === "tasks") {
        for (let index = 0; index < this.count; index++) {
          const node = svg.getElementById ? svg.getElementById(`t${index}`) : svg.querySelector(`#t${index}`);
          if (!node) continue;
          node.dataset.task = String(index);
          this.taskNodes[index] = node;
          this.paint(node, this.args.stages[this.nodes.stage[index]][1]);
        }
      } else {
        this.paintOverview(svg);
      }
      this.panZoom = svgPanZoom(svg, {
        zoomEnabled: true, controlIconsEnabled: false, fit: true, center: true,
        minZoom: 0.5, maxZoom: Math.max(20, this.count / 20), zoomScaleSensitivity: 0.3,
        dblClickZoomEnabled: true,
        onZoom: (zoom) => { this.graph.dataset.zoom = zoom.toFixed(3); },
      });
      this.firstView();
      this.listen(svg);
      this.states.fill(null);
      this.select(this.selectedTile, this.selectedTask);
      if (this.run) this.setTime(this.time);
    }

    paint(node, colour) {
      for (const shape of node.querySelectorAll("ellipse, polygon, path")) shape.setAttribute("fill", colour);
    }

    paintOverview(svg) {
      // The overview's boxes carry the stage-<name> classes of the stages they belong to.
      const colourOfClass = new Map(this.args.stages.map(([, colour, name]) => [name, colour]));
      for (const node of svg.querySelectorAll("g.node")) {
        for (const name of node.classList) {
          if (colourOfClass.has(name)) this.paint(node, colourOfClass.get(name));
        }
      }
    }

    readEdges(svg) {
      // Graphviz titles each edge "t<from>->t<to>": the dependencies, read before the
      // titles go (they would show as the browser's own tooltips).
      this.dependencies = Array.from({ length: this.count }, () => []);
      this.edgeElements = [];
      for (const edge of svg.querySelectorAll("g.edge")) {
        const title = edge.querySelector("title");
        const ends = title && title.textContent.match(/^t(\d+)->t(\d+)$/);
        if (!ends) continue;
        const from = Number(ends[1]);
        const to = Number(ends[2]);
        this.edgeElements.push([edge, from, to]);
        if (to < this.count) this.dependencies[to].push(from);
      }
    }

    // The whole graph, fitted to the panel.
    fit() {
      if (!this.panZoom) return;
      this.panZoom.resize();
      this.panZoom.fit();
      this.panZoom.center();
      this.graph.dataset.zoom = this.panZoom.getZoom().toFixed(3);
    }

    // The whole graph if it fills the panel's width; else the top of it, as wide as the
    // panel: a grid of tiles lays out as a tall column whose boxes would be specks.
    firstView() {
      this.fit();
      const sizes = this.panZoom.getSizes();
      const drawnWidth = sizes.viewBox.width * sizes.realZoom;
      const widen = Math.min((0.95 * sizes.width) / drawnWidth, MAX_WIDEN);
      if (widen > 1.2) this.panZoom.zoomAtPoint(widen, { x: sizes.width / 2, y: 0 });
      this.graph.dataset.zoom = this.panZoom.getZoom().toFixed(3);
    }

    // Bring the highlighted tasks into view: zoomed to fill most of the panel (a tile's
    // tasks are specks in a whole 16 x 16 graph), and centred.
    reveal(indices, zoomed = false) {
      if (!this.panZoom || !indices.length) return;
      const boxes = indices.map((index) => this.taskNodes[index]).filter(Boolean).map((node) => node.getBoundingClientRect());
      if (!boxes.length) return;
      const left = Math.min(...boxes.map((b) => b.left));
      const right = Math.max(...boxes.map((b) => b.right));
      const top = Math.min(...boxes.map((b) => b.top));
      const bottom = Math.max(...boxes.map((b) => b.bottom));
      const panel = this.svg.getBoundingClientRect();
      const scale = Math.min((0.8 * panel.width) / (right - left), (0.8 * panel.height) / (bottom - top), MAX_WIDEN);
      if (!zoomed && Math.abs(scale - 1) > 0.1) {
        this.panZoom.zoomAtPoint(this.panZoom.getZoom() * scale, { x: (left + right) / 2 - panel.left, y: (top + bottom) / 2 - panel.top });
        this.reveal(indices, true);  // measured again at the new zoom, then centred
        return;
      }
      this.panZoom.panBy({ x: panel.left + panel.width / 2 - (left + right) / 2, y: panel.top + panel.height / 2 - (top + bottom) / 2 });
    }

    listen(svg) {
      let pressed = null;
      svg.addEventListener("pointerdown", (event) => { pressed = [event.clientX, event.clientY]; });
      svg.addEventListener("click", (event) => {
        const moved = pressed && Math.hypot(event.clientX - pressed[0], event.clientY - pressed[1]) > CLICK_SLOP;
        pressed = null;
        if (moved) return;  // the end of a pan
        const index = this.taskAt(event.target);
        if (index !== null) this.select(null, index === this.selectedTask ? null : index);
      });
      svg.addEventListener("mousemove", (event) => {
        const index = this.taskAt(event.target);
        if (index === null) this.hideTip();
        else this.showTip(index, event);
      });
      svg.addEventListener("mouseleave", () => this.hideTip());
    }

    taskAt(target) {
      const node = target.closest && target.closest("[data-task]");
      return node ? Number(node.dataset.task) : null;
    }

    // -- the tooltip -------------------------------------------------------------------------

    tipLines(index) {
      const nodes = this.nodes;
      const lines = [[this.keys[index] || `task ${index}`, "tv-tip-key"], [`Stage: ${this.args.stages[nodes.stage[index]][0]}`]];
      const region = nodes.region[index];
      const reads = nodes.reads[index];
      if (region) lines.push([`Computes ${span(region)} of the image`]);
      if (reads) lines.push([`Reads ${span(reads)}${region ? borderWords(region, reads) : ""}`]);
      if (nodes.tile[index]) lines.push([`Tile (${nodes.tile[index].join(", ")})`]);
      const ran = this.run && this.run.task[index];
      if (ran) {
        const [thread, start, stop] = ran;
        lines.push([`Ran ${seconds(stop - start)}, from ${seconds(start)}, on ${this.run.threads[thread]}`, "tv-tip-run"]);
      } else if (this.run) {
        lines.push(["Not in the recorded run", "tv-tip-run"]);
      }
      return lines;
    }

    showTip(index, event) {
      this.tip.replaceChildren(...this.tipLines(index).map(([text, name]) => el("div", name, text)));
      this.tip.dataset.task = String(index);
      this.tip.hidden = false;
      const bounds = this.element.getBoundingClientRect();
      const x = event.clientX - bounds.left + 14;
      const y = event.clientY - bounds.top + 14;
      const width = this.tip.offsetWidth;
      this.tip.style.left = `${Math.max(0, Math.min(x, bounds.width - width - 4))}px`;
      this.tip.style.top = `${y}px`;
    }

    hideTip() {
      this.tip.hidden = true;
      delete this.tip.dataset.task;
    }

    // -- highlighting ------------------------------------------------------------------------

    // A tile (its tasks highlighted in the graph) or a task (its tile, region and borrowed
    // border outlined on the picture, its dependencies highlighted), or neither.
    select(tile, task) {
      this.selectedTile = tile;
      this.selectedTask = task;
      const hits = new Set();
      let kind = "";
      if (tile) {
        kind = "tile";
        for (const index of this.tasksOfTile.get(tile.join(",")) || []) hits.add(index);
      } else if (task !== null && task !== undefined) {
        kind = "task";
        hits.add(task);
        for (const dependency of (this.dependencies && this.dependencies[task]) || []) hits.add(dependency);
      }
      this.clearButton.hidden = !kind;
      this.element.dataset.selected = kind;
      if (this.svg && this.mode === "tasks") {
        this.svg.classList.toggle("tv-focus", hits.size > 0);
        this.taskNodes.forEach((node, index) => {
          if (!node) return;
          node.classList.toggle("tv-hit", hits.has(index));
          node.classList.toggle("tv-chosen", index === task);
        });
        for (const [edge, from, to] of this.edgeElements || []) {
          edge.classList.toggle("tv-hit", hits.has(from) && hits.has(to));
        }
      }
      if (this.tiles) this.drawSelection(tile, task);
      if (tile && this.svg && this.mode === "tasks") this.reveal([...hits]);
    }

    // -- the tile picture --------------------------------------------------------------------

    buildTiles(image) {
      const side = el("div", "tv-side");
      const [height, width] = image.shape;
      this.imageBox = [0, 0, width, height];
      // One SVG for the picture and the grid, so that both zoom together to a task's
      // neighbourhood: a one-pixel border is invisible on the whole image.
      const overlay = svgEl("svg", { class: "tv-tiles", viewBox: this.imageBox.join(" "), preserveAspectRatio: "xMidYMid meet" });
      overlay.style.aspectRatio = `${width} / ${height}`;
      if (image.picture) {
        overlay.appendChild(svgEl("image", {
          href: image.picture, x: 0, y: 0, width, height, preserveAspectRatio: "none", class: "tv-picture",
        }));
      }
      this.tiles = new Map();
      const rows = image.row_edges;
      const cols = image.col_edges;
      for (let r = 0; r + 1 < rows.length; r++) {
        for (let c = 0; c + 1 < cols.length; c++) {
          const tile = svgEl("rect", {
            class: "tv-tile", x: cols[c], y: rows[r], width: cols[c + 1] - cols[c], height: rows[r + 1] - rows[r],
            "data-tile": `${r},${c}`, "vector-effect": "non-scaling-stroke",
          });
          tile.addEventListener("click", () => {
            const same = this.selectedTile && this.selectedTile[0] === r && this.selectedTile[1] === c;
            this.select(same ? null : [r, c], null);
          });
          tile.addEventListener("mousemove", (event) => this.showTileTip(r, c, event));
          tile.addEventListener("mouseleave", () => this.hideTip());
          overlay.appendChild(tile);
          this.tiles.set(`${r},${c}`, tile);
        }
      }
      this.selection = svgEl("g", { class: "tv-selection" });
      overlay.appendChild(this.selection);
      this.picture = overlay;
      side.appendChild(overlay);
      this.tilesCaption = el("div", "tv-caption");
      side.appendChild(this.tilesCaption);
      this.wholeButton = button("Whole image", "Show the whole image again", () => this.zoomPicture(null));
      this.wholeButton.hidden = true;
      side.appendChild(this.wholeButton);
      return side;
    }

    // The picture zoomed to ``box`` (top, bottom, left, right) with a margin, or whole.
    zoomPicture(box) {
      let view = this.imageBox;
      if (box) {
        const [top, bottom, left, right] = box;
        const margin = Math.max(bottom - top, right - left) * 0.6 + 2;
        view = [left - margin, top - margin, right - left + 2 * margin, bottom - top + 2 * margin];
      }
      this.picture.setAttribute("viewBox", view.join(" "));
      this.picture.dataset.zoomed = box ? "true" : "false";
      this.wholeButton.hidden = !box;
    }

    showTileTip(r, c, event) {
      const rows = this.args.image.row_edges;
      const cols = this.args.image.col_edges;
      const tasks = (this.tasksOfTile.get(`${r},${c}`) || []).length;
      this.tip.replaceChildren(
        el("div", "tv-tip-key", `Tile (${r}, ${c})`),
        el("div", "", `${span([rows[r], rows[r + 1], cols[c], cols[c + 1]])}`),
        el("div", "", `${tasks} task${tasks === 1 ? "" : "s"}: click to highlight them`),
      );
      this.tip.hidden = false;
      const bounds = this.element.getBoundingClientRect();
      this.tip.style.left = `${Math.max(0, event.clientX - bounds.left - this.tip.offsetWidth - 10)}px`;
      this.tip.style.top = `${event.clientY - bounds.top + 14}px`;
    }

    // The tiles a task's pixels lie on: its own, or those its region covers (a filter
    // runs on chunks of several tiles where the tiles are small).
    tilesOf(task) {
      if (this.nodes.tile[task]) return [this.nodes.tile[task].join(",")];
      const region = this.nodes.region[task];
      if (!region) return [];
      const [top, bottom, left, right] = region;
      const rows = this.args.image.row_edges;
      const cols = this.args.image.col_edges;
      const names = [];
      for (let r = 0; r + 1 < rows.length; r++) {
        if (rows[r + 1] <= top || rows[r] >= bottom) continue;
        for (let c = 0; c + 1 < cols.length; c++) {
          if (cols[c + 1] > left && cols[c] < right) names.push(`${r},${c}`);
        }
      }
      return names;
    }

    drawSelection(tile, task) {
      const hasTask = task !== null && task !== undefined;
      const owners = new Set(hasTask ? this.tilesOf(task) : []);
      for (const [name, rect] of this.tiles) {
        rect.classList.toggle("tv-hit", Boolean(tile) && name === tile.join(","));
        rect.classList.toggle("tv-owner", owners.has(name));
      }
      this.selection.replaceChildren();
      const [height, width] = this.args.image.shape;
      const grid = `${this.args.image.row_edges.length - 1} x ${this.args.image.col_edges.length - 1} tiles of the ${width} x ${height} image.`;
      if (!hasTask) {
        this.zoomPicture(null);
        const count = tile ? (this.tasksOfTile.get(tile.join(",")) || []).length : 0;
        this.tilesCaption.textContent = tile
          ? `Tile (${tile.join(", ")}): its ${count} task${count === 1 ? "" : "s"} are highlighted in the graph, the others dimmed.`
          : `${grid} Click a tile to highlight its tasks; click a task to see its tile.`;
        return;
      }
      const region = this.nodes.region[task];
      const reads = this.nodes.reads[task];
      const box = ([top, bottom, left, right], name) => svgEl("rect", {
        class: name, x: left, y: top, width: right - left, height: bottom - top, "vector-effect": "non-scaling-stroke",
      });
      if (reads) {
        // The borrowed border: what the task reads around its own region, shaded.
        const [top, bottom, left, right] = reads;
        const [rTop, rBottom, rLeft, rRight] = region || reads;
        this.selection.appendChild(svgEl("path", {
          class: "tv-border", "fill-rule": "evenodd",
          d: `M${left},${top}H${right}V${bottom}H${left}Z M${rLeft},${rTop}H${rRight}V${rBottom}H${rLeft}Z`,
        }));
        this.selection.appendChild(box(reads, "tv-reads"));
      }
      if (region) this.selection.appendChild(box(region, "tv-region"));
      this.zoomPicture(reads || region || null);
      const words = [`Task ${this.keys[task] || task}`];
      const named = [...owners].map((name) => `(${name.replace(",", ", ")})`);
      if (named.length) words.push(`(tile${named.length > 1 ? "s" : ""} ${named.join(" ")}, outlined)`);
      if (region) words.push(`computes ${span(region)}`);
      else words.push("holds no pixels of the image");
      if (reads) words.push(`and reads ${span(reads)}${borderWords(region || reads, reads)}, the shaded frame`);
      this.tilesCaption.textContent = `${words.join(" ")}.`;
    }

    // -- the replay --------------------------------------------------------------------------

    buildReplay(run) {
      this.run = run;
      this.time = run.wall;
      this.order = [];
      run.task.forEach((ran, index) => { if (ran) this.order.push(index); });
      const replay = el("div", "tv-replay");
      replay.dataset.wall = String(run.wall);
      const controls = el("div", "tv-controls");
      this.playButton = button("▶ Play", "Replay the run from its start", () => this.togglePlay());
      this.playButton.classList.add("tv-play");
      controls.appendChild(this.playButton);
      this.slider = el("input", "tv-slider");
      Object.assign(this.slider, { type: "range", min: "0", max: "1000", step: "1", value: "1000" });
      this.slider.setAttribute("aria-label", "Time in the run");
      this.slider.addEventListener("input", () => {
        this.pause();
        this.setTime((Number(this.slider.value) / 1000) * run.wall);
      });
      controls.appendChild(this.slider);
      this.clock = el("span", "tv-clock");
      controls.appendChild(this.clock);
      replay.appendChild(controls);
      const missing = this.count - this.order.length;
      const title = el("div", "tv-caption",
        `The last run, ${seconds(run.wall)} on ${run.where}: one row per worker thread, one bar per task, coloured by stage. `
        + `Slide or play to see the tasks and tiles go from waiting to running (outlined) to done.`
        + (missing ? ` ${missing.toLocaleString("en")} of the graph's tasks are not in the recording: they keep their colour.` : ""));
      replay.appendChild(title);

      const timeline = el("div", "tv-timeline");
      const labels = el("div", "tv-thread-labels");
      for (const name of run.threads) labels.appendChild(el("div", "tv-thread", name));
      timeline.appendChild(labels);
      const chart = svgEl("svg", {
        class: "tv-bars", viewBox: `0 0 1000 ${run.threads.length * ROW_HEIGHT}`, preserveAspectRatio: "none",
      });
      chart.style.height = `${run.threads.length * ROW_HEIGHT}px`;
      const scale = 1000 / Math.max(run.wall, 1e-9);
      for (const index of this.order) {
        const [thread, start, stop] = run.task[index];
        const bar = svgEl("rect", {
          x: start * scale, y: thread * ROW_HEIGHT + 2, width: Math.max((stop - start) * scale, 0.5),
          height: ROW_HEIGHT - 4, fill: this.args.stages[this.nodes.stage[index]][1], "data-task": index,
        });
        chart.appendChild(bar);
      }
      this.cursor = svgEl("line", { class: "tv-cursor", y1: 0, y2: run.threads.length * ROW_HEIGHT, "vector-effect": "non-scaling-stroke" });
      chart.appendChild(this.cursor);
      chart.addEventListener("mousemove", (event) => {
        const index = this.taskAt(event.target);
        if (index === null) this.hideTip();
        else this.showTip(index, event);
      });
      chart.addEventListener("mouseleave", () => this.hideTip());
      chart.addEventListener("click", (event) => {
        const index = this.taskAt(event.target);
        if (index !== null) this.select(null, index);
      });
      timeline.appendChild(chart);
      replay.appendChild(timeline);
      this.replay = replay;
      this.setTime(this.time);
      return replay;
    }

    stateAt(index, time) {
      const ran = this.run.task[index];
      if (!ran) return "unrecorded";
      if (time <= ran[1]) return "waiting";  // at 0 nothing has run, not even the first task
      return time < ran[2] ? "running" : "done";
    }

    setTime(time) {
      const run = this.run;
      this.time = Math.min(Math.max(time, 0), run.wall);
      const end = this.time >= run.wall;
      this.replay.dataset.time = this.time.toFixed(6);
      this.slider.value = String(Math.round((this.time / Math.max(run.wall, 1e-9)) * 1000));
      this.clock.textContent = `${seconds(this.time)} of ${seconds(run.wall)}`;
      this.cursor.setAttribute("x1", (this.time / Math.max(run.wall, 1e-9)) * 1000);
      this.cursor.setAttribute("x2", (this.time / Math.max(run.wall, 1e-9)) * 1000);
      let done = 0;
      let running = 0;
      for (let index = 0; index < this.count; index++) {
        // At the end every recorded task is done, whatever rounding the slider did.
        const state = end && this.run.task[index] ? "done" : this.stateAt(index, this.time);
        if (state === "done") done++;
        if (state === "running") running++;
        if (state === this.states[index]) continue;
        this.states[index] = state;
        const node = this.taskNodes && this.taskNodes[index];
        if (node) node.dataset.state = state;
      }
      this.replay.dataset.done = String(done);
      this.replay.dataset.running = String(running);
      if (this.tiles) {
        for (const [name, rect] of this.tiles) {
          const states = (this.tasksOfTile.get(name) || []).map((index) => this.states[index]).filter((s) => s !== "unrecorded");
          let state = "done";
          if (states.some((s) => s === "running")) state = "running";
          else if (states.length && states.every((s) => s === "waiting")) state = "waiting";
          else if (states.some((s) => s !== "done")) state = "running";  // some done, some to come
          rect.dataset.state = state;
        }
      }
    }

    togglePlay() {
      if (this.playing) this.pause();
      else this.play();
    }

    play() {
      const run = this.run;
      if (this.time >= run.wall) this.setTime(0);
      this.playing = true;
      this.replay.dataset.playing = "true";
      this.playButton.textContent = "❚❚ Pause";
      let last = performance.now();
      const step = (now) => {
        if (!this.playing) return;
        this.setTime(this.time + ((now - last) / 1000) * (run.wall / REPLAY_SECONDS));
        last = now;
        if (this.time >= run.wall) this.pause();
        else this.frame = requestAnimationFrame(step);
      };
      this.frame = requestAnimationFrame(step);
    }

    pause() {
      this.playing = false;
      if (this.replay) this.replay.dataset.playing = "false";
      if (this.playButton) this.playButton.textContent = "▶ Play";
      cancelAnimationFrame(this.frame);
    }
  }

  const shown = new WeakMap();  // root -> { signature, view }

  DaskView.views.tasks = (root, args, { setHeight }) => {
    injectStyle();
    // Streamlit renders again on every rerun of the page: a graph already laid out for
    // the same arguments stays as it is, zoom, highlight and replay time included.
    const signature = args.signature || JSON.stringify([args.dot, args.run && args.run.wall]);
    const before = shown.get(root);
    if (before && before.signature === signature && root.contains(before.view.element)) {
      before.view.resize();
      return;
    }
    if (before) before.view.pause();
    shown.set(root, { signature, view: new TaskView(root, args, setHeight) });
  };
})();
