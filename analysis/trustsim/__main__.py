"""python -m trustsim report RUN.h5 [-o report.png] [--force] | summary RUN.h5

Prints the per-firm summary table; `report` also writes the PNG report (default: RUN.png next to RUN.h5),
never over an existing file without --force. A bad file is one line on stderr and exit status 1."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

from .io import FormatError
from .plots import report, report_path
from .stats import summary


def _money(amount: float) -> str:
    """Whole units with thousands separators, halves rounded away from zero: as `trustsim run` prints money
    (Python's own formatting would round them to even)."""
    return f"{int(math.copysign(math.floor(abs(amount) + 0.5), amount)):,}"


def _print_table(table: pd.DataFrame) -> None:
    """As `trustsim run` prints it: shares in percent, money in whole units with thousands separators."""
    formats = {"share": "{:.1%}".format, "nps": "{:.1f}".format, "cumulative_revenue": _money, "cumulative_profit": _money}
    print(table.to_string(formatters={c: formats.get(c, "{:.3f}".format) for c in table.columns}, line_width=120))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trustsim", description="Summaries and report plots of TrustSim runs")
    commands = parser.add_subparsers(dest="command", required=True)
    report_command = commands.add_parser("report", help="print the per-firm summary and write a PNG report")
    report_command.add_argument("run", help="a run's HDF5 file (trustsim run -o ...)")
    report_command.add_argument("-o", "--output", help="PNG to write (default: the run's name with .png)")
    report_command.add_argument("--force", action="store_true", help="overwrite the PNG if it exists")
    summary_command = commands.add_parser("summary", help="print the per-firm summary")
    summary_command.add_argument("run", help="a run's HDF5 file (trustsim run -o ...)")
    args = parser.parse_args(argv)
    try:
        if args.command == "summary":
            _print_table(summary(args.run))
        else:
            output = args.output or report_path(args.run)
            if Path(output).exists() and not args.force:
                print(f"trustsim: {output}: the report already exists; pass --force to overwrite it, or choose another name with -o",
                      file=sys.stderr)
                return 1
            _print_table(report(args.run, output))
            print(f"report: {output}")
    except FormatError as e:
        print(f"trustsim: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # the PNG cannot be written (no such directory, no permission, full disk)
        print(f"trustsim: cannot write the report: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
