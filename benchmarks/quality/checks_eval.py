"""Precision and recall of the second-generation checks on labelled sets built here.

The natural text is the standard library's own documentation (``inspect.getdoc`` of the
public functions of ~40 stdlib modules, text semtrace did not write). Positives are built
from it by the failure each check is for; negatives are the text as it is, plus the
look-alikes each check must not flag (lists and tables for repetition, version numbers
and dates for sensitive output, JSON in prose for structured output...). Everything is
seeded, so a re-run gives the same sets and figures.

Run: ``uv run python benchmarks/quality/checks_eval.py``
"""

# ruff: noqa: RUF001  (foreign-language sample text: its punctuation and letters are the point)
from __future__ import annotations

import importlib
import inspect
import json
import random
import sys
from collections.abc import Callable, Iterator
from typing import Any

from semtrace.quality import agent, degenerate, sensitive, structured

MODULES = (
    "os", "os.path", "json", "re", "itertools", "functools", "collections", "shutil",
    "subprocess", "string", "textwrap", "datetime", "random", "statistics", "math", "heapq",
    "bisect", "pathlib", "glob", "fnmatch", "tempfile", "zipfile", "tarfile", "csv", "base64",
    "hashlib", "hmac", "secrets", "uuid", "urllib.parse", "html", "shlex", "difflib",
    "calendar", "time", "threading", "queue", "logging", "argparse", "inspect", "operator",
    "copy", "pprint", "struct", "codecs", "io", "gzip", "sqlite3", "socket", "select",
)  # fmt: skip
Labelled = list[tuple[bool, bool]]  # (is positive, was flagged)


def docstrings(min_words: int = 30, limit: int = 400) -> list[tuple[str, str]]:
    """(qualified name, docstring) of public stdlib callables, deterministic order."""
    out: list[tuple[str, str]] = []
    for module_name in MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in sorted(dir(module)):
            if name.startswith("_"):
                continue
            obj = getattr(module, name, None)
            if not callable(obj):
                continue
            doc = inspect.getdoc(obj) or ""
            if len(doc.split()) >= min_words and doc not in (d for _, d in out):
                out.append((f"{module_name}.{name}", doc))
    return out[:limit]


def prose(doc: str) -> str:
    """The docstring's paragraphs that read as prose (signature lines left out)."""
    paragraphs = [p for p in doc.split("\n\n") if p and not p.lstrip().startswith((">>>", "..."))]
    return " ".join(" ".join(p.split()) for p in paragraphs)


# --- repetition ---


def repetition_set(docs: list[tuple[str, str]]) -> Iterator[tuple[bool, str]]:
    rng = random.Random("repetition")
    for _, doc in docs:
        text = prose(doc)
        words = text.split()
        yield False, doc  # as written: lists, tables, signatures and all
        # A loop: the model repeats a span of its own answer until it stops.
        start = rng.randrange(0, max(1, len(words) - 12))
        span = " ".join(words[start : start + rng.randint(4, 15)])
        head = " ".join(words[: rng.randint(10, max(11, len(words)))])
        yield True, head + " " + " ".join([span] * rng.randint(4, 12))
    for i in range(20):  # scripts without spaces
        unit = "该函数返回一个新的列表。"[: 4 + i % 8]
        yield True, "答案如下：" + unit * (6 + i)
        yield False, "该函数返回一个新的列表，其中包含输入序列中满足条件的元素，顺序保持不变。" * 1


# --- language ---

