from __future__ import annotations

import dataclasses
import importlib.util
import time
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from semtrace.quality import claims
from semtrace.quality.scoring import (
    _MODELS,
    FAIL_BELOW,
    KINDS,
    MAX_CONTEXT_CHARS,
    PASS_FROM,
    Score,
    _scaled,
    answer_relevance,
    groundedness,
    is_non_answer,
    retrieval_relevance,
)

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "benchmarks" / "data" / "quality_cases.jsonl"

WITH_DOC = (
    'The "with" statement is used to wrap the execution of a block with methods defined '
    "by a context manager. This allows common try/except/finally usage patterns to be "
    "encapsulated for convenient reuse. The context manager's __enter__() method is "
    "invoked before the block and __exit__() after it."
)
FOR_DOC = (
    'The "for" statement is used to iterate over the elements of a sequence (such as a '
    "string, tuple or list) or other iterable object. The suite is executed once for each "
    "item provided by the iterator, in the order returned by the iterator."
)
LAMBDA_DOC = (
    "Lambda expressions (sometimes called lambda forms) are used to create anonymous "
    "functions. The expression lambda parameters: expression yields a function object."
)


def _load_auroc_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "quality_auroc_script", ROOT / "benchmarks" / "quality" / "auroc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- Score ---------------------------------------------------------------------------


def test_score_is_immutable() -> None:
    score = Score(0.5, "half")
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.value = 1.0  # type: ignore[misc]


# --- retrieval_relevance -------------------------------------------------------------


@pytest.mark.parametrize(
    "documents",
    [
        pytest.param([], id="no-documents"),
        pytest.param(["", "   \n\t"], id="blank-documents"),
    ],
)
def test_retrieval_relevance_is_zero_without_documents(documents: list[str]) -> None:
    score = retrieval_relevance("What does the `with` statement do?", documents)
    assert score.value == 0.0
    assert "no documents" in score.explanation


@pytest.mark.parametrize(
    ("query", "right", "wrong"),
    [
        pytest.param("What does the `with` statement do?", WITH_DOC, FOR_DOC, id="with"),
        pytest.param("How do I iterate over a sequence?", FOR_DOC, WITH_DOC, id="for"),
        pytest.param("What are lambdas in Python?", LAMBDA_DOC, FOR_DOC, id="lambda"),
    ],
)
def test_retrieval_relevance_ranks_the_matching_document_above_an_unrelated_one(
    query: str, right: str, wrong: str
) -> None:
    assert retrieval_relevance(query, [right]).value > retrieval_relevance(query, [wrong]).value


def test_retrieval_relevance_counts_a_backticked_keyword_even_if_it_is_a_stopword() -> None:
    # Without the marked `with`, the only term left would be "statement", in both docs.
    query = "What does the `with` statement do?"
    assert (
        retrieval_relevance(query, [WITH_DOC]).value > retrieval_relevance(query, [FOR_DOC]).value
    )


def test_retrieval_relevance_explanation_counts_terms_without_quoting_the_query() -> None:
    # Explanations are recorded even with content capture off: no query words in them.
    score = retrieval_relevance("How do generators suspend execution?", [FOR_DOC])
    assert "query terms found" in score.explanation
    assert "generators" not in score.explanation


def test_retrieval_relevance_treats_a_bare_string_as_one_document() -> None:
    as_list = retrieval_relevance("context manager", [WITH_DOC])
    as_str = retrieval_relevance("context manager", WITH_DOC)
    assert as_str == as_list


