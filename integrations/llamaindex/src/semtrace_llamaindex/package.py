"""The LlamaIndex versions this integration supports, stated once."""

# 0.14 is the oldest release tested green; 0.12 fails 6 tests (streamed chat engine parent,
# workflow error/cancel status, tool call ids), see .ci/versions.sh.
_instruments = ("llama-index-core >= 0.14.0, < 0.15",)