FOREIGN = {
    "fr": "La fonction {f} renvoie une nouvelle liste avec les éléments qui sont dans la séquence.",
    "de": "Die Funktion {f} gibt eine neue Liste mit den Elementen zurück, die in der Folge sind.",
    "es": "La función {f} devuelve una nueva lista con los elementos que están en la secuencia.",
    "it": "La funzione {f} restituisce una nuova lista con gli elementi che sono nella sequenza.",
    "pt": "A função {f} retorna uma nova lista com os elementos que estão na sequência.",
    "nl": "De functie {f} geeft een nieuwe lijst terug met de elementen die in de reeks zijn.",
    "ru": "Функция {f} возвращает новый список с элементами, которые есть в последовательности.",
    "zh": "函数 {f} 返回一个新列表，其中包含序列中的元素。",
    "ja": "関数 {f} は、シーケンス内の要素を含む新しいリストを返します。",
    "ko": "함수 {f}는 시퀀스에 있는 요소를 포함하는 새 목록을 반환합니다.",
    "ar": "تعيد الدالة {f} قائمة جديدة تحتوي على العناصر الموجودة في التسلسل.",
    "el": "Η συνάρτηση {f} επιστρέφει μια νέα λίστα με τα στοιχεία της ακολουθίας.",
}
QUESTIONS = {
    "en": "What does {f} return, and when should I use it?",
    "fr": "Que renvoie la fonction {f} et quand faut-il l'utiliser ?",
    "de": "Was gibt die Funktion {f} zurück und wann sollte ich sie verwenden?",
    "es": "¿Qué devuelve la función {f} y cuándo debo usarla?",
    "ru": "Что возвращает функция {f} и когда её использовать?",
    "zh": "函数 {f} 返回什么？什么时候应该使用它？",
    "ja": "関数 {f} は何を返しますか？いつ使うべきですか？",
}


def language_set(docs: list[tuple[str, str]]) -> Iterator[tuple[bool, str, str]]:
    rng = random.Random("language")
    for name, doc in docs:
        f = f"`{name.rsplit('.', 1)[-1]}`"
        question = QUESTIONS["en"].format(f=f)
        yield False, question, prose(doc)  # English question, English answer
        lang = rng.choice(sorted(FOREIGN))
        yield True, question, FOREIGN[lang].format(f=f)
        qlang = rng.choice(sorted(set(QUESTIONS) - {"en"}))
        same = qlang if qlang in FOREIGN else "fr"
        if same == qlang:
            yield False, QUESTIONS[qlang].format(f=f), FOREIGN[qlang].format(f=f)
        yield True, QUESTIONS[qlang].format(f=f), prose(doc)  # foreign question, English answer


# --- structured output ---

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "module": {"type": "string"},
        "arguments": {"type": "array", "items": {"type": "string"}},
        "returns_list": {"type": "boolean"},
    },
    "required": ["name", "module", "returns_list"],
    "additionalProperties": False,
}


def structured_set(docs: list[tuple[str, str]]) -> Iterator[tuple[bool, str]]:
    rng = random.Random("structured")
    for name, doc in docs:
        module, _, func = name.rpartition(".")
        value = {"name": func, "module": module, "arguments": doc.split()[:2],
                 "returns_list": "list" in doc}  # fmt: skip
        text = json.dumps(value, indent=rng.choice([None, 2]))
        yield False, text
        yield False, f"Here is the JSON:\n```json\n{text}\n```"
        broken = rng.choice(("cut", "missing", "type", "extra", "prose"))
        if broken == "cut":
            yield True, text[: rng.randint(5, len(text) - 2)]
        elif broken == "missing":
            yield True, json.dumps({k: v for k, v in value.items() if k != "module"})
        elif broken == "type":
            yield True, json.dumps({**value, "returns_list": "yes"})
        elif broken == "extra":
            yield True, json.dumps({**value, "summary": doc[:40]})
        else:
            yield True, prose(doc)[:200]


# --- sensitive output ---


def _card(rng: random.Random) -> str:
    digits = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    bban = "".join(str(rng.randint(0, 9)) for _ in range(18))
    moved = bban + "".join(str(int(c, 36)) for c in "DE") + "00"
    check = 98 - int(moved) % 97
    return f"DE{check:02d}{bban}"


def _secret(kind: str, rng: random.Random) -> str:
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    if kind == "email":
        user = rng.choice(["ops", "jane.doe", "admin", "b.smith"])
        return f"{user}@{rng.choice(['corp', 'example-mail', 'internal'])}.com"
    if kind == "phone_number":
        return f"+1 {rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
    if kind == "card_number":
        return _card(rng)
    if kind == "iban":
        return _iban(rng)
    if kind == "api_key":
        return "sk-" + "".join(rng.choice(alnum) for _ in range(32))
    return (
        "eyJhbGciOiJIUzI1NiJ9." + "".join(rng.choice(alnum) for _ in range(24)) + ".sig_abcdefghij"
    )


