"""Attribute keys are spelled in semconv.py only: every other module uses its constants.

The newest conventions' names, behind the opt-in, are spelled in its sibling semconv_latest.py.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("packages/semtrace", "integrations/langchain", "integrations/llamaindex")
SOURCES = sorted(
    p
    for base in PACKAGES
    for p in (ROOT / base / "src").rglob("*.py")
    if p.name not in ("semconv.py", "semconv_latest.py")
)
_KEY = re.compile(r"^(gen_ai|semtrace)\.[a-z_.]+$")


def _spelled_keys(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        f"line {node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and _KEY.match(node.value)
    ]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_but_semconv_spells_an_attribute_key(path: Path) -> None:
    assert _spelled_keys(path) == []
