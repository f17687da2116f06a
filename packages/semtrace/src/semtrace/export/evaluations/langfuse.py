"""Langfuse: verdicts as scores (``POST /api/public/scores``), one request per score.

A record becomes a score on its trace and observation, in the ids Langfuse gives
OTLP-ingested spans (``traceId``: the trace id in 32 hex digits, ``observationId``: the
span id in 16): ``NUMERIC`` for a score (the label and explanation in ``comment``, the
label in ``metadata``), ``BOOLEAN`` 1 for a raised flag, ``CATEGORICAL`` for a verdict that
is only a label (the trace's diagnosis). Scores show in the trace and observation views,
score charts, trace filters and datasets.

A semtrace verdict has a fixed id (a UUID from trace, span and name): Langfuse upserts on
it, so a retry never doubles it. Each user feedback gets its own id.

Where: ``host=``, else ``LANGFUSE_HOST`` (or ``LANGFUSE_BASE_URL``), else the OTLP traces
endpoint without its ``/api/public/otel`` path. Credentials: ``public_key=`` and
``secret_key=``, else the OTLP exporter's ``Authorization=Basic ...`` header, else
``LANGFUSE_PUBLIC_KEY`` and ``LANGFUSE_SECRET_KEY``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from typing import Any, Final

from semtrace._telemetry.outbox import EvaluationRecord
from semtrace.export.evaluations import environment
from semtrace.export.evaluations.sink import EvaluationSink, HttpRequest
from semtrace.export.views import LANGFUSE_OTLP_PATH

SCORES_PATH: Final = "/api/public/scores"
_IDS: Final = uuid.UUID("5e3d1f0a-27c4-4b8e-9a57-5a7e3c0d1e27")  # semtrace's id namespace


class LangfuseSink(EvaluationSink):
    """Scores in Langfuse.

    Args:
        host: Langfuse's base URL (``https://cloud.langfuse.com``); None reads the environment.
        public_key: The project's public key (with ``secret_key``); None reads the environment.
        secret_key: The project's secret key.
        **options: The queue and retry options of :class:`EvaluationSink`.

    Raises:
        ValueError: If no host or no credentials are given or found.
    """

    name = "langfuse"

    def __init__(
        self,
        host: str | None = None,
        *,
        public_key: str | None = None,
        secret_key: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        base = (
            host
            or environment.env("LANGFUSE_HOST")
            or environment.env("LANGFUSE_BASE_URL")
            or _from_otlp()
        )
        if not base:
            raise ValueError(
                "the langfuse evaluation sink needs Langfuse's URL: set LANGFUSE_HOST or the "
                "OTLP endpoint to Langfuse's .../api/public/otel"
            )
        authorization = _authorization(public_key, secret_key)
        if not authorization:
            raise ValueError(
                "the langfuse evaluation sink needs the project's keys: set "
                "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Basic <base64 public:secret> (as for "
                "OTLP export) or LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY"
            )
        self.base_url = base.rstrip("/")
        self._headers = {"content-type": "application/json", "authorization": authorization}

    def target(self) -> str:
        """Langfuse's scores URL."""
        return self.base_url + SCORES_PATH

    def requests(self, batch: Sequence[EvaluationRecord]) -> list[HttpRequest]:
        """One request per score (the scores API takes one at a time)."""
        return [
            HttpRequest("POST", self.target(), self._headers, json.dumps(score(r)).encode(), 1)
            for r in batch
        ]

    def probes(self) -> list[tuple[str, HttpRequest]]:
        """Health (no auth), then the project the keys belong to (needs them)."""
        return [
            ("reachable", HttpRequest("GET", self.base_url + "/api/public/health")),
            (
                "credentials accepted",
                HttpRequest("GET", self.base_url + "/api/public/projects", self._headers),
            ),
        ]


def score(record: EvaluationRecord) -> dict[str, Any]:
    """The ``CreateScoreRequest`` body of one record."""
    body: dict[str, Any] = {
        "id": _score_id(record),
        "traceId": record.trace_id_hex,
        "observationId": record.span_id_hex,
        "name": record.name,
    }
    if record.score is None:
        body["value"], body["dataType"] = record.label or "", "CATEGORICAL"
    elif record.flag:
        body["value"], body["dataType"] = 1 if record.score >= 0.5 else 0, "BOOLEAN"
    else:
        body["value"], body["dataType"] = record.score, "NUMERIC"
    comment = ": ".join(
        t for t in (record.label if record.score is not None else None, record.explanation) if t
    )
    if comment:
        body["comment"] = comment
    body["metadata"] = {
        "source": "semtrace",
        "annotator": record.annotator,
        **({"label": record.label} if record.label else {}),
        **record.metadata,
    }
    return body


def _score_id(record: EvaluationRecord) -> str:
    if record.annotator == "HUMAN":
        return str(uuid.uuid4())
    key = f"{record.trace_id_hex}/{record.span_id_hex}/{record.name}"
    return str(uuid.uuid5(_IDS, key))


def _from_otlp() -> str:
    url = environment.otlp_traces_url()
    at = url.find(LANGFUSE_OTLP_PATH)
    return url[:at] if at > 0 else ""


def _authorization(public_key: str | None, secret_key: str | None) -> str:
    if public_key and secret_key:
        return _basic(public_key, secret_key)
    given = environment.otlp_headers().get("authorization", "")
    if given.lower().startswith("basic "):
        return given
    public, secret = environment.env("LANGFUSE_PUBLIC_KEY"), environment.env("LANGFUSE_SECRET_KEY")
    return _basic(public, secret) if public and secret else ""


def _basic(public_key: str, secret_key: str) -> str:
    return "Basic " + base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
