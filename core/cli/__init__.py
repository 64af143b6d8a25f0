"""``python -m core``: the dashboard's pipeline for scripts, benchmarks and big images."""

from .arguments import build_parser, chain_from_args, stages_help
from .report import RunReport, format_report
from .run import main, run

__all__ = ["RunReport", "build_parser", "chain_from_args", "format_report", "main", "run", "stages_help"]
