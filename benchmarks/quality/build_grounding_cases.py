"""Build the harder groundedness set: on-topic fabrication over stdlib docstrings.

The context is a function's docstring from the installed Python's standard library (text
semtrace did not write), with a sibling function's docstring as a second retrieved chunk.
Every case answers "What does `module.function` do?" from two of the docstring's
sentences, in one of five variants:

* ``good`` (label 1): the sentences paraphrased (synonyms, reordered, softened).
* ``invented`` (0): the paraphrase with an invented identifier, parameter, version or
  number: one of the docstring's own replaced, or one added.
* ``negated`` (0): the paraphrase with one claim negated or reversed (a ``not`` added or
  dropped, an antonym swapped in: true/false, before/after, first/last...).
* ``added_claim`` (0): the paraphrase plus a claim the context never makes: a sentence of
  the sibling's docstring, told about this function.

Unsupported answers go through the same paraphrasing as good ones, so they keep the
context's vocabulary and style. Seeded by function name: a re-run gives the same file.

Run: ``uv run python benchmarks/quality/build_grounding_cases.py``
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checks_eval import docstrings, prose

OUT = Path(__file__).resolve().parent.parent / "data" / "grounding_cases.jsonl"
VARIANTS = ("good", "invented", "negated", "added_claim")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\"])")
SYNONYMS = {
    "returns": "gives back", "return": "give back", "returned": "given back",
    "specified": "given", "specify": "give", "argument": "parameter",
    "arguments": "parameters", "raises": "throws", "raised": "thrown", "contains": "holds",
    "contain": "hold", "creates": "makes", "create": "make", "created": "made",
    "provided": "supplied", "removes": "deletes", "remove": "delete", "only": "just",
    "called": "invoked", "calls": "invokes", "obtain": "get", "whether": "if",
    "instead": "rather", "used": "employed", "uses": "employs", "must": "has to",
    "similar": "alike", "large": "big", "small": "little",
    "useful": "handy", "usually": "normally", "typically": "normally", "each": "every",
    "given": "supplied", "object": "instance", "objects": "instances",
}  # fmt: skip
ANTONYMS = {
    "true": "false", "false": "true", "before": "after", "after": "before", "first": "last",
    "last": "first", "minimum": "maximum", "maximum": "minimum", "ascending": "descending",
    "descending": "ascending", "increase": "decrease", "decrease": "increase",
    "include": "exclude", "includes": "excludes", "always": "never", "never": "always",
    "smaller": "larger", "larger": "smaller", "less": "more", "more": "fewer",
    "start": "end", "beginning": "end", "end": "beginning", "left": "right",
    "right": "left", "upper": "lower", "lower": "upper", "positive": "negative",
    "negative": "positive", "absolute": "relative", "relative": "absolute",
    "success": "failure", "same": "different", "different": "same", "empty": "non-empty",
    "all": "none", "new": "existing", "existing": "new", "shorter": "longer",
    "longer": "shorter", "blocking": "non-blocking", "synchronous": "asynchronous",
}  # fmt: skip
AUXILIARIES = ("is", "are", "can", "will", "does", "do", "should", "may", "must", "was", "has")
NEGATIONS = re.compile(r"\b(?:is|are|can|will|does|do|should|may|must|was|has) not\b|n't\b")
_CODE = re.compile(r"`[^`]+`|\b\w+(?:\.\w+)+\b|\b\w*_\w+\b|\b\w+\(\)")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
INVENTED_PARAMETERS = ("strict", "recursive", "encoding", "timeout", "follow", "copy", "safe")


def _rng(*parts: str) -> random.Random:
    seed = int.from_bytes(hashlib.sha256("\x00".join(parts).encode()).digest()[:8], "big")
    return random.Random(seed)


def sentences(doc: str) -> list[str]:
    out = []
    for sentence in _SENTENCE.split(prose(doc)):
        words = sentence.split()
        if 6 <= len(words) <= 40 and sentence.endswith(".") and ">>>" not in sentence:
            out.append(sentence)
    return out


def paraphrase(parts: list[str], rng: random.Random) -> str:
    """Synonyms, a softened opening, sometimes the two sentences swapped."""
    out = []
    for sentence in parts:
        words = sentence.split()
        for i, word in enumerate(words):
            core = word.strip(".,;:")
            if core.lower() in SYNONYMS and rng.random() < 0.7:
                repl = SYNONYMS[core.lower()]
                repl = repl.capitalize() if core[:1].isupper() else repl
                words[i] = word.replace(core, repl)
        out.append(" ".join(words))
    if len(out) > 1 and rng.random() < 0.4:
        out.reverse()
    opening = rng.choice(("", "In short, ", "Basically, ", "Put simply, ", "It works like this: "))
    text = " ".join(out)
    first = text.split(maxsplit=1)[0] if text else ""
    if opening and first[:1].isupper() and first[1:].islower():
        text = opening + text[0].lower() + text[1:]
    return text


def invent(parts: list[str], rng: random.Random, doc: str) -> list[str]:
    """Replace one identifier or number with an invented one, or add an invented one."""
    i = rng.randrange(len(parts))
    sentence = parts[i]
    numbers = [m for m in _NUMBER.finditer(sentence)]
    codes = [m for m in _CODE.finditer(sentence)]
    choice = rng.random()
    if numbers and choice < 0.35:
        m = rng.choice(numbers)
        value = m.group(0)
        new = str(int(float(value)) + rng.randint(2, 9)) if "." not in value else value + "1"
        parts[i] = sentence[: m.start()] + new + sentence[m.end() :]
    elif codes and choice < 0.7:
        m = rng.choice(codes)
        code = m.group(0)
        suffix = rng.choice(("_all", "_ex", "_safe", "2", "_async"))
        inner = code.strip("`").removesuffix("()")
        new = inner + suffix + ("()" if code.endswith("()") else "")
        parts[i] = (
            sentence[: m.start()]
            + (f"`{new}`" if code.startswith("`") else new)
            + sentence[m.end() :]
        )
    else:
        words = [w.strip(".,;:()`").lower() for w in doc.split()]
        words = [w for w in words if w.isalpha() and len(w) > 3]
        name = f"{rng.choice(words)}_{rng.choice(INVENTED_PARAMETERS)}"
        added = rng.choice(
            (
                f"Pass `{name}=True` to change this behaviour.",
                f"This was added in Python 3.{rng.randint(2, 13)}.",
                f"The optional `{name}` parameter defaults to {rng.randint(2, 64)}.",
            )
        )
        parts.insert(rng.randint(0, len(parts)), added)
    return parts


def negate(parts: list[str], rng: random.Random) -> list[str] | None:
    """Flip one claim: drop or add a ``not``, or swap an antonym in."""
    order = list(range(len(parts)))
    rng.shuffle(order)
    for i in order:
        sentence = parts[i]
        m = NEGATIONS.search(sentence)
        if m:
            parts[i] = (
                sentence[: m.start()]
                + m.group(0).replace(" not", "").replace("n't", "")
                + sentence[m.end() :]
            )
            return parts
        words = sentence.split()
        swaps = [j for j, w in enumerate(words) if w.strip(".,;:").lower() in ANTONYMS]
        if swaps:
            j = rng.choice(swaps)
            core = words[j].strip(".,;:")
            words[j] = words[j].replace(core, ANTONYMS[core.lower()])
            parts[i] = " ".join(words)
            return parts
        auxes = [j for j, w in enumerate(words) if w in AUXILIARIES]
        if auxes:
            j = auxes[0]
            words.insert(j + 1, "not")
            parts[i] = " ".join(words)
            return parts
    return None


def build() -> list[dict[str, object]]:
    docs = docstrings(min_words=25, limit=2000)
    by_module: dict[str, list[tuple[str, str]]] = {}
    for name, doc in docs:
        by_module.setdefault(name.rsplit(".", 1)[0], []).append((name, doc))
    cases: list[dict[str, object]] = []
    for name, doc in docs:
        own = sentences(doc)
        module = name.rsplit(".", 1)[0]
        siblings = [(n, d) for n, d in by_module[module] if n != name and sentences(d)]
        if len(own) < 2 or not siblings:
            continue
        rng = _rng(name)
        sibling_name, sibling_doc = rng.choice(siblings)
        func = name.rsplit(".", 1)[1]
        context = [doc, sibling_doc]
        picked = own[:2]
        # The added claim comes from a third docstring of the module (another module when
        # it has only two): shared vocabulary, but nowhere in the retrieved context.
        others = [(n, d) for n, d in siblings if n != sibling_name] or [
            (n, d) for n, d in docs if n.rsplit(".", 1)[0] != module and sentences(d)
        ]
        source_name, source_doc = rng.choice(others)
        claim = rng.choice(sentences(source_doc))
        claim = claim.replace(source_name.rsplit(".", 1)[1], func)
        if claim in doc or claim in sibling_doc:
            continue
        negated = negate(list(picked), _rng(name, "negate"))
        answers = {
            "good": paraphrase(list(picked), _rng(name, "good")),
            "invented": paraphrase(
                invent(list(picked), _rng(name, "invent"), doc), _rng(name, "good")
            ),
            "negated": paraphrase(negated, _rng(name, "good")) if negated else None,
            "added_claim": paraphrase([*picked, claim], _rng(name, "good")),
        }
        for variant, answer in answers.items():
            if answer is None:
                continue
            cases.append({
                "id": f"{name}:{variant}", "topic": name, "variant": variant,
                "question": f"What does `{name}` do?", "contexts": context,
                "answer": answer, "label": int(variant == "good"),
            })  # fmt: skip
    return cases


def main() -> int:
    cases = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    counts = {v: sum(c["variant"] == v for c in cases) for v in VARIANTS}
    print(f"wrote {len(cases)} cases to {OUT}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
