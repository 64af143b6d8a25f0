"""The command line's arguments: the parser, the stage list of ``--help``, and the chain
the options ask for."""

from __future__ import annotations

import argparse
import re
import textwrap
from pathlib import Path

from ..errors import PipelineError
from ..outputs.writer import FORMATS, OPTIONAL_FORMATS
from ..pipeline.chain import Param, Stage, Step
from ..pipeline.loading import DEFAULT_MAX_PIXELS
from ..pipeline.stage_table import (
    DERIVATIVE_MODES,
    MODE_LABELS,
    STAGES,
    chain_text,
    parse_chain,
    sobel_range,
)
from ..runtime.cluster import THREADS, configured_scheduler

__all__ = ["EXAMPLE_CHAIN", "build_parser", "chain_from_args", "parse_grid", "stages_help"]


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
    parser.add_argument(
        "image",
        help="one image file (PNG, JPEG, TIFF, GIF, BMP, WebP), or an image already in tiles: tile files by "
        "a pattern in quotes and --grid ('parts/save_part_*.png', numbered row by row), a folder of "
        "tile_r000_c000.png ... files, a TIFF stored in tiles or strips, an OME-Zarr (image.ome.zarr)",
    )
    parser.add_argument(
        "--grid", type=parse_grid, default=None, metavar="RxC",
        help="R rows by C columns of tiles (default: 2x2 for one image file; an image already in tiles "
        "keeps its own, which another grid re-tiles)",
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
        "ADDRESS: an existing scheduler such as tcp://10.0.0.5:8786, sent this code first; workers "
        "that cannot see --out are sent the tiles and hand the results back (default: "
        "$DASK_SCHEDULER_ADDRESS if set, else threads)",
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
