"""The quality checks as pure functions: each one's positives and negatives.

Degenerate output, agent behaviour, structured output, sensitive data, and the trace
diagnosis; the same checks on real framework runs are in
``tests/test_quality_checks_on_runs.py``.
"""

from __future__ import annotations

import json

import pytest
from semtrace.quality import agent, degenerate, diagnosis, sensitive, structured
from semtrace.quality.sensitive import SensitiveRule
from semtrace.records import ToolCallPart, ToolDefinition

LOOP = "The answer is that the function returns a list of the items. " * 6
PROSE = (
    "The with statement wraps the execution of a block with methods defined by a context "
    "manager. This lets common try, except and finally patterns be reused. The manager's "
    "enter method runs first; its exit method runs when the block finishes, even after an "
    "exception, and may suppress that exception by returning a true value."
)


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        pytest.param(LOOP, True, id="sentence-loop"),
        pytest.param(PROSE + " " + "and then " * 30, True, id="tail-loop"),
        pytest.param("答案是这个函数返回列表。" * 10, True, id="cjk-loop"),
        pytest.param(PROSE, False, id="prose"),
        pytest.param(
            "- `os.path.join`: joins paths\n- `os.path.split`: splits paths", False, id="list"
        ),
        pytest.param("```\n" + "x = 1\n" * 40 + "```\nThat sets x.", False, id="code-block"),
        pytest.param("Yes. Yes. Yes.", False, id="short"),
    ],
)
def test_repetition(answer: str, raised: bool) -> None:
    assert (degenerate.repetition(answer) is not None) is raised


@pytest.mark.parametrize(
    ("question", "answer", "raised"),
    [
        pytest.param(
            "What does the with statement do?",
            "Il enveloppe l'exécution d'un bloc avec les méthodes du gestionnaire de contexte.",
            True,
            id="en-fr",
        ),
        pytest.param(
            "What does the with statement do?",
            "Оператор with оборачивает выполнение блока методами менеджера контекста.",
            True,
            id="latin-cyrillic",
        ),
        pytest.param(
            "with 语句有什么作用\uff1f",
            "The with statement wraps a block with a context manager's methods.",
            True,
            id="han-latin",
        ),
        pytest.param(
            "Was macht die with-Anweisung?",
            "Sie umschließt die Ausführung eines Blocks mit den Methoden eines "
            "Kontextmanagers und ist sehr nützlich.",
            False,
            id="de-de",
        ),
        pytest.param("What does the with statement do?", PROSE, False, id="en-en"),
        pytest.param(
            "with文は何をしますか\uff1f",
            "with文はコンテキストマネージャのメソッドでブロックの実行を包みます。",
            False,
            id="ja-ja",
        ),
        pytest.param("What does `zip` do?", "`zip(*iterables)`", False, id="code-only"),
        # False alarms found on HaluEval: initials read as French elisions ("D.C."), and
        # English with "as a" read as Portuguese.
        pytest.param(
            "Howard University Hospital and Providence Hospital are both located where?",
            "Washington, D.C.",
            False,
            id="initials-en",
        ),
        pytest.param(
            "George Rogers Howell served in what office at one of the oldest museums?",
            "George Rogers Howell served as a museum curator.",
            False,
            id="as-a-en",
        ),
    ],
)
def test_language_mismatch(question: str, answer: str, raised: bool) -> None:
    assert (degenerate.language_mismatch(question, answer) is not None) is raised


@pytest.mark.parametrize(
    ("answer", "inputs", "kind"),
    [
        pytest.param(
            "Use key sk-abcdefghijklmnopqrstuvwx to call it.", "", "api_key", id="api-key"
        ),
        pytest.param("Write to jane.doe@example.com for access.", "", "email", id="email"),
        pytest.param("Call +1 415-555-0132 today.", "", "phone_number", id="phone"),
        pytest.param("The card is 4111 1111 1111 1111.", "", "card_number", id="card"),
        pytest.param("Pay to GB82 WEST 1234 5698 7654 32.", "", "iban", id="iban"),
        pytest.param(
            "Token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijk", "", "token", id="jwt"
        ),
        pytest.param(
            "Write to jane.doe@example.com.", "my mail is jane.doe@example.com", None, id="echoed"
        ),
        pytest.param("The number 4111 1111 1111 1112 fails Luhn.", "", None, id="not-luhn"),
        pytest.param("Python 3.12.1 was released on 2023-12-07.", "", None, id="version-date"),
        pytest.param("It returns 1234567890123.", "", None, id="long-int"),
    ],
)
def test_sensitive_output(answer: str, inputs: str, kind: str | None) -> None:
    found = sensitive.sensitive_output(answer, inputs)
    if kind is None:
        assert found is None
    else:
        assert found is not None and sensitive.kinds(found) == (kind,)
        secrets = [w.strip(".") for w in answer.split() if sum(c.isdigit() for c in w) > 2]
        assert not any(w in found.explanation for w in secrets)  # never the value


