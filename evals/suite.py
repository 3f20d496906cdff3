"""`sendbot eval`: run sendbot and the baselines on the golden set, apply the quality gate, write reports."""

from __future__ import annotations

import json
import sys
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from answer.extractive import ExtractiveAnswerer
from answer.generated import LLMAnswerer
from evals.golden import GoldenQuestion
from evals.runner import SystemRun, run_system, sweep_refusal_threshold
from ingest.loaders import load_document
from sendbot.bot import Pipeline
from sendbot.core.config import Settings


def document_texts(pipeline: Pipeline) -> dict[str, str]:
    """Each indexed document's extracted text, against which quotes must be verbatim."""
    max_mb = pipeline.settings.max_file_mb
    return {r.source: load_document(Path(r.path), max_mb).text for r in pipeline.store.files.values() if Path(r.path).exists()}


def baseline_systems(pipeline: Pipeline) -> dict[str, Callable]:
    """The stock pipelines compared side by side with sendbot, answering through sendbot's reranker and answerer."""
    from evals.baselines import answer_from, bm25_retriever, llama_index_retriever
    from index.embedder import embedder_for

    embedder = embedder_for(pipeline.settings)
    chunks, vectors = pipeline.store.load_chunks()
    retrievers = {
        "llama-index 1024": llama_index_retriever(pipeline.settings.corpus_dir, embedder, 1024),
        "llama-index 256": llama_index_retriever(pipeline.settings.corpus_dir, embedder, 256),
        "BM25": bm25_retriever(chunks, vectors, embedder),
    }
    return {name: (lambda q, k, r=r: answer_from(r, pipeline, q, k)) for name, r in retrievers.items()}


def extractive_pipeline(pipeline: Pipeline) -> Pipeline:
    """The pipeline with its language model answerer (if any) replaced by the extractive one it wraps."""
    if isinstance(pipeline.answerer, LLMAnswerer):
        return replace(pipeline, answerer=pipeline.answerer.extractive)
    return pipeline


def run_eval(pipeline: Pipeline, questions: list[GoldenQuestion], k: int, baselines: bool,
             progress: Callable[[str], None] = lambda _: None) -> list[SystemRun]:
    """sendbot first, then each baseline, on the same questions.

    When the pipeline answers through a language model, that run ("sendbot llm", with the guard's counts) comes
    first, then the extractive answerer on the same retrieval ("sendbot"); the baselines answer extractively.
    """
    from tqdm import tqdm

    documents = document_texts(pipeline)
    extractive = extractive_pipeline(pipeline)
    systems: dict[str, tuple[Callable, str]] = {}
    if extractive is not pipeline:
        systems["sendbot llm"] = (lambda q, k: pipeline.ask(q, k=k), "llm")
    systems["sendbot"] = (lambda q, k: extractive.ask(q, k=k), "extractive")
    if baselines:
        progress("Building the baselines (stock llama-index at chunk sizes 1024 and 256, plain BM25)...")
        systems.update({name: (system, "extractive") for name, system in baseline_systems(extractive).items()})
    extractive.ask("warm up")  # the first query pays one-off costs; latency is for warm queries
    runs = []
    for name, (system, answerer) in systems.items():
        with tqdm(total=len(questions), desc=f"eval {name}", unit="q", leave=False, disable=not sys.stderr.isatty()) as bar:
            runs.append(run_system(name, system, questions, k, documents, bar.update, answerer))
    return runs


def calibrate(pipeline: Pipeline, questions: list[GoldenQuestion], k: int) -> tuple[SystemRun, list]:
    """Answer everything without refusing, then sweep the evidence threshold over the recorded scores."""
    never_refuse = replace(pipeline, answerer=ExtractiveAnswerer(
        pipeline.settings.answer_sentences, min_evidence=0.0, max_words=pipeline.settings.answer_words,
        confident_evidence=pipeline.settings.confident_evidence))
    run = run_system("sendbot (never refusing)", lambda q, k: never_refuse.ask(q, k=k), questions, k, {})
    return run, sweep_refusal_threshold(run.results)


@dataclass(frozen=True)
class Gate:
    """Minimum (and maximum) values for summary metrics."""

    minimum: dict[str, float]
    maximum: dict[str, float]

    @classmethod
    def load(cls, path: Path | None, overrides: dict[str, float | None]) -> "Gate":
        """Thresholds from a TOML file ([min] and [max] tables), overridden by command-line values."""
        data = tomllib.loads(path.read_text()) if path else {}
        minimum = {**data.get("min", {}), **{k: v for k, v in overrides.items() if v is not None and k != "false_refusal_rate"}}
        maximum = dict(data.get("max", {}))
        if overrides.get("false_refusal_rate") is not None:
            maximum["false_refusal_rate"] = overrides["false_refusal_rate"]
        return cls(minimum, maximum)

    def check(self, summary: dict[str, float]) -> list[str]:
        """One line per threshold broken."""
        broken = [f"{m} = {summary[m]:.3f} is below the minimum {v:.3f}" for m, v in self.minimum.items() if summary[m] < v]
        broken += [f"{m} = {summary[m]:.3f} is above the maximum {v:.3f}" for m, v in self.maximum.items() if summary[m] > v]
        return broken


def write_export(run: SystemRun, path: Path, style: str) -> None:
    """Write the run as JSONL for RAGAS or DeepEval."""
    from evals.report import export_rows

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in export_rows(run, style)), encoding="utf-8")


LLM_NEEDED = ("--answerer llm needs a language model: set SENDBOT_LLM_URL and SENDBOT_LLM_MODEL (plus "
              "SENDBOT_LLM_API_KEY if the server wants one, and SENDBOT_LLM_KIND=ollama for Ollama), "
              "or pass --llm-url and --llm-model")


def settings_for_eval(settings: Settings, min_evidence: float | None, answerer: str | None = None) -> Settings:
    """Settings with an optional refusal threshold override (to try a value before changing the default) and
    answerer: "extractive" switches a configured language model off, "llm" requires one, None keeps the settings'."""
    if min_evidence is not None:
        settings = replace(settings, min_evidence=min_evidence)
    if answerer == "extractive":
        return replace(settings, llm_url="")
    if answerer == "llm" and not settings.llm_configured:
        raise ValueError(LLM_NEEDED)
    return settings
