"""The Phoenix view: ``openinference.span.kind`` where Phoenix does not derive one.

Arize Phoenix derives its span kind from the GenAI conventions for model calls (LLM),
embeddings (EMBEDDING), retrievals (RETRIEVER), tools (TOOL) and agents (AGENT). Run
against Phoenix 20 (``tests/e2e/test_backend_views.py``), the other semtrace spans came
back as UNKNOWN: the ``invoke_workflow`` root, reranks, framework steps and background
evaluators' ``evaluate`` spans. This view names those, with OpenInference's kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.util.types import AttributeValue

from semtrace import semconv

#: OpenInference's attribute key (openinference-semantic-conventions), spelled here only.
OPENINFERENCE_SPAN_KIND: Final = "openinference.span.kind"
CHAIN: Final = "CHAIN"
RERANKER: Final = "RERANKER"
EVALUATOR: Final = "EVALUATOR"

#: The operations Phoenix leaves UNKNOWN, and their OpenInference kind.
KINDS: Final[Mapping[str, str]] = {
    semconv.OP_INVOKE_WORKFLOW: CHAIN,
    semconv.OP_RERANK: RERANKER,
}


def span_kind(attrs: Mapping[str, Any]) -> str | None:
    """The OpenInference kind Phoenix needs told for a span with ``attrs``, if any."""
    operation = attrs.get(semconv.GEN_AI_OPERATION_NAME)
    if isinstance(operation, str):
        return KINDS.get(operation)
    if semconv.GEN_AI_EVALUATION_NAME in attrs:
        return EVALUATOR
    if semconv.SEMTRACE_RUN_NAME in attrs:
        return CHAIN
    return None


def phoenix_view(span: ReadableSpan) -> dict[str, AttributeValue]:
    """``openinference.span.kind`` for ``span`` when Phoenix would not derive it."""
    kind = span_kind(span.attributes or {})
    return {OPENINFERENCE_SPAN_KIND: kind} if kind else {}
