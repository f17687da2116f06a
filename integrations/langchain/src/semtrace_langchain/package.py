"""The LangChain versions this integration supports, stated once."""

# Both ends are tested by .ci/versions.sh: oldest (langchain-core 0.3.0, with langgraph 0.2)
# and newest (the latest 1.x).
_instruments = ("langchain-core >= 0.3.0, < 2",)
