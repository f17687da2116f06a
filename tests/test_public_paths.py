"""Every import path users were shown before the core's layers became folders still works."""

from __future__ import annotations

import importlib

import pytest

# old path -> where the module lives now
MOVED = {
    "semtrace.sampling": "semtrace.export.sampling",
    "semtrace.dedupe": "semtrace.export.dedupe",
    "semtrace.views": "semtrace.export.views",
    "semtrace.diagnosis": "semtrace.quality.diagnosis",
}


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_module_path_names_the_same_module(old: str, new: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)


def test_names_imported_from_old_paths_are_the_current_objects() -> None:
    from semtrace.dedupe import install
    from semtrace.export import dedupe, views
    from semtrace.views import ViewExporter, make_view

    assert install is dedupe.install
    assert (ViewExporter, make_view) == (views.ViewExporter, views.make_view)


def test_a_sensitive_rule_imports_from_the_quality_package_as_documented() -> None:
    from semtrace.config import SensitiveRule as Defined
    from semtrace.quality.sensitive import SensitiveRule

    assert SensitiveRule is Defined


def test_the_integration_interface_names_what_it_exports() -> None:
    from semtrace import integration

    missing = [name for name in integration.__all__ if not hasattr(integration, name)]
    assert missing == []
