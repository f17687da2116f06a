#!/usr/bin/env bash
# Upgrades check: run the LangChain and LlamaIndex integration suites against the OLDEST
# and the NEWEST versions the integrations declare, each in a venv of its own under .venvs/.
#
#   bash .ci/versions.sh                 # both profiles
#   bash .ci/versions.sh oldest          # one profile (oldest | newest)
#   KEEP_VENVS=1 bash .ci/versions.sh    # reuse existing venvs instead of rebuilding them
#
# oldest: langchain-core 0.3.x (latest patch) and llama-index-core 0.12.x (latest patch), the
#         floors of integrations/*/src/*/package.py ("langchain-core >= 0.3.0, < 2",
#         "llama-index-core >= 0.12.0, < 0.15"), with the frameworks' companions of the same
#         generation, and OpenTelemetry and tiktoken at the floors packages/semtrace declares
#         (api/sdk/exporter 1.27, instrumentation/semconv 0.48b0, tiktoken 0.7).
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
)

OLDEST_PINS=(
    "langchain-core>=0.3,<0.4" "langchain>=0.3,<0.4" "langgraph<1" "langchain-openai<0.4"
    "llama-index-core==0.14.0"  # the declared floor (0.12 failed 6 tests: see package.py)
    "opentelemetry-api==1.27.0" "opentelemetry-sdk==1.27.0"
    "opentelemetry-exporter-otlp-proto-http==1.27.0"
    "opentelemetry-instrumentation==0.48b0" "opentelemetry-semantic-conventions==0.48b0"
    "opentelemetry-instrumentation-httpx==0.48b0" "tiktoken==0.7.0"
    # opentelemetry-instrumentation 0.48b0 imports pkg_resources without depending on
    # setuptools: without it, `import semtrace_langchain` fails (ModuleNotFoundError), as it
    # would in any venv without setuptools (Python >= 3.12, uv). Reported; until the floor is
    # raised (0.49b0 no longer imports pkg_resources), the oldest profile provides it.
    "setuptools<81"
)
OLDEST_SKIP=(
    # opentelemetry-instrumentation-openai-v2 needs opentelemetry-semantic-conventions >= 0.49b0,
    # above the 0.48b0 floor this profile tests, so it is not installed and this module (which
    # imports it at the top) cannot be collected.
    --ignore=tests/langchain/test_provider_duplicates.py
    # Imports llama_index.core.base.llms.types.ToolCallBlock at the top, which appeared after
    # llama-index-core 0.12: the module cannot be collected on 0.12 (its other tests would run
    # there if the import moved into the tests that use the block).
    --ignore=tests/llamaindex/test_translate.py
    # langchain.agents.create_agent exists from langchain 1.0 only (langchain-core 1.x).
    --deselect "tests/langchain/test_agents.py::test_create_agent_is_an_invoke_agent_span_with_model_and_tool_children"
    --deselect "tests/langchain/test_agents.py::test_failing_tool_is_an_error_span"
    --deselect "tests/langchain/test_context.py::test_langgraph_thread_id_is_the_conversation_id"
)
NEWEST_PINS=(
    "langchain-core>=1,<2" "langchain>=1" "langgraph>=1" langchain-openai
    "llama-index-core>=0.14,<0.15"
    opentelemetry-instrumentation-httpx
    # test_provider_duplicates.py's OpenAI instrumentation: the newest openai-v2 imports
    # opentelemetry.util.genai.instruments, missing from the util-genai release the resolver
    # pairs it with; the pair the workspace locks works (a test dependency, not semtrace's).
    "opentelemetry-instrumentation-openai-v2==2.4b0" "opentelemetry-util-genai==1.1b0"
)
NEWEST_SKIP=()

run_profile() {
    local name=$1
    local venv=.venvs/versions-$name
    local -n pins=${name^^}_PINS
    local -n skip=${name^^}_SKIP
    echo "=== $name: building $venv"
    if [[ -z ${KEEP_VENVS:-} || ! -x $venv/bin/python ]]; then
        rm -rf "$venv"
        uv venv --quiet --python "$PYTHON" "$venv" || return 1
        uv pip install --quiet --python "$venv/bin/python" "${COMMON[@]}" "${pins[@]}" || return 1
    fi
    uv pip list --python "$venv/bin/python" 2>/dev/null |
        grep -E '^(langchain|langgraph|llama-index|opentelemetry-(api|sdk|instrumentation|semantic)|tiktoken|openai|pydantic) ' |
        sed 's/^/    /'
    echo "=== $name: ${SUITES[*]}"
    "$venv/bin/python" -m pytest "${SUITES[@]}" -p no:cacheprovider -q "${skip[@]}"
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
