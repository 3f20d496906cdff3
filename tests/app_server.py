"""The web app under test, shared by tests/test_app.py, tests/test_app_browser.py and tests/hostile/test_hostile_web.py.

Loaded by each as a pytest plugin (`pytest_plugins = ["app_server"]`), it gives:

- the session-scoped `app_server` fixture: the real app, `python app.py`, in a subprocess on a free loopback port,
  over an empty temporary data directory (so it ingests the bundled corpus first, ~20 s), with an administrator
  password set and Gradio's cache (GRADIO_TEMP_DIR) in a temporary folder of its own, so tests can see what it holds;
- `FakeBot` and `serve_app`: the app over a stand-in bot (no index, no model), served by uvicorn in a thread;
- `sign_in` and `admin_client`: an administrator's session cookie from the sign-in route, from a chosen loopback
  address (all of 127.0.0.0/8 reaches a server on 127.0.0.1, so tests can be several clients), and a gradio_client
  that sends it;
- the module-scoped `browser` fixture: Debian's headless Chromium (never a downloaded browser) through Playwright.

The test modules also import its helpers, so it is imported before pytest loads it as a plugin: PYTEST_DONT_REWRITE
(pytest could not rewrite its asserts by then anyway; it has none).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from sendbot.core.models import Answer, AnswerSentence, Citation, FileRecord, FileResult, Filters, IngestReport

PROJECT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "correct horse battery staple"
MAX_UPLOAD_MB = 1
START_TIMEOUT = 300  # seconds: model load plus ingesting the bundled corpus on a slow machine
AGENDA = "cfosp-agenda-pack-2023-05-24.pdf"
AGENDA_FACT_PAGE = 18  # the bundled agenda pack's page saying "159 Mental Health Leaders trained (59%)"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@dataclass
class AppServer:
    url: str
    port: int
    data_dir: Path
    gradio_temp_dir: Path  # Gradio's cache: uploads land here
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)
    admin_password: str = ADMIN_PASSWORD
    max_upload_mb: int = MAX_UPLOAD_MB

    def log(self) -> str:
        return "\n".join(self.output)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except Exception:
        return 0


def launch(data_dir: Path, port: int, extra_env: dict[str, str] | None = None) -> AppServer:
    """Start `python app.py` and return once it has printed its ready line and answers HTTP 200."""
    gradio_temp_dir = data_dir.with_name(f"{data_dir.name}-gradio")
    gradio_temp_dir.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_SERVER_", "SENDBOT_"))}
    env.update({
        "SENDBOT_DATA_DIR": str(data_dir),
        "SENDBOT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SENDBOT_MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
        "SENDBOT_SOURCES": str(data_dir.with_name(f"{data_dir.name}-sources.toml")),  # none: a sync never leaves loopback
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(gradio_temp_dir),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    })
    process = subprocess.Popen(
        [sys.executable, str(PROJECT / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
    )
    server = AppServer(f"http://127.0.0.1:{port}/", port, data_dir, gradio_temp_dir, process)
    ready = threading.Event()

    def pump() -> None:
        for line in process.stdout:
            server.output.append(line.rstrip())
            if "is ready at" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while not ready.wait(0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"the app did not start (exit code {process.returncode}):\n{server.log()[-4000:]}")
    while http_status(server.url) != 200:
        if time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"the app printed its ready line but {server.url} does not answer 200")
        time.sleep(0.2)
    return server


def stop(server: AppServer) -> None:
    """End the server process this module started (by its own handle, nothing else)."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("sendbot-app-data")
    started = time.monotonic()
    server = launch(data_dir, free_port())
    server.output.append(f"# (test harness) server ready after {time.monotonic() - started:.1f}s")
    yield server
    stop(server)


# ---------------------------------------------------------------------------------------------------------------
# Signing in as an administrator
# ---------------------------------------------------------------------------------------------------------------

