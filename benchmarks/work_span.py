"""``python -m benchmarks.work_span``: the work-span prediction against measured wall times.

For each size, a photo-like TIFF (``benchmarks.bench.make_photo``) is cut into tiles once;
then every repeat, in turn: one run recorded task by task on the threads
(``core.observe.record_run``, all usable cores) of the graph the Speed-up page times (the
chain's result summed, ``ui.services.scaling.checksum_of``), the threads' per-task
scheduling cost (``core.observe.work_span.scheduling_cost``), and the wall time measured
on 1, 2, ... cores as the Speed-up page measures it (``ui.services.scaling.measure_workers``). Recording and measuring alternate, so a slow spell of the machine
touches both. Printed: the median over repeats of each prediction and measurement and the
error between them, the median of each repeat's own error ("paired"), the error between
the fastest of each ("fastest"), and ("cost again") the error if the threads' scheduling
cost were added to durations that already hold it (``cost_beyond_recording``).

    python -m benchmarks.work_span                          # 16 and 64 MPix, default chain, 3 repeats
    python -m benchmarks.work_span --sizes 16 --repeat 5
    python -m benchmarks.work_span --chain gaussian:sigma=2 --chain threshold --chain label
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from dask.system import CPU_COUNT

from core.observe import record_run, task_graph_of
from core.observe.work_span import cost_beyond_recording, scheduling_cost, work_span
from core.pipeline import DEFAULT_CHAIN, build_pipeline, chain_text, load_image, parse_chain, partition
from ui.services.scaling import checksum_of, default_worker_counts, measure_workers

from .bench import make_photo


def measure(size: int, grid: int, chain, repeats: int, folder: Path) -> None:
    image = load_image(make_photo(size, folder))
    tiles = partition(image, grid, grid, folder / f"tiles-{size}-{grid}")
    height, width = image.shape[:2]
    del image
    pipeline = build_pipeline(tiles, chain)
    checksum = checksum_of(pipeline)  # what measure_workers computes, recorded alike
    graph = task_graph_of(pipeline, checksum)
    counts = default_worker_counts()
    predicted: dict[int, list[float]] = {k: [] for k in counts}
    with_cost: dict[int, list[float]] = {k: [] for k in counts}  # the threads' cost added again, for comparison
    measured: dict[int, list[float]] = {k: [] for k in counts}
    recorded, costs, spans, works = [], [], [], []
    for _ in range(repeats):
        run = record_run(pipeline, array=checksum)
        cost = scheduling_cost()
        spread = work_span(graph, run)
        recorded.append(run.wall)
        costs.append(cost)
        spans.append(spread.span)
        works.append(spread.work)
        for k in counts:
            predicted[k].append(spread.predict(k, cost_beyond_recording(cost, run.where, cost)))
            with_cost[k].append(spread.predict(k, cost))
        for point in measure_workers(tiles, chain=chain, workers=counts).points:
            measured[point.workers].append(point.wall)
    median = statistics.median
    print(f"\n{width} x {height} ({width * height / 2**20:.0f} MPix), {grid} x {grid} tiles, "
          f"{len(graph.nodes):,} tasks, chain {' -> '.join(chain_text(chain))}; {CPU_COUNT} usable cores, "
          f"{repeats} repeats, medians")
    print(f"work {median(works):.3f} s, span {median(spans):.3f} s, work / span {median(works) / median(spans):.1f}; "
          f"recorded run {median(recorded):.3f} s; scheduling cost {1e6 * median(costs):.0f} us a task")
    print(f"{'workers':>8}{'predicted s':>13}{'measured s':>12}{'error':>8}{'paired':>8}{'fastest':>9}"
          f"{'cost again':>12}   (each repeat: predicted / measured)")
    for k in counts:
        p, m, c = median(predicted[k]), median(measured[k]), median(with_cost[k])
        # Each repeat's prediction and measurement are seconds apart: their own error is
        # the least touched by the load of the moment; the fastest of each, the least loaded.
        paired = median((a - b) / b for a, b in zip(predicted[k], measured[k]))
        fastest = (min(predicted[k]) - min(measured[k])) / min(measured[k])
        runs = ", ".join(f"{a:.3f}/{b:.3f}" for a, b in zip(predicted[k], measured[k]))
        print(f"{k:>8}{p:>13.3f}{m:>12.3f}{(p - m) / m:>8.1%}{paired:>8.1%}{fastest:>9.1%}"
              f"{(c - m) / m:>12.1%}   {runs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 64], help="megapixels (default: 16 64)")
    parser.add_argument("--grid", type=int, default=4, help="a G x G grid of tiles (default: 4)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats, interleaved (default: 3)")
    parser.add_argument("--chain", action="append", metavar="STAGE", help="a stage of the chain (default: the tutorial's)")
    args = parser.parse_args()
    chain = parse_chain(args.chain) if args.chain else DEFAULT_CHAIN
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            measure(size, args.grid, chain, args.repeat, Path(folder))


if __name__ == "__main__":
    main()
