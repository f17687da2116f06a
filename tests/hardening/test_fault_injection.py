"""Promise 1: instrumentation never raises into the application.

Each case makes one function raise (a semtrace entry point or helper, the SDK tracer,
span, meter or exporter, tiktoken's encoder) and runs one real pipeline of one
framework, sync, async or streaming, with everything recorded (content on spans and
events, token counts, quality signals). The application must see exactly what it sees
uninstrumented: the same result, or the same exception.

Promise 2 is checked on every case too, by the ``telemetry`` fixture at teardown:
after the application shuts instrumentation down (the handler's recorder closed, or
LlamaIndex uninstrumented), every span that started has ended exactly once, before its
trace's root. A fault in a helper must cost at most the attributes it would have added.
"""

from __future__ import annotations

import pytest
from semtrace import _worker as worker
from semtrace.testing import Telemetry

from tests.hardening import faults
from tests.hardening.faults import catalogue, reached
from tests.hardening.scenarios import SCENARIOS, baseline, instrumented

CASES = [
    pytest.param(f.id, s.id, id=f"{f.id}@{s.id}")
    for f in catalogue()
    for s in SCENARIOS
    if reached(f.id, s.id)
]


@pytest.mark.parametrize(("fault_id", "scenario_id"), CASES)
def test_a_fault_never_reaches_the_application(
    fault_id: str, scenario_id: str, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault = next(f for f in catalogue() if f.id == fault_id)
    scenario = next(s for s in SCENARIOS if s.id == scenario_id)
    expected = baseline(scenario_id)
    with instrumented(scenario.framework, telemetry) as handle:
        for owner in faults.owners(fault, telemetry.exporter):
            original = getattr(owner, fault.attribute)
            monkeypatch.setattr(owner, fault.attribute, fault.raiser(original))
        try:
            got = scenario(handle)
            worker.drain()  # the worker's part of the runs meets the fault too
        finally:
            monkeypatch.undo()
    faults.TRIED.append(faults.Tried(fault_id, scenario_id, fault.hits))
    assert fault.hits > 0, (
        f"{fault_id} never fired in {scenario_id}: regenerate faults.ONLY_IN/NOT_IN"
    )
    assert got == expected


def test_the_matrix_covers_every_fault_and_every_scenario() -> None:
    ids = {f.id for f in catalogue()}
    assert ids == set(faults.ONLY_IN) | set(faults.NOT_IN)
    assert {case.values[0] for case in CASES} == ids
    assert {case.values[1] for case in CASES} == {s.id for s in SCENARIOS}
    assert len(CASES) >= 700, len(CASES)
    print(
        f"fault-injection matrix: {len(CASES)} cases, {len(ids)} faults, {len(SCENARIOS)} scenarios"
    )
