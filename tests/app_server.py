"""The real web app in a subprocess, shared by tests/test_app.py and tests/test_app_browser.py.

Loaded by both as a pytest plugin (`pytest_plugins = ["app_server"]`), so the session-scoped `app_server`
fixture launches one server per test session: `python app.py` on a free loopback port, over an empty temporary
data directory (so it ingests the bundled corpus first, ~20 s), with an administrator password set.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "correct horse battery staple"
MAX_UPLOAD_MB = 1
START_TIMEOUT = 300  # seconds: model load plus ingesting the bundled corpus on a slow machine


@dataclass
class AppServer:
    url: str
    port: int
    data_dir: Path
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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_SERVER_", "SENDBOT_"))}
    env.update({
        "SENDBOT_DATA_DIR": str(data_dir),
        "SENDBOT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SENDBOT_MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    })
    process = subprocess.Popen(
        [sys.executable, str(PROJECT / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
    )
    server = AppServer(f"http://127.0.0.1:{port}/", port, data_dir, process)
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
