// The task graph as data: which tasks belong to a tile, which task a Graphviz node or edge
// stands for, each task's dependencies, and what a choice of tile or task highlights. Tasks
// are numbered as in the graph's DOT source: node "t<i>" is task i. No DOM here.

// Tile name ("r,c") -> the tasks computing it, in the graph's order.
export function tasksOfTile(tiles) {
  const tasks = new Map();
  tiles.forEach((tile, index) => {
    if (!tile) return;
    const name = tile.join(",");
    if (!tasks.has(name)) tasks.set(name, []);
    tasks.get(name).push(index);
  });
  return tasks;
}

// The ends of an edge from its Graphviz title ("t3->t7" -> [3, 7]), or null.
export function edgeEnds(title) {
  const ends = (title || "").match(/^t(\d+)->t(\d+)$/);
  return ends ? [Number(ends[1]), Number(ends[2])] : null;
}

// Each task's dependencies (the tasks whose results it takes), from the edges [from, to].
export function dependenciesOf(edges, count) {
  const dependencies = Array.from({ length: count }, () => []);
  for (const [from, to] of edges) {
    if (to < count) dependencies[to].push(from);
  }
  return dependencies;
}

// What a choice highlights: a tile's tasks, or a task and its dependencies, or nothing.
// ``kind`` is "tile", "task" or "".
export function highlight(tile, task, tasksOfTile, dependencies) {
  const hits = new Set();
  if (tile) {
    for (const index of tasksOfTile.get(tile.join(",")) || []) hits.add(index);
    return { kind: "tile", hits };
  }
  if (task === null || task === undefined) return { kind: "", hits };
  hits.add(task);
  for (const dependency of (dependencies && dependencies[task]) || []) hits.add(dependency);
  return { kind: "task", hits };
}

// The span, the longest chain of dependent tasks of a recorded run (``span``: its tasks,
// first to last), as a highlight: its tasks, and the edges from each to the next as
// "from,to" (an edge between two tasks of the chain that skips one is not part of it).
export function spanHighlight(span) {
  const tasks = span || [];
  const links = new Set();
  for (let i = 1; i < tasks.length; i++) links.add(`${tasks[i - 1]},${tasks[i]}`);
  return { kind: "span", hits: new Set(tasks), links };
}

// Class name of a stage (as the overview's boxes carry it) -> its colour; ``stages`` are
// the arguments' [name, colour, class name].
export function colourOfClass(stages) {
  return new Map(stages.map(([, colour, name]) => [name, colour]));
}

// Whether the same tile ([row, column]) is chosen again: a second click clears it.
export function sameTile(a, b) {
  return Boolean(a && b) && a[0] === b[0] && a[1] === b[1];
}