def test_retrieval_relevance_ignores_documents_beyond_the_context_cap() -> None:
    filler = "unrelated filler words " * (MAX_CONTEXT_CHARS // 10)
    score = retrieval_relevance("anonymous lambda functions", [filler, LAMBDA_DOC])
    assert score.value == 0.0


# --- groundedness --------------------------------------------------------------------


def test_groundedness_is_high_when_answer_sentences_come_from_context() -> None:
    answer = (
        "The with statement is used to wrap the execution of a block with methods defined "
        "by a context manager. The __enter__() method is invoked before the block."
    )
    score = groundedness(answer, [WITH_DOC])
    assert score.value >= 0.8
    assert "weakest sentence 100% supported" in score.explanation


def test_groundedness_is_low_when_answer_sentences_are_not_in_context() -> None:
    answer = (
        "The with statement compiles the block ahead of time into machine code. It caches "
        "every network request in a global registry keyed by thread identifier."
    )
    score = groundedness(answer, [WITH_DOC])
    assert score.value < FAIL_BELOW
    assert "weakest sentence 0% supported" in score.explanation


def test_groundedness_drops_when_one_sentence_is_unsupported() -> None:
    grounded = "The with statement is used to wrap the execution of a block with methods."
    invented = "It also spawns a background thread that garbage-collects sockets hourly."
    clean = groundedness(grounded, [WITH_DOC]).value
    mixed = groundedness(f"{grounded} {invented}", [WITH_DOC]).value
    assert mixed < clean


def test_groundedness_is_zero_without_context() -> None:
    assert groundedness("The with statement wraps a block.", []).value == 0.0


@pytest.mark.parametrize(
    "answer", ["", "   ", "Yes.", "?!"], ids=["empty", "blank", "yes", "punct"]
)
def test_groundedness_is_vacuously_one_when_answer_has_no_content_words(answer: str) -> None:
    assert groundedness(answer, [WITH_DOC]).value == 1.0


def test_groundedness_matches_inflected_forms() -> None:
    plural = "Lambda expressions create anonymous functions and yield function objects."
    singular = "Lambda expression creates anonymous function and yields function object."
    score = groundedness(plural, [LAMBDA_DOC]).value
    assert score == groundedness(singular, [LAMBDA_DOC]).value
    assert score >= PASS_FROM


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_scores_a_verbatim_answer_one_and_an_unrelated_one_near_zero(kind: str) -> None:
    verbatim = "The with statement is used to wrap the execution of a block."
    unrelated = "Penguins migrate thousands of kilometres across frozen seas every winter."
    assert groundedness(verbatim, [WITH_DOC], kind=kind).value == 1.0
    assert groundedness(unrelated, [WITH_DOC], kind=kind).value < 0.05


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_maps_its_cut_points_onto_the_default_thresholds(kind: str) -> None:
    model = _MODELS[kind]
    assert _scaled(model, model.fail_at) == pytest.approx(FAIL_BELOW)
    assert _scaled(model, model.pass_at) == pytest.approx(PASS_FROM)
    points = [model.fail_at - 2, model.fail_at, model.pass_at, model.pass_at + 1, 50.0]
    values = [_scaled(model, z) for z in points]
    assert values == sorted(values) and values[-1] == 1.0


def test_a_name_the_source_does_not_hold_lowers_a_summary() -> None:
    source = "The company, based in Delhi, opened its third office last year. " * 2
    faithful = groundedness("The company is based in Delhi.", [source], kind="summary")
    moved = groundedness("The company is based in Mumbai.", [source], kind="summary")
    assert "1 new name(s)" in moved.explanation
    assert moved.value < faithful.value


def test_a_number_the_source_spells_out_is_not_invented() -> None:
    source = "She won five golds at the games and retired the year after."
    assert claims.check("She won 5 golds.", [source]).novel == 0
    assert claims.check("She won 6 golds.", [source]).novel == 1


def test_a_negation_elsewhere_in_the_aligned_sentence_is_no_contradiction() -> None:
    source = (
        "The striker scored twice in the final, although he did not start the match "
        "and came on after an hour."
    )
    assert claims.check("The striker scored twice in the final.", [source]).contradicted == 0


def test_a_negated_claim_contradicts_the_source() -> None:
    source = "The with statement is used to wrap the execution of a block."
    answer = "The with statement is not used to wrap the execution of a block."
    assert claims.check(answer, [source]).contradicted == 1


# --- answer_relevance ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        pytest.param("What are lambdas?", LAMBDA_DOC, id="lambda"),
        pytest.param("What does the `for` statement do?", FOR_DOC, id="for-marked-keyword"),
    ],
)
def test_answer_relevance_is_high_when_answer_addresses_the_question(
    question: str, answer: str
) -> None:
    assert answer_relevance(question, answer).value >= 0.5


def test_answer_relevance_is_low_for_an_answer_about_something_else() -> None:
    assert answer_relevance("What are lambdas?", FOR_DOC).value < 0.2


def test_answer_relevance_caps_refusals_even_when_they_name_the_subject() -> None:
    score = answer_relevance("What are lambdas?", "I don't know what lambdas are.")
    assert score.value <= 0.1
    assert "refusal" in score.explanation


def test_answer_relevance_is_zero_for_an_empty_answer() -> None:
    assert answer_relevance("What are lambdas?", "  ").value == 0.0


