"""Recording, on the caller's thread: a run opens, its facts are noted, it closes.

Everything here runs inside the application's own calls, so it does as little as it can:
:class:`~semtrace._recording.recorder.Recorder` opens and closes runs (``runs``), keeps the
caller's context (``context``) and user feedback's trace references (``feedback``), within
bounded tables (``bounded``), and hands each finished run to the worker. ``options`` holds
the arguments every integration takes.
"""
