"""The `sendbot` command: in-process with click's CliRunner, SENDBOT_DATA_DIR pointing at temporary folders.

One data directory is shared by the module: the first `sendbot ask` (the one run as a real subprocess, a smoke
test of the installed console script) finds it empty and ingests the bundled corpus; every later command reuses it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from index.store import Store
from sendbot.cli import format_answer, main
from sendbot.core.models import CITATION_FIELDS
from support import CORPUS_SOURCES, run_sendbot

FIRST_QUESTION = "what happens if my EP assessment is late?"
CITATION_KEYS = set(CITATION_FIELDS)


def invoke(args: list[str], data_dir: Path, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Run `sendbot ARGS` in this process against `data_dir` (the model stays loaded between calls)."""
    return CliRunner().invoke(main, args, input=stdin, env={"SENDBOT_DATA_DIR": str(data_dir), **(env or {})},
                              catch_exceptions=False)


@pytest.fixture(scope="module")
def cli_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli") / "data"


@pytest.fixture(scope="module")
def first_ask(sendbot_exe: Path, cli_data_dir: Path):
    """`sendbot ask --json Q` on an empty data directory (it ingests the corpus, then answers)."""
    assert not cli_data_dir.exists()
    return run_sendbot(sendbot_exe, ["ask", "--json", FIRST_QUESTION], cli_data_dir)  # the one real subprocess


def assert_contract(data: dict) -> None:
    assert list(data) == ["question", "answer", "refused", "citations", "answerer", "sentences", "direct",
                          "tentative"]
    assert isinstance(data["question"], str) and isinstance(data["answer"], str)
    assert isinstance(data["refused"], bool) and isinstance(data["citations"], list)
    for c in data["citations"]:
        assert set(c) == CITATION_KEYS, sorted(c)
        assert isinstance(c["n"], int) and isinstance(c["score"], (int, float))
        assert c["page"] is None or isinstance(c["page"], int)
        assert all(isinstance(c[k], str) for k in ("source", "title", "date", "section", "text", "quote"))
        assert c["quote"] in c["text"]


# --- help ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "phrases"), [
    ([], ["answers questions from a council's SEND Local Offer", "ingest", "ask", "sources", "--data-dir"]),
    (["ingest"], ["Add or update documents", ".pdf .docx .html .md .txt", "--prune", "--json", "manifest.json",
                  "Exits with status 1 if any file failed"]),
    (["ask"], ["Answer QUESTION from the documents", "--json", "standard input", "--source", "--kind", "--from",
               "--to", "--top-k"]),
    (["sources"], ["List the indexed documents", "chunk count", "--json"]),
])
def test_help_explains_each_command(tmp_path: Path, args: list[str], phrases: list[str]):
    result = invoke([*args, "--help"], tmp_path / "unused")
    assert result.exit_code == 0, result.stderr
    help_text = " ".join(result.stdout.split())
    for phrase in phrases:
        assert phrase in help_text, f"`sendbot {' '.join(args)} --help` does not mention {phrase!r}"
    assert not (tmp_path / "unused").exists()  # asking for help touches no index


# --- ask -----------------------------------------------------------------------------------------------------


def test_ask_on_an_empty_index_ingests_the_bundled_corpus_first_and_says_so(first_ask, cli_data_dir: Path):
    assert first_ask.returncode == 0, first_ask.stderr
    assert "is empty: ingesting the bundled corpus" in first_ask.stderr
    assert set(Store(cli_data_dir).files) == CORPUS_SOURCES
    answer = json.loads(first_ask.stdout)
    assert answer["refused"] is False
    assert "8 weeks" in answer["answer"] and "6 weeks" in answer["answer"]
    assert any(c["source"] == "local-offer-news-updates.txt" for c in answer["citations"])


def test_ask_json_prints_exactly_one_object_in_the_contract(first_ask):
    lines = first_ask.stdout.splitlines()
    assert len(lines) == 1, f"expected one line of JSON on stdout, got {len(lines)}: {first_ask.stdout[:300]!r}"
    data = json.loads(lines[0])
    assert_contract(data)
    assert data["question"] == FIRST_QUESTION
    assert [c["n"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))
    for c in data["citations"]:
        assert f"[{c['n']}]" in data["answer"]


def test_ask_json_dash_answers_one_question_per_stdin_line_in_order(first_ask, cli_data_dir: Path):
    questions = ["How many Mental Health Leaders have been trained?", "What is the capital of France?",
                 "What does CARM stand for?"]
    result = invoke(["ask", "--json", "-"], cli_data_dir, stdin="\n".join([questions[0], "", *questions[1:]]) + "\n")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4, result.stdout  # one line out per line in, the blank one included
    answers = [json.loads(line) for line in lines]
    for data in answers:
        assert_contract(data)
    assert answers.pop(1)["refused"] is True  # the blank line: nothing was asked
    assert [a["question"] for a in answers] == questions
    assert "159" in answers[0]["answer"] and not answers[0]["refused"]
    assert answers[1]["refused"] is True and answers[1]["citations"] == []
    assert "Complex Adult Risk Management" in answers[2]["answer"]
    assert "is empty" not in result.stderr  # the index from the first run is reused


def test_ask_rejects_a_badly_written_date(tmp_path: Path):
    result = invoke(["ask", "--from", "2023-13-01", "anything"], tmp_path / "data")
    assert result.exit_code == 2
    assert "is not a date I can read" in result.stderr


