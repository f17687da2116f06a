"""What an answer is judged against: the kind of grounding and its source, from the prompt."""

from __future__ import annotations

import pytest
from semtrace import Settings
from semtrace.quality import grounding
from semtrace.records import Message, TextPart

ARTICLE = (
    "The city council approved the new budget on Monday after a long debate. The plan "
    "raises spending on schools by four percent and cuts the roads budget."
)
PASSAGE = "The with statement wraps the execution of a block with methods of a context manager."


def msg(role: str, text: str) -> Message:
    return Message(role, [TextPart(text)])


def test_retrieved_passages_in_the_prompt_are_a_question_answered_over_them() -> None:
    prompt = [msg("user", f"Context:\n{PASSAGE}\n\nQuestion: What does with do?")]
    found = grounding.find(prompt, [PASSAGE], "What does with do?")
    assert found == grounding.Grounding("qa", [PASSAGE], "What does with do?")


def test_retrieved_passages_the_prompt_does_not_carry_are_not_the_source() -> None:
    prompt = [msg("user", "What does with do?")]
    assert grounding.find(prompt, [PASSAGE], "What does with do?") is None


def test_retrieved_passages_asked_to_be_summarised_are_a_summary() -> None:
    prompt = [msg("user", f"Summarize the following text.\n\n{ARTICLE}")]
    found = grounding.find(prompt, [ARTICLE], "Summarize the article.")
    assert found is not None and found.kind == "summary" and found.sources == [ARTICLE]


def test_a_text_pasted_with_an_instruction_to_summarise_is_a_summary_of_the_prompt() -> None:
    prompt = [msg("system", "You are a news editor."), msg("user", f"TL;DR:\n{ARTICLE}")]
    found = grounding.find(prompt, [], None)
    assert found is not None and found.kind == "summary"
    assert ARTICLE in found.sources[0]


def test_an_instruction_to_summarise_with_no_text_has_no_source() -> None:
    assert grounding.find([msg("user", "Summarize our chat.")], [], None) is None


@pytest.mark.parametrize(
    "system",
    [
        f"Use this knowledge to reply: {ARTICLE}",
        f"Context information is below.\n---\n{ARTICLE}",
        f"Answer from the following documents only. {ARTICLE}",
    ],
    ids=["knowledge-colon", "context-below", "following-documents"],
)
def test_knowledge_handed_over_in_a_system_message_grounds_a_chat_turn(system: str) -> None:
    prompt = [msg("system", system), msg("user", "no way, schools got more?")]
    found = grounding.find(prompt, [], None)
    assert found == grounding.Grounding("dialogue", [system], "no way, schools got more?")


def test_a_system_prompt_of_instructions_alone_grounds_nothing() -> None:
    system = (
        "You are a helpful assistant. Use the information the user gives you to answer "
        "helpfully and concisely, citing facts where possible."
    )
    assert grounding.find([msg("system", system), msg("user", "Hi!")], [], None) is None


def test_a_forced_kind_replaces_the_guess() -> None:
    prompt = [msg("user", f"Context:\n{PASSAGE}\n\nQuestion: What does with do?")]
    found = grounding.find(prompt, [PASSAGE], "What does with do?", forced="dialogue")
    assert found is not None and found.kind == "dialogue" and found.sources == [PASSAGE]


def test_a_forced_kind_judges_the_prompt_itself_when_nothing_else_is_found() -> None:
    prompt = [msg("user", f"Here are my notes, reply to them. {ARTICLE}")]
    assert grounding.find(prompt, [], None) is None
    found = grounding.find(prompt, [], None, forced="qa")
    assert found is not None and found.kind == "qa" and ARTICLE in found.sources[0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Summarize the article in three sentences.", True),
        ("What are the key points of the report?", True),
        ("tl;dr please", True),
        ("What does the with statement do?", False),
        ("Who won the summit's award?", False),
    ],
)
def test_an_instruction_to_summarise_is_told_from_a_question(query: str, expected: bool) -> None:
    assert grounding.is_instruction(query) is expected


def test_settings_reject_an_unknown_grounding_kind() -> None:
    with pytest.raises(ValueError, match="grounding must be one of"):
        Settings(grounding="essay")


def test_settings_read_the_grounding_kind_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEMTRACE_GROUNDING", "Summary")
    assert Settings.resolve().grounding == "summary"
    monkeypatch.setenv("SEMTRACE_GROUNDING", "essay")
    assert Settings.resolve().grounding == "auto"
    assert Settings.resolve(grounding="dialogue").grounding == "dialogue"
