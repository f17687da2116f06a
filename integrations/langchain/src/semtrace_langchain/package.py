"""The LangChain versions this integration supports, stated once."""

_instruments = ("langchain-core >= 0.3.0, < 2",)
