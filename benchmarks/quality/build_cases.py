"""Build the labelled quality-signal evaluation set from ``pydoc_data.topics``.

The corpus is the Python reference documentation that ships with CPython, text that
semtrace did not write. For every topic we derive one natural question from its title
and emit six cases:

* ``good`` (label 1): context = two chunks of the topic, answer = (lightly reworded)
  sentences taken from those chunks.
* ``wrong_context`` (0): same question and good answer, chunks from another topic.
* ``empty_context`` (0): same question and good answer, no chunks.
* ``unsupported_answer`` (0): good context, answer = another topic's sentences with that
  topic's subject swapped for the question's subject (a fluent, on-topic hallucination).
* ``off_topic_answer`` (0): good context, answer = another topic's sentences unchanged.
* ``refusal`` (0): good context, an "I don't know" style answer.

Unsupported and off-topic answers go through the same rewording as good answers and are
built from the same number of source sentences, so length and style are no giveaway.
Everything is seeded by topic name, so re-running produces a byte-identical file.

Run: ``uv run python benchmarks/quality/build_cases.py``
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from pathlib import Path
from pydoc_data.topics import topics

OUT = Path(__file__).resolve().parent.parent / "data" / "quality_cases.jsonl"
CHUNK_TARGET = 600
CHUNK_MAX = 900
MAX_ANSWER_SENTENCES = 3

_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"*(`])")
_STATEMENT_TITLE = re.compile(r'^The "(\w+)" statement$')

# Titles whose plain templates read badly; these are derived from the topic's first lines.
QUESTION_OVERRIDES = {
    "attribute-access": "How can I customize attribute access on a class?",
    "callable-types": "How do I make instances of a class callable?",
    "customization": "Which basic customization methods can a class define?",
    "debugger": "What is `pdb`, the Python debugger?",
    "dynamic-features": "How do free variables interact with dynamic features like `exec`?",
    "numeric-types": "How can a class emulate numeric types?",
    "sequence-types": "How can a class emulate container types?",
    "typesmapping": "What are mapping types such as `dict`?",
    "typesseq": "What are the sequence types `list`, `tuple` and `range`?",
    "atom-identifiers": "What are identifiers (names) in Python?",
    "operator-summary": "How does operator precedence work in Python?",
    "truth": "How does truth value testing work?",
}

STATEMENT_TEMPLATES = (
    "What does the `{kw}` statement do?",
    "How does the `{kw}` statement work?",
    "What is the `{kw}` statement used for in Python?",
)
PLURAL_TEMPLATES = (
    "What are {s} in Python?",
    "How do {s} work?",
    "Can you explain {s}?",
)
SINGULAR_TEMPLATES = (
    "Can you explain {s} in Python?",
    "What should I know about {s}?",
    "Explain {s}.",
)

# Generic rewording an LLM summary typically applies; used for every answer variant alike.
_PARAPHRASE_TABLE = """
is used to=serves to; are used to=serve to; in order to=to; This means that=So;
allows=permits; returns=gives back; contains=holds; specifies=indicates;
evaluated=computed; convenient=handy; however=but; therefore=so; must=has to;
can be=may be; does not=doesn't; cannot=can't; created=made; obtain=get;
invoked=called; additional=extra; arbitrary=any; equivalent to=the same as;
several=multiple; determine=decide; In particular=Specifically
"""
PARAPHRASES = tuple(
    (rf"\b{old.strip()}\b", new.strip())
    for old, new in (pair.split("=") for pair in _PARAPHRASE_TABLE.split(";"))
)
LEADS = ("", "In Python, ", "Essentially, ", "", "According to the docs, ")

REFUSALS = (
    "I don't know. The provided context does not say anything about {s}.",
    "I'm sorry, but I cannot answer that question based on the documents I was given.",
    "The context doesn't contain enough information to explain {s}. It only covers {o}, "
    "so I would rather not guess at the details.",
    "I'm not sure. None of the retrieved passages mention {s}, and I don't want to make "
    "something up about how it behaves.",
    "Unfortunately, there is no information about {s} in the provided context.",
    "I do not have enough information to answer this question.",
    "Based on the given context, I am unable to determine what {s} does or how it is used "
    "in a program.",
    "I apologize, but the supplied documents only discuss {o}; they don't describe {s}, "
    "so I can't give a reliable answer here.",
    "Sorry, I couldn't find anything relevant to your question in the knowledge base.",
    "That isn't covered in the context I have access to. You may want to consult the "
    "official Python documentation for {s}.",
    "I cannot provide an answer, as the context does not mention {s}.",
    "Unknown. The documents above do not explain {s}.",
)


def _rng(*parts: str) -> random.Random:
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def _pick(options: tuple[str, ...], *parts: str) -> str:
    return options[_rng(*parts).randrange(len(options))]


def _paragraphs(body: str) -> list[str]:
    return [p.rstrip() for p in re.split(r"\n\s*\n", body) if p.strip()]


def _split_long(par: str) -> list[str]:
    if len(par) <= CHUNK_MAX:
        return [par]
    sep = "\n" if par.startswith("   ") else " "
    pieces = par.split("\n") if sep == "\n" else _SENT_SPLIT.split(" ".join(par.split()))
    out, cur = [], ""
    for piece in pieces:
        if cur and len(cur) + len(piece) > CHUNK_TARGET:
            out.append(cur)
            cur = ""
        cur = f"{cur}{sep}{piece}" if cur else piece
    if cur:
        out.append(cur)
    return out


def chunk_topic(text: str) -> list[str]:
    """Greedy paragraph packing, the way a typical RAG text splitter works."""
    lines = text.strip("\n").splitlines()
    title, body = lines[0], "\n".join(lines[2:])
    chunks: list[str] = []
    cur = title
    for par in _paragraphs(body):
        for piece in _split_long(par):
            if cur and len(cur) + len(piece) > CHUNK_TARGET:
                chunks.append(cur)
                cur = ""
            cur = f"{cur}\n\n{piece}" if cur else piece
    if cur:
        chunks.append(cur)
    return chunks


def _is_prose(par: str) -> bool:
    flat = " ".join(par.split())
    if "::=" in flat or ">>>" in flat or not flat.endswith((".", ":")):
        return False
    words = flat.split()
    alpha = sum(1 for w in words if re.fullmatch("[A-Za-z\u2019',;:.()\\-]+", w))
    return len(words) >= 8 and alpha / len(words) > 0.7


def prose_sentences(chunk: str) -> list[str]:
    """Sentences usable as answer material: prose, not code, not version notes."""
    out = []
    for par in _paragraphs(chunk):
        if not _is_prose(par):
            continue
        flat = re.sub(r"\s*\[\d+\]", "", " ".join(par.split()))
        for sent in _SENT_SPLIT.split(flat):
            words = sent.split()
            if not 6 <= len(words) <= 60:
                continue
            if re.match(r"(Changed|New|Deprecated) in version|\*\*", sent):
                continue
            # An introduction to a code block still states a fact; end it like a sentence.
            out.append(sent[:-1] + "." if sent.endswith(":") else sent)
    return out


def subject_of(title: str) -> tuple[str, bool]:
    """(subject phrase for questions, is it plural)."""
    m = _STATEMENT_TITLE.match(title)
    if m:
        return f"the `{m.group(1)}` statement", False
    plain = re.sub(r'"(\w+)"', r"`\1`", title)
    if not re.match(r"[A-Z]{2}", plain):
        plain = plain[0].lower() + plain[1:]
    if plain.istitle() or " " in plain:
        plain = " ".join(w if w.startswith("`") else w.lower() for w in plain.split())
    last = plain.split()[-1].strip("()")
    return plain, last.endswith("s") and not last.endswith("ss")


def question_for(key: str, title: str) -> str:
    if key in QUESTION_OVERRIDES:
        return QUESTION_OVERRIDES[key]
    m = _STATEMENT_TITLE.match(title)
    if m:
        return _pick(STATEMENT_TEMPLATES, key, "q").format(kw=m.group(1))
    subject, plural = subject_of(title)
    templates = PLURAL_TEMPLATES if plural else SINGULAR_TEMPLATES
    return _pick(templates, key, "q").format(s=subject)


def reword(sentences: list[str], *seed: str) -> str:
    """Same rewording for every variant so style never separates good from broken."""
    out = []
    for sent in sentences:
        sent = re.sub(r"\s*\((?:see|See|For|for) [^()]*\)", "", sent)
        sent = re.sub(r'"([^"\s]{1,30})"', r"`\1`", sent)
        for pattern, repl in PARAPHRASES:
            sent = re.sub(pattern, repl, sent)
        out.append(sent)
    lead = _pick(LEADS, *seed, "lead")
    if lead and out:
        first = out[0]
        out[0] = lead + (first[0].lower() + first[1:] if first[:2].istitle() else first)
    return " ".join(out)


def _subject_patterns(title: str) -> list[str]:
    m = _STATEMENT_TITLE.match(title)
    if m:
        kw = re.escape(m.group(1))
        return [rf'"{kw}" statement', rf'"{kw}"', rf"\b{kw}\b"]
    head = title.split(" — ")[0].split(" (")[0]
    words = [re.escape(w.rstrip("s")) for w in head.split() if len(w) > 3]
    pats = [re.escape(head)]
    if words:
        pats.append(r"\b" + r"\w*\s+".join(words) + r"\w*")
        pats.append(rf"\b{words[-1]}\w*")
    return pats


def transplant(sentences: list[str], src_title: str, dst_subject: str) -> list[str]:
    """Make another topic's sentences claim to be about ``dst_subject``."""
    out = []
    # Swallow the source article so "the operation" does not become "the the ...".
    pats = [rf"(?:\b(?:the|an?) )?{p}" for p in _subject_patterns(src_title)]
    for i, sent in enumerate(sentences):
        new = sent
        for pat in pats:
            new, n = re.subn(pat, dst_subject, sent, count=1, flags=re.IGNORECASE)
            if n:
                break
        if new == sent and i == 0:
            new = f"For {dst_subject}, {sent[0].lower()}{sent[1:]}"
        out.append(new[0].upper() + new[1:] if new[0].islower() else new)
    return out


