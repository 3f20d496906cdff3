"""`sendbot bench --encoders`: the int8 ONNX encoder beside torch, on the same chunks and the same questions.

- speed: both encoders embed the very same chunk texts (the bundled corpus as ingest cuts it), in alternating
  rounds, so load from other work on the machine falls on both; each round gives a ratio, and the median is
  reported with the load average before and after;
- ingest: the whole corpus ingested into a throwaway index by each (chunks/s, reading the files included);
- agreement: the cosine between the two encoders' vectors of each chunk;
- quality: every golden question asked of each index (built by its own encoder, with its commitments register),
  hit@k and answer fact recall over all questions and per split, and the difference.

The issue's rule for keeping the ONNX encoder as an option: hit@k and fact recall drop by at most 0.01, and it
embeds at least twice as many chunks a second as torch.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from statistics import median
from typing import Callable

import numpy as np

from commitments.register import update_register
from evals.golden import load_golden
from evals.runner import run_system
from index.embedder import Embedder, embedder_for
from index.store import open_store
from ingest.pipeline import ingest
from sendbot.bot import build_pipeline
from sendbot.core.config import ENCODERS, Settings
from sendbot.bench.timing import timed

ROUNDS = 3  # alternating timed passes of each encoder over the chunks
MAX_QUALITY_DROP = 0.01
MIN_SPEEDUP = 2.0
SPLITS = ("all", "dev", "test")


def _loaded_embedders(settings: Settings) -> tuple[dict[str, Embedder], float]:
    """Both encoders, loaded before any timing; and how long the ONNX one took (its export, the first time)."""
    torch_embedder = embedder_for(replace(settings, encoder="torch"))
    onnx_seconds, onnx_embedder = timed(lambda: embedder_for(replace(settings, encoder="onnx-int8")))
    return {"torch": torch_embedder, "onnx-int8": onnx_embedder}, onnx_seconds


def encode_rounds(embedders: dict[str, Embedder], texts: list[str], rounds: int = ROUNDS) -> dict:
    """Each encoder over the same texts, alternating, `rounds` times: chunks/s each (median) and the per-round
    speed-up of the second over the first (median and lowest), plus the cosine between their vectors."""
    first, second = embedders
    seconds: dict[str, list[float]] = {first: [], second: []}
    vectors: dict[str, np.ndarray] = {}
    for name in embedders:
        embedders[name].encode(texts[:32])  # warm: first calls allocate
    for _ in range(rounds):
        for name, embedder in embedders.items():
            took, vectors[name] = timed(lambda: embedder.encode(texts, batch_size=32))
            seconds[name].append(took)
    speedups = [a / b for a, b in zip(seconds[first], seconds[second])]
    cosines = (vectors[first] * vectors[second]).sum(axis=1)
    return {
        "chunks": len(texts), "rounds": rounds,
        **{f"{name}_chunks_per_second": len(texts) / median(seconds[name]) for name in embedders},
        "speedup_median": median(speedups), "speedup_lowest": min(speedups),
        "cosine_min": float(cosines.min()), "cosine_mean": float(cosines.mean()),
    }


def golden_quality(settings: Settings, embedder: Embedder, k: int) -> dict[str, float]:
    """hit@k and answer fact recall over every golden question, and per split, from the index in `settings`."""
    pipeline = build_pipeline(settings, embedder)
    questions = load_golden()
    pipeline.ask(questions[0].question)  # one-off costs out of the latency
    run = run_system(embedder.name, lambda q, k: pipeline.ask(q, k=k), questions, k, {})
    scores = {}
    for split in SPLITS:
        summary = (run if split == "all" else run.split(split)).summary()
        scores[f"{split}_hit_at_k"] = summary["hit_at_k"]
        scores[f"{split}_fact_recall"] = summary["fact_recall"]
    scores["query_p50_ms"] = run.summary()["latency_p50_ms"]
    return scores


def _index(settings: Settings, corpus: Path) -> dict[str, float]:
    """Ingest the corpus (timed) and build its commitments register, as `sendbot ingest` does."""
    seconds, report = timed(lambda: ingest([corpus], settings))
    update_register(settings, force=True)
    chunks = sum(f.chunks for f in report.files)
    return {"ingest_chunks_per_second": chunks / seconds, "files_failed": report.count("failed")}


def compare_encoders(settings: Settings, corpus: Path, k: int, rounds: int = ROUNDS,
                     progress: Callable[[str], None] = lambda line: None) -> dict:
    """The ONNX int8 encoder against torch: speed, agreement and golden-set quality, in throwaway indexes (the
    ONNX export is cached in `settings`' data directory, so a second run skips it)."""
    load_before = os.getloadavg()
    progress("Loading both encoders (the ONNX one is exported from the bundled model the first time)...")
    embedders, onnx_load_seconds = _loaded_embedders(settings)
    workdir = Path(tempfile.mkdtemp(prefix="sendbot-encoders-"))
    try:
        per_encoder: dict[str, dict] = {}
        for name in ENCODERS:
            run_settings = replace(settings, data_dir=workdir / name, chroma_url="", encoder=name)
            run_settings.data_dir.mkdir(parents=True)
            run_settings.encoders_dir.symlink_to(settings.encoders_dir, target_is_directory=True)  # no second export
            progress(f"{name}: ingesting {corpus} and building the commitments register...")
            per_encoder[name] = {"settings": run_settings, **_index(run_settings, corpus)}
        chunks, _ = open_store(per_encoder["torch"]["settings"]).load_chunks()
        progress(f"Timing both encoders on the same {len(chunks)} chunks, {rounds} alternating rounds...")
        speed = encode_rounds(embedders, [c.search_text for c in chunks], rounds)
        progress(f"torch {speed['torch_chunks_per_second']:.1f} chunks/s, onnx-int8 "
                 f"{speed['onnx-int8_chunks_per_second']:.1f} chunks/s: median speed-up {speed['speedup_median']:.2f}x "
                 f"(load average {os.getloadavg()[0]:.2f})")
        for name in ENCODERS:
            progress(f"{name}: asking every golden question...")
            per_encoder[name].update(golden_quality(per_encoder[name].pop("settings"), embedders[name], k))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return verdict({"k": k, "load_average_before": list(load_before), "load_average_after": list(os.getloadavg()),
                    "cpu_count": os.cpu_count(), "onnx_load_seconds": onnx_load_seconds, **speed,
                    "encoders": per_encoder})


def verdict(numbers: dict) -> dict:
    """The numbers with the quality deltas (ONNX minus torch) and whether the issue's rule keeps the option."""
    torch_scores, onnx_scores = numbers["encoders"]["torch"], numbers["encoders"]["onnx-int8"]
    deltas = {f"{split}_{metric}": onnx_scores[f"{split}_{metric}"] - torch_scores[f"{split}_{metric}"]
              for split in SPLITS for metric in ("hit_at_k", "fact_recall")}
    quality_ok = all(delta >= -MAX_QUALITY_DROP for delta in deltas.values())
    speed_ok = numbers["speedup_median"] >= MIN_SPEEDUP
    return {**numbers, "deltas": deltas, "quality_ok": quality_ok, "speed_ok": speed_ok,
            "keep": quality_ok and speed_ok}


def encoder_table(numbers: dict) -> str:
    """The comparison as text: speed and quality side by side, the deltas, and the verdict."""
    torch_scores, onnx_scores = numbers["encoders"]["torch"], numbers["encoders"]["onnx-int8"]
    k = numbers["k"]
    rows = [("bare encode, chunks/s", numbers["torch_chunks_per_second"], numbers["onnx-int8_chunks_per_second"], "{:.1f}"),
            ("ingest, chunks/s", torch_scores["ingest_chunks_per_second"], onnx_scores["ingest_chunks_per_second"], "{:.1f}"),
            ("query p50, ms", torch_scores["query_p50_ms"], onnx_scores["query_p50_ms"], "{:.0f}")]
    rows += [(f"{split} {label}", torch_scores[f"{split}_{metric}"], onnx_scores[f"{split}_{metric}"], "{:.3f}")
             for split in SPLITS for metric, label in (("hit_at_k", f"hit@{k}"), ("fact_recall", "fact recall"))]
    lines = [f"{'':24} {'torch':>9} {'onnx-int8':>10} {'onnx/torch or delta':>20}"]
    for label, a, b, style in rows:
        compare = f"{b / a:.2f}x" if "/s" in label or "ms" in label else f"{b - a:+.3f}"
        lines.append(f"{label:24} {style.format(a):>9} {style.format(b):>10} {compare:>20}")
    before, after = numbers["load_average_before"], numbers["load_average_after"]
    lines += [
        f"speed-up per round (same {numbers['chunks']} chunks, {numbers['rounds']} alternating rounds): median "
        f"{numbers['speedup_median']:.2f}x, lowest {numbers['speedup_lowest']:.2f}x; cosine torch vs onnx per chunk: "
        f"min {numbers['cosine_min']:.4f}, mean {numbers['cosine_mean']:.4f}",
        f"load average (1/5/15 min) {before[0]:.2f}/{before[1]:.2f}/{before[2]:.2f} before, "
        f"{after[0]:.2f}/{after[1]:.2f}/{after[2]:.2f} after, on {numbers['cpu_count']} cores; "
        f"ONNX encoder ready in {numbers['onnx_load_seconds']:.1f}s (an export the first time, then the cache); "
        "ingest and query p50 come from each encoder's own runs, one after the other (not alternated)",
        f"rule: quality drop <= {MAX_QUALITY_DROP} ({'met' if numbers['quality_ok'] else 'NOT met'}), speed-up >= "
        f"{MIN_SPEEDUP:.0f}x ({'met' if numbers['speed_ok'] else 'NOT met'}): "
        + ("keep onnx-int8 as an option" if numbers["keep"] else "onnx-int8 does not pass the issue's rule"),
    ]
    return "\n".join(lines)
