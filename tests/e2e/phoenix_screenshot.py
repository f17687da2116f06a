"""Screenshot a semtrace quickstart trace in Phoenix's UI: docs/images/phoenix-trace.png.

    cd /work/main && uv run python tests/e2e/phoenix_screenshot.py [--phoenix http://127.0.0.1:PORT]
    uv run python tests/e2e/phoenix_screenshot.py --failing  # phoenix-failing-trace.png
    uv run python tests/e2e/phoenix_screenshot.py --annotations  # phoenix-annotations.png

``--failing`` runs a RAG whose retriever finds nothing relevant and whose model answers from
outside the context, exported with the Phoenix view: the chat span carries the failed quality
signals (``semtrace.quality.*`` = fail, ``gen_ai.evaluation.result`` events). The run has an
LLM judge (a fake model answering UNSUPPORTED) and gets a user's feedback afterwards; the Phoenix
view brings the ``phoenix`` evaluation sink, so every verdict is also a span annotation.
``--annotations`` shows the same trace with the chat span's Annotations tab open.

Not a test (pytest does not collect it). Without ``--phoenix`` it starts its own Phoenix (as the
e2e fixture does, loopback only, temp DB) and stops it afterwards. It runs
``examples/langchain_quickstart.py`` exporting to the project ``langchain-quickstart``, opens the
trace in headless Debian ``chromium`` (``apt-get install -y chromium``) driven over the DevTools
protocol (a websocket on 127.0.0.1; no browser download, no playwright), selects the chat span,
opens its Attributes tab (JSON view), and saves the PNG.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends
from backends import LOOPBACK, REPO_ROOT, http_get_json, wait_until
from helpers import EXAMPLES, child_env, run_python
from semtrace.testing import tiktoken_cache_from
from websockets.sync.client import ClientConnection, connect

OUT = REPO_ROOT / "docs" / "images" / "phoenix-trace.png"
FAILING_OUT = REPO_ROOT / "docs" / "images" / "phoenix-failing-trace.png"
ANNOTATIONS_OUT = REPO_ROOT / "docs" / "images" / "phoenix-annotations.png"
PROJECT = "langchain-quickstart"
FAILING_PROJECT = "rag-failing"
#: A quickstart-like RAG that fails its quality signals: the question is not in the documents
#: and the answer is not in the retrieved context. Exported with the Phoenix view.
FAILING_RAG = r"""
import semtrace
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from semtrace.quality.judge import GroundednessJudge, JudgeReply
from semtrace_langchain import CallbackHandler

class FakeChat(GenericFakeChatModel):
    def _get_ls_params(self, stop=None, **kwargs):
        return {**super()._get_ls_params(stop=stop, **kwargs),
                "ls_provider": "openai", "ls_model_name": "gpt-4o-mini"}

semtrace.configure(service_name="rag-failing", backend_view="phoenix")
docs = ["A for loop iterates over the items of any sequence.",
        "A lambda expression creates a small anonymous function."]
store = InMemoryVectorStore.from_texts(docs, DeterministicFakeEmbedding(size=64))
prompt = ChatPromptTemplate.from_messages(
    [("system", "Answer from the context:\n{context}"), ("human", "{question}")])
model = FakeChat(messages=iter([AIMessage("The Eiffel Tower was completed in Paris in 1889.")]))
chain = ({"context": store.as_retriever(search_kwargs={"k": 2}),
          "question": RunnablePassthrough()} | prompt | model | StrOutputParser())
judge = GroundednessJudge(lambda prompt: JudgeReply("UNSUPPORTED: not in the context"))
with semtrace.trace_capture() as captured:
    chain.invoke("How do I open a file for writing?",
                 config={"callbacks": [CallbackHandler(evaluators=[judge])]})
semtrace.flush()  # the judge's verdicts, before the user rates the answer
semtrace.feedback(captured.ref, 0.0, label="wrong", comment="Nothing about files in there.")
semtrace.flush()
"""
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1600,1000",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


class Page:
    """A minimal DevTools-protocol client for one page."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self._ws.recv(timeout=60))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")


#: JS: open the span's "Annotations" card (its title is an h3 with a counter in it).
OPEN_ANNOTATIONS = """(() => {
  const title = [...document.querySelectorAll('h3')].find(
    e => e.firstChild && e.firstChild.textContent.trim() === 'Annotations');
  if (!title) return false;
  (title.closest('button, [role=button], [aria-expanded]') || title.parentElement).click();
  return true;
})()"""


def _click_text(selector: str, text: str) -> str:
    """JS: click the first element matching ``selector`` whose text is ``text``."""
    return (
        f"(() => {{ const el = [...document.querySelectorAll({json.dumps(selector)})]"
        f".find(e => e.textContent.trim().startsWith({json.dumps(text)}));"
        " if (!el) return false; el.click(); return true; })()"
    )


