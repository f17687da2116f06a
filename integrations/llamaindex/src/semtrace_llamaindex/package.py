"""The LlamaIndex versions this integration supports, stated once."""

_instruments = ("llama-index-core >= 0.12.0, < 0.15",)
