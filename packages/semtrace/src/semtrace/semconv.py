"""Every attribute key, value and metric name semtrace writes, spelled once.

The GenAI conventions are still in *Development* and their names move; keeping them
in this one module means a rename is a one-line change. ``tests/core/test_semconv.py``
checks the GenAI names against the installed ``opentelemetry-semantic-conventions``
package so a drift is caught.

Example:
    >>> from semtrace import semconv
    >>> semconv.GEN_AI_REQUEST_MODEL
    'gen_ai.request.model'
"""

from __future__ import annotations

from typing import Final

#: The semantic conventions these names follow (the last full release with the GenAI
#: conventions in the main repository): every tracer and meter of semtrace says so.
SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.41.0"
#: Instrumentation scope of the core's own tracer and meters (integrations use their own
#: package name, ``semtrace_langchain`` or ``semtrace_llamaindex``).
SCOPE_NAME: Final = "semtrace"

# --- GenAI operation names (gen_ai.operation.name values) ---
OP_CHAT: Final = "chat"
OP_TEXT_COMPLETION: Final = "text_completion"
OP_EMBEDDINGS: Final = "embeddings"
OP_RETRIEVAL: Final = "retrieval"
OP_EXECUTE_TOOL: Final = "execute_tool"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_INVOKE_WORKFLOW: Final = "invoke_workflow"
# Not (yet) a GenAI operation: the conventions have no reranker. Documented in docs/spans.md.
OP_RERANK: Final = "rerank"

# --- GenAI attributes ---
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"
GEN_AI_TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_AGENT_ID: Final = "gen_ai.agent.id"
GEN_AI_AGENT_DESCRIPTION: Final = "gen_ai.agent.description"
GEN_AI_WORKFLOW_NAME: Final = "gen_ai.workflow.name"
GEN_AI_DATA_SOURCE_ID: Final = "gen_ai.data_source.id"
GEN_AI_RETRIEVAL_QUERY_TEXT: Final = "gen_ai.retrieval.query.text"
GEN_AI_RETRIEVAL_DOCUMENTS: Final = "gen_ai.retrieval.documents"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_PROMPT_NAME: Final = "gen_ai.prompt.name"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"
ERROR_TYPE: Final = "error.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
USER_ID: Final = "user.id"
SESSION_ID: Final = "session.id"

TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"

# --- GenAI events and metrics ---
EVENT_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
EVENT_INFERENCE_DETAILS: Final = "gen_ai.client.inference.operation.details"
METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"
METRIC_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.operation.time_per_output_chunk"
# Bucket advice from the conventions: powers of 4 up to 4**13 tokens, doubling seconds.
TOKEN_USAGE_BUCKETS: Final = tuple(float(4**i) for i in range(14))
# Between two chunks of a stream: from 10 ms to 2.5 s, as the conventions advise.
CHUNK_BUCKETS: Final = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
)  # fmt: skip
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip

