// What the task view writes: regions, borders, durations, tooltips and captions, from the
// arguments alone. No DOM here: Node's test runner imports this module too. A task is named
// by its label ("read tile (1, 2)"), what it does and where, never by Dask's key.
import { REPLAY_SECONDS } from "./states.js";

// A region (top, bottom, left, right) of the image, in rows and columns.
export function span([top, bottom, left, right]) {
  return `rows ${top}:${bottom}, columns ${left}:${right}`;
}

export function area([top, bottom, left, right]) {
  return (bottom - top) * (right - left);
}

// Why a task reads more than it computes: a filter borrows a border from its neighbours;
// a piece cut out of a chunk reads the chunk.
export function borderWords(region, reads) {
  const sides = [region[0] - reads[0], reads[1] - region[1], region[2] - reads[2], reads[3] - region[3]];
  const widest = Math.max(...sides);
  if (widest <= 0) return "";
  if (2 * area(region) < area(reads)) return " (it cuts its pixels out of those)";
  return ` (a border of up to ${widest} pixel${widest === 1 ? "" : "s"} from its neighbours)`;
}

export function seconds(value) {
  return value < 1 ? `${(value * 1000).toFixed(value < 0.01 ? 2 : 1)} ms` : `${value.toFixed(2)} s`;
}

// "1 task", "2 tasks".
export function count(number, noun) {
  return `${number} ${noun}${number === 1 ? "" : "s"}`;
}

export function layingOut(mode, tasks) {
  return mode === "overview" ? "Laying out the overview…" : `Laying out ${tasks.toLocaleString("en")} tasks…`;
}

export function hint(hasImage) {
  return "Wheel or the buttons to zoom, drag to pan. Hover over a task for what it computes; click it "
    + (hasImage ? "to see its tile, or click a tile to see its tasks." : "to see what it depends on.");
}

// A task's name: its label, or its number where the graph gave none.
export function taskName(index, nodes) {
  return (nodes.label && nodes.label[index]) || `task ${index}`;
}

// A task's tooltip, as lines of [text, class name]: its name, stage, pixels, tile and run.
// ``run`` is the recorded run (or null).
export function taskTip(index, { nodes, stages, run }) {
  const lines = [[taskName(index, nodes), "tv-tip-key"], [`Stage: ${stages[nodes.stage[index]][0]}`]];
  const region = nodes.region[index];
  const reads = nodes.reads[index];
  if (region) lines.push([`Computes ${span(region)} of the image`]);
  if (reads) lines.push([`Reads ${span(reads)}${region ? borderWords(region, reads) : ""}`]);
  if (nodes.tile[index]) lines.push([`Tile (${nodes.tile[index].join(", ")})`]);
  const ran = run && run.task[index];
  if (ran) {
    const [thread, start, stop] = ran;
    lines.push([`Ran ${seconds(stop - start)}, from ${seconds(start)}, on ${run.threads[thread]}`, "tv-tip-run"]);
  } else if (run) {
    lines.push(["Not in the recorded run", "tv-tip-run"]);
  }
  return lines;
}

// A tile's tooltip, as lines of [text, class name].
export function tileTip(r, c, rows, cols, tasks) {
  return [
    [`Tile (${r}, ${c})`, "tv-tip-key"],
    [span([rows[r], rows[r + 1], cols[c], cols[c + 1]])],
    [`${count(tasks, "task")}: click to highlight them`],
  ];
}

// The tile picture's caption with no task chosen: the grid, or the chosen tile.
export function tilesCaption(image, tile, tasks) {
  if (tile) {
    return `Tile (${tile.join(", ")}): its ${count(tasks, "task")} are highlighted in the graph, the others dimmed.`;
  }
  const [height, width] = image.shape;
  const grid = `${image.row_edges.length - 1} x ${image.col_edges.length - 1} tiles of the ${width} x ${height} image.`;
  return `${grid} Click a tile to highlight its tasks; click a task to see its tile.`;
}

// The tile picture's caption for a chosen task (its ``name``): its tiles (names "r,c"), what
// it computes and what it reads.
export function taskCaption(name, { tiles, region, reads }) {
  const words = [`Task "${name}"`];
  const named = tiles.map((name) => `(${name.replace(",", ", ")})`);
  if (named.length) words.push(`(tile${named.length > 1 ? "s" : ""} ${named.join(" ")}, outlined)`);
  if (region) words.push(`computes ${span(region)}`);
  else words.push("holds no pixels of the image");
  if (reads) words.push(`and reads ${span(reads)}${borderWords(region || reads, reads)}, the shaded frame`);
  return `${words.join(" ")}.`;
}

// How Play's pace compares with the run's: "146.2 ms of run played over 8 s, 55 times slower".
export function pace(wall) {
  const played = `${seconds(wall)} of run played over ${REPLAY_SECONDS} s`;
  const ratio = REPLAY_SECONDS / Math.max(wall, 1e-9);
  if (Math.abs(ratio - 1) < 0.05) return `${played}, as fast as it ran`;
  const times = ratio > 1 ? ratio : 1 / ratio;
  return `${played}, ${times >= 10 ? Math.round(times).toLocaleString("en") : times.toFixed(1)} times ${ratio > 1 ? "slower" : "faster"} than it ran`;
}

// The replay's title: the run, its pace, and the tasks it did not record (``missing``).
export function replayCaption(run, missing) {
  return `The last run, ${seconds(run.wall)} of wall time on ${run.where}: one row per worker thread, one bar per task, `
    + "coloured by stage. Slide, or Play, to see the tasks and tiles go from waiting (grey) to running (outlined) to done "
    + `(their stage's colour); Play shows ${pace(run.wall)}.`
    + (missing ? ` ${missing.toLocaleString("en")} of the graph's tasks are not in the recording: they keep their colour.` : "");
}

export function clock(time, wall) {
  return `${seconds(time)} of ${seconds(wall)}`;
}

// Why the boxes show no words: too small to read at this zoom.
export const ZOOM_FOR_LABELS = "Zoom in (wheel, or +) to read what each box does";
