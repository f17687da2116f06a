"""The LlamaIndex versions this integration supports, stated once."""

# 0.14.17 is the oldest release tested green (.ci/versions.sh oldest). Before it, a streamed
# chat engine returns its stream without a write_response_to_history thread or task (the
# attribute itself is missing), so the stream runs outside the engine's span: the model call
# of astream_chat becomes a trace of its own, and the span of stream_chat is never ended.
# Before 0.14.8, a failing tool's exception class is also lost (ToolOutput has no exception).
_instruments = ("llama-index-core >= 0.14.17, < 0.15",)