def test_plain_text_answer_lists_numbered_sources_with_quotes(corpus):
    answer = corpus.bot.ask("How many Mental Health Leaders have been trained?")
    text = format_answer(answer)
    lines = text.splitlines()
    assert lines[0] == f"In short: 159 [{answer.direct.citation}]"  # the direct answer first
    assert lines[1] == answer.text and "159" in lines[1]
    for c in answer.citations:
        assert f"[{c.n}] {c.title} (" in text
        assert f'    "{c.quote}"' in lines
    agenda = next(c for c in answer.citations if c.source == "cfosp-agenda-pack-2023-05-24.pdf")
    assert f"(2023-05-24) - cfosp-agenda-pack-2023-05-24.pdf, page {agenda.page}" in text


def test_plain_text_answer_from_documents_of_different_dates_says_when_each_sentence_was_said(corpus):
    answer = corpus.bot.ask("How are complaints about SEND handled?")
    lines = format_answer(answer).splitlines()
    said = lines[int(answer.tentative) + int(answer.direct is not None) :][: len(answer.sentences)]  # after the notes
    assert said[0].startswith("24 May 2023: "), said
    assert any(line.startswith("Earlier, early 2022: ") for line in said), said
    for sentence, line in zip(answer.sentences, said):
        assert line.endswith(f"{sentence.text} {''.join(f'[{n}]' for n in sentence.citations)}")


# --- sources -------------------------------------------------------------------------------------------------


def test_sources_lists_the_five_documents_with_kinds_and_chunk_counts(first_ask, cli_data_dir: Path):
    result = invoke(["sources"], cli_data_dir)
    assert result.exit_code == 0, result.stderr
    records = Store(cli_data_dir).files
    assert len(records) == 5
    lines = result.stdout.splitlines()
    for record in records.values():
        line = next((l for l in lines if l.endswith(f"  {record.source}")), None)
        assert line is not None, f"{record.source} is not listed:\n{result.stdout}"
        assert record.kind in line and f"{record.chunks} chunks" in line
        assert line.startswith(record.date or "undated")
        assert f"            {record.title}" in lines


def test_sources_json_gives_each_document_with_its_chunk_count(first_ask, cli_data_dir: Path):
    result = invoke(["sources", "--json"], cli_data_dir)
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    store = Store(cli_data_dir)
    assert [d["source"] for d in listed] == sorted(CORPUS_SOURCES)
    for d in listed:
        assert set(d) == {"source", "title", "date", "period", "kind", "publisher", "chunks", "note"}
        assert d["chunks"] == store.files[d["source"]].chunks and d["kind"] == store.files[d["source"]].kind
    assert sum(d["chunks"] for d in listed) == store.collection.count()


def test_sources_on_an_empty_index_says_how_to_fill_it(tmp_path: Path):
    result = invoke(["sources"], tmp_path / "data")
    assert result.exit_code == 0
    assert "The index is empty. Run `sendbot ingest`" in result.stdout


# --- ingest --------------------------------------------------------------------------------------------------


def test_ingest_again_reports_five_unchanged_and_succeeds(first_ask, cli_data_dir: Path):
    count = Store(cli_data_dir).collection.count()
    result = invoke(["ingest"], cli_data_dir)
    assert result.exit_code == 0, result.stderr
    assert "5 files: 0 added, 0 updated, 5 unchanged, 0 removed, 0 failed; 0 chunks written" in result.stdout
    assert "failed:" not in result.stderr
    assert Store(cli_data_dir).collection.count() == count


def test_ingest_json_gives_the_counts(first_ask, cli_data_dir: Path):
    result = invoke(["ingest", "--json"], cli_data_dir)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("added", "updated", "unchanged", "removed", "failed", "chunks_written")} == {
        "added": 0, "updated": 0, "unchanged": 5, "removed": 0, "failed": 0, "chunks_written": 0}
    assert sorted(f["source"] for f in report["files"]) == sorted(CORPUS_SOURCES)
    assert all(f["status"] == "unchanged" and f["chunks"] > 0 for f in report["files"])


def test_ingest_with_bad_files_exits_non_zero_and_names_each_failure(tmp_path: Path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "budget.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    (folder / "garbled.txt").write_bytes(b"Notes: \x81\x8d\x8f\x90\x9d")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
    (folder / "big.txt").write_text("The panel noted the report. " * 600, encoding="utf-8")  # ~17 KB
    result = invoke(["ingest", str(folder)], tmp_path / "data", env={"SENDBOT_MAX_FILE_MB": "0.01"})
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "5 files: 0 added, 0 updated, 0 unchanged, 0 removed, 5 failed" in result.stdout
    failures = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith("failed: ")]
    expected = {"empty.txt": "file is empty", "budget.xlsx": "unsupported file type", "garbled.txt": "neither UTF-8",
                "broken.pdf": "not a readable PDF", "big.txt": "over the 0.01 MB limit"}
    assert len(failures) == len(expected), result.stderr
    for name, reason in expected.items():
        line = next((f for f in failures if f.startswith(f"failed: {(folder / name).resolve()}: ")), None)
        assert line is not None and reason in line, f"no failure line for {name}:\n{result.stderr}"


def test_ingest_json_reports_failures_and_exits_non_zero(tmp_path: Path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    result = invoke(["ingest", "--json", str(folder)], tmp_path / "data")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["failed"] == 1 and report["files"][0]["reason"] == "file is empty"


def test_a_damaged_index_gets_one_plain_line_saying_how_to_rebuild_it(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "files.json").write_text("{broken", encoding="utf-8")
    result = invoke(["sources"], data)
    assert result.exit_code == 1
    assert "files.json is damaged" in result.stderr and "run `sendbot ingest` to rebuild" in result.stderr
    assert "Traceback" not in result.stderr
