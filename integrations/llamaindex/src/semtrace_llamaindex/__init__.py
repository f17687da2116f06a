"""semtrace for LlamaIndex: OpenTelemetry GenAI spans from LlamaIndex instrumentation.

Example:
    >>> import semtrace
    >>> from semtrace_llamaindex import LlamaIndexInstrumentor
    >>> semtrace.configure()  # doctest: +SKIP
    >>> LlamaIndexInstrumentor().instrument()  # doctest: +SKIP
    >>> index.as_query_engine().query("What is semtrace?")  # doctest: +SKIP
"""

from semtrace_llamaindex.instrumentor import LlamaIndexInstrumentor
from semtrace_llamaindex.version import __version__

__all__ = ["LlamaIndexInstrumentor", "__version__"]
