"""`sendbot sync` against a fake council: a real HTTP server on 127.0.0.1 serving ModernGov XML, committee papers and
Local Offer pages built by hand from the bundled corpus (tests/fixtures/council/README.md), the real fetcher, the
real ingest pipeline, Chroma store and embedder. Every connection other than to 127.0.0.1 is refused (pytest-socket).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from index.store import Store
from ingest.sync.content import clean_title, minutes_text, plain, sniff_suffix
from ingest.sync.fetch import Fetcher, retry_after_seconds
from ingest.sync.run import run_sync
from ingest.sync.sources import SourcesError, load_sources
from sendbot.cli import main
from sendbot.core.config import Settings
from fake_council import COUNCIL, FakeCouncil, Reply

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

PANEL = "Children and Families Overview and Scrutiny Panel"


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)  # an address, not "localhost", which may resolve to ::1 (refused here)


@pytest.fixture
def council(httpserver) -> FakeCouncil:
    return FakeCouncil(httpserver)


@pytest.fixture
def sources_file(council: FakeCouncil, tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text((COUNCIL / "sources.toml").read_text(encoding="utf-8").replace("{base}", council.base), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def first_sync(make_httpserver, tmp_path_factory) -> Path:
    """The data directory after one first sync of the fake council: made once, copied by each test that starts there."""
    make_httpserver.clear()
    council = FakeCouncil(make_httpserver)
    root = tmp_path_factory.mktemp("first-sync")
    (root / "no-corpus").mkdir()
    sources = root / "sources.toml"
    sources.write_text((COUNCIL / "sources.toml").read_text(encoding="utf-8").replace("{base}", council.base), encoding="utf-8")
    settings = Settings(data_dir=root / "data", corpus_dir=root / "no-corpus")
    assert _sync(sources, settings).count("new") == 9
    return settings.data_dir


@pytest.fixture
def synced(first_sync: Path, settings: Settings) -> Settings:
    """Settings for a private copy of the index, synced files and sync state as the first sync left them."""
    shutil.copytree(first_sync, settings.data_dir)
    return settings


def _sync(sources_file: Path, settings: Settings, **options):
    started = time.perf_counter()
    report = run_sync(load_sources(sources_file), settings, **options)
    print(f"sync: {report.requests} requests, {report.fetched} fetched, "
          f"{ {s: report.count(s) for s in ('new', 'changed', 'unchanged', 'removed', 'missing', 'blocked', 'failed')} } "
          f"in {time.perf_counter() - started:.2f}s")
    return report


def _by_url(report) -> dict[str, object]:
    return {entry.url: entry for entry in report.entries}


# --- the whole path: sync from the command line, then ask --------------------------------------------------------


def test_first_sync_from_the_command_line_indexes_papers_and_pages_with_where_they_came_from(council, sources_file, settings):
    runner = CliRunner()
    env = {"SENDBOT_DATA_DIR": str(settings.data_dir), "SENDBOT_CORPUS_DIR": str(settings.corpus_dir)}
    dry = runner.invoke(main, ["sync", "--config", str(sources_file), "--dry-run", "--json"], env=env, catch_exceptions=False)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["new"] == 9 and not settings.synced_dir.exists() and not settings.sync_state.exists()

    result = runner.invoke(main, ["sync", "--config", str(sources_file), "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    print({k: report[k] for k in ("requests", "fetched", "new", "blocked", "skipped", "seconds")})
    assert (report["new"], report["failed"], report["changed"]) == (9, 0, 0)
    assert report["ingest"]["added"] == 9 and report["ingest"]["failed"] == 0
    blocked = {e["url"]: e["reason"] for e in report["entries"] if e["status"] == "blocked"}
    assert blocked == {f"{council.base}/send/local-offer/private/staff-notes": "robots.txt disallows it for sendbot",
                       f"{council.base}/send/local-offer/search.aspx": "robots.txt disallows it for sendbot"}
    assert not council.asked("/private/") and not council.asked("search.aspx")  # never requested
    skipped = [e for e in report["entries"] if e["status"] == "skipped"]
    assert [e["url"] for e in skipped if "restricted" in e["reason"]] == [f"{council.base}/mg/documents/s5003/Exempt%20appendix.pdf"]
    for _, _, headers in council.log:
        assert "sendbot-tests@example.org" in headers["User-Agent"]
    for path, _, _ in council.asked("GetMeetings"):
        assert re.search(r"sFromDate=01/01/2022&sToDate=\d\d/\d\d/\d{4}$", path), path

    _check_origins(council, Store(settings.data_dir))
    origin = json.loads(settings.sync_state.read_text())["documents"][f"{council.base}/mg/mgConvert2PDF.aspx?ID=5001"]["origin"]
    pack = council.files["/mg/mgConvert2PDF.aspx?ID=5001"][0]
    assert {k: origin[k] for k in ("council", "committee", "committee_id", "meeting_id", "meeting_date", "category",
                                   "page_url", "final_url", "publication_date", "content_type", "sha256")} == {
        "council": "Worcestershire County Council (test council)", "committee": PANEL, "committee_id": "120",
        "meeting_id": "1001", "meeting_date": "2023-05-24", "category": "agenda",
        "page_url": f"{council.base}/mg/ieListDocuments.aspx?CId=120&MId=1001", "publication_date": "2023-05-16",
        "final_url": f"{council.base}/mg/mgConvert2PDF.aspx?ID=5001", "content_type": "application/octet-stream",
        "sha256": hashlib.sha256(pack).hexdigest()}
    assert origin["fetched_at"].endswith("+00:00")
    _check_answers_cite_the_council(council, env, runner)


def _check_origins(council: FakeCouncil, store: Store) -> None:
    records = {r.source: r for r in store.files.values()}
    chunks, _ = store.load_chunks()
    by_url = {}
    for chunk in chunks:
        by_url.setdefault(chunk.url, []).append(chunk)
    page = f"{council.base}/mg/ieListDocuments.aspx?CId=120&MId=1000#AI9002"
    minutes = by_url[page]
    assert {(c.committee, c.meeting, c.kind) for c in minutes} == {(PANEL, "2022-01-19", "minutes")}
    assert minutes[0].item.startswith("6. Ofsted and Care Quality Commission (CQC) Joint Area")
    text = " ".join(c.text for c in minutes)
    assert "At the Chairman\u2019s invitation" in text and "&rsquo;" not in text and "&#39;" not in text
    assert "to consider an update on the outcome of the Ofsted" in text  # Word's hard wraps undone
    pack = by_url[f"{council.base}/mg/mgConvert2PDF.aspx?ID=5001"]  # no extension: known by its %PDF- header
    assert records[pack[0].source].paged and pack[0].source.endswith(".pdf") and pack[0].date == "2023-05-24"
    assert pack[0].title == f"Agenda reports pack - {PANEL}, 24 May 2023" and pack[0].kind == "agenda"
    strategy = by_url[f"{council.base}/mg/documents/s5002/SEND%20Strategy%202023-26.pdf"]
    assert strategy[0].item == "6. Update on the SEND Accelerated Progress Plan and Worcestershire's SEND Strategy 2023-26"
    assert strategy[0].kind == "report"
    ep = by_url[f"{council.base}/send/local-offer/educational-psychology"]  # the final address after the 301
    assert ep[0].kind == "web page" and ep[0].date == "2022-01-12"
    assert "Cookie settings" not in ep[0].text and "Accessibility" not in " ".join(c.text for c in ep)
    survey = " ".join(c.text for c in by_url[f"{council.base}/send/local-offer/parent-carer-survey"])
    assert "this year\u2019s survey" in survey and "&amp;" not in survey and "rsquo" not in survey
    assert f"{council.base}/send/local-offer/staffing-update" in by_url  # reached through the sitemap only


def _check_answers_cite_the_council(council: FakeCouncil, env: dict, runner: CliRunner) -> None:
    answered = runner.invoke(main, ["ask", "--json", "what happens if my EP assessment is late?"], env=env,
                             catch_exceptions=False)
    answer = json.loads(answered.stdout)
    assert not answer["refused"], answer
    urls = [c["url"] for c in answer["citations"]]
    print("cited:", urls)
    assert f"{council.base}/send/local-offer/educational-psychology" in urls
    text = runner.invoke(main, ["ask", "How many Mental Health Leaders have been trained?"], env=env).stdout
    assert f"{council.base}/mg/mgConvert2PDF.aspx?ID=5001#page=" in text, text  # the PDF, at the cited page
    revisit = json.loads(runner.invoke(main, ["ask", "--json", "--kind", "minutes", "How many of the significant "
                                              "weaknesses had sufficient progress been made in?"], env=env).stdout)
    cited = revisit["citations"][0]
    assert (cited["committee"], cited["meeting"]) == (PANEL, "2022-01-19") and cited["url"].endswith("#AI9002"), cited


# --- incremental: unchanged, changed, gone ----------------------------------------------------------------------------


def test_a_second_sync_with_nothing_changed_re_indexes_nothing(council, sources_file, synced):
    started = time.perf_counter()
    again = _sync(sources_file, synced)
    print(f"second sync: {time.perf_counter() - started:.2f}s, {len(council.log)} requests")
    assert (again.count("new"), again.count("changed"), again.count("unchanged"), again.count("failed")) == (0, 0, 9, 0)
    assert again.ingest.count("added") == again.ingest.count("updated") == 0 and again.ingest.count("unchanged") == 9
    pages = [status for path, status, _ in council.log if path.startswith("/send/local-offer/") and "aspx" not in path]
    assert pages and set(pages) == {304}  # validators sent, nothing downloaded again
    assert not council.asked("GetMeeting?lMeetingId=1000")  # an old meeting read with its minutes: not asked again
    assert len(council.asked("GetMeeting?lMeetingId=1001")) == 1  # its minutes were not out yet: asked again
    listed = json.loads(CliRunner().invoke(main, ["sources", "--json"], env={"SENDBOT_DATA_DIR": str(synced.data_dir)}).stdout)
    app = next(d for d in listed if d.get("url") == f"{council.base}/send/local-offer/app")
    assert app["kind"] == "web page" and app["synced"].endswith("+00:00") and len(listed) == 9


def test_a_changed_page_is_replaced_and_a_page_gone_twice_is_removed(council, sources_file, synced):
    settings = synced
    app = f"{council.base}/send/local-offer/app"
    body, kind = council.files["/send/local-offer/app"]
    council.serve("/send/local-offer/app", body.replace(b"has now been approved by the DfE and NHS",
                                                        b"was withdrawn for redrafting by the DfE and NHS"), kind)
    council.files.pop("/send/local-offer/green-paper")
    changed = _sync(sources_file, settings)
    entries = _by_url(changed)
    assert entries[app].status == "changed" and changed.ingest.count("updated") == 1
    green = f"{council.base}/send/local-offer/green-paper"
    assert entries[green].status == "missing" and "HTTP 404" in entries[green].reason
    store = Store(settings.data_dir)
    texts = " ".join(c.text for c in store.load_chunks()[0] if c.url == app)
    assert "withdrawn for redrafting" in texts and "has now been approved" not in texts
    assert any(c.url == green for c in store.load_chunks()[0])  # gone once: still answered from

    removed = _sync(sources_file, settings)
    assert _by_url(removed)[green].status == "removed" and removed.count("changed") == 0
    store = Store(settings.data_dir)
    assert not any(c.url == green for c in store.load_chunks()[0])
    manifests = [json.loads(p.read_text()) for p in settings.synced_dir.rglob("manifest.json")]
    assert not any(entry.get("url") == green for m in manifests for entry in m.values())
    assert green not in json.loads(settings.sync_state.read_text())["documents"]


def test_one_failing_source_does_not_stop_the_others(council, sources_file, settings):
    text = sources_file.read_text().replace(f'base_url = "{council.base}/mg"', f'base_url = "{council.base}/not-moderngov"')
    sources_file.write_text(text)
    report = _sync(sources_file, settings, dry_run=True)
    failed = [e for e in report.entries if e.status == "failed"]
    assert len(failed) == 1 and failed[0].source == "papers" and "GetCommittees" in failed[0].reason
    assert report.count("new") == 7 and report.unreachable == ["papers"] and report.failed
    assert not settings.synced_dir.exists()


def test_a_site_that_refuses_sendbot_is_reported_blocked_and_fails_the_run(council, sources_file, settings):
    council.script("/mg/mgWebService.asmx/GetCommittees", Reply(403, b"Forbidden"))
    report = _sync(sources_file, settings, dry_run=True)
    blocked = [e for e in report.entries if e.source == "papers"]
    assert [(e.status, "HTTP 403" in e.reason) for e in blocked] == [("blocked", True)]
    assert report.unreachable == ["papers"] and report.failed and report.count("new") == 7
    assert len(council.asked("GetCommittees")) == 1  # asked once, not retried, not worked around


# --- the polite fetcher -------------------------------------------------------------------------------------------------


def _fetcher(sources_file: Path, waits: list[float] | None = None, **changes) -> Fetcher:
    from dataclasses import replace

    config = replace(load_sources(sources_file), **changes)

    def sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)
        time.sleep(seconds)

    return Fetcher(config, max_bytes=5_000_000, sleep=sleep)


def test_a_429_waits_as_long_as_retry_after_says(council, sources_file):
    council.script("/send/local-offer/app", Reply(429, b"slow down", {"Retry-After": "1"}))
    waits: list[float] = []
    got = _fetcher(sources_file, waits).get(f"{council.base}/send/local-offer/app")
    assert got.outcome == "ok" and b"Accelerated Progress Plan" in got.body
    assert 1.0 in waits and [s for _, s, _ in council.asked("/local-offer/app")] == [429, 200]
    council.script("/send/local-offer/app", Reply(429, b"", {"Retry-After": "3600"}))
    refused = _fetcher(sources_file).get(f"{council.base}/send/local-offer/app")
    assert refused.outcome == "failed" and "asked to wait 3600s" in refused.reason
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0 and retry_after_seconds("soon") is None


def test_503s_are_retried_until_the_page_comes(council, sources_file):
    council.script("/send/local-offer/news", Reply(503), Reply(503))
    got = _fetcher(sources_file).get(f"{council.base}/send/local-offer/news")
    assert got.outcome == "ok" and [s for _, s, _ in council.asked("/local-offer/news")] == [503, 503, 200]
    council.script("/send/local-offer/news", Reply(503), Reply(503), Reply(503))
    failed = _fetcher(sources_file).get(f"{council.base}/send/local-offer/news")
    assert failed.outcome == "failed" and failed.reason == "HTTP 503 (3 attempts)"


def test_a_403_or_a_challenge_page_is_blocked_and_not_retried(council, sources_file):
    council.script("/send/local-offer/news", Reply(403, b"Forbidden"))
    got = _fetcher(sources_file).get(f"{council.base}/send/local-offer/news")
    assert (got.outcome, got.reason) == ("blocked", "HTTP 403: the server refuses sendbot")
    council.script("/send/local-offer/app", Reply(503, b"<html><head><title>Just a moment...</title></head></html>",
                                                   {"Content-Type": "text/html"}))
    challenged = _fetcher(sources_file).get(f"{council.base}/send/local-offer/app")
    assert challenged.outcome == "blocked" and "bot-check" in challenged.reason
    assert len(council.asked("/local-offer/news")) == 1 and len(council.asked("/local-offer/app")) == 1
    ordinary = (b'<html><title>Short breaks</title><script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js">'
                b'</script><form><div class="g-recaptcha"></div></form></html>')
    council.script("/send/local-offer/green-paper", Reply(200, ordinary, {"Content-Type": "text/html"}))
    assert _fetcher(sources_file).get(f"{council.base}/send/local-offer/green-paper").outcome == "ok"  # a page with a form


def test_a_server_that_does_not_answer_in_time_fails_that_url(council, sources_file):
    council.script("/send/local-offer/news", Reply(200, b"late", delay=1.0))
    started = time.perf_counter()
    got = _fetcher(sources_file, timeout_seconds=0.3, retries=0).get(f"{council.base}/send/local-offer/news")
    print(f"timed out after {time.perf_counter() - started:.2f}s")
    assert got.outcome == "failed" and got.reason == "no answer within 0.3s (1 attempts)"


def test_redirects_are_followed_to_the_final_address_and_validators_give_304s(council, sources_file):
    fetcher = _fetcher(sources_file)
    moved = fetcher.get(f"{council.base}/send/local-offer/news-updates.aspx?item=ep")
    assert moved.outcome == "ok" and moved.final_url == f"{council.base}/send/local-offer/educational-psychology"
    again = fetcher.get(moved.final_url, etag=moved.etag)
    assert again.outcome == "not_modified" and not again.body
    assert council.asked("/educational-psychology")[-1][2]["If-None-Match"] == moved.etag


def test_robots_txt_rules_with_wildcards_are_obeyed_without_asking(council, sources_file):
    fetcher = _fetcher(sources_file)
    assert fetcher.get(f"{council.base}/send/local-offer/search.aspx").outcome == "blocked"  # Disallow: /*.aspx$
    assert fetcher.get(f"{council.base}/send/local-offer/private/staff-notes").outcome == "blocked"
    assert fetcher.get(f"{council.base}/send/local-offer/news-updates.aspx?item=ep").outcome == "ok"  # $ anchors
    assert fetcher.sitemaps(council.base + "/") == [f"{council.base}/sitemap.xml"]
    assert not council.asked("search.aspx") and not council.asked("/private/")
    assert len(council.asked("/robots.txt")) == 1


# --- content and configuration ---------------------------------------------------------------------------------------


def test_content_repairs():
    pdf = (COUNCIL / "documents" / "agenda-reports-pack.pdf").read_bytes()
    assert sniff_suffix(pdf, "application/octet-stream", "https://x.gov.uk/mgConvert2PDF.aspx?ID=1") == ".pdf"
    assert sniff_suffix(b"<html>", "text/html", "https://x.gov.uk/page") == ".html"
    assert sniff_suffix(b"PK\x03\x04...", "application/zip", "https://x.gov.uk/a.xlsx") == ""
    assert plain("Worcestershire&amp;#39;s   SEND") == "Worcestershire's SEND"
    assert clean_title("Printed minutes 24th-May-2023 PDF 119 KB") == "Printed minutes 24th-May-2023"
    assert minutes_text("<p>The Panel was\r\nasked<br>to consider &amp;rsquo;it&amp;rsquo;</p><ul><li>one</li></ul>") == (
        "The Panel was asked to consider \u2019it\u2019\n\n\u2022 one")


def test_sources_file_errors_name_the_place_and_the_fix(tmp_path):
    path = tmp_path / "sources.toml"
    with pytest.raises(SourcesError, match="does not exist: copy sources.example.toml"):
        load_sources(path)
    path.write_text('contact = "me@example.org"\n[[moderngov]]\nname = "p"\nbase_url = "ftp://x"\ncommittees = ["Cabinet"]\n')
    with pytest.raises(SourcesError, match=r"\[\[moderngov\]\] number 1, base_url: 'ftp://x' is not an http\(s\) address"):
        load_sources(path)
    path.write_text('contact = "nobody"\n[[local_offer]]\nname = "lo"\nstart_urls = ["https://x.gov.uk/lo"]\n')
    with pytest.raises(SourcesError, match="contact: 'nobody' is neither an e-mail address nor a web address"):
        load_sources(path)
    path.write_text('contact = "me@example.org"\ncolour = "blue"\n[[moderngov]]\nname = "p"\nbase_url = "https://x.gov.uk/"\n'
                    'committees = ["Cabinet", 120]\nsince = "24/05/2023"\n')
    with pytest.raises(SourcesError, match="since: '24/05/2023' is not a date written YYYY-MM-DD"):
        load_sources(path)
    path.write_text(path.read_text().replace('since = "24/05/2023"', "since = 2023-05-24"))
    config = load_sources(path)
    assert config.moderngov[0].committees == ("Cabinet", "120") and config.moderngov[0].base_url == "https://x.gov.uk"
    assert config.rate_limit_seconds == 2.0 and "unknown key 'colour' ignored" in config.warnings[0]


def test_the_example_sources_file_is_valid():
    config = load_sources(Path(__file__).resolve().parents[1] / "sources.example.toml")
    assert config.moderngov and config.local_offer and config.rate_limit_seconds >= 1


def test_the_command_line_explains_a_bad_sources_file(tmp_path):
    result = CliRunner().invoke(main, ["sync", "--config", str(tmp_path / "missing.toml")],
                                env={"SENDBOT_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 2 and "copy sources.example.toml" in result.output


def test_a_damaged_sync_state_is_named_with_what_to_do(sources_file, settings):
    settings.sync_state.parent.mkdir(parents=True)
    settings.sync_state.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["sync", "--config", str(sources_file)], env={"SENDBOT_DATA_DIR": str(settings.data_dir)})
    assert result.exit_code == 1 and "sync-state.json is damaged" in result.output and "delete it" in result.output
    unknown = CliRunner().invoke(main, ["sync", "--config", str(sources_file), "--source", "nope"],
                                 env={"SENDBOT_DATA_DIR": str(settings.data_dir)})
    assert unknown.exit_code == 2 and "no source named 'nope'" in unknown.output and "papers, local-offer" in unknown.output


def test_committees_are_matched_by_name_or_id_and_recent_meetings_are_read_again(council, sources_file):
    from datetime import date

    from ingest.sync import moderngov
    from ingest.sync.state import MeetingSeen

    source = load_sources(sources_file).moderngov[0]
    committees = moderngov._committees(source, _fetcher(sources_file))
    assert committees["122"] == "Schools Forum & SEND Sub-Group"  # its title was encoded twice
    assert moderngov._match_committee("cabinet", committees) == ("121", "Cabinet")
    assert moderngov._match_committee("120", committees) == ("120", PANEL)
    typo = moderngov._match_committee("Children and Families Overview & Scrutiny Panel", committees)
    assert typo == f"no committee 'Children and Families Overview & Scrutiny Panel' in GetCommittees; did you mean {PANEL!r}?"
    today = date(2026, 11, 26)
    meeting = lambda day: moderngov.Meeting("1", day, "120", PANEL)  # noqa: E731
    read = MeetingSeen("2026-10-01", True, "2026-10-02T00:00:00+00:00")
    assert moderngov._needs_reading(meeting("2026-10-01"), read, source, today)  # within 90 days: minutes may change
    assert not moderngov._needs_reading(meeting("2023-05-24"), read, source, today)
    assert moderngov._needs_reading(meeting("2023-05-24"), MeetingSeen("2023-05-24", False, ""), source, today)
    assert moderngov._needs_reading(meeting("2023-05-24"), None, source, today)


def test_connections_other_than_to_the_fake_council_are_refused():
    import socket

    from pytest_socket import SocketConnectBlockedError

    with pytest.raises(SocketConnectBlockedError), pytest.warns(UserWarning, match="192.0.2.1"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: would hang or leave the machine
