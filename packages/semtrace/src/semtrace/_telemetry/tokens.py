"""Token counts from tiktoken for calls whose provider reports none.

Counting follows OpenAI's chat accounting (a fixed overhead per message and per
reply), so for OpenAI models the estimate matches what the API bills; for other
models it is an estimate with a documented encoding, and spans say so
(``semtrace.usage.source = "tiktoken"``, ``semtrace.usage.encoding``).

Encodings are loaded in a background thread: tiktoken downloads its BPE files on
first use, and that must never stall or fail the caller. The caller never waits for a
load: a call that ends while its encoding loads has the rest of its end deferred
(:meth:`TokenCounter.pending_load`, :mod:`semtrace._worker`) until the load is done, and
is counted then. A download is never waited for: until it arrives, or if it fails, counts
are omitted (one warning is logged).

Nothing is loaded at start-up: the first call whose provider reported no usage starts the
load. An app whose provider reports usage never loads tiktoken, and a cold start's first
invocation does not share the GIL with 0.3 s of parsing. An explicit warm-up
(:meth:`TokenCounter.warm_up`) only reads the local cache: it may run before the
application sets ``TIKTOKEN_CACHE_DIR``, and must not download (or warn about) files the
application is about to provide. A load belongs to the cache folder in effect when it started, so
setting ``TIKTOKEN_CACHE_DIR`` later starts a fresh load from the new folder.

Example:
    >>> from semtrace._telemetry.tokens import TokenCounter
    >>> counter = TokenCounter()
    >>> counter.count_text("gpt-4o", "hello world")  # doctest: +SKIP
    2
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from semtrace.config import DEFAULT_ENCODING
from semtrace.private_apis import fast_json, tiktoken_download_url
from semtrace.records import (
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    ToolDefinition,
)

logger = logging.getLogger(__name__)

# OpenAI's chat accounting: every message costs 3 tokens of framing, a name 1 more,
# and every reply is primed with 3 (openai-cookbook, "How to count tokens").
TOKENS_PER_MESSAGE: Final = 3
TOKENS_PER_NAME: Final = 1
TOKENS_PER_REPLY: Final = 3
# Tool definitions are rendered by OpenAI into a hidden system text; its exact form is
# not published. We encode a compact rendering and add this fixed framing.
TOKENS_PER_TOOL_BLOCK: Final = 12
TOKENS_PER_TOOL: Final = 8

# Counts of texts at least this long are cached: system prompts and retrieved chunks
# repeat across calls, and a dict look-up is far cheaper than re-encoding them.
_CACHE_MIN_CHARS: Final = 64
_CACHE_MAX_CHARS: Final = 2_000_000
# Shorter texts (roles, tool names, short questions asked twice in one trace) go in a
# cache bounded by entries instead: calling the encoder costs more than the look-up.
_SHORT_CACHE_MAX_ENTRIES: Final = 4096
# Long texts are counted from cached paragraphs, and a paragraph from cached lines, so a new
# prompt built from chunks seen before (a RAG prompt, even one that glues a chunk to its
# header line) only encodes what is new. A cut after a run of newlines, or after a newline
# that precedes a non-space character, does not change the count: no pre-token of
# cl100k_base or o200k_base spans it (checked on the Python docs and 300 prompts assembled
# from them, both encodings).
_SPLIT_MIN_CHARS: Final = 256
# Waiting for an encoding read from the local cache is bounded; a network load is never waited.
# Only work deferred past its bound (too much already waiting) still waits here.
_LOCAL_LOAD_WAIT_S: Final = 10.0
# json.dumps(value, default=str, ensure_ascii=False) builds an encoder per call; tool
# arguments and schemas are rendered on every model call, so one is kept (encode() keeps
# no state between calls: safe on any thread).
_JSON: Final = json.JSONEncoder(default=str, ensure_ascii=False)
# Rendered on every model call: without encode()'s per-call set-up (private_apis).
_ENCODE: Final = fast_json(_JSON)


class _EncodingLoad:
    """One encoding being loaded in a background thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.encoding: Any = None
        self.failed = False
        self.done = threading.Event()
        self.local = _in_local_cache(name)
        self._waiting: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._load, name=f"semtrace-tiktoken-{name}", daemon=True).start()

    def when_loaded(self, callback: Callable[[], None]) -> bool:
        """Run ``callback`` on the loading thread once the load is done (a deferral's register).

        Returns:
            False if the load is done already (``callback`` will not run).
        """
        with self._lock:
            if self.done.is_set():
                return False
            self._waiting.append(callback)
        return True

    def _release(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for callback in waiting:
            callback()  # deferred.defer's callbacks never raise

    def _load(self) -> None:
        try:
            import tiktoken

            self.encoding = tiktoken.get_encoding(self.name)
            _ready[self.name] = self.encoding
        except Exception as exc:  # any failure means: no counts, one warning per process
            self.failed = True
            logger.log(
                logging.WARNING if _first_failure() else logging.DEBUG,
                "semtrace: tiktoken encoding %r could not be loaded (%s: %s); token counts "
                "will be omitted where the provider reports none. Set TIKTOKEN_CACHE_DIR to "
                "a folder holding the BPE files to count offline.",
                self.name,
                type(exc).__name__,
                exc,
            )
        finally:
            with self._lock:
                self.done.set()
            self._release()


_failed_once = False


def _first_failure() -> bool:
    """True the first time any encoding fails to load: one warning says it for all."""
    global _failed_once
    with _loads_lock:
        first, _failed_once = not _failed_once, True
    return first


def _tiktoken_cache_dir() -> str | None:
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if var in os.environ:
            return os.environ[var] or None
    return _default_cache_dir()


@functools.cache
def _default_cache_dir() -> str:
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _in_local_cache(name: str, cache_dir: str | None = None) -> bool:
    """Whether tiktoken will read ``name`` from disk rather than download it.

    Args:
        name: The encoding.
        cache_dir: The folder to look in; None means the one tiktoken uses now.
    """
    url = tiktoken_download_url(name + ".tiktoken")
    cache_dir = cache_dir if cache_dir is not None else _tiktoken_cache_dir()
    if url is None or cache_dir is None:
        return False
    key = hashlib.sha1(url.encode()).hexdigest()
    return os.path.exists(os.path.join(cache_dir, key))


# One load per encoding and cache folder: a folder set after start-up gets its own load.
_loads: dict[tuple[str, str | None], _EncodingLoad] = {}
# Encodings loaded from any folder: the hot path looks here first, without reading os.environ.
_ready: dict[str, Any] = {}
_loads_lock = threading.Lock()


def _load(name: str) -> _EncodingLoad:
    """The load of ``name`` from the current cache folder, started if need be (may download)."""
    key = (name, _tiktoken_cache_dir())
    load = _loads.get(key)
    if load is None:
        with _loads_lock:
            load = _loads.get(key)
            if load is None:
                load = _loads[key] = _EncodingLoad(name)
    return load


def load_encoding(name: str) -> _EncodingLoad | None:
    """Start loading ``name`` in the background if it is in the local cache (warm-up).

    Nothing is downloaded here: a warm-up runs at start-up, possibly before the
    application points ``TIKTOKEN_CACHE_DIR`` at its files. An encoding not cached
    locally is loaded (and downloaded) at its first use instead.

    Returns:
        The load, or None when the encoding is not in the local cache.
    """
    if not _in_local_cache(name):
        return None
    return _load(name)


def _warm_up(name: str) -> None:
    try:
        load_encoding(name)
    except Exception:  # a warm-up that fails costs nothing: the first count loads again
        logger.debug("semtrace: warming up tiktoken encoding %r failed", name, exc_info=True)


def _resolve_then(model: str | None, default: str, callback: Callable[[], None]) -> bool:
    """Name ``model``'s encoding and start its load on a thread; ``callback`` once loaded.

    ``callback`` runs exactly once: when a local load is done, or at once when the
    encoding is ready already or must be downloaded (never waited for).
    """

    def resolve() -> None:
        try:
            load = _load(encoding_name_for(model, default))
            if load.local and load.when_loaded(callback):
                return
        except Exception:
            logger.debug("semtrace: resolving the encoding of %r failed", model, exc_info=True)
        callback()

    threading.Thread(target=resolve, name="semtrace-tiktoken-resolve", daemon=True).start()
    return True


def get_encoding(name: str) -> Any:
    """The tiktoken encoding ``name`` if it is or soon will be usable without the network.

    Returns:
        The encoding, or None while it downloads or after it failed.
    """
    encoding = _ready.get(name)
    if encoding is not None:
        return encoding
    load = _load(name)
    if not load.done.is_set() and load.local:
        load.done.wait(_LOCAL_LOAD_WAIT_S)
    return load.encoding


def wait_until_loaded(name: str = DEFAULT_ENCODING, timeout: float = 30.0) -> bool:
    """Block until encoding ``name`` is loaded (downloading it if need be); for warm-up scripts.

    Returns:
        True if the encoding is usable.
    """
    load = _load(name)
    load.done.wait(timeout)
    return load.encoding is not None


_encoding_by_model: dict[tuple[str, str], str] = {}


def encoding_name_for(model: str | None, default: str = DEFAULT_ENCODING) -> str:
    """The tiktoken encoding for ``model``: tiktoken's own table, else ``default``."""
    key = (model or "", default)
    name = _encoding_by_model.get(key)
    if name is None:
        name = default
        if model:
            try:
                import tiktoken.model

                name = tiktoken.model.encoding_name_for_model(model.rsplit("/", 1)[-1])
            except Exception:
                name = default
        if len(_encoding_by_model) > 4096:  # model names come from users: stay bounded
            _encoding_by_model.clear()
        _encoding_by_model[key] = name
    return name


@dataclass(frozen=True, slots=True)
class Count:
    """A token count and the encoding that produced it."""

    tokens: int
    encoding: str


class TokenCounter:
    """Counts tokens for one set of settings; thread-safe; caches repeated long texts.

    The caches are shared by the caller's threads and semtrace's worker thread:
    every change to them happens under one lock (look-ups need none), and encoding runs
    outside it, so counts on several threads still run in parallel.
    """

    def __init__(self, default_encoding: str = DEFAULT_ENCODING) -> None:
        self.default_encoding = default_encoding
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], int] = {}
        self._cached_chars = 0
        self._short: dict[tuple[str, str], int] = {}

    def warm_up(self, model: str | None = None) -> None:
        """Start loading the encoding ``model`` will need, off the caller's path.

        Even the look into the local cache (tiktoken's download URL, a file check) runs on
        a thread of its own: constructing a handler must cost the app nothing noticeable.
        """
        name = encoding_name_for(model, self.default_encoding)
        threading.Thread(
            target=_warm_up, args=(name,), name="semtrace-tiktoken-warm-up", daemon=True
        ).start()

    def pending_load(self, model: str | None) -> Callable[[Callable[[], None]], bool] | None:
        """What counting for ``model`` would wait for, as a deferral's register; None if nothing.

        A download is never waited for, not even off the caller's path: it may take
        minutes, or hang on a host without network, and spans must not stay open that long.
        The first time a model (or an encoding) is seen, naming its encoding imports
        tiktoken and looking into the local cache reads its source: both happen on a
        thread of their own, not the caller's.
        """
        name = _encoding_by_model.get((model or "", self.default_encoding))
        if name is not None:
            if name in _ready:
                return None
            load = _loads.get((name, _tiktoken_cache_dir()))
            if load is not None:
                return load.when_loaded if load.local and not load.done.is_set() else None
        return functools.partial(_resolve_then, model, self.default_encoding)

    def count_text(self, model: str | None, text: str) -> Count | None:
        """Tokens in one text, or None when no encoding is available."""
        name = encoding_name_for(model, self.default_encoding)
        encoding = get_encoding(name)
        if encoding is None:
            return None
        return Count(self._encode_len(encoding, name, text), name)

    def count_input(
        self, model: str | None, messages: Sequence[Message], tools: Sequence[ToolDefinition] = ()
    ) -> Count | None:
        """Prompt tokens as OpenAI's chat accounting bills them."""
        name = encoding_name_for(model, self.default_encoding)
        encoding = get_encoding(name)
        if encoding is None:
            return None
        encode_len = self._encode_len
        total = TOKENS_PER_REPLY
        for message in messages:
            total += TOKENS_PER_MESSAGE + encode_len(encoding, name, message.role)
            if message.name:
                total += TOKENS_PER_NAME + encode_len(encoding, name, message.name)
            for text in _part_texts(message):  # a loop, not sum(genexpr): once per part
                total += encode_len(encoding, name, text)
        if tools:
            total += TOKENS_PER_TOOL_BLOCK
            for tool in tools:
                total += TOKENS_PER_TOOL + encode_len(encoding, name, _render_tool(tool))
        return Count(total, name)

    def count_output(self, model: str | None, messages: Sequence[Message]) -> Count | None:
        """Completion tokens: the text and tool calls the model produced."""
        name = encoding_name_for(model, self.default_encoding)
        encoding = get_encoding(name)
        if encoding is None:
            return None
        encode_len = self._encode_len
        total = 0
        for message in messages:
            for text in _part_texts(message):
                total += encode_len(encoding, name, text)
        return Count(total, name)

    def count_texts(self, model: str | None, texts: Iterable[str]) -> Count | None:
        """Tokens in several plain texts (embedding inputs)."""
        name = encoding_name_for(model, self.default_encoding)
        encoding = get_encoding(name)
        if encoding is None:
            return None
        return Count(sum(self._encode_len(encoding, name, t) for t in texts), name)

    def _encode_len(self, encoding: Any, name: str, text: str) -> int:
        if len(text) < _CACHE_MIN_CHARS:
            return self._short_len(encoding, name, text) if text else 0
        return self._cached_len(encoding, name, text)

    def _cached_len(
        self, encoding: Any, name: str, text: str, split_from: int = _SPLIT_MIN_CHARS
    ) -> int:
        """The count of ``text``, cached; a long text is counted from its cached parts.

        Whole text first (the same prompt again), then paragraph by paragraph (most
        chunks are whole paragraphs), then line by line (a chunk glued to a new line).
        """
        key = (name, text)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        count = self._from_neighbour(encoding, name, text)
        if count is None:
            parts = _parts(text) if len(text) >= split_from and "\n" in text else ()
            if len(parts) > 1:  # each part is shorter: the recursion ends
                count = sum(self._piece_len(encoding, name, part) for part in parts)
            else:
                count = len(encoding.encode_ordinary(text))
        self._store(key, count)
        return count

    def _from_neighbour(self, encoding: Any, name: str, text: str) -> int | None:
        """The count of ``text`` from a cached copy of it with or without trailing newlines.

        A chunk sits mid-prompt with a separator after it and at the end of the prompt
        without one. Both share every pre-token up to the last word boundary (see
        ``_last_boundary``), so only the tails after it are encoded.
        """
        body = text.rstrip("\n")
        if body != text:
            neighbours: tuple[str, ...] = (body,)
        else:
            neighbours = (text + "\n\n", text + "\n")
        for neighbour in neighbours:
            cached = self._cache.get((name, neighbour))
            if cached is not None:
                cut = _last_boundary(body)
                if cut is None or cut < len(body) // 2:
                    return None  # no boundary near the end: counting afresh is cheaper
                old_tail = len(encoding.encode_ordinary(neighbour[cut:]))
                return cached - old_tail + len(encoding.encode_ordinary(text[cut:]))
        return None

    def _store(self, key: tuple[str, str], count: int) -> None:
        with self._lock:
            if key in self._cache:  # another thread counted it meanwhile
                return
            if self._cached_chars + len(key[1]) > _CACHE_MAX_CHARS:
                # Bounded memory beats a perfect LRU here: start over when full.
                self._cache.clear()
                self._cached_chars = 0
            self._cache[key] = count
            self._cached_chars += len(key[1])

    def _short_len(self, encoding: Any, name: str, text: str) -> int:
        key = (name, text)
        cached = self._short.get(key)
        if cached is None:
            cached = len(encoding.encode_ordinary(text))
            with self._lock:
                if len(self._short) >= _SHORT_CACHE_MAX_ENTRIES:
                    self._short.clear()
                self._short[key] = cached
        return cached

    def _piece_len(self, encoding: Any, name: str, text: str) -> int:
        if len(text) < _CACHE_MIN_CHARS:
            return self._short_len(encoding, name, text)
        return self._cached_len(encoding, name, text, split_from=0)  # a part: cut it up too


