"""The RAG corpora the tests share: documents, the question they answer, and answers.

* ``FRANCE_*``: six short documents on French cities. The LlamaIndex tests' index
  (``tests/llamaindex/fakes.py`` names them ``DOCS``, ``QUESTION``, ``ANSWER``) and the
  cross-framework RAG parity test.
* ``WITH_*``: passages of the Python documentation on the ``with`` statement and its
  neighbours. The LangChain tests' RAG chain (``tests/langchain/pipelines.py``), the quality
  signals and checks on framework runs, and the judge.

The quality tests' scenario texts answer ``WITH_QUESTION``: context that answers it
(``WITH_RIGHT``) or is on another topic (``WITH_WRONG``), an answer the right context
supports (``WITH_GOOD``) or does not (``WITH_UNSUPPORTED``). Lexical signals penalise query
words the documents never use ("... in Python?" against docs that never say "Python"): a
documented limitation, so the question stays on topic.
"""

from __future__ import annotations

FRANCE_DOCS = (
    "Paris is the capital of France and its largest city.",
    "Lyon is known for its cuisine and its silk history.",
    "Marseille is a port city on the Mediterranean coast.",
    "The Eiffel Tower was completed in Paris in 1889.",
    "Bordeaux is famous for its wine region.",
    "Strasbourg hosts the European Parliament.",
)
FRANCE_QUESTION = "What is the capital of France?"
FRANCE_ANSWER = "Paris is the capital of France."

WITH_DOCS = (
    "The with statement wraps the execution of a block with methods defined by a context manager.",
    "A for loop iterates over the items of any sequence, such as a list or a string.",
    "A lambda expression creates a small anonymous function.",
    "The try statement specifies exception handlers and cleanup code for a group of statements.",
)
WITH_QUESTION = "What does the with statement do?"
WITH_GOOD = (
    "The with statement wraps the execution of a block with methods defined by a context manager."
)
WITH_UNSUPPORTED = (
    "The with statement compiles the enclosed block into bytecode before the program starts."
)
WITH_RIGHT = [
    "The with statement is used to wrap the execution of a block with methods defined by "
    "a context manager. This allows common try, except and finally usage patterns to be "
    "encapsulated for convenient reuse."
]
# Another topic, as in the labelled set. (A near miss sharing the only content word,
# "the for statement", would pass retrieval relevance: "with" is a stopword. Documented.)
WITH_WRONG = [
    "Lambda expressions are used to create anonymous functions. The expression yields a "
    "function object that behaves like a function defined with def."
]
