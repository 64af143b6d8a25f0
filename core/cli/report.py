"""What a command-line run reports: each stage's tasks and seconds, memory, files written."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ..pipeline.chain import Step
from ..pipeline.stage_table import chain_text

__all__ = ["RunReport", "format_report"]


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
    tiles: str = ""  # where the tiles the pipeline read are, in words
    blocks: str = ""  # who wrote the result's blocks, where not the threads or workers computing them


def format_report(report: RunReport) -> str:
    args, wall = report.args, report.wall
    height, width = report.shape[:2]
    lines = [
        f"chain: {' -> '.join(chain_text(report.chain)) or '(none: the stitched grayscale image)'}",
        f"{Path(args.image).name}: {width} x {height} ({width * height / 1e6:.1f} MPix), "
        f"grid {report.grid[0]}x{report.grid[1]}",
        f"ran on: {report.ran_on}",
        "",
        f"{'step':<22}{'tasks':>8}{'seconds':>10}",
        f"{'load image':<22}{'':>8}{wall['load']:>10.2f}",
        f"{'partition (write)' if 'wrote' in report.tiles else 'tiles (in place)':<22}{'':>8}{wall['partition']:>10.2f}",
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
        f"tiles: {report.tiles}",
        *([f"result blocks: {report.blocks}"] if report.blocks else []),
        f"wrote {args.out}/: {', '.join(report.written)}",
    ]
    return "\n".join(lines)
