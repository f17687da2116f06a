"""Make a model call's span current while the model does its I/O.

Callbacks cannot do this: attaching a context in ``on_chat_model_start`` and detaching
it in ``on_llm_end`` unbalances the context as soon as two calls overlap (batch,
``asyncio.gather``) and produces "Failed to detach context". Instead we wrap the
methods that run the call, where the run id is known, and attach and detach in that
one frame. An HTTP client instrumentation (httpx, requests, ...) then nests its span
under our ``chat`` span.

The wrappers are inert unless a semtrace handler is among the run's handlers.
Streaming calls (``_stream``/``_astream``) are not wrapped: a generator cannot hold a
context across its yields without leaking it into the caller.
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.instrumentation.utils import unwrap
from semtrace import Recorder
from semtrace.safety import record_fault
from wrapt import wrap_function_wrapper

_TARGETS = (
    ("langchain_core.language_models.chat_models", "BaseChatModel", "_generate_with_cache", False),
    ("langchain_core.language_models.chat_models", "BaseChatModel", "_agenerate_with_cache", True),
    ("langchain_core.language_models.llms", "BaseLLM", "_generate_helper", False),
    ("langchain_core.language_models.llms", "BaseLLM", "_agenerate_helper", True),
)
_lock = threading.Lock()
_installed = False


def _run_manager(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    manager = kwargs.get("run_manager")
    if manager is None:
        managers = kwargs.get("run_managers")
        if managers is None and len(args) > 2:
            managers = args[2]
        if isinstance(managers, list):
            manager = managers[0] if len(managers) == 1 else None
        else:
            manager = managers
    return manager


def _recorder_and_run(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Recorder | None, Any]:
    try:
        manager = _run_manager(args, kwargs)
        for handler in getattr(manager, "handlers", None) or ():
            recorder = getattr(handler, "recorder", None)
            if isinstance(recorder, Recorder):
                return recorder, manager.run_id
    except Exception:
        pass
    return None, None


def _enter(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Make the run's span current; never raises (a fault means: no nesting)."""
    recorder, run_id = _recorder_and_run(args, kwargs)
    if recorder is None:
        return None
    try:
        scope = recorder.activate(run_id)
        scope.__enter__()
        return scope
    except Exception:
        record_fault("semtrace_langchain.execution enter")
        return None


def _exit(scope: Any) -> None:
    if scope is not None:
        try:
            scope.__exit__(None, None, None)
        except Exception:
            record_fault("semtrace_langchain.execution exit")


# The model call runs outside any guard: its own exceptions reach the caller untouched.


def _sync(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    scope = _enter(args, kwargs)
    try:
        return wrapped(*args, **kwargs)
    finally:
        _exit(scope)


async def _async(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    scope = _enter(args, kwargs)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _exit(scope)


def install_execution_context() -> None:
    """Wrap LangChain's model execution methods, once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        for module, cls, method, is_async in _TARGETS:
            try:
                wrap_function_wrapper(module, f"{cls}.{method}", _async if is_async else _sync)
            except (ImportError, AttributeError):
                continue  # an older langchain-core without this method: no nesting there
        _installed = True


def uninstall_execution_context() -> None:
    """Remove the wrappers."""
    global _installed
    with _lock:
        if not _installed:
            return
        import importlib

        for module, cls, method, _ in _TARGETS:
            try:
                unwrap(getattr(importlib.import_module(module), cls), method)
            except (ImportError, AttributeError):
                continue
        _installed = False
