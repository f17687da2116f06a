#!/usr/bin/env bash
# Upgrades check: run the LangChain and LlamaIndex integration suites against the OLDEST
# and the NEWEST versions the integrations declare, each in a venv of its own under .venvs/.
#
#   bash .ci/versions.sh                 # both profiles
#   bash .ci/versions.sh oldest          # one profile (oldest | newest)
#   KEEP_VENVS=1 bash .ci/versions.sh    # reuse existing venvs instead of rebuilding them
#
# oldest: the floors the packages declare, each at its exact oldest release: langchain-core
#         0.3.0 (integrations/langchain package.py: ">= 0.3.0, < 2") and llama-index-core
#         0.14.17 (integrations/llamaindex package.py: ">= 0.14.17, < 0.15"), with the
#         companions the resolver pairs with them (langchain 0.3.0, langgraph 0.2.40,
#         langchain-openai 0.2.1), and OpenTelemetry and tiktoken at the floors
#         packages/semtrace declares (api/sdk/exporter 1.30, instrumentation/semconv 0.51b0,
#         tiktoken 0.7).
# newest: the newest releases inside the declared ranges.
#
# Tests that need something newer than a profile has are deselected below, by node id, each
# with the reason; nothing is skipped silently. Exits non-zero if any profile fails.
set -uo pipefail
cd "$(dirname "$0")/.."

command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv>=0.5"
export UV_PYTHON_DOWNLOADS=never # the machine's Python; nothing is downloaded but packages
PYTHON=${PYTHON:-python3.11}
SUITES=(tests/langchain tests/llamaindex)
COMMON=(
    -e packages/semtrace -e integrations/langchain -e integrations/llamaindex
    pytest pytest-asyncio hypothesis httpx
    jsonschema  # tests/conformance: the content schemas the suite checks every span against
)

