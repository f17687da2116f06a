#!/usr/bin/env bash
# Regenerate BENCHMARKS.md: build the benchmark's own environment (.venvs/bench, never the
# project's: the anchor instrumentations stay out of semtrace's dependencies), then run
# every section: 60-85 minutes on a 2-core machine, depending on its load (the latency
# section ~20 of them; ~10 at --reps 3). Extra arguments go to bench.py, e.g.
# `bash benchmarks/perf/run.sh --sections main --reps 3`, or, for issue 15's latency target,
# `bash benchmarks/perf/run.sh --sections latency --reps 3`.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${BENCH_VENV:-.venvs/bench}
[ -x "$VENV/bin/python" ] || uv venv -q --python 3.11 "$VENV"
uv pip install -q --python "$VENV/bin/python" \
    -r benchmarks/perf/requirements.txt \
    -e packages/semtrace -e integrations/langchain -e integrations/llamaindex
exec "$VENV/bin/python" benchmarks/perf/bench.py "$@"
