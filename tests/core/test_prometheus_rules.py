"""The example Prometheus rules are valid and their promtool unit tests pass.

The series names the rules read are the ones semtrace's metrics become in Prometheus:
checked here against semconv, so a renamed metric breaks this test, not a dashboard.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from semtrace import semconv

RULES = Path(__file__).parents[2] / "examples" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (.ci/e2e-setup.sh installs it)"
)


@needs_promtool
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["check", "rules", "semtrace-rules.yml"], id="check"),
        pytest.param(["test", "rules", "semtrace-rules.test.yml"], id="test"),
    ],
)
def test_promtool(args: list[str]) -> None:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, *args], cwd=RULES, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("metric", "series"),
    [
        (semconv.METRIC_TRACES, "semtrace_traces_total"),
        (semconv.METRIC_QUALITY_SCORE, "semtrace_quality_score_count"),
        (semconv.METRIC_COST, "semtrace_client_cost_total"),
        (semconv.METRIC_OPERATION_DURATION, "gen_ai_client_operation_duration_seconds_bucket"),
    ],
)
def test_rules_read_the_series_semtrace_writes(metric: str, series: str) -> None:
    assert series.startswith(metric.replace(".", "_"))
    assert series in (RULES / "semtrace-rules.yml").read_text()


def test_rules_label_by_the_diagnosis_attribute() -> None:
    label = semconv.SEMTRACE_DIAGNOSIS.replace(".", "_")
    assert f"sum by ({label})" in (RULES / "semtrace-rules.yml").read_text()
