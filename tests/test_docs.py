"""The docs keep their promises: a short README with CI's test command, every variable documented.

The site itself is built by `mkdocs build --strict` in .ci/run: broken links, references
and pages left out of the nav fail there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*ROOT.glob("packages/*/src/**/*.py"), *ROOT.glob("integrations/*/src/**/*.py")]
# semtrace's own variables: any "SEMTRACE_..." string in the shipped code names one (attribute
# keys are lower-case "semtrace.*").
ENV_NAME = re.compile(r"""["'](SEMTRACE_[A-Z0-9_]+)["']""")


def _env_vars() -> set[str]:
    return {m.group(1) for path in SOURCES for m in ENV_NAME.finditer(path.read_text())}


def test_readme_is_a_five_minute_read() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_readme_shows_the_test_command_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^uv run pytest$", ci, re.MULTILINE), "CI's test command changed"
    assert "uv run pytest " in (ROOT / "README.md").read_text()


def test_the_code_declares_its_environment_variables() -> None:
    assert {"SEMTRACE_COUNT_TOKENS", "SEMTRACE_PRICES"} <= _env_vars()


@pytest.mark.parametrize("name", sorted(_env_vars()))
def test_every_environment_variable_is_on_the_configuration_page(name: str) -> None:
    assert f"`{name}`" in (ROOT / "docs" / "configuration.md").read_text()
