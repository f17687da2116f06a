"""The LangChain callback handler: each callback becomes one recorder call.

Example:
    >>> from semtrace_langchain import CallbackHandler
    >>> handler = CallbackHandler(capture_content=False)
    >>> chain.invoke("question", config={"callbacks": [handler]})  # doctest: +SKIP

``run_inline`` is set so that LangChain's async callback manager calls this handler
directly on the event loop instead of hopping to a thread pool for every callback.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from semtrace.integration import (
    AgentStart,
    LazyEnd,
    Options,
    Start,
    StepStart,
    ToolReportedError,
    ValueEnd,
    WorkflowStart,
    never_raise,
)

from semtrace_langchain import structured, translate
from semtrace_langchain.execution import (
    attach_in_slot,
    install_execution_context,
    install_late_targets,
    take_model_facts,
)
from semtrace_langchain.version import __version__


class CallbackHandler(BaseCallbackHandler):
    """Records LangChain runs as OpenTelemetry GenAI spans.

    Takes the arguments of :class:`semtrace._recording.options.Options`, the same as
    ``LangChainInstrumentor().instrument()`` and ``LlamaIndexInstrumentor().instrument()``:
    ``tracer_provider``, ``meter_provider``, ``capture_content`` and ``count_tokens``
    (also by position), then by keyword ``redact``, ``trace_all_runs``,
    ``quality_signals``, ``all_evaluation_events``, ``max_content_length``,
    ``drop_operations``, ``default_encoding``, ``max_open_runs``, ``run_timeout_s``,
    ``thresholds``, ``evaluators``, ``prices`` and ``settings``.

    Raises:
        TypeError: An unknown keyword, or ``settings`` together with a settings argument.
        ValueError: An invalid argument.
    """

    run_inline = True
    raise_error = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        options = Options(*args, **kwargs)
        super().__init__()
        self.recorder = options.recorder("langchain", "semtrace_langchain", __version__)
        self._trace_all = self.recorder.settings.trace_all_runs
        install_execution_context()

    # --- chains, graphs, agents ---

    @never_raise
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A chain, graph or graph node started."""
        if parent_run_id is not None and translate.is_prebuilt_agent_node(metadata, tags):
            # First, so that this step and what it runs nest under the agent.
            self._promote_graph(parent_run_id, metadata)
        given = kwargs.get("name") or (serialized or {}).get("name")
        name = translate.run_name(given)
        if translate.is_agent_root(given, metadata):
            record = AgentStart(name=name, input=inputs)
            self._start(run_id, parent_run_id, record, metadata, tags)
        elif parent_run_id is None:
            self._start(run_id, None, WorkflowStart(name=name, input=inputs), metadata, tags)
        elif self._trace_all:
            self.recorder.start(run_id, parent_run_id, StepStart(name=name, input=inputs))
        else:
            # Plumbing, unless it is a graph whose first step reveals an agent.
            self.recorder.skip(run_id, parent_run_id, name, inputs)
        prompt = translate.prompt_ref(name, metadata)
        if prompt is not None:
            self.recorder.use_prompt(run_id, *prompt)

    @never_raise
    def _promote_graph(self, graph_run_id: UUID, metadata: dict[str, Any] | None) -> None:
        """The graph running a ``create_react_agent`` step is an agent, top-level or nested.

        Its name: create_agent's, else the graph's (``create_react_agent(name=...)``),
        which the recorder keeps when this one is empty.
        """
        name = translate.run_name((metadata or {}).get("lc_agent_name"))
        self.recorder.promote(graph_run_id, AgentStart(name=name))

    @never_raise
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A chain finished."""
        self.recorder.end(run_id, ValueEnd(outputs))

    @never_raise
    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A chain raised; LangGraph control flow and abandonment are not errors."""
        self._close_with(run_id, error)

    # --- models ---

    @never_raise
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A chat model call started."""
        install_late_targets()
        prompt = messages[0] if messages else []
        record = translate.model_start(
            prompt, metadata, kwargs.get("invocation_params"), model=take_model_facts()
        )
        record.output_format, record.output_schema = structured.requested(kwargs)
        self._start(run_id, parent_run_id, record, metadata, tags)

    @never_raise
    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A text-completion model call started."""
        install_late_targets()
        record = translate.model_start(
            prompts[:1],
            metadata,
            kwargs.get("invocation_params"),
            operation="text_completion",
            model=take_model_facts(),
        )
        self._start(run_id, parent_run_id, record, metadata, tags)

    @never_raise
    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """A streamed chunk arrived (only the first one is timed)."""
        self.recorder.chunk(run_id)

    @never_raise
    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A model call returned; its response is read on the worker, not here."""
        self.recorder.end(run_id, LazyEnd(functools.partial(translate.model_end, response)))

    @never_raise
    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A model call raised."""
        self._close_with(run_id, error)

    # --- retrievers ---

    @never_raise
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A retriever started."""
        name = kwargs.get("name") or (serialized or {}).get("name")
        record = translate.retrieval_start(query, name, metadata)
        self._start(run_id, parent_run_id, record, metadata, tags)
        attach_in_slot(self.recorder, run_id)

    @never_raise
    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        """A retriever returned documents; they are read on the worker, not here."""
        self.recorder.end(
            run_id, LazyEnd(functools.partial(translate.retrieval_end, tuple(documents)))
        )

    @never_raise
    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A retriever raised."""
        self._close_with(run_id, error)

    # --- tools ---

    @never_raise
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A tool started."""
        record = translate.tool_start(serialized, input_str, kwargs)
        self._start(run_id, parent_run_id, record, metadata, tags)
        attach_in_slot(self.recorder, run_id)

    @never_raise
    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A tool returned; a ``ToolMessage`` with status ``error`` is a failed tool."""
        end = ValueEnd(translate.tool_output(output))
        if getattr(output, "status", None) == "error":
            self.recorder.fail(run_id, ToolReportedError(str(end.output)[:512]), end)
        else:
            self.recorder.end(run_id, end)

    @never_raise
    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A tool raised."""
        self._close_with(run_id, error)

    def _start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        record: Start,
        metadata: dict[str, Any] | None,
        tags: list[str] | None,
    ) -> None:
        """Start a recorded run; a top-level one carries its call's user, session and tags."""
        attributes = translate.run_context(metadata, tags) if parent_run_id is None else None
        self.recorder.start(run_id, parent_run_id, record, attributes=attributes)

    def _close_with(self, run_id: UUID, error: BaseException) -> None:
        kind = translate.error_kind(error)
        if kind == "control":
            self.recorder.end(run_id)
        elif kind == "cancelled":
            self.recorder.cancel(run_id)
        else:
            self.recorder.fail(run_id, error)
