"""Telemetry, on semtrace's worker: a finished run becomes spans, events and metrics.

``spans`` names and describes each operation's span, ``content`` decides what text may be
written (and bounds it), ``tokens`` counts what the provider did not report, ``metrics``
holds the GenAI and semtrace instruments.
"""