# --- semtrace's own attributes (no convention exists for these yet) ---
SEMTRACE_USAGE_SOURCE: Final = "semtrace.usage.source"
#: What one model or embeddings call cost, in ``semtrace.usage.cost.currency``. The GenAI
#: conventions define no cost attribute yet; until they do, cost stays in semtrace's own
#: namespace (semtrace 0.1 wrote ``gen_ai.usage.cost.*``, which Langfuse read as a
#: token-usage type).
SEMTRACE_USAGE_COST_AMOUNT: Final = "semtrace.usage.cost.amount"
SEMTRACE_USAGE_COST_CURRENCY: Final = "semtrace.usage.cost.currency"
#: Whose price it was: ``user`` (the user's price table) or ``default`` (shipped prices).
SEMTRACE_USAGE_COST_SOURCE: Final = "semtrace.usage.cost.source"
#: True when the cost was computed from tiktoken counts, not the provider's.
SEMTRACE_USAGE_COST_ESTIMATED: Final = "semtrace.usage.cost.estimated"
#: Roll-ups of the whole trace, on its root span (kept apart from the per-call keys so
#: that a backend summing ``gen_ai.usage.*`` over spans does not count twice).
SEMTRACE_TRACE_COST_AMOUNT: Final = "semtrace.trace.cost.amount"
SEMTRACE_TRACE_COST_CURRENCY: Final = "semtrace.trace.cost.currency"
SEMTRACE_TRACE_INPUT_TOKENS: Final = "semtrace.trace.usage.input_tokens"
SEMTRACE_TRACE_OUTPUT_TOKENS: Final = "semtrace.trace.usage.output_tokens"
SEMTRACE_USAGE_ENCODING: Final = "semtrace.usage.encoding"
#: Whose tokens and cost a span's ``gen_ai.usage.*`` and ``semtrace.usage.cost.*`` are
#: when they are not the app's: ``evaluation`` on the ``evaluate {name}`` span of an
#: evaluator that called a model (an LLM judge). Absent on the app's own calls.
SEMTRACE_USAGE_PURPOSE: Final = "semtrace.usage.purpose"
USAGE_PURPOSE_EVALUATION: Final = "evaluation"
USAGE_SOURCE_PROVIDER: Final = "provider"
USAGE_SOURCE_TIKTOKEN: Final = "tiktoken"
SEMTRACE_RETRIEVAL_DOCUMENT_COUNT: Final = "semtrace.retrieval.document_count"
SEMTRACE_RETRIEVAL_DOCUMENT_IDS: Final = "semtrace.retrieval.document_ids"
SEMTRACE_RETRIEVAL_DOCUMENT_SCORES: Final = "semtrace.retrieval.document_scores"
SEMTRACE_RERANK_TOP_N: Final = "semtrace.rerank.top_n"
SEMTRACE_RUN_NAME: Final = "semtrace.run.name"
SEMTRACE_RUN_ABANDONED: Final = "semtrace.run.abandoned"
SEMTRACE_RUN_CANCELLED: Final = "semtrace.run.cancelled"
SEMTRACE_INPUT_VALUE: Final = "semtrace.input.value"
SEMTRACE_OUTPUT_VALUE: Final = "semtrace.output.value"
#: Every attribute that holds prompt, completion, document or tool text: recorded only with
#: content capture on (the privacy tests check that none appears with it off).
CONTENT_ATTRIBUTES: Final = frozenset(
    {
        GEN_AI_INPUT_MESSAGES,
        GEN_AI_OUTPUT_MESSAGES,
        GEN_AI_SYSTEM_INSTRUCTIONS,
        GEN_AI_TOOL_DEFINITIONS,
        GEN_AI_RETRIEVAL_QUERY_TEXT,
        GEN_AI_RETRIEVAL_DOCUMENTS,
        GEN_AI_TOOL_CALL_ARGUMENTS,
        GEN_AI_TOOL_CALL_RESULT,
        SEMTRACE_INPUT_VALUE,
        SEMTRACE_OUTPUT_VALUE,
    }
)
SEMTRACE_FRAMEWORK: Final = "semtrace.framework"
SEMTRACE_TAGS: Final = "semtrace.tags"
SEMTRACE_PROMPT_VERSION: Final = "semtrace.prompt.version"
#: Prefix of the quality-signal attributes: ``semtrace.quality.{signal}`` and ``….label``.
SEMTRACE_QUALITY_PREFIX: Final = "semtrace.quality."
METRIC_QUALITY_SCORE: Final = "semtrace.quality.score"
METRIC_COST: Final = "semtrace.client.cost"
# The tail sampler's counter and its attributes.
METRIC_SAMPLING_TRACES: Final = "semtrace.sampling.traces"
SEMTRACE_SAMPLING_DECISION: Final = "semtrace.sampling.decision"
SEMTRACE_SAMPLING_REASON: Final = "semtrace.sampling.reason"
SEMTRACE_SAMPLING_TRIGGER: Final = "semtrace.sampling.trigger"