def test_answer_relevance_ignores_question_framing_words() -> None:
    # "explain" and "work" say nothing about the subject; only "lambdas" must match.
    assert answer_relevance("Explain how lambdas work.", LAMBDA_DOC).value == 1.0


# --- is_non_answer -------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "I don't know.",
        "I do not know the answer to that.",
        "I\u2019m not sure, the documents are unclear.",
        "Sorry, I can't help with that.",
        "I cannot answer this question based on the provided context.",
        "The provided context does not mention generators.",
        "The retrieved passages don't contain any information about asyncio.",
        "There is no information about decorators in the documents.",
        "This topic is not mentioned in the given context.",
        "I don't have enough information to answer.",
        "Insufficient context to determine the behaviour.",
        "As an AI, I have no access to that.",
        "Unknown.",
        "",
        "   ",
    ],
)
def test_is_non_answer_flags_refusals(answer: str) -> None:
    assert is_non_answer(answer)


@pytest.mark.parametrize(
    "answer",
    [
        LAMBDA_DOC,
        "Functions created with lambda expressions cannot contain statements or annotations.",
        "Code objects don't contain a reference to their global execution environment.",
        "Numeric literals do not include a sign; -1 is an expression.",
        "If the key is not found, a KeyError is raised.",
        "The interpreter cannot find the module, so ModuleNotFoundError is raised.",
        "No, a tuple is immutable.",
    ],
)
def test_is_non_answer_does_not_flag_real_answers_with_negations(answer: str) -> None:
    assert not is_non_answer(answer)


def test_is_non_answer_only_looks_at_the_opening_of_the_answer() -> None:
    answer = f"{LAMBDA_DOC * 10} I don't know more than that."
    assert not is_non_answer(answer)


# --- robustness ----------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    question=st.text(max_size=200),
    answer=st.text(max_size=400),
    contexts=st.lists(st.text(max_size=300), max_size=4),
)
def test_scorers_never_raise_and_stay_in_unit_interval(
    question: str, answer: str, contexts: list[str]
) -> None:
    for score in (
        retrieval_relevance(question, contexts),
        groundedness(answer, contexts),
        answer_relevance(question, answer),
    ):
        assert 0.0 <= score.value <= 1.0
        assert score.explanation
    assert isinstance(is_non_answer(answer), bool)


def test_scorers_handle_non_ascii_text() -> None:
    doc = "Die „with“-Anweisung umschließt einen Block. 上下文管理器定义了运行时上下文。"
    answer = "Die with-Anweisung umschließt einen Block."
    assert groundedness(answer, [doc]).value > 0.8
    assert retrieval_relevance("Was macht die „with“-Anweisung?", [doc]).value > 0.3


def test_scorers_are_bounded_on_huge_inputs() -> None:
    huge = "word " * 500_000
    start = time.perf_counter()
    retrieval_relevance(huge, [huge] * 1_000)
    groundedness(huge, [huge] * 1_000)
    answer_relevance(huge, huge)
    is_non_answer(huge)
    assert time.perf_counter() - start < 2.0


def test_scores_are_deterministic() -> None:
    args = ("What does the `with` statement do?", [WITH_DOC, FOR_DOC])
    assert retrieval_relevance(*args) == retrieval_relevance(*args)


# --- labelled set --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("positives", "negatives", "expected"),
    [
        pytest.param([0.9, 0.8], [0.1, 0.2], 1.0, id="separated"),
        pytest.param([0.1, 0.2], [0.9, 0.8], 0.0, id="inverted"),
        pytest.param([0.5, 0.5], [0.5, 0.5], 0.5, id="all-tied"),
        pytest.param([0.9, 0.3], [0.5], 0.5, id="half"),
    ],
)
def test_auroc_helper_matches_hand_computed_values(
    positives: list[float], negatives: list[float], expected: float
) -> None:
    assert _load_auroc_script().auroc(positives, negatives) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("signal", "negative_variant"),
    [
        pytest.param("retrieval_relevance", "wrong_context", id="retrieval-vs-wrong-context"),
        pytest.param("groundedness", "unsupported_answer", id="groundedness-vs-unsupported"),
    ],
)
def test_labelled_set_auroc_meets_target(signal: str, negative_variant: str) -> None:
    script = _load_auroc_script()
    cases = script.load(CASES)
    assert len(cases) >= 120
    scores = {signal: [script.SIGNALS[signal](c) for c in cases]}
    assert script.signal_auroc(cases, scores, signal, negative_variant) >= 0.9
