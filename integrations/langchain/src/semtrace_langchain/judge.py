"""An LLM judge of groundedness from a LangChain model: translation only.

Example:
    >>> from langchain_openai import ChatOpenAI  # doctest: +SKIP
    >>> from semtrace_langchain import CallbackHandler, groundedness_judge
    >>> judge = groundedness_judge(ChatOpenAI(model="gpt-4o-mini", timeout=20))  # doctest: +SKIP
    >>> handler = CallbackHandler(evaluators=[judge])  # doctest: +SKIP

What the judge does is :mod:`semtrace.quality.judge`'s; this module only asks a LangChain
model and reads its reply the way the callback handler reads any model run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from semtrace.integration import GroundednessJudge, JudgeReply, ModelCall, TextPart

from semtrace_langchain import translate

if TYPE_CHECKING:
    from langchain_core.language_models import BaseLanguageModel


def groundedness_judge(model: BaseLanguageModel[Any], **options: Any) -> GroundednessJudge:
    """A :class:`~semtrace.quality.judge.GroundednessJudge` that asks ``model``.

    Args:
        model: A LangChain chat model (or completion LLM); a cheap one will do. Give it
            its own request timeout too, so a call the judge gave up on also ends.
        **options: The judge's options: ``escalate_on``, ``sample_rate``, ``timeout_s``,
            ``max_in_flight``, ``max_source_chars``...

    Returns:
        The judge; pass it in ``evaluators=[...]``.
    """
    return GroundednessJudge(lambda prompt: ask(model, prompt), **options)


def ask(model: BaseLanguageModel[Any], prompt: str) -> JudgeReply:
    """Ask ``model`` one prompt; the reply's text, model, provider and usage.

    The model, provider and usage are read from LangChain's own callbacks on this one
    call (``ls_provider``/``ls_model_name`` metadata and the ``LLMResult``), exactly as
    the callback handler reads an app's model run.
    """
    seen = _Seen()
    output = model.invoke(prompt, config={"callbacks": [seen]})
    end = translate.model_end(seen.result) if seen.result is not None else None
    if end is not None and end.output:
        text = "\n".join(p.content for m in end.output for p in m.parts if isinstance(p, TextPart))
    else:
        text = output if isinstance(output, str) else str(getattr(output, "content", ""))
    call = ModelCall(
        model=translate.model_name(seen.metadata, seen.invocation),
        provider=translate.provider(seen.metadata, seen.invocation),
        response_model=end.response_model if end is not None else None,
        usage=end.usage if end is not None else None,
    )
    return JudgeReply(text, call)


class _Seen(BaseCallbackHandler):
    """What LangChain's callbacks tell of one model call."""

    run_inline = True

    def __init__(self) -> None:
        super().__init__()
        self.metadata: dict[str, Any] | None = None
        self.invocation: dict[str, Any] | None = None
        self.result: Any = None

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Note the model's metadata (``ls_provider``, ``ls_model_name``)."""
        self._start(kwargs)

    def on_llm_start(self, serialized: Any, prompts: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Note a completion model's metadata."""
        self._start(kwargs)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Keep the ``LLMResult``: text, usage and response model."""
        self.result = response

    def _start(self, kwargs: dict[str, Any]) -> None:
        self.metadata = kwargs.get("metadata")
        self.invocation = kwargs.get("invocation_params")
