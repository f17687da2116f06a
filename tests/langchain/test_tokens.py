"""Token counts: provider first, tiktoken otherwise, and the span says which."""

from __future__ import annotations

import pytest
import tiktoken
from langchain_core.messages import AIMessage
from semtrace import semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import fake_chat


def test_provider_usage_metadata_is_used_when_reported(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    reply = AIMessage(
        content="ok",
        usage_metadata={
            "input_tokens": 120,
            "output_tokens": 7,
            "total_tokens": 127,
            "input_token_details": {"cache_read": 100, "cache_creation": 5},
            "output_token_details": {"reasoning": 3},
        },
    )
    fake_chat(reply).invoke("hi", config={"callbacks": [handler]})
    attrs = telemetry.span("chat gpt-4o-mini").attributes
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 120
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 7
    assert attrs[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 100
    assert attrs[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 5
    assert attrs[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 3
    assert attrs[semconv.SEMTRACE_USAGE_SOURCE] == "provider"
    assert semconv.SEMTRACE_USAGE_ENCODING not in attrs


def test_tiktoken_counts_match_openais_chat_accounting(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    fake_chat("The answer is forty-two.").invoke(
        [("system", "Be brief."), ("human", "What is six times seven?")],
        config={"callbacks": [handler]},
    )
    attrs = telemetry.span("chat gpt-4o-mini").attributes
    enc = tiktoken.get_encoding("o200k_base")
    expected_input = 3 + sum(
        3 + len(enc.encode(role)) + len(enc.encode(text))
        for role, text in (("system", "Be brief."), ("user", "What is six times seven?"))
    )
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == expected_input
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == len(enc.encode("The answer is forty-two."))
    assert attrs[semconv.SEMTRACE_USAGE_SOURCE] == "tiktoken"
    assert attrs[semconv.SEMTRACE_USAGE_ENCODING] == "o200k_base"


def test_encoding_follows_the_model(telemetry: Telemetry, handler: CallbackHandler) -> None:
    from tests.langchain.pipelines import FakeChat

    FakeChat(messages=iter([AIMessage("ok")]), model_name="gpt-4").invoke(
        "hi", config={"callbacks": [handler]}
    )
    assert telemetry.span("chat gpt-4").attributes[semconv.SEMTRACE_USAGE_ENCODING] == "cl100k_base"


def test_tool_calls_count_as_output_tokens(telemetry: Telemetry, handler: CallbackHandler) -> None:
    reply = AIMessage(
        content="", tool_calls=[{"name": "lookup", "args": {"city": "Paris"}, "id": "c1"}]
    )
    fake_chat(reply).invoke("weather?", config={"callbacks": [handler]})
    enc = tiktoken.get_encoding("o200k_base")
    expected = len(enc.encode("lookup")) + len(enc.encode('{"city": "Paris"}'))
    assert (
        telemetry.span("chat gpt-4o-mini").attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS]
        == expected
    )


def test_count_tokens_false_omits_usage(telemetry: Telemetry) -> None:
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, count_tokens=False)
    fake_chat("ok").invoke("hi", config={"callbacks": [handler]})
    attrs = telemetry.span("chat gpt-4o-mini").attributes
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in attrs
    assert semconv.SEMTRACE_USAGE_SOURCE not in attrs


def test_env_var_turns_the_fallback_off(telemetry: Telemetry, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SEMTRACE_COUNT_TOKENS", "false")
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider)
    fake_chat("ok").invoke("hi", config={"callbacks": [handler]})
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in telemetry.span("chat gpt-4o-mini").attributes


def test_long_prompt_counted_in_the_background_gives_the_same_count(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    long_text = "Retrieved context sentence number {}. " * 1000
    prompt = long_text.format(*range(1000))
    fake_chat("ok").invoke(prompt, config={"callbacks": [handler]})
    enc = tiktoken.get_encoding("o200k_base")
    expected = 3 + 3 + len(enc.encode("user")) + len(enc.encode(prompt))
    assert (
        telemetry.span("chat gpt-4o-mini").attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == expected
    )


def _assembled_prompts() -> list[str]:
    """Prompts glued from Python's docs the ways RAG templates glue them."""
    import random
    from pydoc_data.topics import topics

    rng, names = random.Random(7), sorted(topics)
    prompts = []
    for glue in ("\n", "\n\n", ":\n", " \n", "\r\n", "\n\n\n", "\n  ", "\n\t"):
        for _ in range(12):
            chunks = [topics[rng.choice(names)][: rng.randint(50, 3000)] for _ in range(4)]
            prompts.append("Answer only from this context:" + glue + glue.join(chunks))
    return prompts


def test_line_wise_counting_matches_counting_the_whole_text() -> None:
    from pydoc_data.topics import topics

    from semtrace._telemetry.tokens import TokenCounter

    counter = TokenCounter()
    # 79 real documents (blank-line runs, indented code) and 96 prompts assembled from them.
    texts = [*topics.values(), *_assembled_prompts()]
    for model, encoding in (("gpt-4o", "o200k_base"), ("gpt-4", "cl100k_base")):
        enc = tiktoken.get_encoding(encoding)
        for text in texts:
            counted = counter.count_text(model, text)
            assert counted is not None and counted.tokens == len(enc.encode_ordinary(text)), text


def _lengths_encoded(monkeypatch: pytest.MonkeyPatch, seen: str, new: str) -> list[int]:
    """Lengths of the texts the encoder gets when ``new`` is counted after ``seen``."""
    from semtrace._telemetry import tokens
    from semtrace._telemetry.tokens import TokenCounter

    counter = TokenCounter()
    counter.count_text("gpt-4o", seen)
    encoded: list[int] = []
    real = tokens.get_encoding("o200k_base")

    class Spy:
        def encode_ordinary(self, text: str) -> list[int]:
            encoded.append(len(text))
            return real.encode_ordinary(text)

    monkeypatch.setattr(tokens, "get_encoding", lambda name: Spy())
    counter.count_text("gpt-4o", new)
    return encoded


def _chunks() -> str:
    """Three of Python's docs, titles left out: each starts with a paragraph of prose."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[t].split("\n\n", 1)[1] for t in ("with", "for", "try"))


def test_known_chunks_in_a_new_prompt_are_not_encoded_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    question = "A different question?\n\n"
    encoded = _lengths_encoded(monkeypatch, "Question one?\n\n" + _chunks(), question + _chunks())
    assert encoded == [len(question)], "only the new question should be encoded"


def test_a_known_chunk_glued_to_a_new_header_line_is_not_encoded_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    header = "Answer only from this context:\n"
    encoded = _lengths_encoded(monkeypatch, "Context:\n" + _chunks(), header + _chunks())
    assert encoded == [len(header)], "only the new header line should be encoded"


@pytest.mark.parametrize(
    ("seen_after", "new_after"),
    [("\n\n", ""), ("", "\n\n")],
    ids=["seen-mid-prompt-then-at-the-end", "seen-at-the-end-then-mid-prompt"],
)
def test_a_chunk_seen_with_or_without_its_separator_is_not_encoded_again(
    monkeypatch: pytest.MonkeyPatch, seen_after: str, new_after: str
) -> None:
    chunk = " ".join(_chunks().split())  # one long line, as many splitters cut them
    encoded = _lengths_encoded(monkeypatch, chunk + seen_after, chunk + new_after)
    assert sum(encoded) < 40, "only the last word or so should be encoded again"


@pytest.mark.parametrize("separator", ["\n", "\n\n", "\n\n\n"])
def test_counts_derived_from_a_chunk_with_or_without_its_separator_are_exact(
    separator: str,
) -> None:
    from pydoc_data.topics import topics

    from semtrace._telemetry.tokens import TokenCounter

    enc = tiktoken.get_encoding("o200k_base")
    # Python's docs end their paragraphs in words, punctuation, code and unicode alike.
    for text in list(topics.values())[:40]:
        body = text.rstrip("\n")
        for seen, new in ((body + separator, body), (body, body + separator)):
            counter = TokenCounter()
            counter.count_text("gpt-4o", seen)
            counted = counter.count_text("gpt-4o", new)
            assert counted is not None and counted.tokens == len(enc.encode_ordinary(new))


def test_line_pieces_are_cut_after_each_newline_a_non_space_follows() -> None:
    import random
    import re

    from semtrace._telemetry.tokens import _lines

    rule = re.compile(r"(?<=\n)(?=\S)")  # the specification, slow on long texts
    rng = random.Random(5)
    alphabet = ["\n", "\n", " ", "\t", "\r", "\u00a0", "\u2028", "\x1c", "a", "b."]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert _lines(text) == rule.split(text), repr(text)


def test_paragraph_pieces_are_cut_where_each_run_of_blank_lines_ends() -> None:
    import random
    import re

    from semtrace._telemetry.tokens import _paragraphs

    rule = re.compile(r"(?<=\n\n)(?=[^\n])")  # the specification, slow on long texts
    rng = random.Random(6)
    alphabet = ["\n", "\n", "\n", " ", "\r", "a", "b."]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert _paragraphs(text) == rule.split(text), repr(text)


def test_a_chunk_with_no_word_boundary_near_its_end_is_encoded_once_not_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chunk = "Python 3: " + "字" * 2000  # the only safe cut is near the start
    encoded = _lengths_encoded(monkeypatch, chunk + "\n\n", chunk)
    assert encoded == [len(chunk)]
