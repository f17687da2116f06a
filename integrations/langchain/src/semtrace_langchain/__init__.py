"""semtrace for LangChain: OpenTelemetry GenAI spans from LangChain callbacks.

Example:
    >>> import semtrace
    >>> from semtrace_langchain import CallbackHandler, LangChainInstrumentor
    >>> semtrace.configure()  # doctest: +SKIP
    >>> chain.invoke(x, config={"callbacks": [CallbackHandler()]})  # doctest: +SKIP
    >>> LangChainInstrumentor().instrument()  # or: every run, no code change  # doctest: +SKIP

``groundedness_judge(model)`` builds an opt-in LLM judge of groundedness from a LangChain
model (:mod:`semtrace_langchain.judge`), for ``evaluators=[...]``.

``LangChainInstrumentor`` is imported on first use: its base class (from
``opentelemetry-instrumentation``) pulls in ``packaging``'s requirement parser, which an app
that only passes a ``CallbackHandler`` never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from semtrace_langchain.handler import CallbackHandler
from semtrace_langchain.judge import groundedness_judge
from semtrace_langchain.version import __version__

if TYPE_CHECKING:
    from semtrace_langchain.instrumentor import LangChainInstrumentor


def __getattr__(name: str) -> Any:
    """Import ``LangChainInstrumentor`` on first use."""
    if name != "LangChainInstrumentor":
        raise AttributeError(f"module 'semtrace_langchain' has no attribute {name!r}")
    from semtrace_langchain.instrumentor import LangChainInstrumentor

    globals()[name] = LangChainInstrumentor
    return LangChainInstrumentor


__all__ = ["CallbackHandler", "LangChainInstrumentor", "__version__", "groundedness_judge"]
