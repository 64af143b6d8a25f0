// The tile picture: the image with its grid of tiles over it, in one SVG so that both zoom
// together onto a task's neighbourhood (a one-pixel border is invisible on the whole
// image). A chosen tile is filled; a chosen task's tiles are outlined, its region framed,
// the border it reads shaded. During the replay each tile shows its tasks' state, as the
// graph's boxes do: waiting grey, running outlined, done in its last stage's colour.
//
// On the DOM, for the tests: rect.tv-tile (data-tile "r,c", data-state, .tv-hit,
// .tv-owner), rect.tv-region, rect.tv-reads, path.tv-border, data-zoomed on svg.tv-tiles.
import { button, el, svgEl } from "./dom.js";
import { borderPath, rectOf, tileRects, tilesOf, zoomedView } from "./logic/geometry.js";
import { tileStage, tileState } from "./logic/states.js";
import { taskCaption, tilesCaption } from "./logic/words.js";

export class TilePicture {
  // ``image`` as Python gives it (shape, row_edges, col_edges, picture), the graph's
  // ``nodes``, ``tasksOfTile`` (tile name -> tasks), ``colourOf(task)`` its stage's colour,
  // and ``on`` what the view does when a tile is clicked, hovered or left:
  // { click(r, c), hover(r, c, event), leave() }.
  constructor(image, nodes, tasksOfTile, colourOf, on) {
    this.image = image;
    this.nodes = nodes;
    this.colourOf = colourOf;
    this.tasksOfTile = tasksOfTile;
    this.element = el("div", "tv-side");
    const [height, width] = image.shape;
    this.whole = [0, 0, width, height];
    const overlay = svgEl("svg", { class: "tv-tiles", viewBox: this.whole.join(" "), preserveAspectRatio: "xMidYMid meet" });
    overlay.style.aspectRatio = `${width} / ${height}`;
    if (image.picture) {
      overlay.appendChild(svgEl("image", {
        href: image.picture, x: 0, y: 0, width, height, preserveAspectRatio: "none", class: "tv-picture",
      }));
    }
    this.tiles = new Map(); // name -> rect
    for (const { r, c, name, ...rect } of tileRects(image.row_edges, image.col_edges)) {
      const tile = svgEl("rect", {
        class: "tv-tile", ...rect, "data-tile": name, "vector-effect": "non-scaling-stroke",
      });
      tile.addEventListener("click", () => on.click(r, c));
      tile.addEventListener("mousemove", (event) => on.hover(r, c, event));
      tile.addEventListener("mouseleave", () => on.leave());
      overlay.appendChild(tile);
      this.tiles.set(name, tile);
    }
    this.selection = svgEl("g", { class: "tv-selection" });
    overlay.appendChild(this.selection);
    this.picture = overlay;
    this.element.appendChild(overlay);
    this.caption = el("div", "tv-caption");
    this.element.appendChild(this.caption);
    this.wholeButton = button("Whole image", "Show the whole image again", () => this.zoomOnto(null));
    this.wholeButton.hidden = true;
    this.element.appendChild(this.wholeButton);
  }

  // The picture zoomed onto ``region`` (top, bottom, left, right) with a margin, or whole.
  zoomOnto(region) {
    this.picture.setAttribute("viewBox", zoomedView(region, this.whole).join(" "));
    this.picture.dataset.zoomed = region ? "true" : "false";
    this.wholeButton.hidden = !region;
  }

  // A tile ([row, column]) or a task (``name``, what it does and where) chosen, or neither.
  select(tile, task, name) {
    const hasTask = task !== null && task !== undefined;
    const owners = hasTask ? tilesOf(task, this.nodes, this.image.row_edges, this.image.col_edges) : [];
    for (const [name, rect] of this.tiles) {
      rect.classList.toggle("tv-hit", Boolean(tile) && name === tile.join(","));
      rect.classList.toggle("tv-owner", owners.includes(name));
    }
    this.selection.replaceChildren();
    if (!hasTask) {
      this.zoomOnto(null);
      const count = tile ? (this.tasksOfTile.get(tile.join(",")) || []).length : 0;
      this.caption.textContent = tilesCaption(this.image, tile, count);
      return;
    }
    const region = this.nodes.region[task];
    const reads = this.nodes.reads[task];
    const box = (bounds, name) => svgEl("rect", {
      class: name, ...rectOf(bounds), "vector-effect": "non-scaling-stroke",
    });
    if (reads) {
      // The borrowed border: what the task reads around its own region, shaded.
      this.selection.appendChild(svgEl("path", { class: "tv-border", "fill-rule": "evenodd", d: borderPath(reads, region) }));
      this.selection.appendChild(box(reads, "tv-reads"));
    }
    if (region) this.selection.appendChild(box(region, "tv-region"));
    this.zoomOnto(reads || region || null);
    this.caption.textContent = taskCaption(name, { tiles: owners, region, reads });
  }

  // Each tile's state from its tasks' states in the replay, and the colour of its stage.
  paintStates(states) {
    for (const [name, rect] of this.tiles) {
      const tasks = this.tasksOfTile.get(name) || [];
      rect.dataset.state = tileState(tasks.map((index) => states[index]));
      const task = tileStage(tasks, states, (index) => index);
      if (task === null) rect.style.removeProperty("--stage");
      else rect.style.setProperty("--stage", this.colourOf(task));
    }
  }
}