def screenshot(
    phoenix_url: str,
    out: Path,
    view: str = "table",
    failing: bool = False,
    tab: str = "Attributes",
) -> None:
    # 1. A fresh trace in its own project: the quickstart's, or a failing RAG's.
    project = FAILING_PROJECT if failing else PROJECT
    env = child_env(
        OTEL_EXPORTER_OTLP_ENDPOINT=phoenix_url,
        OTEL_METRICS_EXPORTER="none",
        OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={project}",
    )
    if failing:
        cache = Path(tempfile.gettempdir()) / "semtrace-screenshot-tiktoken"
        bpe_files = REPO_ROOT / "tests" / "data" / "tiktoken"
        env["TIKTOKEN_CACHE_DIR"] = str(tiktoken_cache_from(bpe_files, cache))
        run_python(["-c", FAILING_RAG], env)
    else:
        run_python([str(EXAMPLES / "langchain_quickstart.py")], env)
    quoted = urllib.parse.quote(project)

    def latest_chat() -> dict[str, Any] | None:
        body = http_get_json(f"{phoenix_url}/v1/projects/{quoted}/spans?limit=100")
        chats = [s for s in body["data"] if s["name"].startswith("chat ")]
        return max(chats, key=lambda s: s["start_time"]) if chats else None

    chat = wait_until(latest_chat, 60, what="the quickstart's spans in Phoenix")
    projects = http_get_json(f"{phoenix_url}/v1/projects?limit=1000")["data"]
    project_id = next(p["id"] for p in projects if p["name"] == project)
    url = (
        f"{phoenix_url}/projects/{urllib.parse.quote(project_id)}/traces/"
        f"{chat['context']['trace_id']}?selectedSpanNodeId={urllib.parse.quote(chat['id'])}"
    )

    # 2. Headless chromium, driven over the DevTools protocol on 127.0.0.1.
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            port = wait_until(
                lambda: port_file.exists() and port_file.read_text().split("\n")[0],
                60,
                what="chromium's DevTools port",
            )
            targets = wait_until(
                lambda: [
                    t
                    for t in http_get_json(f"http://{LOOPBACK}:{port}/json/list")
                    if t["type"] == "page"
                ],
                30,
                what="a chromium page",
            )
            ws_url = targets[0]["webSocketDebuggerUrl"]
            with connect(ws_url, max_size=64 * 2**20, open_timeout=30) as ws:
                page = Page(ws)
                page.call(
                    "Emulation.setDeviceMetricsOverride",
                    width=1600,
                    height=1000,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                page.call("Page.enable")
                page.call("Page.navigate", url=url)
                wait_until(
                    lambda: (
                        page.js(f"document.body.innerText.includes({json.dumps(chat['name'])})")
                        and page.js("document.body.innerText.includes('Attributes')")
                    ),
                    60,
                    what="Phoenix to render the trace",
                )
                tabs = "[...document.querySelectorAll('[role=tab]')].map(e => e.textContent)"
                try:
                    wait_until(
                        lambda: page.js(_click_text("[role=tab]", tab)),
                        30,
                        what=f"the {tab} tab",
                    )
                except TimeoutError as exc:
                    raise TimeoutError(f"{exc}; the page's tabs: {page.js(tabs)}") from None
                if tab == "Info":  # open the span's annotations (semtrace's verdicts)
                    wait_until(lambda: page.js(OPEN_ANNOTATIONS), 30, what="Annotations")
                    # The table shows each annotation's label, score, annotator and explanation.
                    with contextlib.suppress(TimeoutError):
                        wait_until(
                            lambda: page.js(_click_text("button, [role=radio], label", "Table")),
                            10,
                            what="the annotations table",
                        )
                if view == "json" and tab == "Attributes":
                    wait_until(
                        lambda: page.js(_click_text("button", "JSON")), 30, what="the JSON view"
                    )
                time.sleep(2)  # let the attribute view render
                shot = page.call("Page.captureScreenshot", format="png")
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(shot["data"]))
    print(f"wrote {out} ({out.stat().st_size} bytes) from {url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phoenix", help="a running Phoenix (http://127.0.0.1:PORT)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--view", choices=["table", "json"], default="json")
    parser.add_argument("--failing", action="store_true", help="a RAG failing its signals")
    parser.add_argument(
        "--annotations", action="store_true", help="the failing RAG's Annotations tab"
    )
    args = parser.parse_args()
    failing = args.failing or args.annotations
    tab = "Info" if args.annotations else "Attributes"
    default = ANNOTATIONS_OUT if args.annotations else FAILING_OUT if failing else OUT
    out = args.out or default
    if args.phoenix:
        screenshot(args.phoenix.rstrip("/"), out, args.view, failing, tab)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        phoenix = backends.start_phoenix(Path(tmp))
        try:
            screenshot(phoenix.http_endpoint, out, args.view, failing, tab)
        finally:
            phoenix.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