OLDEST_PINS=(
    "langchain-core==0.3.0" "langchain>=0.3,<0.4" "langgraph<1" "langchain-openai<0.4"
    "llama-index-core==0.14.17"
    "opentelemetry-api==1.30.0" "opentelemetry-sdk==1.30.0"
    "opentelemetry-exporter-otlp-proto-http==1.30.0"
    "opentelemetry-instrumentation==0.51b0" "opentelemetry-semantic-conventions==0.51b0"
    "opentelemetry-instrumentation-httpx==0.51b0" "tiktoken==0.7.0"
    # test_provider_duplicates.py's OpenAI instrumentation (a test dependency, not
    # semtrace's): the last release on these OpenTelemetry floors (2.2b0 needs 1.37).
    "opentelemetry-instrumentation-openai-v2==2.1b0"
)
OLDEST_PYTEST=(
    # Not a skip: langchain-core 0.3.0 reads model_fields on instances, which pydantic >= 2.11
    # warns about on every serialisation (thousands of lines of framework noise).
    -W "ignore::DeprecationWarning:langchain_core.load.serializable"
    # langchain.agents.create_agent exists from langchain 1.0 only (langchain-core 1.x).
    # LangGraph's thread_id on LangGraph 0.x is test_state_graph_thread_id_is_the_conversation_id.
    --deselect "tests/langchain/test_langgraph_agents.py::test_create_agent_is_an_invoke_agent_span_with_model_and_tool_children"
    --deselect "tests/langchain/test_langgraph_agents.py::test_failing_tool_is_an_error_span"
    --deselect "tests/langchain/test_langchain_run_context.py::test_langgraph_thread_id_is_the_conversation_id"
    --deselect "tests/langchain/test_langgraph_agents.py::test_an_agent_span_names_the_provider_of_its_model"
    --deselect "tests/langchain/test_latest_conventions.py::test_an_agent_writes_the_newest_names"
    # create_react_agent(name=...) appeared after langgraph 0.2.40 (this profile's): no name to keep.
    --deselect "tests/langchain/test_langgraph_agents.py::test_a_named_prebuilt_react_agent_keeps_its_name"
    # The same for the named agents of a team graph, whose graph is named with
    # compile(name=...), also newer. On this profile the unnamed agent,
    # test_an_unnamed_react_agent_node_gets_an_agent_span_without_a_name, covers a react
    # agent as a node. pre_model_hook appeared after langgraph 0.2.40 too.
    --deselect "tests/langchain/test_langgraph_agents.py::test_react_agents_added_as_nodes_of_a_team_each_get_their_agent_span"
    --deselect "tests/langchain/test_langgraph_agents.py::test_react_agents_running_in_parallel_keep_their_own_steps"
    --deselect "tests/langchain/test_langgraph_agents.py::test_a_react_agent_node_gets_its_agent_span_when_the_team_runs_async"
    --deselect "tests/langchain/test_langgraph_agents.py::test_a_react_agent_invoked_inside_a_node_gets_its_agent_span"
    --deselect "tests/langchain/test_langgraph_agents.py::test_a_react_agent_node_is_an_agent_span_when_all_runs_are_traced"
    --deselect "tests/langchain/test_langgraph_agents.py::test_a_model_call_in_a_react_agents_pre_model_hook_is_under_the_agent"
    # langgraph.types.interrupt appeared in langgraph 0.2.57; the langchain-core 0.3.0
    # generation has langgraph 0.2.40. Its interrupts are test_node_interrupt_is_not_an_error.
    --deselect "tests/langchain/test_langgraph_agents.py::test_graph_interrupt_is_not_an_error"
    # Log records with an event name (LogRecord(event_name=..., context=...)) need
    # opentelemetry-api 1.35; on this profile's 1.30 the GenAI events are span events only.
    --deselect "tests/langchain/test_langchain_content_capture.py::test_event_only_mode_puts_content_in_a_log_event_not_on_the_span"
    --deselect "tests/langchain/test_langchain_content_capture.py::test_without_a_logger_provider_given_the_events_go_to_the_global_one"
)
NEWEST_PINS=(
    "langchain-core>=1,<2" "langchain>=1" "langgraph>=1" langchain-openai
    "llama-index-core>=0.14.17,<0.15"
    opentelemetry-instrumentation-httpx
    # test_provider_duplicates.py's OpenAI instrumentation: the newest openai-v2 imports
    # opentelemetry.util.genai.instruments, missing from the util-genai release the resolver
    # pairs it with; the pair the workspace locks works (a test dependency, not semtrace's).
    "opentelemetry-instrumentation-openai-v2==2.4b0" "opentelemetry-util-genai==1.1b0"
)
NEWEST_PYTEST=()

run_profile() {
    local name=$1
    local venv=.venvs/versions-$name
    local -n pins=${name^^}_PINS
    local -n pytest_args=${name^^}_PYTEST
    echo "=== $name: building $venv"
    if [[ -z ${KEEP_VENVS:-} || ! -x $venv/bin/python ]]; then
        rm -rf "$venv"
        uv venv --quiet --python "$PYTHON" "$venv" || return 1
        uv pip install --quiet --python "$venv/bin/python" "${COMMON[@]}" "${pins[@]}" || return 1
    fi
    uv pip list --python "$venv/bin/python" 2>/dev/null |
        grep -E '^(langchain(-core|-openai)?|langgraph|llama-index-(core|workflows)|opentelemetry-(api|sdk|instrumentation|semantic-conventions)|tiktoken|openai|pydantic) ' |
        sed 's/^/    /'
    echo "=== $name: ${SUITES[*]}"
    "$venv/bin/python" -m pytest "${SUITES[@]}" -p no:cacheprovider -q "${pytest_args[@]}"
}

profiles=("$@")
[[ ${#profiles[@]} -eq 0 ]] && profiles=(oldest newest)
status=0
declare -A outcome
for profile in "${profiles[@]}"; do
    if run_profile "$profile"; then outcome[$profile]=passed; else outcome[$profile]=FAILED; status=1; fi
done
for profile in "${profiles[@]}"; do echo "versions.sh: $profile ${outcome[$profile]}"; done
exit $status
