"""examples/collector/otelcol.yaml is a well-formed collector config (static checks only).

No collector runs here (neither otelcol-contrib nor Jaeger can be installed from the registries
this project uses), so this checks what the collector itself would check at start-up and what
makes the example useful:

* it parses as YAML and has the collector's top-level sections;
* every receiver / processor / exporter / connector a pipeline names is defined, and every one
  defined is used;
* pipeline ids are ``traces`` / ``metrics`` / ``logs`` (optionally ``/name``);
* the spanmetrics connector is an exporter of a traces pipeline and a receiver of a metrics
  pipeline (the only pairing it supports), and its dimensions are attributes semtrace writes;
* the OTLP receiver takes both gRPC and HTTP; the prometheus exporter and the receivers
  listen on localhost by default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from backends import REPO_ROOT

CONFIG = REPO_ROOT / "examples" / "collector" / "otelcol.yaml"
SECTIONS = ("receivers", "processors", "exporters", "connectors")
# Component types this config may use, all in the contrib distribution.
KNOWN_TYPES = {
    "receivers": {"otlp"},
    "processors": {"memory_limiter", "batch"},
    "exporters": {"otlp", "otlphttp", "prometheus", "debug"},
    "connectors": {"spanmetrics"},
}
# Data types each connector accepts as an exporter -> emits as a receiver.
CONNECTOR_TYPES = {"spanmetrics": ("traces", "metrics")}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded = yaml.safe_load(CONFIG.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def _pipelines(config: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    pipelines = config["service"]["pipelines"]
    assert isinstance(pipelines, dict) and pipelines
    return pipelines


def test_sections_and_component_types(config: dict[str, Any]) -> None:
    assert set(config) <= {*SECTIONS, "service", "extensions"}
    for section in SECTIONS:
        for component_id in config.get(section) or {}:
            assert _type(component_id) in KNOWN_TYPES[section], (section, component_id)


def test_pipelines_reference_only_defined_components_and_use_all(config: dict[str, Any]) -> None:
    defined = {section: set(config.get(section) or {}) for section in SECTIONS}
    used: dict[str, set[str]] = {section: set() for section in SECTIONS}
    for pipeline_id, pipeline in _pipelines(config).items():
        assert re.fullmatch(r"(traces|metrics|logs)(/[\w.-]+)?", pipeline_id), pipeline_id
        assert set(pipeline) <= {"receivers", "processors", "exporters"}, pipeline_id
        assert pipeline.get("receivers") and pipeline.get("exporters"), pipeline_id
        for role in ("receivers", "processors", "exporters"):
            for component_id in pipeline.get(role) or []:
                if component_id in defined["connectors"] and role != "processors":
                    used["connectors"].add(component_id)
                    continue
                assert component_id in defined[role], f"{pipeline_id}: {role} {component_id}"
                used[role].add(component_id)
        processors = pipeline.get("processors") or []
        if processors:
            assert processors[0] == "memory_limiter", f"{pipeline_id}: memory_limiter first"
    assert used == defined, "defined but unused components"


def test_connectors_join_the_right_pipeline_types(config: dict[str, Any]) -> None:
    pipelines = _pipelines(config)
    for connector in config.get("connectors") or {}:
        as_exporter = {p.split("/")[0] for p, v in pipelines.items() if connector in v["exporters"]}
        as_receiver = {p.split("/")[0] for p, v in pipelines.items() if connector in v["receivers"]}
        source, target = CONNECTOR_TYPES[_type(connector)]
        assert as_exporter == {source}, (connector, as_exporter)
        assert as_receiver == {target}, (connector, as_receiver)


def test_traces_reach_a_traces_backend_and_metrics_reach_prometheus(
    config: dict[str, Any],
) -> None:
    pipelines = _pipelines(config)
    traces_exporters = {
        e for p, v in pipelines.items() if p.startswith("traces") for e in v["exporters"]
    }
    assert any(_type(e) in {"otlp", "otlphttp"} for e in traces_exporters), traces_exporters
    assert "spanmetrics" in traces_exporters
    metrics = {p: v for p, v in pipelines.items() if p.startswith("metrics")}
    # semtrace's own metrics (OTLP in) and the span metrics both end in the prometheus exporter.
    assert any(
        "otlp" in v["receivers"] and "prometheus" in v["exporters"] for v in metrics.values()
    )
    assert any(
        "spanmetrics" in v["receivers"] and "prometheus" in v["exporters"] for v in metrics.values()
    )


def test_receivers_take_grpc_and_http_and_listen_on_localhost(config: dict[str, Any]) -> None:
    protocols = config["receivers"]["otlp"]["protocols"]
    assert set(protocols) == {"grpc", "http"}
    assert protocols["grpc"]["endpoint"] == "localhost:4317"
    assert protocols["http"]["endpoint"] == "localhost:4318"
    assert config["exporters"]["prometheus"]["endpoint"].startswith("localhost:")


def test_spanmetrics_dimensions_are_attributes_semtrace_writes(config: dict[str, Any]) -> None:
    from semtrace import semconv

    written = {v for k, v in vars(semconv).items() if k.isupper() and isinstance(v, str)}
    dimensions = [d["name"] for d in config["connectors"]["spanmetrics"]["dimensions"]]
    assert dimensions and set(dimensions) <= written, set(dimensions) - written
    buckets = config["connectors"]["spanmetrics"]["histogram"]["explicit"]["buckets"]
    millis = [int(re.fullmatch(r"(\d+)ms", b).group(1)) for b in buckets]  # type: ignore[union-attr]
    assert millis == sorted(millis) and len(set(millis)) == len(millis)


def test_readme_points_at_this_file() -> None:
    readme = (REPO_ROOT / "examples" / "README.md").read_text()
    assert "collector/otelcol.yaml" in readme
    assert Path(CONFIG).is_file()
