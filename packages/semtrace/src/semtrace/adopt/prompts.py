"""Retrieved passages a model call's prompt carries, when their retrieval is out of sight.

The official LlamaIndex instrumentation records a query engine's retrieval in a trace of
its own, with the documents' ids but not their text, and the model call (recorded by the
provider's instrumentation) in another. The passages then exist only inside the prompt,
where LlamaIndex's question-answering template put them::

    Context information is below.
    ---------------------
    {context_str}
    ---------------------
    Given the context information and not prior knowledge, answer the query.
    Query: {query_str}
    Answer:

Read back from that block, they are the retrieved texts and the query is the trace's
question, as semtrace's own LlamaIndex integration sees them from the retrieval. Only
LlamaIndex's default template is recognised (a custom ``text_qa_template`` is not).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, NamedTuple

from semtrace.records import Document, Message, TextPart

#: LlamaIndex's default question-answering template, as a user message (chat models) or
#: the whole prompt (completion models).
_QA: Final = re.compile(
    r"Context information is below\.\n-{5,}\n(?P<context>.*?)\n-{5,}\n"
    r".*?Query: (?P<query>.*?)\nAnswer:",
    re.DOTALL,
)


class Carried(NamedTuple):
    """The passages a prompt carries, and the query asked over them."""

    query: str | None
    documents: list[Document]


def carried(messages: Sequence[Message]) -> Carried | None:
    """The passages LlamaIndex's template put in the prompt's last user message, if any."""
    for message in reversed(messages):
        if message.role != "user":
            continue
        text = "\n".join(p.content for p in message.parts if isinstance(p, TextPart))
        found = _QA.search(text)
        if found is None:
            return None
        # The nodes are joined by blank lines (their metadata lines included).
        passages = [p.strip() for p in found["context"].split("\n\n") if p.strip()]
        query = found["query"].strip() or None
        return Carried(query, [Document(content=p) for p in passages])
    return None
