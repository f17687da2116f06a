"""Trace every LangChain run in the process, with no code change.

Example:
    >>> from semtrace_langchain import LangChainInstrumentor
    >>> LangChainInstrumentor().instrument()  # doctest: +SKIP

It adds one shared :class:`CallbackHandler` to every LangChain callback manager as it
is built, unless a semtrace handler is already there: a handler the user passes in
``config`` wins, so the two never record the same run twice.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from langchain_core.callbacks import BaseCallbackManager
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from semtrace.integration import never_raise
from wrapt import wrap_function_wrapper

from semtrace_langchain.execution import install_execution_context, uninstall_execution_context
from semtrace_langchain.handler import CallbackHandler
from semtrace_langchain.package import _instruments


class LangChainInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """An OpenTelemetry instrumentor for LangChain (``opentelemetry_instrumentor`` entry point).

    ``instrument()`` takes the keyword arguments of :class:`semtrace._recording.options.Options`,
    as :class:`CallbackHandler` does; an unknown one raises ``TypeError``.
    """

    _handler: CallbackHandler | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        """The LangChain versions this instrumentor supports."""
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        handler = CallbackHandler(**kwargs)  # unknown or conflicting keywords raise here
        self._handler = handler

        @never_raise
        def ensure_one(manager: Any) -> None:
            ours = [
                h
                for h in (*manager.handlers, *manager.inheritable_handlers)
                if isinstance(h, CallbackHandler)
            ]
            if not ours:
                manager.add_handler(handler, True)
            elif any(h is handler for h in ours) and any(h is not handler for h in ours):
                manager.remove_handler(handler)  # the user's own handler wins

        def on_init(wrapped: Any, instance: Any, args: Any, kw: Any) -> None:
            wrapped(*args, **kw)
            ensure_one(instance)

        def on_add(wrapped: Any, instance: Any, args: Any, kw: Any) -> None:
            wrapped(*args, **kw)
            ensure_one(instance)

        wrap_function_wrapper(
            "langchain_core.callbacks.base", "BaseCallbackManager.__init__", on_init
        )
        wrap_function_wrapper(
            "langchain_core.callbacks.base", "BaseCallbackManager.add_handler", on_add
        )
        install_execution_context()

    def _uninstrument(self, **kwargs: Any) -> None:
        unwrap(BaseCallbackManager, "__init__")
        unwrap(BaseCallbackManager, "add_handler")
        uninstall_execution_context()
        if self._handler is not None:
            self._handler.recorder.close()  # managers built earlier keep it: make it inert
            self._handler = None