def test_sensitive_user_rules_by_pattern_and_callable() -> None:
    rules = (
        SensitiveRule("ticket", r"\bTCK-\d{6}\b"),
        SensitiveRule("codename", lambda text: "bluebird" in text.lower()),
    )
    found = sensitive.sensitive_output("TCK-123456 is Bluebird's.", "", rules)
    assert found is not None and sensitive.kinds(found) == ("ticket", "codename")
    assert sensitive.sensitive_output("TCK-123456", "ticket TCK-123456", rules[:1]) is None


def test_sensitive_rule_needs_a_pattern_or_callable() -> None:
    with pytest.raises(ValueError, match="pattern or a callable"):
        SensitiveRule("bad", 3)  # type: ignore[arg-type]


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("answer", "schema", "raised"),
    [
        pytest.param('{"name": "Ada", "age": 36}', SCHEMA, False, id="valid"),
        pytest.param(
            'Here it is: ```json\n{"name": "Ada", "age": 36}\n```',
            SCHEMA,
            False,
            id="fenced-in-prose",
        ),
        pytest.param('{"name": "Ada", "age": 36', SCHEMA, True, id="truncated"),
        pytest.param('{"name": "Ada"}', SCHEMA, True, id="missing-required"),
        pytest.param('{"name": "Ada", "age": "36"}', SCHEMA, True, id="wrong-type"),
        pytest.param('{"name": "Ada", "age": 36, "x": 1}', SCHEMA, True, id="extra-property"),
        pytest.param("Ada is 36.", None, True, id="prose"),
        pytest.param("[1, 2]", None, False, id="any-json"),
    ],
)
def test_invalid_json(answer: str, schema: object, raised: bool) -> None:
    assert (structured.invalid_json(answer, schema) is not None) is raised


TOOLS = [ToolDefinition("person", parameters=SCHEMA)]


@pytest.mark.parametrize(
    ("call", "raised"),
    [
        pytest.param(ToolCallPart("person", "1", {"name": "Ada", "age": 36}), False, id="valid"),
        pytest.param(
            ToolCallPart("person", "1", json.dumps({"name": "Ada", "age": 36})),
            False,
            id="json-string",
        ),
        pytest.param(ToolCallPart("person", "1", '{"name": "Ada", '), True, id="unparsable"),
        pytest.param(ToolCallPart("person", "1", {"name": "Ada"}), True, id="missing"),
        pytest.param(ToolCallPart("nobody", "1", {}), True, id="unknown-tool"),
    ],
)
def test_invalid_tool_calls(call: ToolCallPart, raised: bool) -> None:
    assert (structured.invalid_tool_calls([call], TOOLS) is not None) is raised


def test_schema_refs_and_any_of_are_followed() -> None:
    schema = {
        "$defs": {"Pet": {"type": "object", "required": ["kind"]}},
        "type": "object",
        "properties": {"pet": {"anyOf": [{"$ref": "#/$defs/Pet"}, {"type": "null"}]}},
    }
    assert structured.violation({"pet": None}, schema) is None
    assert structured.violation({"pet": {"kind": "cat"}}, schema) is None
    assert structured.violation({"pet": {}}, schema) is not None


def test_tool_loop_is_raised_once_at_the_limit_whatever_the_argument_order() -> None:
    tally = agent.ToolTally()
    found = [
        agent.repeated_call(tally, "search", {"q": "x", "n": 1}),
        agent.repeated_call(tally, "search", '{"n": 1, "q": "x"}'),
        agent.repeated_call(tally, "search", {"q": "y", "n": 1}),
        agent.repeated_call(tally, "search", {"n": 1, "q": "x"}),
        agent.repeated_call(tally, "search", {"n": 1, "q": "x"}),
    ]
    assert [f is not None for f in found] == [False, False, False, True, False]


class GraphRecursionError(RecursionError):
    pass


class MaxTurnsExceeded(Exception):  # the OpenAI Agents SDK's, by name
    pass


