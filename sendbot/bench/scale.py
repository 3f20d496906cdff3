"""`sendbot bench --scale 1,10,100`: how ingest, re-sync, queries, memory, disk and hit@k grow with the corpus.

For each scale a corpus of that many copies of the bundled documents is built (`sendbot.bench.corpus`: copy 0 is
the corpus itself, the others are varied so that none is a duplicate), then each mode is measured in a fresh
process (so peak RSS is that run's own): Chroma embedded in a throwaway data directory, and Chroma as a server (a
`chroma run` started here on a free loopback port, persisting to a throwaway folder).

Per scale and mode: ingest chunks/s beside a bare encode, by the settings' encoder (SENDBOT_ENCODER), of the texts
ingest embeds (chunks and their quotable units; measured once per scale, in a process of its own after the first
mode's run, and shown beside both modes) and the ceiling on that ratio which ingest's processor seconds allow on
this machine's cores (`ingest_ceiling`), re-sync of the unchanged corpus, warm query p50/p95 over the golden
questions, peak RSS (of the process that ingested and answered), bytes on disk, and answer quality on the golden
questions. With more than one round, each mode's corpus is ingested again into a fresh index (a fresh server too),
each round beside a bare encode of its own, and the ratio reported is the median round's, with the lowest and
highest: on a small corpus one run's ratio moves by several hundredths with whatever else the machine does.

Quality is measured two ways, because the copies are other (made-up) councils' versions of the same documents: to a
question that names no council, another council's version of the expected paper is as relevant as the original.
- "own": each question asked the way a deployment serves one council, restricted (a source filter) to the original
  council's documents, i.e. copy 0: hit@k of the expected sources and fact recall of the answer. The other copies
  still sit in the same index, so this is the number that must hold as the corpus grows (within 0.02 of 1x).
- "family": the question asked of the whole index, a passage counting as a hit when it comes from the expected
  document or any council's copy of it (retrieval still finds the right paper among the distractors).
The strict figure (only the original counts, whole index) is kept in the JSON as `hit_at_k`; it falls by design as
copies are added, since a copy ranked above the original is a miss there. Latencies are of the whole-index pass,
answered with the torch threads the app serves with (`SENDBOT_SERVER_THREADS`, 1): with torch's default of one
per core, a question's few texts wait on a second thread whenever another process holds a core.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from statistics import median
from typing import Callable, Iterator

from evals.golden import load_golden
from evals.metrics import fact_recall, hit_at_k, percentile
from sendbot.bench.corpus import build_scaled_corpus, is_original, original_source
from sendbot.core.config import Settings
from sendbot.core.models import Filters, IngestReport
from sendbot.bench.timing import peak_rss_mb, timed, timed_work

MODES = ("embedded", "server")
CHROMA_START_SECONDS = 60
SERVER_DIR = "chroma-server"  # where a run's `chroma run` server persists, inside the run's folder


@dataclass(frozen=True)
class ScaleResult:
    """The numbers of one scale in one mode."""

    scale: int
    mode: str
    encoder: str
    files: int
    chunks: int
    ingest_seconds: float
    ingest_chunks_per_second: float
    bare_encode_chunks_per_second: float
    ingest_vs_bare_encode: float
    resync_seconds: float
    query_p50_ms: float
    query_p95_ms: float
    questions: int
    hit_at_k: float  # strict: only the original document counts, whole index (falls by design with more copies)
    k: int
    peak_rss_mb: float
    disk_bytes: int
    files_failed: int
    own_hit_at_k: float = 0.0  # restricted to the original council's documents, as a one-council deployment
    own_fact_recall: float = 0.0
    family_hit_at_k: float = 0.0  # whole index; any council's copy of an expected document counts
    ingest_cpu_seconds: float = 0.0  # processor seconds of ingest and its read-ahead workers (not a Chroma server's)
    bare_encode_cpu_seconds: float = 0.0
    ingest_ceiling: float = 0.0  # the best ratio ingest's processor work allows on this machine (`ingest_ceiling`)
    round_ratios: tuple[float, ...] = ()  # each round's ingest/bare ratio, in the order run; the fields above are the
    # median round's


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def chroma_server(path: Path, log: Path | None = None) -> Iterator[str]:
    """Run `chroma run --path PATH --host 127.0.0.1 --port <free>` (chromadb's own server) while the block runs;
    yields its URL and stops the process it started when the block ends."""
    exe = Path(sys.executable).parent / "chroma"
    if not exe.is_file():
        raise RuntimeError(f"the chroma command is missing next to {sys.executable}: reinstall chromadb")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    path.mkdir(parents=True, exist_ok=True)
    log = log or path.with_name(path.name + ".log")
    with log.open("w") as out:
        process = subprocess.Popen([str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + CHROMA_START_SECONDS
            while not _answers(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma run did not start on {url} (exit code {process.poll()})")
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def disk_bytes(*folders: Path) -> int:
    """Bytes in the files under the folders."""
    return sum(p.stat().st_size for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file())


def timed_ingest(settings: Settings, corpus: Path) -> tuple[float, float, IngestReport]:
    """Ingest `corpus` into the index `settings` name: seconds, processor seconds and the report. The encoder and
    Chroma's library are loaded first: the bare encode it is compared with pays neither."""
    from index.embedder import embedder_for
    from ingest.pipeline import ingest

    embedder_for(settings).encode(["warm up"])  # the settings' encoder (SENDBOT_ENCODER)
    import chromadb  # noqa: F401
    return timed_work(lambda: ingest([corpus], settings))


def measure(settings: Settings, corpus: Path, k: int) -> dict:
    """Ingest `corpus`, re-sync it, then ask every golden question; runs in its own process (see `run_scales`)."""
    from index.embedder import embedder_for
    from ingest.pipeline import ingest
    from sendbot.bot import SendBot

    ingest_seconds, ingest_cpu_seconds, report = timed_ingest(settings, corpus)
    resync_seconds, _ = timed(lambda: ingest([corpus], settings))
    use_serving_threads(settings)
    bot = SendBot(settings)
    if bot.watcher:
        bot.watcher.stop()
    return {
        "encoder": embedder_for(settings).name, "files": len(report.files),
        "chunks": len(bot.pipeline.retriever.chunks),
        "ingest_seconds": ingest_seconds, "ingest_cpu_seconds": ingest_cpu_seconds, "resync_seconds": resync_seconds,
        **golden_scores(bot.pipeline, k),
        "peak_rss_mb": peak_rss_mb(), "files_failed": report.count("failed"),
    }


def bare_encode_seconds(settings: Settings) -> tuple[float, float]:
    """How long the settings' encoder alone takes over the texts ingest embedded for the index `settings` name, in
    ingest's batch size, in seconds and in processor seconds. Runs in a process of its own: holding every text and
    vector at once (277,000 of them at 100x) would otherwise set the peak memory reported for sendbot itself."""
    from index.embedder import embedder_for
    from index.store import open_store
    from ingest.pipeline import EMBED_BATCH, texts_embedded

    embedder = embedder_for(settings)
    embedder.encode(["warm up"])
    texts = texts_embedded(open_store(settings).load_chunks()[0])
    seconds, cpu_seconds, _ = timed_work(lambda: embedder.encode(texts, batch_size=EMBED_BATCH))
    return seconds, cpu_seconds


def use_serving_threads(settings: Settings) -> None:
    """Give torch the threads the app answers with (`SENDBOT_SERVER_THREADS`, see `app.serve`), so questions are
    timed as the app serves them; 0 keeps torch's default of one per core."""
    if settings.server_threads:
        import torch

        torch.set_num_threads(settings.server_threads)


def golden_scores(pipeline, k: int) -> dict:
    """Warm latencies and hit@k (strict and family) of every golden question over the whole index, then hit@k and
    fact recall with each question restricted to the original council's documents (see the module docstring)."""
    golden = load_golden()
    for question in golden[:3]:
        pipeline.ask(question.question)
    originals = tuple(sorted(s for s in pipeline.store.files if is_original(s)))
    latencies, strict, family, own, facts = [], [], [], [], []
    for question in golden:
        seconds, (_, passages) = timed(lambda: pipeline.ask(question.question, k=k))
        latencies.append(seconds * 1000)
        if question.answerable and question.sources:
            sources = [p.chunk.source for p in passages]
            strict.append(hit_at_k(sources, question.sources, k))
            family.append(hit_at_k([original_source(s) for s in sources], question.sources, k))
            answer, passages = pipeline.ask(question.question, Filters(sources=originals), k)
            own.append(hit_at_k([p.chunk.source for p in passages], question.sources, k))
            facts.append(fact_recall(question.facts, "" if answer.refused else answer.text))
    return {
        "query_p50_ms": median(latencies), "query_p95_ms": percentile(latencies, 95), "questions": len(latencies),
        "hit_at_k": _mean(strict), "family_hit_at_k": _mean(family), "own_hit_at_k": _mean(own),
        "own_fact_recall": _mean(facts),
    }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def in_fresh_process(function: Callable, *args):
    """`function(*args)` in a new Python process, so its peak memory (`peak_rss_mb`) and caches are its own."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:  # not daemonic: ingest
        return pool.submit(function, *args).result()                                      # starts workers of its own


def run_scales(settings: Settings, corpus: Path, scales: list[int], modes: tuple[str, ...] = MODES, k: int = 5,
               progress: Callable[[str], None] = lambda line: None, rounds: int = 1) -> list[ScaleResult]:
    """Measure every scale in every mode (the ingest ratio over `rounds` fresh ingests); each mode's data lives in a
    throwaway folder removed afterwards."""
    results: list[ScaleResult] = []
    workdir = Path(tempfile.mkdtemp(prefix="sendbot-scale-"))
    try:
        for scale in scales:
            progress(f"scale {scale}x: building the corpus ({scale} copies of {corpus.name})...")
            scaled = build_scaled_corpus(corpus, scale, workdir / f"corpus-{scale}")
            encode: tuple[float, float] | None = None  # the bare encode's seconds and processor seconds
            for mode in modes:
                progress(f"scale {scale}x, {mode}: ingest, re-sync, golden questions (a fresh process)...")
                raw = _run_mode(settings, scaled, workdir / f"{mode}-{scale}", mode, k, bare_encode=encode is None)
                encode = encode or raw["encode"]
                pairs = [(raw["ingest_seconds"], raw["ingest_cpu_seconds"], *encode)]
                for round_ in range(1, rounds):
                    progress(f"scale {scale}x, {mode}: ingest round {round_ + 1} of {rounds}, beside a bare encode...")
                    pairs.append(_ratio_round(settings, scaled, workdir / f"{mode}-{scale}-round-{round_ + 1}", mode))
                results.append(scale_result(scale, mode, k, raw, pairs))
                progress(f"scale {scale}x, {mode}: {asdict(results[-1])}")  # every number, should a later run fail
            shutil.rmtree(scaled, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def _run_mode(settings: Settings, corpus: Path, folder: Path, mode: str, k: int, bare_encode: bool) -> dict:
    data_dir, server_dir = folder / "data", folder / SERVER_DIR
    with _chroma_for(mode, folder) as url:
        mode_settings = replace(settings, data_dir=data_dir, chroma_url=url)
        raw = in_fresh_process(measure, mode_settings, corpus, k)
        encode = in_fresh_process(bare_encode_seconds, mode_settings) if bare_encode else None
    return {**raw, "encode": encode, "disk_bytes": disk_bytes(data_dir, server_dir)}


def _ratio_round(settings: Settings, corpus: Path, folder: Path, mode: str) -> tuple[float, float, float, float]:
    """One more ingest into a fresh index (and server) beside a bare encode of its texts: seconds and processor
    seconds of each. The folder is removed afterwards."""
    try:
        with _chroma_for(mode, folder) as url:
            round_settings = replace(settings, data_dir=folder / "data", chroma_url=url)
            ingest_seconds, ingest_cpu_seconds, _ = in_fresh_process(timed_ingest, round_settings, corpus)
            return (ingest_seconds, ingest_cpu_seconds, *in_fresh_process(bare_encode_seconds, round_settings))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _chroma_for(mode: str, folder: Path):
    """The mode's store for the block: a `chroma run` server persisting under `folder` (its URL), or embedded ("")."""
    return chroma_server(folder / SERVER_DIR, folder / "chroma.log") if mode == "server" else nullcontext("")


def ingest_ceiling(encode_seconds: float, ingest_cpu_seconds: float, cores: int) -> float:
    """The best ingest/bare-encode ratio that ingest's processor work allows: it cannot end sooner than the bare
    encode, nor sooner than all its processor seconds spread evenly over the machine's cores. A ratio below this is
    time lost to waiting (fixable by overlapping work); a ceiling below 1 is work beside encoding (parsing,
    chunking, writing) that the encoder's cores had to make room for."""
    return encode_seconds / max(encode_seconds, ingest_cpu_seconds / cores) if encode_seconds else 0.0


def scale_result(scale: int, mode: str, k: int, raw: dict,
                 pairs: list[tuple[float, float, float, float]]) -> ScaleResult:
    """The row of one scale and mode; `pairs` are the rounds' (ingest seconds, its processor seconds, bare encode
    seconds, its processor seconds), and the ingest and bare figures shown are the median round's."""
    ratios = tuple(bare / ingest if ingest else 0.0 for ingest, _, bare, _ in pairs)
    median_round = sorted(range(len(pairs)), key=ratios.__getitem__)[(len(pairs) - 1) // 2]
    ingest_seconds, ingest_cpu_seconds, encode_seconds, encode_cpu_seconds = pairs[median_round]
    ingest_rate = raw["chunks"] / ingest_seconds
    bare_rate = raw["chunks"] / encode_seconds if encode_seconds else 0.0
    return ScaleResult(
        scale=scale, mode=mode, encoder=raw["encoder"], files=raw["files"], chunks=raw["chunks"],
        ingest_seconds=ingest_seconds,
        ingest_chunks_per_second=ingest_rate, bare_encode_chunks_per_second=bare_rate,
        ingest_vs_bare_encode=ingest_rate / bare_rate if bare_rate else 0.0,
        ingest_cpu_seconds=ingest_cpu_seconds,
        bare_encode_cpu_seconds=encode_cpu_seconds,
        ingest_ceiling=ingest_ceiling(encode_seconds, ingest_cpu_seconds, os.cpu_count() or 1),
        round_ratios=ratios,
        resync_seconds=raw["resync_seconds"],
        query_p50_ms=raw["query_p50_ms"], query_p95_ms=raw["query_p95_ms"], questions=raw["questions"],
        hit_at_k=raw["hit_at_k"], k=k, peak_rss_mb=raw["peak_rss_mb"], disk_bytes=raw["disk_bytes"],
        files_failed=raw["files_failed"], own_hit_at_k=raw["own_hit_at_k"], own_fact_recall=raw["own_fact_recall"],
        family_hit_at_k=raw["family_hit_at_k"],
    )


def scale_table(results: list[ScaleResult]) -> str:
    """The results as an aligned text table, one row per scale and mode."""
    header = ("scale", "mode", "encoder", "chunks", "ingest/s", "bare/s", "ratio", "rounds", "ceiling", "re-sync s",
              "p50 ms", "p95 ms", "own hit@k", "own facts", "family hit@k", "peak MB", "disk MB")
    rows = [header] + [(
        f"{r.scale}x", r.mode, r.encoder, str(r.chunks), f"{r.ingest_chunks_per_second:.1f}", f"{r.bare_encode_chunks_per_second:.1f}",
        f"{r.ingest_vs_bare_encode:.2f}", _rounds(r), f"{r.ingest_ceiling:.2f}", f"{r.resync_seconds:.2f}",
        f"{r.query_p50_ms:.0f}",
        f"{r.query_p95_ms:.0f}", f"{r.own_hit_at_k:.3f}", f"{r.own_fact_recall:.3f}", f"{r.family_hit_at_k:.3f}", f"{r.peak_rss_mb:.0f}",
        f"{r.disk_bytes / 1e6:.1f}") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows)


def _rounds(result: ScaleResult) -> str:
    """How many rounds the ratio is the median of, with the lowest and highest when more than one ("3: 0.82-0.90")."""
    ratios = result.round_ratios
    if len(ratios) <= 1:
        return "1"
    return f"{len(ratios)}: {min(ratios):.2f}-{max(ratios):.2f}"


def as_json(results: list[ScaleResult]) -> list[dict]:
    """The results as JSON-ready dicts."""
    return [asdict(r) for r in results]
