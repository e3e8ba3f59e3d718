"""python -m trustsim report RUN.h5 [-o report.png] | summary RUN.h5"""
from __future__ import annotations

import argparse
import sys

import pandas as pd

from .io import FormatError, open_run
from .plots import report
from .stats import summary


def _table(path: str) -> str:
    table = summary(open_run(path))
    with pd.option_context("display.float_format", "{:,.3f}".format, "display.width", 120):
        return table.to_string()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trustsim", description="Summaries and report plots of TrustSim runs")
    commands = parser.add_subparsers(dest="command", required=True)
    report_command = commands.add_parser("report", help="print the per-firm summary and write a PNG report")
    report_command.add_argument("run", help="a run's HDF5 file (trustsim run -o ...)")
    report_command.add_argument("-o", "--output", help="PNG to write (default: the run's name with .png)")
    summary_command = commands.add_parser("summary", help="print the per-firm summary")
    summary_command.add_argument("run")
    args = parser.parse_args(argv)
    try:
        print(_table(args.run))
        if args.command == "report":
            print(f"report: {report(args.run, args.output)}")
    except FormatError as e:
        print(f"trustsim: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
