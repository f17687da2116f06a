"""The old path of the tail sampler, kept so that existing imports work.

It lives at :mod:`semtrace.export.sampling`. That module is installed under this name too, so both
paths name one module: settings and patches made through either are seen through the other.
"""

import sys

from semtrace.export.sampling import *  # noqa: F403  (the names, for type checkers)
from semtrace.export.sampling import __name__ as _new_name

sys.modules[__name__] = sys.modules[_new_name]
