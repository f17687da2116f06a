"""semtrace's LangChain wrappers go on before any other instrumentation's.

semtrace wraps LangChain's model, retriever and tool methods once per process, when its
first handler is made (semtrace_langchain.execution). Another instrumentor's
``uninstrument()`` takes off the outermost wrapper of each method it wrapped: had
semtrace's first handler been made while the other was on, that would be semtrace's, and
every later test of the session would run without it.
"""

from __future__ import annotations

import langchain_core.language_models.chat_models
import langchain_core.language_models.llms  # noqa: F401  (wrapped now, not later)
from semtrace_langchain.execution import install_execution_context

install_execution_context()
