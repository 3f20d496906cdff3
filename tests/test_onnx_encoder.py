"""The optional int8 ONNX encoder: exported from the bundled model into a cache, close to torch, never mixed with it.

The export (about 20-30 s) runs once for the module, into a temporary data directory; every test that needs the
encoder reuses that cache (copied, or read in place).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from index.embedder import Embedder, ModelError, get_embedder
from index.onnx_encoder import OnnxUnavailable, cache_key, cpu_flags, int8_model, quantisation_target
from index.store import ENCODER_KEY, EncoderMismatch, open_store
from ingest.pipeline import ingest
from sendbot.bench.encoders import encode_rounds, encoder_table, verdict
from sendbot.bot import build_pipeline
from sendbot.cli import main
from sendbot.core.config import Settings, load_settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def onnx_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings choosing onnx-int8 whose data directory already holds the export (made here, once)."""
    root = tmp_path_factory.mktemp("onnx")
    (root / "no-corpus").mkdir()
    settings = Settings(data_dir=root / "data", corpus_dir=root / "no-corpus", encoder="onnx-int8")
    int8_model(settings.encoders_dir, _model_folder())
    return settings


@pytest.fixture(scope="module")
def onnx_embedder(onnx_settings: Settings) -> Embedder:
    return get_embedder("onnx-int8", onnx_settings.encoders_dir)


def _model_folder() -> Path:
    from index.embedder import verified_model_dir

    return verified_model_dir()


def corpus_sentences() -> list[str]:
    """Paragraphs of the vendored agenda pack, short and long (some past MiniLM's 256 word pieces)."""
    text = (FIXTURES / "cfosp-agenda-pack-2023-05-24.md").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if len(p.strip()) > 30]
    return paragraphs[:10] + sorted(paragraphs, key=len)[-3:] + ["What happens if my EP assessment is late?"]


def with_copied_cache(settings: Settings, onnx_settings: Settings) -> Settings:
    """`settings` choosing onnx-int8, with the module's export copied into its data directory (no second export)."""
    shutil.copytree(onnx_settings.encoders_dir, settings.encoders_dir)
    return replace(settings, encoder="onnx-int8")


def test_int8_vectors_point_where_the_torch_ones_do(onnx_embedder: Embedder):
    texts = corpus_sentences()
    onnx = onnx_embedder.encode(texts, batch_size=4)  # several batches, each padded to its own longest text
    torch = get_embedder().encode(texts)
    assert onnx.shape == torch.shape == (len(texts), 384) and onnx.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-4)
    cosines = (onnx * torch).sum(axis=1)
    print(f"cosine onnx-int8 vs torch over {len(texts)} texts: min {cosines.min():.4f}, mean {cosines.mean():.4f}")
    assert cosines.min() >= 0.95
    # Order is kept although batches run longest first: each text is nearest its own torch vector.
    assert list((onnx @ torch.T).argmax(axis=1)) == list(range(len(texts)))
    assert onnx_embedder.encode([]).shape == (0, 384)


def test_the_export_is_cached_by_model_hash_and_reused(onnx_settings: Settings, onnx_embedder: Embedder):
    folders = list(onnx_settings.encoders_dir.iterdir())
    assert [f.name for f in folders] == [cache_key(quantisation_target(cpu_flags()))]  # no temporary folder left
    model = folders[0] / "model.onnx"
    assert sorted(p.name for p in folders[0].iterdir()) == ["export.json", "model.onnx"]
    before = (model.stat().st_mtime_ns, model.stat().st_ino)
    again = Embedder("onnx-int8", onnx_settings.encoders_dir)  # a new instance: a later start of the app
    assert (model.stat().st_mtime_ns, model.stat().st_ino) == before
    text = ["Educational Psychology assessments are running late."]
    assert np.allclose(again.encode(text), onnx_embedder.encode(text))


def test_a_torch_index_refuses_onnx_queries_and_ingests_with_what_to_do(settings: Settings, onnx_settings: Settings,
                                                                         onnx_embedder: Embedder, docs_dir: Path):
    (docs_dir / "ep.txt").write_text("Educational Psychology assessments are running late this term.\n", encoding="utf-8")
    assert ingest([docs_dir], settings).count("added") == 1  # torch, the default
    assert open_store(settings).collection.metadata[ENCODER_KEY] == "torch"
    onnx = replace(settings, encoder="onnx-int8")
    with pytest.raises(EncoderMismatch) as refused:
        build_pipeline(onnx, onnx_embedder)  # the app and `sendbot ask` stop before the first question
    message = str(refused.value)
    assert "'torch' encoder" in message and "SENDBOT_ENCODER=torch" in message and "sendbot ingest" in message
    with pytest.raises(EncoderMismatch):
        ingest([docs_dir], onnx)
    result = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "--encoder", "onnx-int8", "ingest", str(docs_dir)])
    assert result.exit_code == 1 and "must not be mixed" in result.output and "Traceback" not in result.output
    assert build_pipeline(settings).ask("Are EP assessments late?")[1]  # torch still answers from it


