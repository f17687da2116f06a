"""Phoenix: verdicts as span annotations (``POST /v1/span_annotations``).

Each record becomes one annotation on its span: ``name``, ``annotator_kind`` (``CODE`` for
semtrace's signals, checks and diagnosis, ``LLM`` for the judge, ``HUMAN`` for user
feedback) and ``result`` ``{label, score, explanation}``. Phoenix's evaluation columns,
filters and the annotation badges of its trace tree read these. The request is
asynchronous on Phoenix's side (no ``sync=true``): Phoenix holds an annotation whose span
has not arrived yet and inserts it when the span does.

A semtrace verdict is upserted (same span, name and empty identifier: a retry never
doubles it); each user feedback gets its own identifier, so several accumulate.

Where: ``endpoint=``, else ``PHOENIX_COLLECTOR_ENDPOINT``, else the OTLP HTTP traces
endpoint without ``/v1/traces``. Credentials: ``headers=``, else ``PHOENIX_API_KEY`` (as a
Bearer token), else the OTLP exporter's ``authorization`` header.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from semtrace._telemetry.outbox import EvaluationRecord
from semtrace.export.evaluations import environment
from semtrace.export.evaluations.sink import EvaluationSink, HttpRequest

ANNOTATIONS_PATH = "/v1/span_annotations"


class PhoenixSink(EvaluationSink):
    """Span annotations in Phoenix.

    Args:
        endpoint: Phoenix's base URL (``http://localhost:6006``); None reads the environment.
        headers: HTTP headers to send (auth); None reads the environment.
        **options: The queue and retry options of :class:`EvaluationSink`.

    Raises:
        ValueError: If no Phoenix URL is given or can be derived.
    """

    name = "phoenix"

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        base = endpoint or environment.env("PHOENIX_COLLECTOR_ENDPOINT") or _from_otlp()
        if not base:
            raise ValueError(
                "the phoenix evaluation sink needs Phoenix's URL: set PHOENIX_COLLECTOR_ENDPOINT "
                "(e.g. http://localhost:6006) or an http/protobuf OTLP endpoint of Phoenix"
            )
        self.base_url = base.rstrip("/")
        self._headers = {"content-type": "application/json", **_auth(headers)}

    def target(self) -> str:
        """Phoenix's annotations URL."""
        return self.base_url + ANNOTATIONS_PATH

    def requests(self, batch: Sequence[EvaluationRecord]) -> list[HttpRequest]:
        """All of ``batch`` in one request."""
        data = [_annotation(r) for r in batch]
        body = json.dumps({"data": data}).encode()
        return [HttpRequest("POST", self.target(), self._headers, body, len(data))]

    def probes(self) -> list[tuple[str, HttpRequest]]:
        """Phoenix's project list: reachable, and the key accepted where auth is on."""
        url = self.base_url + "/v1/projects?limit=1"
        return [("reachable, credentials accepted", HttpRequest("GET", url, self._headers))]


def _annotation(record: EvaluationRecord) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if record.label:
        result["label"] = record.label
    if record.score is not None:
        result["score"] = record.score
    if record.explanation:
        result["explanation"] = record.explanation
    annotation: dict[str, Any] = {
        "span_id": record.span_id_hex,
        "name": record.name,
        "annotator_kind": record.annotator,
        "result": result,
        "metadata": {"source": "semtrace", "trace_id": record.trace_id_hex, **record.metadata},
    }
    if record.annotator == "HUMAN":
        # Each feedback is its own annotation; fixed when the request is built, so a retry
        # of the same request upserts rather than doubles it.
        annotation["identifier"] = f"semtrace-feedback-{uuid.uuid4().hex}"
    return annotation


def _from_otlp() -> str:
    if environment.otlp_is_grpc():
        return ""  # Phoenix's gRPC port is not its HTTP one
    url = environment.otlp_traces_url().rstrip("/")
    return url[: -len("/v1/traces")] if url.endswith("/v1/traces") else ""


def _auth(headers: Mapping[str, str] | None) -> dict[str, str]:
    if headers is not None:
        return dict(headers)
    key = environment.env("PHOENIX_API_KEY")
    if key:
        return {"authorization": f"Bearer {key}"}
    otlp = environment.otlp_headers()
    return {"authorization": otlp["authorization"]} if "authorization" in otlp else {}