# --- the per-trace diagnosis (semtrace.diagnosis), on the root span, and its counter ---
#: The most likely failure of the trace (``semtrace.diagnosis.PRECEDENCE``); absent if none.
SEMTRACE_DIAGNOSIS: Final = "semtrace.diagnosis"
#: The span where it arose, as 16 lower-case hex digits.
SEMTRACE_DIAGNOSIS_SPAN_ID: Final = "semtrace.diagnosis.span_id"
#: The signal that raised it (``groundedness``, ``tool_loop``, ``error``...).
SEMTRACE_DIAGNOSIS_SIGNAL: Final = "semtrace.diagnosis.signal"
#: Traces by ``semtrace.diagnosis`` (``none`` when everything passed).
METRIC_TRACES: Final = "semtrace.traces"
#: The detectors a raised ``sensitive_output`` flag names (never the values).
SEMTRACE_QUALITY_SENSITIVE_KINDS: Final = "semtrace.quality.sensitive_output.kinds"
#: What groundedness judged the answer as resting on: ``qa``, ``summary`` or ``dialogue``.
SEMTRACE_QUALITY_GROUNDEDNESS_KIND: Final = "semtrace.quality.groundedness.kind"
# --- user feedback (semtrace.feedback) ---
EVALUATION_USER_FEEDBACK: Final = "user_feedback"
METRIC_FEEDBACK_SCORE: Final = "semtrace.feedback.score"
SEMTRACE_FEEDBACK_SPAN_ID: Final = "semtrace.feedback.span_id"

# --- Which attribute is whose ---
#: Attributes the OpenTelemetry semantic conventions define (``tests/core/test_semconv.py``
#: finds each in the installed ``opentelemetry-semantic-conventions`` package).
STANDARD_ATTRIBUTES: Final = frozenset(
    {
        GEN_AI_OPERATION_NAME,
        GEN_AI_PROVIDER_NAME,
        GEN_AI_REQUEST_MODEL,
        GEN_AI_REQUEST_TEMPERATURE,
        GEN_AI_REQUEST_TOP_P,
        GEN_AI_REQUEST_TOP_K,
        GEN_AI_REQUEST_MAX_TOKENS,
        GEN_AI_REQUEST_STOP_SEQUENCES,
        GEN_AI_REQUEST_SEED,
        GEN_AI_REQUEST_FREQUENCY_PENALTY,
        GEN_AI_REQUEST_PRESENCE_PENALTY,
        GEN_AI_REQUEST_CHOICE_COUNT,
        GEN_AI_REQUEST_STREAM,
        GEN_AI_RESPONSE_MODEL,
        GEN_AI_RESPONSE_ID,
        GEN_AI_RESPONSE_FINISH_REASONS,
        GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
        GEN_AI_USAGE_INPUT_TOKENS,
        GEN_AI_USAGE_OUTPUT_TOKENS,
        GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
        GEN_AI_INPUT_MESSAGES,
        GEN_AI_OUTPUT_MESSAGES,
        GEN_AI_SYSTEM_INSTRUCTIONS,
        GEN_AI_TOOL_DEFINITIONS,
        GEN_AI_TOOL_NAME,
        GEN_AI_TOOL_CALL_ID,
        GEN_AI_TOOL_TYPE,
        GEN_AI_TOOL_DESCRIPTION,
        GEN_AI_TOOL_CALL_ARGUMENTS,
        GEN_AI_TOOL_CALL_RESULT,
        GEN_AI_AGENT_NAME,
        GEN_AI_AGENT_ID,
        GEN_AI_AGENT_DESCRIPTION,
        GEN_AI_WORKFLOW_NAME,
        GEN_AI_DATA_SOURCE_ID,
        GEN_AI_RETRIEVAL_QUERY_TEXT,
        GEN_AI_RETRIEVAL_DOCUMENTS,
        GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
        GEN_AI_CONVERSATION_ID,
        GEN_AI_PROMPT_NAME,
        GEN_AI_TOKEN_TYPE,
        GEN_AI_EVALUATION_NAME,
        GEN_AI_EVALUATION_SCORE_VALUE,
        GEN_AI_EVALUATION_SCORE_LABEL,
        GEN_AI_EVALUATION_EXPLANATION,
        ERROR_TYPE,
        USER_ID,
        SESSION_ID,
    }
)
#: semtrace's own attributes, all under ``semtrace.``: the conventions define none of
#: these. A test fails if one of them uses a namespace the conventions own (``gen_ai.``,
#: ``server.``, ``error.``, ...). ``SEMTRACE_QUALITY_PREFIX`` stands for the
#: ``semtrace.quality.{signal}`` family.
OWN_ATTRIBUTES: Final = frozenset(
    {
        SEMTRACE_USAGE_SOURCE,
        SEMTRACE_USAGE_COST_AMOUNT,
        SEMTRACE_USAGE_COST_CURRENCY,
        SEMTRACE_USAGE_COST_SOURCE,
        SEMTRACE_USAGE_COST_ESTIMATED,
        SEMTRACE_TRACE_COST_AMOUNT,
        SEMTRACE_TRACE_COST_CURRENCY,
        SEMTRACE_TRACE_INPUT_TOKENS,
        SEMTRACE_TRACE_OUTPUT_TOKENS,
        SEMTRACE_USAGE_ENCODING,
        SEMTRACE_USAGE_PURPOSE,
        SEMTRACE_RETRIEVAL_DOCUMENT_COUNT,
        SEMTRACE_RETRIEVAL_DOCUMENT_IDS,
        SEMTRACE_RETRIEVAL_DOCUMENT_SCORES,
        SEMTRACE_RERANK_TOP_N,
        SEMTRACE_RUN_NAME,
        SEMTRACE_RUN_ABANDONED,
        SEMTRACE_RUN_CANCELLED,
        SEMTRACE_INPUT_VALUE,
        SEMTRACE_OUTPUT_VALUE,
        SEMTRACE_FRAMEWORK,
        SEMTRACE_TAGS,
        SEMTRACE_PROMPT_VERSION,
        SEMTRACE_QUALITY_PREFIX,
        SEMTRACE_SAMPLING_DECISION,
        SEMTRACE_SAMPLING_REASON,
        SEMTRACE_SAMPLING_TRIGGER,
        SEMTRACE_DIAGNOSIS,
        SEMTRACE_DIAGNOSIS_SPAN_ID,
        SEMTRACE_DIAGNOSIS_SIGNAL,
        SEMTRACE_QUALITY_SENSITIVE_KINDS,
        SEMTRACE_QUALITY_GROUNDEDNESS_KIND,
        SEMTRACE_FEEDBACK_SPAN_ID,
    }
)