def build() -> list[dict[str, object]]:
    seen_text: set[str] = set()
    prepared = []
    for key in sorted(topics):
        text = topics[key]
        if text in seen_text:  # "else" and "if" share one page
            continue
        seen_text.add(text)
        title = text.strip("\n").splitlines()[0]
        chunks = chunk_topic(text)
        ctx = [chunks[0]]
        sents = prose_sentences(chunks[0])
        for extra in chunks[1:]:
            more = prose_sentences(extra)
            if more:
                ctx.append(extra)
                sents += more
                break
        if not sents:
            continue
        prepared.append((key, title, ctx, sents[:MAX_ANSWER_SENTENCES]))

    by_key = {p[0]: p for p in prepared}
    keys = [p[0] for p in prepared]
    cases: list[dict[str, object]] = []
    for key, title, ctx, sents in prepared:
        subject, _ = subject_of(title)
        question = question_for(key, title)
        good = reword(sents, key)
        others = [k for k in keys if k != key and topics[k] != topics[key]]
        rng = _rng(key, "others")
        # Wrong chunks must not contain this topic's answer, or the label would be a lie.
        wrong_pool = [k for k in others if not any(s in " ".join(by_key[k][2]) for s in sents)]
        wrong_key, unsup_key, off_key = rng.sample(wrong_pool, 3)
        unsup_src = by_key[unsup_key][3][: len(sents)]
        off_src = by_key[off_key][3][: len(sents)]
        unsupported = reword(transplant(unsup_src, by_key[unsup_key][1], subject), key)
        off_topic = reword(off_src, key)
        other_subject = subject_of(by_key[wrong_key][1])[0]
        refusal = _pick(REFUSALS, key, "refusal").format(s=subject, o=other_subject)
        rows: tuple[tuple[str, list[str], str, int], ...] = (
            ("good", ctx, good, 1),
            ("wrong_context", list(by_key[wrong_key][2]), good, 0),
            ("empty_context", [], good, 0),
            ("unsupported_answer", ctx, unsupported, 0),
            ("off_topic_answer", ctx, off_topic, 0),
            ("refusal", ctx, refusal, 0),
        )
        cases += [
            {"id": f"{key}:{v}", "topic": key, "variant": v, "question": question,
             "contexts": c, "answer": a, "label": lab}
            for v, c, a, lab in rows
        ]  # fmt: skip
    return cases


def main() -> int:
    cases = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
