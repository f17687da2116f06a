"""What a LlamaIndex ``structured_predict`` asked of its model call, for ``invalid_format``.

``structured_predict`` (and its async and streaming forms) announces the output class
in ``LLMStructuredPredictStartEvent``, in a span above the model call it makes. A
function-calling model is given the class as a tool (its arguments are then checked
against the tool's schema); any other model must answer with JSON matching it.
"""

from __future__ import annotations

from typing import Any

from semtrace.integration import FORMAT_JSON, ModelStart, record_fault

from semtrace_llamaindex.table import OpenSpan, SpanTable


def output_schema(output_cls: Any) -> Any:
    """The JSON Schema of a pydantic output class; None when it has none."""
    try:
        return output_cls.model_json_schema()
    except Exception:
        return None


def apply(record: ModelStart, table: SpanTable, span: OpenSpan) -> None:
    """Mark ``record`` as structured when a ``structured_predict`` above it asked for JSON."""
    try:
        schema = next((s.output_schema for s in table.above(span) if s.output_schema), None)
        if schema is None or record.tools:
            return  # no request, or a tool-calling program: its tool's schema is checked
        record.output_format, record.output_schema = FORMAT_JSON, schema
    except Exception:
        record_fault("structured.apply")
