"""``python -m core``: the dashboard's pipeline for scripts, benchmarks and big images."""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import dask
import dask.threaded
from dask.diagnostics import ProgressBar

from .errors import PipelineError
from .observe.progress import for_this_compute
from .observe.timing import stage_of_layer, stage_timing
from .outputs.writer import FORMATS, OPTIONAL_FORMATS, write
from .pipeline.build import build_pipeline
from .pipeline.chain import Param, Stage, Step
from .pipeline.loading import DEFAULT_MAX_PIXELS, frame_count, load_image
from .pipeline.stage_table import (
    DERIVATIVE_MODES,
    MODE_LABELS,
    STAGES,
    chain_text,
    check_chain,
    parse_chain,
    sobel_range,
)
from .pipeline.tiling import check_grid, partition
from .runtime.cluster import THREADS, check_workers_can_read, configured_scheduler, connect, raise_first_error

__all__ = ["RunReport", "build_parser", "chain_from_args", "format_report", "main", "run", "stages_help"]

class _OneLineParser(argparse.ArgumentParser):
    """Usage mistakes end in one line on stderr, like every other error here."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_grid(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"--grid takes ROWSxCOLS such as 2x3, got {text!r}")
    return int(match[1]), int(match[2])


EXAMPLE_CHAIN = ("gaussian:sigma=2", "sobel:mode=magnitude", "clip:lo=0,hi=1")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="python -m core",
        description=textwrap.fill(
            "Split an image into a grid of tile files, read them back lazily with Dask, "
            "convert to grayscale, stitch, and run a chain of stages (by default a Sobel "
            "filter, then a clip): the same pipeline as the dashboard, for scripts and "
            "images too big to upload."
        ),
        epilog=stages_help(STAGES),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the stage list's layout
    )
    parser.add_argument("image", type=Path, help="the image file (PNG, JPEG, TIFF, GIF, BMP, WebP)")
    parser.add_argument(
        "--grid", type=parse_grid, default=(2, 2), metavar="RxC",
        help="split into R rows by C columns of tiles (default: 2x2)",
    )
    parser.add_argument(
        "--stage", action="append", dest="stages", metavar="NAME[:PARAM=VALUE,...]",
        help="one stage of the chain, run in the order given; repeat for each stage, e.g. "
        + " ".join(f"--stage {text}" for text in EXAMPLE_CHAIN)
        + " (the stages and their parameters are listed below)",
    )
    mode, lo, hi = STAGES["sobel"].param("mode"), STAGES["clip"].param("lo"), STAGES["clip"].param("hi")
    along_x, magnitude = sobel_range("x"), sobel_range("magnitude")
    parser.add_argument(
        "--sobel", choices=DERIVATIVE_MODES,
        help="without --stage: the Sobel stage's mode; " + "; ".join(MODE_LABELS[m] for m in DERIVATIVE_MODES)
        + f" (default: {mode.default})",
    )
    parser.add_argument(
        "--clip", type=float, nargs=2, metavar=("LO", "HI"),
        help=f"without --stage: clip the Sobel response to [LO, HI], LO < HI (default: {lo.default:g} {hi.default:g}); "
        f"x and y lie in [{along_x[0]:g}, {along_x[1]:g}], magnitude in [{magnitude[0]:g}, {magnitude[1]:.2f}]",
    )
    always = [f for f in FORMATS if not f.optional]
    parser.add_argument(
        "--out", type=Path, default=Path("out"), metavar="DIR",
        help="write the tiles and the result's files here (default: ./out): tiles/; "
        + "; ".join(f"{f.file_name}, {f.help}" for f in always),
    )
    for output_format in OPTIONAL_FORMATS.values():
        parser.add_argument(
            f"--{output_format.flag}", action="append_const", const=output_format.name, dest="formats",
            help=f"also write {output_format.file_name}, {output_format.help}",
        )
    parser.add_argument(
        "--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, metavar="N",
        help=f"refuse images larger than N pixels, checked before decoding (default: {DEFAULT_MAX_PIXELS:,})",
    )
    parser.add_argument(
        "--scheduler", default=configured_scheduler(THREADS), metavar="{threads,local,ADDRESS}",
        help="threads: this process; local: a distributed LocalCluster in this process, one "
        "worker per core; "
        "ADDRESS: an existing scheduler such as tcp://10.0.0.5:8786, whose workers must see "
        "--out (default: $DASK_SCHEDULER_ADDRESS if set, else threads)",
    )
    parser.add_argument(
        "--dashboard", action="store_true",
        help="with --scheduler local: serve Dask's dashboard on 127.0.0.1 while the run lasts "
        "and print its address (bokeh takes about a second to start)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600.0, metavar="SECONDS",
        help="give up on a compute that takes longer, e.g. on a cluster whose workers died "
        "(default: 3600)",
    )
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    return parser


def stages_help(stages: dict[str, Stage]) -> str:
    """The list of stages for ``--help``, from the stage table: each stage's name and title,
    then each parameter with its type, range or choices, default and help."""
    lines = ["stages (--stage NAME or --stage NAME:PARAM=VALUE,PARAM=VALUE):"]
    for stage in stages.values():
        lines.append(f"  {stage.name:<11}{stage.title}" + ("" if stage.params else " (no parameters)"))
        for param in stage.params:
            lines.append(f"      {param.name + '=':<14}{_param_help(param)}")
            lines += [f"{'':<22}{_choice_help(choice, param.labels[choice])}" for choice in param.choices
                      if choice in param.labels]
    lines += [
        "",
        "example: python -m core photo.jpg " + " ".join(f"--stage {text}" for text in EXAMPLE_CHAIN),
        "without --stage the chain is " + " -> ".join(chain_text(_default_chain(None, None))),
    ]
    return "\n".join(lines)


def _param_help(param: Param) -> str:
    if param.choices:
        kind = ", ".join(param.choices[:-1]) + f" or {param.choices[-1]}"
    else:
        kind = {float: "a number", int: "a whole number"}[param.type]
        if param.low is not None and param.high is not None:
            kind += f" in [{param.low:g}, {param.high:g}]"
        elif param.low is not None:
            kind += f" >= {param.low:g}"
    return f"{param.help} ({kind}, default {param.text(param.default)})"


def _choice_help(choice: str, label: str) -> str:
    # Some tables' words already start with their choice ("x: change along each row").
    return label if label.startswith(f"{choice}:") else f"{choice}: {label}"


def chain_from_args(args: argparse.Namespace) -> tuple[Step, ...]:
    """The chain the options ask for: the ``--stage`` texts, or else Sobel then clip from
    ``--sobel`` and ``--clip``. Raises ``PipelineError`` for a bad stage, or for ``--stage``
    given with ``--sobel`` or ``--clip``, which would otherwise be silently ignored."""
    if args.stages:
        if args.sobel is not None or args.clip is not None:
            raise PipelineError(
                "--sobel and --clip set the default chain; with --stage, write them as stages: "
                "--stage sobel:mode=M --stage clip:lo=A,hi=B"
            )
        return parse_chain(args.stages)
    return _default_chain(args.sobel, args.clip)


def _default_chain(sobel: str | None, clip: tuple[float, float] | None) -> tuple[Step, ...]:
    # Options not given take the stage table's defaults, the tutorial's chain.
    sobel_step = STAGES["sobel"].step(**({"mode": sobel} if sobel is not None else {}))
    clip_step = STAGES["clip"].step(**(dict(zip(("lo", "hi"), clip)) if clip is not None else {}))
    return sobel_step, clip_step


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


@dataclass(frozen=True)
class RunReport:
    """What one run did and how long each part took."""

    args: argparse.Namespace
    chain: tuple[Step, ...]
    stages: tuple[str, ...]  # the pipeline's stages, in order: read, grayscale, stitch, then each step
    written: tuple[str, ...]  # the result files, by name
    shape: tuple[int, ...]
    grid: tuple[int, int]
    wall: dict[str, float]  # load, partition, compute and write
    stage_seconds: dict[str, float]  # task seconds, summed over threads and workers
    stage_wall: dict[str, float]  # seconds while any of a stage's tasks ran
    stage_tasks: dict[str, int]
    ran_on: str
    peak_mb: float  # of this process


def run(args: argparse.Namespace) -> RunReport:
    chain = chain_from_args(args)  # a bad stage stops the run before any work
    rows, cols = args.grid
    wall: dict[str, float] = {}

    started = time.perf_counter()
    try:
        image = load_image(args.image, max_pixels=args.max_pixels)
    except PipelineError as e:
        raise PipelineError(f"{args.image}: {e}") from None
    check_grid(image.shape, rows, cols)
    check_chain(chain, image.shape[:2])
    frames = frame_count(args.image)
    if frames > 1:
        print(f"{args.image} holds {frames} frames (an animation, or the pages of a TIFF): "
              "this run uses the first one", file=sys.stderr)
    wall["load"] = time.perf_counter() - started

    runner = connect(args.scheduler, dashboard=args.dashboard)
    if args.dashboard and runner.dashboard_link:
        print(f"Dask's dashboard: {runner.dashboard_link}", file=sys.stderr)
    try:
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PipelineError(f"cannot create the output folder {str(args.out)!r}: {e.strerror}") from None

        started = time.perf_counter()
        tiles = partition(image, rows, cols, args.out / "tiles")
        shape = image.shape
        del image  # from here on the tiles on disk are the data
        wall["partition"] = time.perf_counter() - started
        check_workers_can_read(runner, tiles.folder)

        pipeline = build_pipeline(tiles, chain)
        show_progress = sys.stderr.isatty() if args.progress is None else args.progress
        started = time.perf_counter()
        with stage_timing(stage_of_layer(pipeline), runner.client) as timing:
            written = write(
                pipeline, args.out, optional=args.formats or (), source=args.image,
                compute=lambda collections, what: _compute(
                    collections, what, runner, show_progress, args.timeout, timing.timer
                ),
            )
        wall["compute and write"] = time.perf_counter() - started
    finally:
        runner.close()

    return RunReport(
        args=args, chain=chain, stages=tuple(pipeline.stages()), written=tuple(written),
        shape=shape, grid=tiles.grid, wall=wall, stage_seconds=dict(timing.times.seconds),
        stage_wall=timing.times.wall_seconds(), stage_tasks=dict(timing.times.tasks),
        ran_on=f"{runner.kind} ({runner.address})",
        peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


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


def format_report(report: RunReport) -> str:
    args, wall = report.args, report.wall
    height, width = report.shape[:2]
    lines = [
        f"chain: {' -> '.join(chain_text(report.chain)) or '(none: the stitched grayscale image)'}",
        f"{args.image.name}: {width} x {height} ({width * height / 1e6:.1f} MPix), "
        f"grid {report.grid[0]}x{report.grid[1]}",
        f"ran on: {report.ran_on}",
        "",
        f"{'step':<22}{'tasks':>8}{'seconds':>10}",
        f"{'load image':<22}{'':>8}{wall['load']:>10.2f}",
        f"{'partition (write)':<22}{'':>8}{wall['partition']:>10.2f}",
    ]
    for stage in (*report.stages, "other"):
        label = "write results" if stage == "other" else stage
        tasks, seconds = report.stage_tasks.get(stage, 0), report.stage_seconds.get(stage, 0.0)
        lines.append(f"  {label:<20}{tasks:>8}{seconds:>10.2f}")
    lines += [
        f"{'compute (wall)':<22}{sum(report.stage_tasks.values()):>8}{wall['compute and write']:>10.2f}",
        f"{'total':<22}{'':>8}{sum(wall.values()):>10.2f}",
        "",
        "Stage seconds are task time summed over threads and workers; they can exceed the wall time.",
        f"peak memory of this process: {report.peak_mb:,.0f} MB",
        f"wrote {args.out}/tiles/, {', '.join(report.written)}",
    ]
    return "\n".join(lines)