def sign_in(url: str, password: str = ADMIN_PASSWORD, address: str = "127.0.0.1") -> httpx.Response:
    """POST the password to the app's sign-in route from the loopback `address`; the response sets the cookie."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30) as client:
        return client.post(url + "admin/sign-in", json={"password": password})


def admin_client(url: str, password: str = ADMIN_PASSWORD):
    """A gradio_client Client that sends a signed-in administrator's session cookie with every request."""
    from gradio_client import Client

    response = sign_in(url, password)
    if response.status_code != 200:
        raise RuntimeError(f"could not sign in: {response.status_code} {response.text}")
    cookie = "; ".join(f"{name}={value}" for name, value in response.cookies.items())
    return Client(url, verbose=False, headers={"Cookie": cookie})


# ---------------------------------------------------------------------------------------------------------------
# A stand-in bot, and the app over it in a thread
# ---------------------------------------------------------------------------------------------------------------

def citation(n=1, source=AGENDA, page=10, text="Intro line.\n• 159 Mental Health Leaders trained (59%)• more",
             quote="• 159 Mental Health Leaders trained (59%)", title="Agenda pack <24 May 2023> & more",
             section="Broker & deliver training", date="2023-05-24", kind="agenda and reports", period=""):
    return Citation(n=n, source=source, title=title, date=date, page=page, section=section, text=text, quote=quote,
                    score=0.87, kind=kind, period=period)


def answer_with(*citations: Citation, sentences=None) -> Answer:
    sentences = sentences or tuple(AnswerSentence(c.quote, (c.n,)) for c in citations)
    return Answer("How many?", tuple(sentences), tuple(citations), refused=False)


def file_record(source="a.txt", title="A", date="", kind="minutes", chunks=1, path: Path | None = None) -> FileRecord:
    return FileRecord(source=source, path=str(path or f"/nowhere/{source}"), sha256="0" * 64, chunks=chunks,
                      title=title, date=date, period="", publisher="", kind=kind, paged=False)


class FakeBot:
    """Just enough of SendBot for the handlers and the Blocks, without an index: one document, a fixed answer, and
    an ingest where files named bad-* fail and the rest are added with 3 passages."""

    def __init__(self):
        self.records = {"a.txt": file_record()}
        self.asked: list[tuple[str, Filters]] = []
        self.ingested: list[tuple[str, str]] = []

    def documents(self):
        return list(self.records.values())

    def record(self, source):
        return self.records.get(source)

    def ask(self, question, filters=Filters(), k=None):
        self.asked.append((question, filters))
        return replace(answer_with(citation()), question=question)

    def ask_with_passages(self, question, filters=Filters()):
        return self.ask(question, filters), []

    def vocabulary(self):
        return frozenset({"mental", "health", "leaders", "trained"})

    def ingest(self, paths, prune=False, progress=None):
        report = IngestReport()
        for path in paths:
            self.ingested.append((path.name, path.read_text()))
            failed = path.name.startswith("bad-")
            report.files.append(FileResult(path.name, str(path), "failed" if failed else "added", 0 if failed else 3,
                                           reason="the text could not be read" if failed else ""))
            if progress:
                progress(path.name)
        return report

    def remove(self, source):
        return self.records.pop(source, None) is not None


@contextmanager
def serve_app(bot, settings) -> Iterator[str]:
    """`create_app(bot, settings)` served by uvicorn in a thread on a free loopback port; yields its URL."""
    import uvicorn

    import app

    ready = threading.Event()
    port = free_port()
    config = uvicorn.Config(app.create_app(bot, settings), host="127.0.0.1", port=port, log_level="warning",
                            timeout_graceful_shutdown=2)  # a page left open keeps its event stream open
    server = app.ReadyServer(config, ready.set)
    thread = threading.Thread(target=server.run, name=f"app-on-{port}", daemon=True)
    thread.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("the app did not start within 60 s")
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


# ---------------------------------------------------------------------------------------------------------------
# A headless browser
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
