"""Let the examples count tokens with no network: use the repo's copy of tiktoken's files."""

import os
import tempfile
from pathlib import Path

from semtrace.testing import tiktoken_cache_from


def use_bundled_tiktoken_files(examples_dir: Path) -> None:
    """Point TIKTOKEN_CACHE_DIR at the BPE files in tests/data, unless the user set it."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return
    source = examples_dir.parent / "tests" / "data" / "tiktoken"
    cache = Path(tempfile.gettempdir()) / "semtrace-examples-tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(tiktoken_cache_from(source, cache))
