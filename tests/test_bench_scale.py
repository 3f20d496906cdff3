"""`sendbot bench`: the scaled corpora `--scale` builds, and the command line (the runs are measured, not timed
here: only the short plain bench on two small files runs whole, to see it report)."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from index.embedder import count_tokens
from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.pipeline import discover
from sendbot.bench.corpus import build_scaled_corpus, is_original, made_up_name, original_source, vary_text
from sendbot.bench.scale import ScaleResult, in_fresh_process, ingest_ceiling, scale_result, scale_table
from sendbot.bench.timing import cpu_seconds, peak_rss_mb
from sendbot.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
AGENDA = "cfosp-agenda-pack-2023-05-24.pdf"


def test_a_variant_changes_names_numbers_and_years_and_copy_zero_nothing():
    text = "On 24 May 2023 Worcestershire trained 159 leaders in Malvern."
    assert vary_text(text, 0) == text
    varied = vary_text(text, 2)
    assert varied == (f"On 26 May 2025 {made_up_name(2, 'Worcestershire')} trained 161 leaders in "
                      f"{made_up_name(2, 'Malvern')}.")
    assert made_up_name(2, "Worcestershire").endswith("shire") and made_up_name(3, "Malvern") != made_up_name(2, "Malvern")


def test_a_scaled_corpus_holds_the_original_and_varied_copies_that_duplicate_no_passage(tmp_path):
    out = build_scaled_corpus(CORPUS, 2, tmp_path / "scaled")
    files, problems = discover([out])
    assert not problems
    originals = {f.source for f in discover([CORPUS])[0]}
    assert {f.source for f in files} == originals | {f"copy-001/{Path(s).stem}-001{Path(s).suffix}" for s in originals}
    embedded_texts: dict[str, set[str]] = {"original": set(), "copy": set()}
    for found in files:
        doc = load_document(found.path, source=found.source)
        side = "copy" if found.source.startswith("copy-") else "original"
        embedded_texts[side] |= {c.search_text for c in chunk_document(doc, count_tokens)}
    assert embedded_texts["copy"] and not embedded_texts["original"] & embedded_texts["copy"]

    original, copy = load_document(out / AGENDA), load_document(out / "copy-001" / AGENDA.replace(".pdf", "-001.pdf"))
    assert copy.paged and len(copy.pages) == len(original.pages)  # still a PDF, page for page
    assert copy.date == "2024-05-24" and copy.title.startswith(made_up_name(1, "Worcestershire") + ": ")
    assert "160 Mental Health Leaders" in copy.text and "159 Mental Health Leaders" in original.text
    manifest = json.loads((out / "copy-001" / "manifest.json").read_text())
    assert set(manifest) == {f"{Path(s).stem}-001{Path(s).suffix}" for s in originals}


def test_the_scale_option_wants_whole_numbers_from_one():
    for bad in ("0", "1,x", ",", "-3"):
        result = CliRunner().invoke(main, ["bench", "--scale", bad])
        assert result.exit_code == 2 and "is not a list of copies such as 1,10,100" in result.output, result.output


def test_the_scale_table_has_a_row_per_scale_and_mode():
    row = ScaleResult(scale=10, mode="server", encoder="onnx-int8", files=50, chunks=4680, ingest_seconds=100.0, ingest_chunks_per_second=46.8,
                      bare_encode_chunks_per_second=52.0, ingest_vs_bare_encode=0.9, resync_seconds=1.25,
                      query_p50_ms=61.0, query_p95_ms=140.0, questions=335, hit_at_k=0.778, k=5, peak_rss_mb=1200.0,
                      disk_bytes=55_000_000, files_failed=0, own_hit_at_k=0.978, own_fact_recall=0.912,
                      family_hit_at_k=0.985, ingest_ceiling=0.93)
    lines = scale_table([row, replace(row, scale=1, round_ratios=(0.84, 0.91, 0.9))]).splitlines()
    assert lines[0].split() == ["scale", "mode", "encoder", "chunks", "ingest/s", "bare/s", "ratio", "rounds",
                                "ceiling", "re-sync", "s",
                                "p50", "ms",
                                "p95", "ms", "own", "hit@k", "own", "facts",
                                "family", "hit@k", "peak", "MB", "disk", "MB"]
    assert lines[1].split() == ["10x", "server", "onnx-int8", "4680", "46.8", "52.0", "0.90", "1", "0.93", "1.25", "61",
                                "140", "0.978", "0.912",
                                "0.985", "1200", "55.0"]
    assert lines[2].split()[6:9] == ["0.90", "3:", "0.84-0.91"]


def test_the_row_shows_the_median_round_of_the_ratio_with_the_lowest_and_highest():
    raw = {"encoder": "torch", "files": 5, "chunks": 468, "resync_seconds": 0.2, "query_p50_ms": 25.0,
           "query_p95_ms": 75.0, "questions": 335, "hit_at_k": 0.98, "peak_rss_mb": 900.0, "disk_bytes": 1,
           "files_failed": 0, "own_hit_at_k": 0.98, "own_fact_recall": 0.6, "family_hit_at_k": 0.98}
    rounds = [(20.0, 40.0, 16.0, 32.0), (18.0, 37.0, 17.1, 34.0), (19.0, 38.0, 17.1, 34.0)]  # ratios 0.80, 0.95, 0.90
    row = scale_result(1, "embedded", 5, raw, rounds)
    assert row.round_ratios == pytest.approx((0.8, 0.95, 0.9))
    assert row.ingest_vs_bare_encode == pytest.approx(0.9)
    assert (row.ingest_seconds, row.ingest_cpu_seconds, row.bare_encode_cpu_seconds) == (19.0, 38.0, 34.0)
    assert row.ingest_ceiling == ingest_ceiling(17.1, 38.0, os.cpu_count() or 1)


def test_the_rounds_option_wants_one_to_nine():
    result = CliRunner().invoke(main, ["bench", "--scale", "1", "--rounds", "0"])
    assert result.exit_code == 2 and "--rounds" in result.output, result.output


def test_a_copy_belongs_to_the_family_of_the_document_it_varies_and_only_copy_zero_is_the_original(tmp_path):
    out = build_scaled_corpus(CORPUS, 3, tmp_path / "scaled")
    sources = [f.source for f in discover([out])[0]]
    originals = {f.source for f in discover([CORPUS])[0]}
    assert {s for s in sources if is_original(s)} == originals
    assert {original_source(s) for s in sources} == originals  # every copy maps back to a bundled document
    assert original_source("copy-002/wpcf-2024-roundup-002.txt") == "wpcf-2024-roundup.txt"
    # a bundled document whose own name ends like a copy's is still an original: the folder must match too
    assert is_original("notes-002.txt") and original_source("copy-002/notes-003.txt") == "copy-002/notes-003.txt"


def _peak_of_a_fresh_process() -> float:
    return peak_rss_mb()


def test_a_process_the_bench_spawns_reports_its_own_peak_memory_not_its_parents():
    ballast = bytearray(400 * 1024 * 1024)  # this process's resident size grows by 400 MB before the spawn
    for offset in range(0, len(ballast), 4096):
        ballast[offset] = 1
    assert peak_rss_mb() >= 400
    child_peak = in_fresh_process(_peak_of_a_fresh_process)
    assert child_peak < peak_rss_mb() - 300, "the child's peak includes the parent's memory"
    del ballast


def test_the_ingest_ceiling_is_the_bare_encode_against_the_processor_work_spread_over_the_cores():
    assert ingest_ceiling(16.0, 36.0, 2) == 16.0 / 18.0  # 4 s of work beside encoding, on cores the encoder filled
    assert ingest_ceiling(16.0, 20.0, 2) == 1.0  # cores to spare: only waiting can hold ingest back
    assert ingest_ceiling(0.0, 20.0, 2) == 0.0  # no baseline measured


def _busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_processor_seconds_count_the_work_of_the_children_waited_for():
    before = cpu_seconds()
    in_fresh_process(_busy, 0.5)  # as ingest's read-ahead workers, a process this one started and waited for
    assert cpu_seconds() - before >= 0.5


def test_the_plain_bench_reports_every_number_beside_its_baseline(tmp_path, monkeypatch):
    """`sendbot bench --json` on a small corpus, in process: it ingests, encodes the same texts bare (in a process of
    its own), re-ingests and asks every golden question, and every ratio is of the numbers it reports."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("wpcf-2024-roundup.txt", "local-offer-news-updates.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    monkeypatch.setenv("SENDBOT_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["bench", "--corpus", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    numbers = json.loads(result.output.splitlines()[-1])
    assert numbers["chunks"] > 0 and numbers["files_failed"] == 0 and numbers["questions"] > 100
    assert numbers["ingest_vs_bare_encode"] == numbers["ingest_chunks_per_second"] / numbers["bare_encode_chunks_per_second"]
    assert numbers["reingest_vs_first_ingest"] == numbers["reingest_unchanged_seconds"] / numbers["ingest_seconds"]
    assert numbers["query_p50_ms"] <= numbers["query_p95_ms"] and numbers["peak_rss_mb"] > 0