def test_an_onnx_index_answers_with_onnx_and_refuses_torch(settings: Settings, onnx_settings: Settings, docs_dir: Path):
    onnx = with_copied_cache(settings, onnx_settings)
    (docs_dir / "ep.txt").write_text("Educational Psychology assessments are running late this term.\n"
                                     "\nThe short breaks service runs on Saturdays.\n", encoding="utf-8")
    assert ingest([docs_dir], onnx).count("added") == 1
    assert open_store(onnx).collection.metadata[ENCODER_KEY] == "onnx-int8"
    answer, passages = build_pipeline(onnx).ask("Are EP assessments late?")
    assert passages and "Educational Psychology" in passages[0].chunk.text and not answer.refused
    with pytest.raises(EncoderMismatch, match="'onnx-int8' encoder"):
        build_pipeline(settings)


def test_the_setting_is_checked_and_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SENDBOT_ENCODER", "onnx-int8")
    assert load_settings().encoder == "onnx-int8"
    monkeypatch.setenv("SENDBOT_ENCODER", "onnx")
    with pytest.raises(ValueError, match="SENDBOT_ENCODER='onnx' is not one of torch, onnx-int8"):
        load_settings()
    result = CliRunner().invoke(main, ["--encoder", "fast", "sources"])
    assert result.exit_code == 2 and "'fast' is not one of 'torch', 'onnx-int8'" in result.output


def test_missing_packages_are_named_with_the_install_command(monkeypatch, tmp_path: Path):
    # onnx is installed here, so its absence is made the way Python records a failed import: None in sys.modules.
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(OnnxUnavailable) as missing:
        int8_model(tmp_path / "encoders", _model_folder())
    assert isinstance(missing.value, ModelError)  # shown by the CLI as one line, not a traceback
    assert "pip install -e '.[onnx]' torch==2.13.0" in str(missing.value) and "SENDBOT_ENCODER=torch" in str(missing.value)
    assert not (tmp_path / "encoders").exists()


def test_the_quantisation_suits_the_processor(tmp_path: Path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_vnni\n", encoding="utf-8")
    assert quantisation_target(cpu_flags(cpuinfo)) == "avx512_vnni"
    assert quantisation_target(frozenset({"sse", "avx2"})) == "avx2"
    assert quantisation_target(cpu_flags(tmp_path / "missing")) == "avx2"
    assert cache_key("avx2") != cache_key("avx512_vnni")


def test_bench_encode_rounds_and_verdict(onnx_embedder: Embedder):
    texts = corpus_sentences()
    speed = encode_rounds({"torch": get_embedder(), "onnx-int8": onnx_embedder}, texts, rounds=2)
    print(f"{len(texts)} texts, load {os.getloadavg()[0]:.2f}: torch {speed['torch_chunks_per_second']:.1f}/s, "
          f"onnx-int8 {speed['onnx-int8_chunks_per_second']:.1f}/s, speed-up {speed['speedup_median']:.2f}x")
    assert speed["chunks"] == len(texts) and speed["rounds"] == 2 and speed["cosine_min"] >= 0.95
    assert speed["speedup_lowest"] <= speed["speedup_median"]
    scores = {f"{s}_{m}": 0.9 for s in ("all", "dev", "test") for m in ("hit_at_k", "fact_recall")}
    numbers = {**speed, "speedup_median": 2.5, "k": 5, "load_average_before": [1, 1, 1], "load_average_after": [2, 2, 2],
               "cpu_count": 2, "onnx_load_seconds": 0.3,
               "encoders": {"torch": {**scores, "ingest_chunks_per_second": 30, "query_p50_ms": 50},
                            "onnx-int8": {**scores, "dev_fact_recall": 0.885, "ingest_chunks_per_second": 50,
                                          "query_p50_ms": 40}}}
    judged = verdict(numbers)
    assert judged["deltas"]["dev_fact_recall"] == pytest.approx(-0.015) and not judged["keep"]
    table = encoder_table(judged)
    assert "dev fact recall" in table and "-0.015" in table and "does not pass" in table and "1.67x" in table
