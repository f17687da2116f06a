"""Griffe extension: the reST bits of docstrings rendered as Markdown would read them.

The package docstrings use reST roles, which Markdown would print as ``:class:B``. This
turns ``:role:`~a.b.C` `` into `` `C` `` and ``:role:`a.b.C` `` into `` `a.b.C` ``, and
a literal block's ``::`` into ``:`` (the indented block below is code in Markdown too),
so the API reference reads cleanly without editing the code's docstrings.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_LITERAL_BLOCK = re.compile(r"::(\n[ \t]*\n)")
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|obj|exc|const):`(~?)([^`]+)`")


def _code(match: re.Match[str]) -> str:
    target = match.group(2)
    if match.group(1):  # "~" shows the last component only, as Sphinx does
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


class SphinxRoles(Extension):
    """Rewrite the roles in every docstring griffe loads."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        """Rewrite one object's docstring, if it has one."""
        if obj.docstring is not None:
            text = _ROLE.sub(_code, obj.docstring.value)
            obj.docstring.value = _LITERAL_BLOCK.sub(r":\1", text)
