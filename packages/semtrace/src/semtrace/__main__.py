"""The ``semtrace`` command (also ``python -m semtrace``): ``semtrace doctor``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the sub-command; returns the exit status."""
    from semtrace.doctor import cli

    parser = argparse.ArgumentParser(prog="semtrace", description="semtrace command line")
    commands = parser.add_subparsers(dest="command", required=True)
    doctor = commands.add_parser(
        "doctor",
        help="check this environment: providers, exporter, endpoint, integrations, ...",
        description="What semtrace will do here, and why nothing may reach a backend. "
        "Exit status 1 when something blocks export.",
    )
    cli.add_arguments(doctor)
    args = parser.parse_args(argv)
    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
