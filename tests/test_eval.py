"""`sendbot eval` end to end: summary, reports with the failing questions, the gate's exit code, the export."""

from __future__ import annotations

import json
from pathlib import Path

from support import run_sendbot


def _overall(table: str, label: str) -> str:
    """The last column (the whole run) of a row of the summary table."""
    row = next(line for line in table.splitlines() if line.startswith(f"| {label} |"))
    return row.rstrip(" |").rsplit("|", 1)[1].strip()


def test_eval_reports_failures_and_fails_the_gate_when_a_threshold_is_missed(corpus, sendbot_exe, tmp_path: Path):
    reports, export = tmp_path / "reports", tmp_path / "run.jsonl"
    result = run_sendbot(sendbot_exe, [
        "eval", "--subset", "carm-meaning,weather-worcester", "--no-baselines", "--report-dir", str(reports),
        "--export", str(export), "--export-format", "deepeval", "--min-fact-recall", "1.01",
    ], corpus.settings.data_dir)
    assert result.returncode == 1, result.stderr
    assert "GATE FAILED: fact_recall = 1.000 is below the minimum 1.010" in result.stderr
    assert _overall(result.stdout, "fact recall in the answer") == "1.000"
    assert _overall(result.stdout, "refusal recall") == "1.000"  # the weather question was refused, as it should be
    assert "| metric | sendbot (dev) | sendbot (test) | sendbot |" in result.stdout  # the two ids span both splits
    markdown = (reports / "report.md").read_text()
    assert "fact_recall = 1.000 is below the minimum 1.010" in markdown
    assert "<h1>sendbot eval: 2 questions, k=5</h1>" in (reports / "report.html").read_text()
    rows = [json.loads(line) for line in export.read_text().splitlines()]
    assert [set(row) for row in rows] == [{"input", "actual_output", "expected_output", "retrieval_context"}] * 2
    carm = next(row for row in rows if "CARM" in row["input"])
    assert "Complex Adult Risk Management" in carm["actual_output"] and carm["retrieval_context"]


def test_eval_lists_each_failing_question_with_what_failed(corpus, sendbot_exe, tmp_path: Path):
    golden = tmp_path / "golden.yaml"
    golden.write_text(
        "- id: wrong-expectation\n"
        "  question: \"What does CARM stand for?\"\n"
        "  tags: [acronym]\n"
        "  answerable: true\n"
        "  facts: [[\"Council Assessment of Risk Matters\"]]\n"
        "  sources: [wpcf-2024-roundup.txt]\n"
    )
    result = run_sendbot(sendbot_exe, ["eval", "--golden", str(golden), "--no-baselines", "--json",
                                       "--report-dir", str(tmp_path / "r")], corpus.settings.data_dir)
    assert result.returncode == 0, result.stderr  # no thresholds given: a report, not a gate
    summary = json.loads(result.stdout)["sendbot"]
    assert summary["questions"] == 1 and summary["fact_recall"] == 0 and summary["hit_at_k"] == 0
    report = (tmp_path / "r" / "report.md").read_text()
    assert "### wrong-expectation: What does CARM stand for?" in report
    assert "facts missing from the answer: Council Assessment of Risk Matters" in report
    assert "no passage from wpcf-2024-roundup.txt in the top 5" in report


def test_calibrate_sweeps_the_threshold_and_says_what_no_threshold_can_change(corpus, sendbot_exe):
    result = run_sendbot(sendbot_exe, ["eval", "--calibrate", "--subset", "carm-meaning,weather-worcester"],
                         corpus.settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("threshold  refusal_recall  false_refusals")
    # the CARM question is answered with its fact; the weather one has the weaker evidence: the two are apart
    assert ("what no threshold can change: never refusing, the answers hold 1.000 of the expected facts and the top 5 "
            "passages 1.000; the evidence ranks an answerable question above an unanswerable one 1.000 of the time"
            in " ".join(result.stdout.split()))
