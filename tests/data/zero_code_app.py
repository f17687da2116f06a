"""A LangChain app that knows nothing of tracing; opentelemetry-instrument adds semtrace."""

import os
import sys

# The app points tiktoken at its files itself, after the instrumentors started.
os.environ["TIKTOKEN_CACHE_DIR"] = sys.argv[1]

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate

model = GenericFakeChatModel(messages=iter([AIMessage("Paris is the capital of France.")]))
chain = ChatPromptTemplate.from_messages([("human", "{question}")]) | model
print("answer:", chain.invoke({"question": "What is the capital of France?"}).content)
