"""Shared fixtures for the core suite: real files, a real Chroma store, the real bundled embedder.

The bundled corpus is ingested once per test session into a temporary data directory (`corpus`); tests that
need their own index ingest small generated files into `tmp_path` (cheap once the model has loaded).
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from ingest.loaders import load_document
from sendbot.bench.scale import chroma_server
from sendbot.bot import SendBot
from sendbot.core.config import Settings
from sendbot.core.models import Document

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # vendored, so a clone of the project alone runs every test


@pytest.fixture(scope="session")
def minutes_pdf() -> Path:
    """The 6-page panel minutes PDF (text layer with ligatures and a line-end hyphen)."""
    return FIXTURES / "cfosp-minutes-ofsted-cqc-send-revisit.pdf"


@pytest.fixture(scope="session")
def agenda_md() -> Path:
    """The agenda pack as Markdown, with tab-separated tables whose cells hold HTML."""
    return FIXTURES / "cfosp-agenda-pack-2023-05-24.md"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a private, empty index; the corpus folder is empty so nothing is ingested by accident."""
    (tmp_path / "no-corpus").mkdir()
    return Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "no-corpus")


@pytest.fixture(params=["embedded", "server"])
def mode_settings(request, settings: Settings, tmp_path: Path):
    """The test's settings, embedded or pointed at a real Chroma server started for the test (the test runs twice)."""
    server = chroma_server(tmp_path / "chroma-server") if request.param == "server" else nullcontext("")
    with server as url:
        yield replace(settings, chroma_url=url)


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A folder for the test's generated input files."""
    folder = tmp_path / "docs"
    folder.mkdir()
    return folder


@dataclass
class CorpusIndex:
    """The bundled corpus, ingested once for the session, and the bot that answers from it."""

    settings: Settings
    bot: SendBot
    progress: list[str]
    documents: dict[str, Document] = field(default_factory=dict)

    def document(self, source: str) -> Document:
        """The document as the loader extracts it from the file on disk (cached)."""
        if source not in self.documents:
            self.documents[source] = load_document(self.settings.corpus_dir / source)
        return self.documents[source]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusIndex:
    settings = Settings(data_dir=tmp_path_factory.mktemp("corpus-index") / "data")
    progress: list[str] = []
    bot = SendBot.open(settings, progress=progress.append)
    return CorpusIndex(settings, bot, progress)


# --- the `sendbot` command in a subprocess -------------------------------------------------------------------


@pytest.fixture(scope="session")
def sendbot_exe() -> Path:
    exe = Path(sys.executable).parent / "sendbot"
    if not exe.is_file():
        pytest.skip(f"the sendbot console script is not installed next to {sys.executable}")
    return exe
