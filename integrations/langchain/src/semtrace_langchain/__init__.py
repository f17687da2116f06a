"""semtrace for LangChain: OpenTelemetry GenAI spans from LangChain callbacks.

Example:
    >>> import semtrace
    >>> from semtrace_langchain import CallbackHandler, LangChainInstrumentor
    >>> semtrace.configure()  # doctest: +SKIP
    >>> chain.invoke(x, config={"callbacks": [CallbackHandler()]})  # doctest: +SKIP
    >>> LangChainInstrumentor().instrument()  # or: every run, no code change  # doctest: +SKIP
"""

from semtrace_langchain.handler import CallbackHandler
from semtrace_langchain.instrumentor import LangChainInstrumentor
from semtrace_langchain.version import __version__

__all__ = ["CallbackHandler", "LangChainInstrumentor", "__version__"]
