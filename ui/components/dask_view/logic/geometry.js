// Where things go, in numbers: regions of the image in picture coordinates, the tiles a
// region covers, the view of the picture zoomed onto a task, the timeline's bars, how far
// the graph zooms to show what is highlighted, and where a tooltip goes. Regions are
// (top, bottom, left, right) in pixels; boxes on the screen {left, right, top, bottom}.
// No DOM here.

export const ROW_HEIGHT = 16; // pixels per worker thread on the timeline
export const MAX_WIDEN = 12; // the most the graph zooms in to fill the panel
export const CLICK_SLOP = 4; // pixels a press may move and still count as a click, not a drag
export const MIN_LABEL_PIXELS = 8; // smaller text is a grey smudge: the boxes show none

// A region as an SVG rectangle's attributes, in picture coordinates (x is the column).
export function rectOf([top, bottom, left, right]) {
  return { x: left, y: top, width: right - left, height: bottom - top };
}

// The tiles of a grid (its row and column edges) as rectangles, with their names "r,c".
export function tileRects(rows, cols) {
  const tiles = [];
  for (let r = 0; r + 1 < rows.length; r++) {
    for (let c = 0; c + 1 < cols.length; c++) {
      tiles.push({ r, c, name: `${r},${c}`, ...rectOf([rows[r], rows[r + 1], cols[c], cols[c + 1]]) });
    }
  }
  return tiles;
}

// The names of the tiles a region covers, partly or wholly.
export function tilesCovered([top, bottom, left, right], rows, cols) {
  const names = [];
  for (let r = 0; r + 1 < rows.length; r++) {
    if (rows[r + 1] <= top || rows[r] >= bottom) continue;
    for (let c = 0; c + 1 < cols.length; c++) {
      if (cols[c + 1] > left && cols[c] < right) names.push(`${r},${c}`);
    }
  }
  return names;
}

// The tiles a task's pixels lie on: its own, or those its region covers (a filter runs on
// chunks of several tiles where the tiles are small), or none.
export function tilesOf(task, nodes, rows, cols) {
  if (nodes.tile[task]) return [nodes.tile[task].join(",")];
  const region = nodes.region[task];
  return region ? tilesCovered(region, rows, cols) : [];
}

// The picture's viewBox (x, y, width, height) zoomed onto ``region`` with a margin around
// it, large enough to make a one-pixel border visible; the whole ``picture`` without one.
export function zoomedView(region, picture) {
  if (!region) return picture;
  const [top, bottom, left, right] = region;
  const margin = Math.max(bottom - top, right - left) * 0.6 + 2;
  return [left - margin, top - margin, right - left + 2 * margin, bottom - top + 2 * margin];
}

// The frame a task reads around the region it computes, as an even-odd SVG path: the
// outer rectangle less the inner one.
export function borderPath(reads, region) {
  const [top, bottom, left, right] = reads;
  const [rTop, rBottom, rLeft, rRight] = region || reads;
  return `M${left},${top}H${right}V${bottom}H${left}Z M${rLeft},${rTop}H${rRight}V${rBottom}H${rLeft}Z`;
}

// A task's bar on the timeline, whose width (1000 units) is the run's ``wall`` seconds:
// from its start to its stop, on its thread's row, never thinner than half a unit.
export function barOf([thread, start, stop], wall) {
  const scale = 1000 / Math.max(wall, 1e-9);
  return {
    x: start * scale, y: thread * ROW_HEIGHT + 2, width: Math.max((stop - start) * scale, 0.5), height: ROW_HEIGHT - 4,
  };
}

// How much more the first view zooms in, from the fitted graph, for the graph to fill
// 95 % of the panel's width (at most MAX_WIDEN): 1 where it is wide enough. ``sizes`` are
// svg-pan-zoom's (the panel's width, the graph's viewBox and its scale when fitted).
export function widening(sizes) {
  const drawnWidth = sizes.viewBox.width * sizes.realZoom;
  const widen = Math.min((0.95 * sizes.width) / drawnWidth, MAX_WIDEN);
  return widen > 1.2 ? widen : 1;
}

// The box around every one of ``boxes`` (screen rectangles), and its centre.
export function around(boxes) {
  const left = Math.min(...boxes.map((b) => b.left));
  const right = Math.max(...boxes.map((b) => b.right));
  const top = Math.min(...boxes.map((b) => b.top));
  const bottom = Math.max(...boxes.map((b) => b.bottom));
  return { left, right, top, bottom, x: (left + right) / 2, y: (top + bottom) / 2 };
}

// How much to zoom for ``box`` to fill 80 % of ``panel`` (both screen rectangles with a
// width and height), at most MAX_WIDEN; null where it nearly does already.
export function revealScale(box, panel) {
  const scale = Math.min(
    (0.8 * panel.width) / (box.right - box.left), (0.8 * panel.height) / (box.bottom - box.top), MAX_WIDEN,
  );
  return Math.abs(scale - 1) > 0.1 ? scale : null;
}

// The pan that brings ``box``'s centre to ``panel``'s.
export function centring(box, panel) {
  return { x: panel.left + panel.width / 2 - box.x, y: panel.top + panel.height / 2 - box.y };
}

// Whether a press at ``from`` released at ``to`` (client coordinates) was a drag.
export function dragged(from, to) {
  return Boolean(from) && Math.hypot(to[0] - from[0], to[1] - from[1]) > CLICK_SLOP;
}

// A task's tooltip, below and right of the pointer and inside the view; ``view`` is the
// view's rectangle, ``width`` the tooltip's.
export function tipBeside(clientX, clientY, view, width) {
  const x = clientX - view.left + 14;
  return { left: Math.max(0, Math.min(x, view.width - width - 4)), top: clientY - view.top + 14 };
}

// A tile's tooltip, left of the pointer (the picture is on the view's right) and above it,
// so that it never hides the caption under the picture; ``height`` is the tooltip's.
export function tipLeftOf(clientX, clientY, view, width, height) {
  return { left: Math.max(0, clientX - view.left - width - 10), top: Math.max(0, clientY - view.top - height - 10) };
}

// Whether a graph's labels, of ``points`` in Graphviz's units, can be read at ``realZoom``
// screen pixels per unit (svg-pan-zoom's): at least MIN_LABEL_PIXELS high.
export function labelsReadable(points, realZoom) {
  return points * realZoom >= MIN_LABEL_PIXELS;
}