def sensitive_set(docs: list[tuple[str, str]]) -> Iterator[tuple[bool, str, str]]:
    rng = random.Random("sensitive")
    kinds = ("email", "phone_number", "card_number", "iban", "api_key", "token")
    for _, doc in docs:
        text = prose(doc)[:600]
        yield False, text, ""  # docs hold numbers, versions, dates, hex, paths
        secret = _secret(rng.choice(kinds), rng)
        leaked = f"{text} For access, use {secret}."
        yield True, leaked, ""
        yield False, leaked, f"My details: {secret}"  # the user gave it: an echo, no leak
        yield (
            False,
            f"{text} See version 3.{rng.randint(0, 13)}.{rng.randint(0, 9)} "
            f"released 20{rng.randint(10, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}, "
            f"issue #{rng.randint(1000, 99999)}, port {rng.randint(1024, 65535)}.",
            "",
        )


# --- agents ---


def agent_sets() -> dict[str, Labelled]:
    rng = random.Random("agents")
    loops: Labelled = []
    for i in range(100):
        tally = agent.ToolTally()
        looping = i % 2 == 0
        flagged = False
        for step in range(rng.randint(3, 8)):
            args = {"query": f"q{i}", "page": 1} if looping else {"query": f"q{i}", "page": step}
            if rng.random() < 0.5:
                args = json.dumps(dict(reversed(list(args.items()))))  # type: ignore[assignment]
            flagged |= agent.repeated_call(tally, "search", args) is not None
        loops.append((looping, flagged))
    limits: Labelled = []
    positives: list[tuple[BaseException | None, str | None]] = [
        (RecursionError(f"Recursion limit of {n} reached without hitting a stop condition."), None)
        for n in range(5, 30)
    ] + [(RuntimeError(f"Max iterations of {n} reached!"), None) for n in range(5, 30)]
    positives += [(None, "Agent stopped due to iteration limit or time limit.")] * 10
    negatives: list[tuple[BaseException | None, str | None]] = [
        (ValueError(f"invalid literal for int() with base 10: '{n}'"), None) for n in range(25)
    ] + [(None, f"The maximum of the {n} values is {n * 3}.") for n in range(25)]
    negatives += [(KeyError("max_iterations"), None), (None, "Set max_iterations to 10.")]
    limits += [(True, agent.step_limit(e, t) is not None) for e, t in positives]
    limits += [(False, agent.step_limit(e, t) is not None) for e, t in negatives]
    finals: Labelled = []
    for i in range(50):
        finals.append(
            (False, agent.no_final_answer({"messages": [{"content": f"It is {i}."}]}) is not None)
        )
        finals.append(
            (
                True,
                agent.no_final_answer({"messages": [{"content": "", "tool_calls": [1]}]})
                is not None,
            )
        )
        finals.append((True, agent.no_final_answer(" " * (i % 3)) is not None))
    return {"tool_loop": loops, "step_limit": limits, "no_final_answer": finals}


def score(labelled: Labelled) -> tuple[float, float, int, int]:
    tp = sum(p and f for p, f in labelled)
    fp = sum(f and not p for p, f in labelled)
    fn = sum(p and not f for p, f in labelled)
    positives = sum(p for p, _ in labelled)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), positives, len(labelled) - positives


def evaluate() -> dict[str, Labelled]:
    docs = docstrings()
    flag: Callable[[Any], bool] = lambda e: e is not None  # noqa: E731
    out: dict[str, Labelled] = {
        "repetition": [(p, flag(degenerate.repetition(t))) for p, t in repetition_set(docs)],
        "language_mismatch": [
            (p, flag(degenerate.language_mismatch(q, a))) for p, q, a in language_set(docs)
        ],
        "invalid_format": [
            (p, flag(structured.invalid_json(t, SCHEMA))) for p, t in structured_set(docs)
        ],
        "sensitive_output": [
            (p, flag(sensitive.sensitive_output(a, given))) for p, a, given in sensitive_set(docs)
        ],
    }
    out.update(agent_sets())
    return out


def main() -> int:
    results = evaluate()
    print(f"{len(docstrings())} stdlib docstrings\n")
    print("| signal | positives | negatives | precision | recall |")
    print("|---|---:|---:|---:|---:|")
    for name, labelled in results.items():
        precision, recall, pos, neg = score(labelled)
        print(f"| {name} | {pos} | {neg} | {precision:.3f} | {recall:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