@pytest.mark.parametrize(
    ("error", "text", "raised"),
    [
        pytest.param(
            GraphRecursionError("Recursion limit of 25 reached"), None, True, id="langgraph"
        ),
        pytest.param(
            RuntimeError("Max iterations of 20 reached! Either..."), None, True, id="llamaindex"
        ),
        pytest.param(
            None, "Agent stopped due to iteration limit or time limit.", True, id="executor"
        ),
        pytest.param(MaxTurnsExceeded("Max turns (4) exceeded"), None, True, id="agents-sdk"),
        pytest.param(
            Exception("{'message': 'Max turns exceeded', 'data': {'max_turns': 4}}"),
            None,
            True,
            id="agents-sdk-span-status",
        ),
        pytest.param(ValueError("bad input"), None, False, id="other-error"),
        pytest.param(None, "The sum is 5.", False, id="answer"),
        pytest.param(None, "It returns the turns taken.", False, id="answer-with-turns"),
    ],
)
def test_step_limit(error: BaseException | None, text: str | None, raised: bool) -> None:
    assert (agent.step_limit(error, text) is not None) is raised


@pytest.mark.parametrize(
    ("output", "raised"),
    [
        pytest.param({"messages": [{"content": "The sum is 5."}]}, False, id="answered"),
        pytest.param({"messages": []}, True, id="no-messages"),
        pytest.param("", True, id="empty-string"),
        pytest.param({"output": "  "}, True, id="blank-output"),
        pytest.param({"unknown": 1}, False, id="unknowable"),
    ],
)
def test_no_final_answer(output: object, raised: bool) -> None:
    assert (agent.no_final_answer(output) is not None) is raised


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        pytest.param(
            ["groundedness", "retrieval_relevance"], "retrieval_miss", id="miss-before-unsupported"
        ),
        pytest.param(["non_answer", "answer_relevance"], "refusal", id="refusal-before-off-topic"),
        pytest.param(["truncated", "repetition"], "degenerate", id="loop-before-truncation"),
        pytest.param(["invalid_format", "truncated"], "truncated", id="truncation-before-format"),
        pytest.param(["no_final_answer", "step_limit"], "step_limit", id="limit-before-no-answer"),
        pytest.param(["tool_error", "tool_loop"], "agent_loop", id="loop-before-tool-error"),
        pytest.param(["groundedness", "sensitive_output"], "sensitive_output", id="leak-first"),
        pytest.param(["sensitive_output", "error"], "error", id="error-first"),
        pytest.param(["my_evaluator"], None, id="user-evaluators-ignored"),
    ],
)
def test_diagnosis_precedence(signals: list[str], expected: str | None) -> None:
    findings: diagnosis.Findings = {}
    for i, signal in enumerate(signals):
        diagnosis.note(findings, signal, i + 1)
    found = diagnosis.diagnose(findings)
    assert (found[0] if found else None) == expected


def test_diagnosis_points_at_the_first_span_it_arose_on() -> None:
    findings: diagnosis.Findings = {}
    diagnosis.note(findings, "answer_relevance", 7)
    diagnosis.note(findings, "answer_relevance", 9)
    assert diagnosis.diagnose(findings) == ("off_topic", "answer_relevance", 7)


def test_every_signal_maps_to_a_ranked_diagnosis() -> None:
    assert set(diagnosis.SIGNALS.values()) <= set(diagnosis.PRECEDENCE)


CONTEXT = [
    "Return a new list containing all items from the iterable in ascending order. "
    "The key argument is not required. Added in version 2.4 with a default of 64."
]


@pytest.mark.parametrize(
    ("answer", "novel", "contradicted"),
    [
        pytest.param("It gives back a new list of the items, ascending.", 0, 0, id="paraphrase"),
        pytest.param("It gives back a new list; pass `reverse_all=True`.", 1, 0, id="name"),
        pytest.param("Added in version 2.6 with a default of 64.", 1, 0, id="number"),
        pytest.param("The key argument is required.", 0, 1, id="negation-dropped"),
        pytest.param(
            "Return a new list with all items of the iterable in descending order.", 0, 1,
            id="antonym",
        ),
        pytest.param("What does `sorted` do? It returns a new list.", 0, 0, id="name-in-question"),
    ],
)  # fmt: skip
def test_claims(answer: str, novel: int, contradicted: int) -> None:
    from semtrace.quality import claims

    found = claims.check(answer, CONTEXT, question="What does `sorted` do?")
    assert (found.novel, found.contradicted) == (novel, contradicted)
