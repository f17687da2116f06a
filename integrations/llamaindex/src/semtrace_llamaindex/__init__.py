"""semtrace for LlamaIndex: OpenTelemetry GenAI spans from LlamaIndex instrumentation.

Example:
    >>> import semtrace
    >>> from semtrace_llamaindex import LlamaIndexInstrumentor
    >>> semtrace.configure()  # doctest: +SKIP
    >>> LlamaIndexInstrumentor().instrument()  # doctest: +SKIP
    >>> index.as_query_engine().query("What is semtrace?")  # doctest: +SKIP

``groundedness_judge(llm)`` builds an opt-in LLM judge of groundedness from a LlamaIndex
LLM (:mod:`semtrace_llamaindex.judge`), for ``instrument(evaluators=[...])``.
"""

from semtrace_llamaindex.instrumentor import LlamaIndexInstrumentor
from semtrace_llamaindex.judge import groundedness_judge
from semtrace_llamaindex.version import __version__

__all__ = ["LlamaIndexInstrumentor", "__version__", "groundedness_judge"]
