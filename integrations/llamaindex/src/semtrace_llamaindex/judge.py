"""An LLM judge of groundedness from a LlamaIndex LLM: translation only.

Example:
    >>> from llama_index.llms.openai import OpenAI  # doctest: +SKIP
    >>> from semtrace_llamaindex import LlamaIndexInstrumentor, groundedness_judge
    >>> judge = groundedness_judge(OpenAI(model="gpt-4o-mini", timeout=20))  # doctest: +SKIP
    >>> LlamaIndexInstrumentor().instrument(evaluators=[judge])  # doctest: +SKIP

What the judge does is :mod:`semtrace.quality.judge`'s; this module only asks a LlamaIndex
LLM and reads its ``ChatResponse`` the way the instrumentation reads any model call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from semtrace.integration import GroundednessJudge, JudgeReply, ModelCall, TextPart

from semtrace_llamaindex import translate

if TYPE_CHECKING:
    from llama_index.core.llms import LLM


def groundedness_judge(llm: LLM, **options: Any) -> GroundednessJudge:
    """A :class:`~semtrace.quality.judge.GroundednessJudge` that asks ``llm``.

    Args:
        llm: A LlamaIndex LLM; a cheap one will do. Give it its own request timeout
            too (``OpenAI(timeout=...)``), so a call the judge gave up on also ends.
        **options: The judge's options: ``escalate_on``, ``sample_rate``, ``timeout_s``,
            ``max_in_flight``, ``max_source_chars``...

    Returns:
        The judge; pass it in ``evaluators=[...]``.
    """
    return GroundednessJudge(lambda prompt: ask(llm, prompt), **options)


def ask(llm: LLM, prompt: str) -> JudgeReply:
    """Ask ``llm`` one prompt as a user message; the reply's text, model and usage.

    The usage and response model come from the ``ChatResponse`` (its ``raw`` provider
    response, then ``additional_kwargs``), as the instrumentation reads them.
    """
    from llama_index.core.llms import ChatMessage

    response = llm.chat([ChatMessage(role="user", content=prompt)])
    end = translate.model_end(response)
    text = "\n".join(p.content for m in end.output for p in m.parts if isinstance(p, TextPart))
    call = ModelCall(
        model=translate.model_name(llm, None),
        provider=translate.provider(llm),
        response_model=end.response_model,
        usage=end.usage,
    )
    return JudgeReply(text, call)
