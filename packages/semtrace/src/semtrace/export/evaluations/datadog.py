"""Datadog: verdicts through LLM Observability's evaluations intake, for OTLP-ingested spans.

``POST https://api.{DD_SITE}/api/intake/llm-obs/v2/eval-metric`` with ``DD-API-KEY``, a
batch per request: ``data.type`` ``evaluation_metric``, ``attributes.metrics[]`` each
joined to its span by ``join_on.span`` ``{span_id, trace_id}`` as **decimal** strings
(Datadog's ids for spans that came in over OTLP), tagged ``source:otel`` (required for
OTLP spans), ``ml_app``, ``timestamp_ms``, ``label`` (the evaluation name, as Datadog
spells labels), ``metric_type`` ``score`` (``score_value``) or ``categorical``
(``categorical_value``), ``assessment`` ``pass``/``fail`` where the verdict says so, and
the explanation as ``reasoning``.

Credentials: ``api_key=``, else ``DD_API_KEY``, else the OTLP exporter's ``dd-api-key``
header. Site: ``site=``, else ``DD_SITE``, else ``datadoghq.com``. ``ml_app``: ``ml_app=``,
else ``DD_LLMOBS_ML_APP``, else the service name (what Datadog uses for OTLP spans).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Final

from semtrace._telemetry.outbox import EvaluationRecord
from semtrace.export.evaluations import environment
from semtrace.export.evaluations.sink import EvaluationSink, HttpRequest

EVAL_METRIC_PATH: Final = "/api/intake/llm-obs/v2/eval-metric"
VALIDATE_PATH: Final = "/api/v1/validate"
DEFAULT_SITE: Final = "datadoghq.com"
_NOT_LABEL_CHARS: Final = re.compile(r"[^A-Za-z0-9_]")


class DatadogSink(EvaluationSink):
    """Evaluations in Datadog LLM Observability.

    Args:
        api_key: A Datadog API key; None reads the environment.
        site: The Datadog site (``datadoghq.eu``...); None reads ``DD_SITE``.
        ml_app: The LLM application's name; None reads the environment.
        api_base: The API's base URL, instead of ``https://api.{site}`` (a proxy, a test).
        **options: The queue and retry options of :class:`EvaluationSink`.

    Raises:
        ValueError: If there is no API key or no ``ml_app``.
    """

    name = "datadog"

    def __init__(
        self,
        api_key: str | None = None,
        *,
        site: str | None = None,
        ml_app: str | None = None,
        api_base: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        key = (
            api_key
            or environment.env("DD_API_KEY")
            or environment.otlp_headers().get("dd-api-key", "")
        )
        if not key:
            raise ValueError(
                "the datadog evaluation sink needs an API key: set DD_API_KEY (or dd-api-key "
                "in OTEL_EXPORTER_OTLP_HEADERS, as for OTLP export)"
            )
        app = ml_app or environment.env("DD_LLMOBS_ML_APP") or environment.service_name()
        if not app:
            raise ValueError(
                "the datadog evaluation sink needs the LLM application's name: set "
                "DD_LLMOBS_ML_APP or OTEL_SERVICE_NAME, or configure(service_name=...)"
            )
        site = site or environment.env("DD_SITE") or DEFAULT_SITE
        self.base_url = (api_base or f"https://api.{site}").rstrip("/")
        self.ml_app = app
        self._headers = {"content-type": "application/json", "dd-api-key": key}

    def target(self) -> str:
        """The evaluations intake URL."""
        return self.base_url + EVAL_METRIC_PATH

    def requests(self, batch: Sequence[EvaluationRecord]) -> list[HttpRequest]:
        """All of ``batch`` in one request."""
        metrics = [metric(r, self.ml_app) for r in batch]
        body = {"data": {"type": "evaluation_metric", "attributes": {"metrics": metrics}}}
        return [
            HttpRequest(
                "POST", self.target(), self._headers, json.dumps(body).encode(), len(metrics)
            )
        ]

    def probes(self) -> list[tuple[str, HttpRequest]]:
        """Datadog's key validation: reachable, and the API key valid."""
        url = self.base_url + VALIDATE_PATH
        return [("reachable, API key valid", HttpRequest("GET", url, self._headers))]


def metric(record: EvaluationRecord, ml_app: str) -> dict[str, Any]:
    """One ``attributes.metrics[]`` entry."""
    entry: dict[str, Any] = {
        "join_on": {"span": {"span_id": str(record.span_id), "trace_id": str(record.trace_id)}},
        "ml_app": ml_app,
        "timestamp_ms": record.time_ns // 1_000_000,
        "label": label(record.name),
        "tags": [
            "source:otel",
            "evaluator:semtrace",
            f"annotator:{record.annotator.lower()}",
        ],
    }
    if record.score is None:
        entry["metric_type"], entry["categorical_value"] = "categorical", record.label or ""
    else:
        entry["metric_type"], entry["score_value"] = "score", record.score
    if record.label in ("pass", "fail"):
        entry["assessment"] = record.label
    if record.explanation:
        entry["reasoning"] = record.explanation
    if record.metadata or record.label:
        entry["metadata"] = {**({"label": record.label} if record.label else {}), **record.metadata}
    return entry


def label(name: str) -> str:
    """An evaluation name as Datadog takes labels: a letter first, ASCII letters, digits, _."""
    text = _NOT_LABEL_CHARS.sub("_", name)[:200]
    return text if text[:1].isalpha() else f"eval_{text}"[:200]
