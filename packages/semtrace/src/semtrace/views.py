"""The old path of the backend views, kept so that existing imports work.

It lives at :mod:`semtrace.export.views`. That module is installed under this name too, so both
paths name one module: settings and patches made through either are seen through the other.
"""

import sys

from semtrace.export.views import *  # noqa: F403  (the names, for type checkers)
from semtrace.export.views import __name__ as _new_name

sys.modules[__name__] = sys.modules[_new_name]
