"""Syncing the council's sites from the app (sendbot/web/sync.py and WebHandlers.sync_sources): an administrator runs
the sync of the configured sources against the fake council (tests/fake_council.py, a real HTTP server on 127.0.0.1),
sees its summary, and the Documents tab then shows each synced document's council address and last sync; the real
bot (real store and embedder) reloads and answers from what was synced. Every other connection is refused."""

from __future__ import annotations

import re
import time
from pathlib import Path

import gradio as gr
import pytest

from fake_council import COUNCIL, FakeCouncil
from ingest.sync.state import synced_documents
from sendbot.bot import SendBot
from sendbot.core.config import Settings
from sendbot.feedback import FeedbackStore
from sendbot.web.admin import COOKIE, NOT_SIGNED_IN
from sendbot.web.handlers import WebHandlers

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)  # an address, not "localhost", which may resolve to ::1 (refused here)


@pytest.fixture
def handlers(httpserver, tmp_path: Path) -> WebHandlers:
    council = FakeCouncil(httpserver)
    sources = tmp_path / "sources.toml"
    sources.write_text((COUNCIL / "sources.toml").read_text(encoding="utf-8").replace("{base}", council.base),
                       encoding="utf-8")
    (tmp_path / "no-corpus").mkdir()
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "no-corpus", sources=sources,
                        admin_password="s3cret")
    handlers = WebHandlers(SendBot(settings), settings, FeedbackStore(settings.feedback_db))
    handlers.council = council
    return handlers


def signed_in(handlers: WebHandlers, token: str | None = "sign in") -> gr.Request:
    if token == "sign in":
        token = handlers.admin.sign_in("s3cret", "10.0.0.1").token
    return gr.Request(cookies={COOKIE: token} if token else {}, client={"host": "10.0.0.1"})


def counts(summary: str) -> dict[str, int]:
    return {name: int(n) for n, name in re.findall(r"<li><strong>(\d+)</strong> (\w+)</li>", summary)}


def test_an_administrator_syncs_the_council_sites_and_the_documents_tab_shows_where_each_came_from(handlers):
    summary, table, *_ = handlers.sync_sources(signed_in(handlers, None))
    assert NOT_SIGNED_IN in summary and not handlers.council.log and handlers.bot.documents() == []

    started = time.perf_counter()
    summary, table, *_ = handlers.sync_sources(signed_in(handlers))
    print(f"first sync from the app: {time.perf_counter() - started:.1f}s, {counts(summary)}")
    assert counts(summary) == {"fetched": 9, "new": 9, "changed": 0, "unchanged": 0, "removed": 0, "blocked": 2,
                               "failed": 0}
    assert "robots.txt disallows it for sendbot" in summary and "sb-error" not in summary
    records = handlers.bot.documents()
    assert len(records) == 9  # the bot reloaded: the synced documents are listed and searched
    synced = synced_documents(handlers.settings.sync_state)
    assert {r.source for r in records} == set(synced)  # every document has its origin
    url = f"{handlers.council.base}/mg/mgConvert2PDF.aspx?ID=5001"  # the agenda pack, a PDF without an extension
    assert [k.url for k in synced.values()].count(url) == 1
    assert f'<a href="{url}" target="_blank" rel="noopener">{url}' in table
    assert table.count("Last synced ") == 9 and "Where it comes from" in table
    answer = handlers.bot.ask("How many Mental Health Leaders have been trained?")
    assert not answer.refused and any(c.url.startswith(handlers.council.base) for c in answer.citations)

    started = time.perf_counter()
    again, *_ = handlers.sync_sources(signed_in(handlers))
    print(f"second sync from the app: {time.perf_counter() - started:.1f}s, {counts(again)}")
    assert counts(again)["unchanged"] == 9 and counts(again)["new"] == counts(again)["changed"] == 0


def test_a_sources_file_that_cannot_be_used_is_explained_and_nothing_is_synced(handlers, tmp_path):
    handlers.settings = Settings(data_dir=handlers.settings.data_dir, corpus_dir=handlers.settings.corpus_dir,
                                 sources=tmp_path / "missing.toml", admin_password="s3cret")
    summary, *_ = handlers.sync_sources(signed_in(handlers))
    assert summary.startswith('<p class="sb-error">Nothing was synced: ') and "missing.toml does not exist" in summary
    assert "copy sources.example.toml" in summary and not handlers.council.log


def test_a_sync_that_failed_says_so_and_lists_each_problem_escaped():
    from ingest.sync.run import SyncEntry, SyncReport
    from sendbot.web.sync import render_sync_summary

    report = SyncReport([SyncEntry("https://x.test/a", "papers", "failed", title="<Agenda>", reason="HTTP 503 three times"),
                         SyncEntry("https://x.test/b", "papers", "new"),
                         SyncEntry("https://x.test/c", "pages", "blocked", reason="HTTP 403")],
                        requests=7, fetched=1, unreachable=["pages"])
    html = render_sync_summary(report)
    assert counts(html) == {"fetched": 1, "new": 1, "changed": 0, "unchanged": 0, "removed": 0, "blocked": 1, "failed": 1}
    assert '<p class="sb-error">Some documents could not be synced; see below.</p>' in html
    assert "<li>failed &lt;Agenda&gt; (https://x.test/a): HTTP 503 three times</li>" in html
    assert "<li>blocked https://x.test/c: HTTP 403</li>" in html
    assert "<li>Nothing could be fetched from pages.</li>" in html and "x.test/b" not in html
