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

Retrievers and tools are different: their run id is made inside ``BaseRetriever.invoke``
and ``BaseTool.run``, after any wrapper could see it, and subclasses override the method
that does the work. So the wrapper around ``invoke``/``ainvoke`` (``run``/``arun``) only
opens a slot (a ContextVar); the handler's ``on_retriever_start`` (``on_tool_start``),
called inline in that same context, attaches the run's span into it
(:func:`attach_in_slot`), and the wrapper detaches it in its own ``finally``. The tool's
function then runs with its span current (LangChain runs it in a copy of the context
taken after the start callback): ``semtrace.current_trace()`` names it, and what the tool
calls nests under it.

Callbacks never see the model object, so what only it knows (its base URL for
``server.address``, parameters kept on the object such as ``ChatOllama(num_predict=...)``)
is noted when LangChain asks the model for its tracing params, just before it calls
``on_chat_model_start``/``on_llm_start`` in the same context (:func:`take_model_facts`).
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import threading
from typing import Any

from semtrace.integration import Recorder, normalize, record_fault
from wrapt import wrap_function_wrapper

_TARGETS = (
    ("langchain_core.language_models.chat_models", "BaseChatModel", "_generate_with_cache", False),
    ("langchain_core.language_models.chat_models", "BaseChatModel", "_agenerate_with_cache", True),
    ("langchain_core.language_models.llms", "BaseLLM", "_generate_helper", False),
    ("langchain_core.language_models.llms", "BaseLLM", "_agenerate_helper", True),
)
_SLOT_TARGETS = (
    ("langchain_core.retrievers", "BaseRetriever", "invoke", False),
    ("langchain_core.retrievers", "BaseRetriever", "ainvoke", True),
    ("langchain_core.tools.base", "BaseTool", "run", False),
    ("langchain_core.tools.base", "BaseTool", "arun", True),
)
# Called by every model entry point (invoke, stream, generate, their async forms) right
# before the start callback; providers override ``_get_ls_params``, not this.
_ENDPOINT_TARGETS = (
    ("langchain_core.language_models.base", "BaseLanguageModel", "_get_ls_params_with_defaults"),
    ("langchain_core.language_models.chat_models", "BaseChatModel", "_get_ls_params_with_defaults"),
)
_lock = threading.Lock()
_installed = False
# Model targets whose module was not imported when the context was installed.
_late: list[tuple[str, str, str, bool]] = []
# The innermost retriever or tool call in flight here: where its start callback puts its
# attachment.
_slot: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "semtrace_run_slot", default=None
)


# Base URL, region, and the model object itself: its parameters are read on the worker.
ModelFacts = tuple[str | None, str | None, Any]
_NO_FACTS: ModelFacts = (None, None, None)
# langchain-core before 1.x has no ``_get_ls_params_with_defaults``: there the chat
# models' base ``_get_invocation_params`` is the hook (providers that override it call
# it through ``super()``, which still shows the model object). Completion models get
# the providers' default endpoints there.
_OLD_ENDPOINT_TARGETS = (
    ("langchain_core.language_models.chat_models", "BaseChatModel", "_get_invocation_params"),
)


def _model_targets() -> tuple[tuple[str, str, str], ...]:
    """The methods that show the model object just before its start callback."""
    try:
        from langchain_core.language_models.base import BaseLanguageModel

        if hasattr(BaseLanguageModel, "_get_ls_params_with_defaults"):
            return _ENDPOINT_TARGETS
    except ImportError:
        return ()
    return _OLD_ENDPOINT_TARGETS


# The base URL, region and own parameters of the model about to start in this context,
# taken (and cleared) by the start callback so a later call never reads a stale one.
_model_facts: contextvars.ContextVar[ModelFacts | None] = contextvars.ContextVar(
    "semtrace_model_facts", default=None
)


def take_model_facts() -> ModelFacts:
    """From a model start callback: the model's base URL, region and the model, if noted."""
    found = _model_facts.get()
    if found is None:
        return _NO_FACTS
    _model_facts.set(None)
    return found


def _note_model(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    result = wrapped(*args, **kwargs)
    try:
        _model_facts.set((normalize.base_url_of(instance), normalize.region_of(instance), instance))
    except Exception:
        record_fault("semtrace_langchain.execution model facts")
    return result


def attach_in_slot(recorder: Recorder, run_id: Any) -> None:
    """From ``on_retriever_start``/``on_tool_start``: the run's span current until it returns."""
    slot = _slot.get()
    if slot is not None and not slot:
        slot.append((recorder, recorder.attach(run_id)))


def _close_slot(slot: list[Any], token: contextvars.Token[list[Any] | None]) -> None:
    try:
        for recorder, attachment in slot:
            recorder.detach(attachment)
        _slot.reset(token)
    except Exception:
        record_fault("semtrace_langchain.execution slot exit")


def _slot_sync(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    slot: list[Any] = []
    token = _slot.set(slot)
    try:
        return wrapped(*args, **kwargs)
    finally:
        _close_slot(slot, token)


async def _slot_async(
    wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    slot: list[Any] = []
    token = _slot.set(slot)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _close_slot(slot, token)


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
        for target in _TARGETS:
            if target[0] in sys.modules:
                _wrap_model(*target)
            else:
                # Not imported by the app (yet): importing it here would make constructing
                # a handler pay for it (BaseLLM's module pulls in tenacity, ~50 ms cold).
                # Its start callback wraps it, before the method is looked up.
                _late.append(target)
        for module, cls, method, is_async in _SLOT_TARGETS:
            wrapper = _slot_async if is_async else _slot_sync
            try:
                wrap_function_wrapper(module, f"{cls}.{method}", wrapper)
            except (ImportError, AttributeError):
                continue
        for module, cls, method in _model_targets():
            try:
                wrap_function_wrapper(module, f"{cls}.{method}", _note_model)
            except (ImportError, AttributeError):
                continue
        _installed = True


def _wrap_model(module: str, cls: str, method: str, is_async: bool) -> None:
    # An older langchain-core without this method: no nesting there.
    with contextlib.suppress(ImportError, AttributeError):
        wrap_function_wrapper(module, f"{cls}.{method}", _async if is_async else _sync)


def install_late_targets() -> None:
    """From a model's start callback: wrap the targets whose module was imported since.

    A model's ``generate`` calls the start callback before it looks up the wrapped method,
    so the call that imported the module already runs inside its span.
    """
    # Most apps never import BaseLLM's module: its target stays late, and is looked at
    # on every model start, so without the lock.
    if not any(target[0] in sys.modules for target in _late):
        return
    with _lock:
        for target in [t for t in _late if t[0] in sys.modules]:
            _late.remove(target)
            _wrap_model(*target)


def uninstall_execution_context() -> None:
    """Remove the wrappers."""
    global _installed
    with _lock:
        if not _installed:
            return
        import importlib

        # Imported here: opentelemetry.instrumentation.utils costs an import nobody else needs.
        from opentelemetry.instrumentation.utils import unwrap

        targets = [(m, c, f) for m, c, f, _ in (*_TARGETS, *_SLOT_TARGETS)]
        for module, cls, method in (*targets, *_model_targets()):
            try:
                unwrap(getattr(importlib.import_module(module), cls), method)
            except (ImportError, AttributeError):
                continue
        _late.clear()
        _installed = False