# --- keys other instrumentations write: semtrace.adopt reads them, semtrace never writes them.
# Not under the GEN_AI_ prefix on purpose: they are older or tool-specific spellings, not
# attributes semtrace records (see semtrace.adopt).
FOREIGN_GEN_AI_SYSTEM: Final = "gen_ai.system"
FOREIGN_GEN_AI_USAGE_PROMPT_TOKENS: Final = "gen_ai.usage.prompt_tokens"
FOREIGN_GEN_AI_USAGE_COMPLETION_TOKENS: Final = "gen_ai.usage.completion_tokens"
#: OpenLLMetry's flattened messages: ``gen_ai.prompt.{i}.role`` / ``.content``, ...
FOREIGN_GEN_AI_PROMPT_PREFIX: Final = "gen_ai.prompt."
FOREIGN_GEN_AI_COMPLETION_PREFIX: Final = "gen_ai.completion."
#: The events of the GenAI conventions before ``gen_ai.input.messages`` (one per message).
FOREIGN_MESSAGE_EVENTS: Final = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
FOREIGN_CHOICE_EVENT: Final = "gen_ai.choice"
#: The official LangChain instrumentation's prompt template variables (content).
FOREIGN_GEN_AI_PROMPT_VARIABLE_PREFIX: Final = "gen_ai.prompt.variable."
#: OpenLLMetry's task input and output (content).
FOREIGN_GEN_AI_TASK_PREFIX: Final = "gen_ai.task."