_BLANK_LINES = re.compile(r"\n\n+")


def _parts(text: str) -> list[str]:
    r"""``text`` cut into paragraphs, or into lines if it is one paragraph.

    Paragraphs end where a run of 2+ newlines ends; lines after a newline that a
    non-space character follows. The pieces join back to ``text``.
    """
    parts = _paragraphs(text) if "\n\n" in text else []
    return parts if len(parts) > 1 else _lines(text)


def _paragraphs(text: str) -> list[str]:
    """``text`` cut where each run of 2+ newlines ends (a look-behind split is slow)."""
    parts, first = [], 0
    for run in _BLANK_LINES.finditer(text):
        if run.end() < len(text):
            parts.append(text[first : run.end()])
            first = run.end()
    parts.append(text[first:])
    return parts


def _lines(text: str) -> list[str]:
    r"""``text`` cut after each newline that a non-space character follows.

    The pieces join back to ``text``. Cutting inside a run of whitespace ("\n" | "  x")
    would change the count: the pre-tokenizer keeps whitespace runs in one piece.
    """
    # str.split and a loop: a look-behind regex split tries every position of a long text.
    lines = text.split("\n")
    pieces, first = [], 0
    for i in range(1, len(lines)):
        if lines[i][:1].strip():  # a non-space character follows the newline: cut before it
            pieces.append("\n".join(lines[first:i]) + "\n")
            first = i
    pieces.append("\n".join(lines[first:]))
    return pieces


def _last_boundary(text: str) -> int | None:
    """The last index of ``text`` where both tokenizers surely start a new pre-token.

    That is a space right after an ASCII letter or digit: no pre-token pattern of
    tiktoken's encodings (r50k_base to o200k_base) runs from a word into the space after
    it (a space only ever starts a pre-token), and none looks further than the next
    character. So a text cut there counts as its two halves counted apart.
    """
    cut = text.rfind(" ", 0, len(text) - 1)
    while cut > 0:
        before = text[cut - 1]
        if before.isascii() and before.isalnum():
            return cut
        cut = text.rfind(" ", 0, cut)
    return None


def _part_texts(message: Message) -> Iterable[str]:
    for part in message.parts:
        if isinstance(part, (TextPart, ReasoningPart)):
            yield part.content
        elif isinstance(part, ToolCallPart):
            yield part.name
            yield _as_text(part.arguments)
        elif isinstance(part, ToolCallResponsePart):
            yield _as_text(part.response)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return _ENCODE(value)
    except Exception:
        return ""


def _render_tool(tool: ToolDefinition) -> str:
    description = f"// {tool.description}\n" if tool.description else ""
    return f"{description}type {tool.name} = (_: {_as_text(tool.parameters)}) => any;"
