"""``semtrace doctor [--json] [--no-probe] [--timeout S]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from semtrace.doctor.checks import DEFAULT_TIMEOUT_S, diagnose
from semtrace.doctor.report import as_json, as_text, exit_status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The doctor's options, on a (sub)parser."""
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--no-probe", action="store_true", help="do not contact the OTLP endpoint")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds the endpoint probe waits (default {DEFAULT_TIMEOUT_S})",
    )


def run(args: argparse.Namespace) -> int:
    """Print the report and return the exit status (1 when something blocks export)."""
    findings = diagnose(probe=not args.no_probe, timeout=args.timeout)
    sys.stdout.write((as_json(findings) if args.json else as_text(findings)) + "\n")
    return exit_status(findings)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``semtrace doctor`` when called on its own."""
    parser = argparse.ArgumentParser(prog="semtrace doctor", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
