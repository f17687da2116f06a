"""Which translation reads a span: OpenInference's, OpenLLMetry's, or the GenAI conventions'."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import ReadableSpan

from semtrace import semconv
from semtrace.adopt import genai, openinference, openllmetry
from semtrace.adopt.spans import Translated


def translator(
    root: ReadableSpan | None, spans: Sequence[ReadableSpan] = ()
) -> Callable[[ReadableSpan], Translated | None]:
    """The translation of a trace's ``spans``; ``root``, its local root, may be plumbing too.

    A model span with a model span under it is a wrapper (LlamaIndex's ``predict`` around
    ``complete``): only the innermost is the call, as semtrace's own integration records it.
    """
    wrappers = {s.parent.span_id for s in spans if s.parent is not None and is_model_span(s)}

    def translate(span: ReadableSpan) -> Translated | None:
        if span.context.span_id in wrappers and is_model_span(span):
            return None
        is_root = span is root
        attributes = span.attributes or {}
        if openinference.SPAN_KIND in attributes:
            return openinference.translate(span, is_root)
        if openllmetry.is_openllmetry(span):
            return openllmetry.translate(span, is_root)
        return genai.translate(span)

    return translate


def is_model_span(span: ReadableSpan) -> bool:
    """Whether ``span`` is a model call of any source (for the content check)."""
    attributes = span.attributes or {}
    return (
        attributes.get(openinference.SPAN_KIND) == "LLM"
        or str(attributes.get(semconv.GEN_AI_OPERATION_NAME)) in genai.MODEL_OPERATIONS
    )


def carries_content(span: ReadableSpan) -> bool:
    """Whether a model span carries its messages: without them there is nothing to judge."""
    found = translator(None)(span)
    if found is None:
        return False
    messages = getattr(found.start, "messages", ())
    output = getattr(found.end, "output", ())
    return bool(messages or output)
