"""`sendbot bench`: speed and memory, each against a baseline measured in the same run.

- ingest throughput (chunks/s) against a bare encode, by the settings' encoder, of the very texts ingest embeds (the
  chunks and their quotable units, whose vectors are stored so questions need not embed them), and how
  long reading the files alone takes (PDF text extraction is pure Python and is most of the difference);
- building the commitments register (what `sendbot ingest` does after an ingest) against the ingest itself;
- re-ingesting an unchanged corpus against the first ingest;
- warm query latency (retrieval + answer) against a bare encode of the same questions.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from statistics import median

from commitments.register import update_register
from evals.golden import load_golden
from evals.metrics import percentile
from index.embedder import embedder_for
from index.store import open_store
from ingest.loaders import load_document
from ingest.pipeline import discover, ingest
from sendbot.bot import SendBot
from sendbot.core.config import Settings
from sendbot.bench.scale import bare_encode_seconds, in_fresh_process, timed_ingest
from sendbot.bench.timing import peak_rss_mb, timed


def run_benchmark(settings: Settings, corpus: Path, repeats: int = 1) -> dict[str, float]:
    """Measure ingest, re-ingest and query speed on `corpus` in a throwaway data directory."""
    workdir = Path(tempfile.mkdtemp(prefix="sendbot-bench-"))
    try:
        bench_settings = replace(settings, data_dir=workdir / "data")
        ingest_seconds, _, report = timed_ingest(bench_settings, corpus)  # both sides of each comparison run warm
        embedder = embedder_for(bench_settings)
        register_seconds, register = timed(lambda: update_register(bench_settings, force=True))
        chunks, _ = open_store(bench_settings).load_chunks()
        encode_seconds, _ = in_fresh_process(bare_encode_seconds, bench_settings)  # the ratio is ingest's overhead
        files, _ = discover([corpus])
        parse_seconds, _ = timed(lambda: [load_document(found.path) for found in files])
        reingest_seconds, _ = timed(lambda: ingest([corpus], bench_settings))

        bot = SendBot(bench_settings)
        questions = [q.question for q in load_golden()]
        for question in questions[:3]:
            bot.ask(question)
        bot.reload()  # fresh caches: each question below is answered for the first time
        latencies, encodes = [], []
        for _ in range(repeats):
            for question in questions:
                latencies.append(timed(lambda: bot.ask(question))[0] * 1000)
                encodes.append(timed(lambda: embedder.encode([question]))[0] * 1000)
        return {
            "chunks": len(chunks),
            "ingest_seconds": ingest_seconds,
            "ingest_chunks_per_second": len(chunks) / ingest_seconds,
            "bare_encode_chunks_per_second": len(chunks) / encode_seconds,
            "ingest_vs_bare_encode": (len(chunks) / ingest_seconds) / (len(chunks) / encode_seconds),
            "parse_seconds": parse_seconds,
            "commitments_register_seconds": register_seconds,
            "commitments_register_vs_ingest": register_seconds / ingest_seconds,
            "commitments": len(register.commitments),
            "reingest_unchanged_seconds": reingest_seconds,
            "reingest_vs_first_ingest": reingest_seconds / ingest_seconds,
            "questions": len(latencies),
            "query_p50_ms": median(latencies),
            "query_p95_ms": percentile(latencies, 95),
            "bare_query_encode_p50_ms": median(encodes),
            "query_vs_bare_encode": median(latencies) / median(encodes),
            "peak_rss_mb": peak_rss_mb(),
            "files_failed": report.count("failed"),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
