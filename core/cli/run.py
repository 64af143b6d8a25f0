"""``python -m core``'s run: the input opened as tiles, the pipeline built and computed on
threads or a cluster, every output written in one pass."""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import dask
import dask.threaded
from dask.diagnostics import ProgressBar

from ..errors import PipelineError
from ..observe.progress import for_this_compute
from ..observe.timing import stage_of_layer, stage_timing
from ..outputs.writer import write
from ..pipeline.build import build_pipeline
from ..pipeline.chunked import ChunkedTiles
from ..pipeline.inputs import is_tiled_input, open_tiled_input, retiled
from ..pipeline.loading import frame_count, load_image
from ..pipeline.shipped import ShippedTiles, shipped, tile_paths, tiles_in_graph
from ..pipeline.stage_table import check_chain
from ..pipeline.streamed import StreamedTiles, open_stream, settle, staged
from ..pipeline.tiling import TileSet, check_grid, partition
from ..runtime.cluster import THREADS, connect, raise_first_error, workers_not_seeing, workers_not_seeing_folder
from ..runtime.fetch import compute_and_store_here
from .arguments import build_parser, chain_from_args
from .report import RunReport, format_report

__all__ = ["main", "run"]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = run(args)
    except PipelineError as e:
        print(f"python -m core: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a full disk, a folder we may not write to
        print(f"python -m core: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    try:
        print(format_report(report), flush=True)
    except BrokenPipeError:  # `python -m core ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own advice
    return 0


#: The grid one image file is split into when none is given.
DEFAULT_GRID = (2, 2)


def run(args: argparse.Namespace) -> RunReport:
    chain = chain_from_args(args)  # a bad stage stops the run before any work
    wall: dict[str, float] = {}

    started = time.perf_counter()
    image, tiles = _open(args)
    shape = tiles.image_shape if tiles is not None else image.shape
    check_chain(chain, shape[:2])
    wall["load"] = time.perf_counter() - started

    runner = connect(args.scheduler, dashboard=args.dashboard)
    if args.dashboard and runner.dashboard_link:
        print(f"Dask's dashboard: {runner.dashboard_link}", file=sys.stderr)
    staging, out_was_there = None, args.out.exists()
    try:
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PipelineError(f"cannot create the output folder {str(args.out)!r}: {e.strerror}") from None

        started = time.perf_counter()
        if isinstance(tiles, StreamedTiles):  # its tiles are written as the rows decode
            staging = staged(args.out / "tiles")
            tiles = dataclasses.replace(tiles, folder=staging)
        elif tiles is None:
            tiles = partition(image, *(args.grid or DEFAULT_GRID), args.out / "tiles")
            del image  # from here on the tiles on disk are the data
        elif tiles.files is not None and args.grid not in (None, tiles.grid):
            tiles = retiled(tiles, args.grid, args.out / "tiles")  # tile files of another grid
        if workers_not_seeing(runner, tile_paths(tiles)):  # the workers' disks are their own
            tiles = shipped(tiles, args.out / "tiles")
        wall["partition"] = time.perf_counter() - started
        store_here = None
        show_progress = sys.stderr.isatty() if args.progress is None else args.progress
        if workers_not_seeing_folder(runner, args.out):
            def store_here(collections, stores, what):
                return _compute_here(collections, stores, what, runner, show_progress, args.timeout)

        pipeline = build_pipeline(tiles, chain)
        started = time.perf_counter()
        with stage_timing(stage_of_layer(pipeline), runner.client) as timing, tiles_in_graph(tiles):
            written = write(
                pipeline, args.out, optional=args.formats or (),
                compute=lambda collections, what: _compute(
                    collections, what, runner, show_progress, args.timeout, timing.timer
                ),
                store_here=store_here,
                # The notebook starts from one image file; an input already in tiles has none.
                source=None if is_tiled_input(args.image) else args.image,
            )
        wall["compute and write"] = time.perf_counter() - started
        if staging is not None:
            settle(staging, args.out / "tiles")
            tiles = dataclasses.replace(tiles, folder=args.out / "tiles")
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if not out_was_there and args.out.is_dir() and not any(args.out.iterdir()):
            args.out.rmdir()  # a run that failed leaves no folder it made
        raise
    finally:
        runner.close()

    return RunReport(
        args=args, chain=chain, stages=tuple(pipeline.stages()), written=tuple(written),
        shape=shape, grid=tiles.grid, wall=wall, stage_seconds=dict(timing.times.seconds),
        stage_wall=timing.times.wall_seconds(), stage_tasks=dict(timing.times.tasks),
        ran_on=f"{runner.kind} ({runner.address})",
        peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        tiles=_where_tiles_are(tiles, args.out),
        blocks="written here as the workers computed them (they cannot write this machine's disk)"
        if store_here else "",
    )


def _open(args: argparse.Namespace):
    """(image, None) for one image file, decoded and checked against the grid; (None,
    tiles) for an image already in tiles, opened and checked, never decoded whole."""
    if is_tiled_input(args.image):  # its errors name the tile or file
        return None, open_tiled_input(args.image, args.grid, max_pixels=args.max_pixels)
    if args.scheduler == THREADS:  # a stream is decoded in this process
        try:
            stream = open_stream(args.image, args.grid or DEFAULT_GRID, args.out / "tiles", max_pixels=args.max_pixels)
        except PipelineError as e:
            raise PipelineError(f"{args.image}: {e}") from None
        if stream is not None:
            return None, stream
    try:
        image = load_image(args.image, max_pixels=args.max_pixels)
    except PipelineError as e:
        raise PipelineError(f"{args.image}: {e}") from None
    check_grid(image.shape, *(args.grid or DEFAULT_GRID))
    frames = frame_count(args.image)
    if frames > 1:
        print(f"{args.image} holds {frames} frames (an animation, or the pages of a TIFF): "
              "this run uses the first one", file=sys.stderr)
    return image, None


def _where_tiles_are(tiles: TileSet, out: Path) -> str:
    rows, cols = tiles.grid
    if isinstance(tiles, ChunkedTiles):
        return f"read {rows} x {cols} regions of the {tiles.kind} in place"
    if isinstance(tiles, ShippedTiles):
        written = f"read the input's {rows} x {cols} tile files" if tiles.files else f"wrote {rows} x {cols} tile files into {out / 'tiles'}"
        return f"{written} and sent them to the workers, which cannot read this disk: each keeps those it was sent"
    if isinstance(tiles, ShippedTiles):
        written = f"read the input's {rows} x {cols} tile files" if tiles.files else f"wrote {rows} x {cols} tile files into {out / 'tiles'}"
        return f"{written} and sent them to the workers, which cannot read this disk: each keeps those it was sent"
    if isinstance(tiles, StreamedTiles):
        return f"wrote {rows} x {cols} tile files into {out / 'tiles'} as the image decoded"
    if tiles.files is not None:
        return f"read the input's {rows} x {cols} tile files in place"
    return f"wrote {rows} x {cols} tile files into {out / 'tiles'}"


def _compute(collections: list, what: str, runner, show_progress: bool, timeout: float, timer) -> list:
    """Compute the collections of the results and return their values; task names are
    kept (no optimisation) for the stage times, which ``timer`` takes on threads."""
    if show_progress:
        print(f"{what}:", file=sys.stderr)
    if runner.client is None:
        progress = ProgressBar(out=sys.stderr) if show_progress else None
        # The threaded scheduler's function, not its name: given a name, dask imports
        # distributed to look for a client, which a run on threads must not pay for
        # (tests/test_cli.py, test_a_run_on_threads_imports_neither_distributed_nor_matplotlib).
        return list(dask.compute(
            *collections, scheduler=dask.threaded.get, optimize_graph=False, **for_this_compute(timer, progress)
        ))
    futures = runner.client.compute(collections, optimize_graph=False)
    if show_progress:
        _show_cluster_progress(futures, runner.client.scheduler.address)
    raise_first_error(futures, timeout=timeout)
    return runner.client.gather(futures)


def _compute_here(collections: list, stores: list, what: str, runner, show_progress: bool, timeout: float) -> list:
    """``_compute`` for workers that cannot write here: the stores' blocks come back and
    are written here one by one as they are computed."""
    if show_progress:
        print(f"{what}:", file=sys.stderr)
    address = runner.client.scheduler.address
    return compute_and_store_here(
        runner.client, collections, stores, timeout=timeout,
        on_futures=(lambda futures: _show_cluster_progress(futures, address)) if show_progress else None,
    )


def _show_cluster_progress(futures, address: str) -> None:
    """distributed's text progress bar, on stderr so that stdout keeps only the report.

    Imported here: runs on threads need none of ``distributed``, whose import would add to
    every run's start-up (``python -X importtime``; benchmarks/RESULTS.md, "Figures quoted in
    the code before 2026-12-07").
    """
    from distributed.diagnostics.progressbar import TextProgressBar

    class StderrProgressBar(TextProgressBar):
        def _draw_bar(self, remaining, all, **kwargs):
            done = 1 - remaining / all if all else 1.0
            sys.stderr.write(f"\r[{'#' * int(self.width * done):<{self.width}}] | {done:4.0%} | {all} tasks")
            sys.stderr.flush()

        def _draw_stop(self, **kwargs):
            sys.stderr.write("\n")

    StderrProgressBar(futures, scheduler=address)
