"""`sendbot eval --train`: fit the answer-unit ranker (retrieve/unit_ranker.json) on the golden set's dev split.

Labels come from the golden facts, so no one labels units by hand. The ranker is trained per question, not per
unit: for each answerable dev question every unit of its evidence pool (the leading retrieved passages, the ones
the refusal evidence is judged over) is scored (meaning included, not only a shortlist), and a softmax over that
question's units is fitted to put its mass on the units holding an expected fact, shorter ones preferred (a
fact-holding list of 80 words is a worse answer than the sentence inside it).
Units are only compared with units of the same question, so a question with many candidates does not outweigh
one with few, and "long units hold more facts" cannot leak into the weights as it does with per-unit labels.
Cross-validation is grouped by question, in folds fixed by a hash of each question's id. Besides how often the
held-out ranker's first pick holds a fact, every dev question is answered once by the ranker fitted without its
fold: the answer metrics a question the ranker never saw can expect, which the in-sample figures of
`sendbot eval --subset dev` overstate. Only dev questions are read; test questions never are.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from answer.extractive import KEEP_RATIO
from evals.golden import GoldenQuestion
from evals.metrics import fact_found
from evals.runner import SystemRun, run_system
from evals.suite import document_texts, extractive_pipeline
from retrieve.query import prepare_query
from retrieve.rerank import FEATURES, SentenceReranker, UnitRanker
from sendbot.bot import Pipeline
from sendbot.core.models import Filters

REGULARISATION = 0.1  # L2 on the standardised weights, summed over questions with the loss
MARGIN = 1.9  # ranking-score distance below the best unit at which a unit drops under the answerer's keep ratio
FOLDS = 5
Group = tuple[np.ndarray, np.ndarray]  # one question's unit features, and its target share per unit


@dataclass(frozen=True)
class TrainingReport:
    """The fitted ranker and how well it picks a fact-holding unit first, in-sample and held out; and the dev
    answers each given by the ranker fitted without its question's fold."""

    ranker: UnitRanker
    questions: int
    units: int
    top1: float  # share of questions (with a fact-holding unit in the pool) whose best-ranked unit holds a fact
    top1_cv: float  # the same, each question ranked by a model fitted without its fold
    semantic_top1: float  # the same for MiniLM similarity alone, as a yardstick
    fold_rankers: tuple[UnitRanker, ...]  # fold n's ranker was fitted on the questions of every other fold
    held_out: SystemRun  # every dev question answered by its fold's ranker


def train(pipeline: Pipeline, questions: list[GoldenQuestion], progress: Callable[[int], None] = lambda _: None) -> TrainingReport:
    """Fit the unit ranker on `questions` (dev split only: the caller selects them) over the pipeline's index, and
    cross-validate it. `progress` is told of each question scored, then of each answered (twice the questions)."""
    if any(q.split != "dev" for q in questions):
        raise ValueError("the ranker trains on the dev split only; test questions must never be seen")
    by_question = unit_groups(pipeline, questions, progress)
    groups = list(by_question.values())
    weights = fit_listwise(groups)
    folds = [[g for qid, g in by_question.items() if fold_of(qid) == n] for n in range(FOLDS)]
    fold_rankers = tuple(_ranker(fit_listwise([g for qid, g in by_question.items() if fold_of(qid) != n]))
                         for n in range(FOLDS))
    held_out_top1 = np.average([top1(fold, np.array(ranker.weights)) for fold, ranker in zip(folds, fold_rankers)],
                               weights=[len(fold) for fold in folds])
    semantic = np.zeros(len(FEATURES))
    semantic[0] = 1.0
    return TrainingReport(_ranker(weights), len(groups), sum(len(x) for x, _ in groups), top1(groups, weights),
                          float(held_out_top1), top1(groups, semantic), fold_rankers,
                          held_out_answers(pipeline, questions, fold_rankers, progress))


def fold_of(question_id: str) -> int:
    """A dev question's cross-validation fold: a hash of its id (salted, so folds are independent of the split)."""
    return int(hashlib.sha256(f"fold:{question_id}".encode("utf-8")).hexdigest(), 16) % FOLDS


def held_out_answers(pipeline: Pipeline, questions: list[GoldenQuestion], fold_rankers: tuple[UnitRanker, ...],
                     progress: Callable[[int], None] = lambda _: None) -> SystemRun:
    """Every question answered (extractively) with its fold's ranker, which never saw it: the dev figures to tune
    by when a change moves the ranker, since a refit on all of dev moves dozens of in-sample answers."""
    extractive = extractive_pipeline(pipeline)
    documents = document_texts(pipeline)
    k = pipeline.settings.top_k
    results = []
    for n, ranker in enumerate(fold_rankers):
        held = with_ranker(extractive, ranker)
        fold = [q for q in questions if fold_of(q.id) == n]
        results += run_system("held out", lambda question, k, held=held: held.ask(question, k=k), fold, k, documents,
                              progress).results
    order = {q.id: i for i, q in enumerate(questions)}
    return SystemRun("sendbot, ranker held out", sorted(results, key=lambda r: order[r.golden.id]), k)


def _ranker(weights: np.ndarray) -> UnitRanker:
    return UnitRanker(tuple(float(w) for w in weights), math.log(1 / KEEP_RATIO) / MARGIN, "dev")


def with_ranker(pipeline: Pipeline, ranker: UnitRanker) -> Pipeline:
    """The pipeline ranking answer units with another ranker (one fitted on part of dev)."""
    return replace(pipeline, reranker=_unit_reranker(pipeline, ranker))


def _unit_reranker(pipeline: Pipeline, ranker: UnitRanker) -> SentenceReranker:
    return SentenceReranker(pipeline.reranker.embedder, pipeline.retriever.chunks, ranker, pipeline.reranker.stored,
                            pipeline.settings.evidence_pool)


def unit_groups(pipeline: Pipeline, questions: list[GoldenQuestion],
                progress: Callable[[int], None] = lambda _: None) -> dict[str, Group]:
    """For each answerable question with a fact-holding unit in its pool, by its id: every unit's features and its
    target."""
    reranker = _unit_reranker(pipeline, UnitRanker(tuple(0.0 for _ in FEATURES), 1.0))
    pool = max(pipeline.settings.top_k, pipeline.settings.evidence_pool)
    groups = {}
    for golden in questions:
        progress(1)
        if not golden.answerable:
            continue
        query = prepare_query(golden.question, pipeline.speller)
        found = pipeline.retriever.search(query, pool, Filters())
        units = reranker.candidate_units(reranker.profile(query), found.passages)
        vectors = reranker.unit_vectors([(found.passages[i].chunk.id, a, b, text) for _, i, a, b, text in units])
        target = np.array([1 / len(text.split()) if any(fact_found(f, text) for f in golden.facts) else 0.0
                           for *_, text in units])
        if not target.any() or target.all():
            continue  # nothing to learn from: no unit holds a fact, or every one does
        for (features, *_), vector in zip(units, vectors):
            features[0] = float(vector @ found.query_vector)
        groups[golden.id] = (np.array([f for f, *_ in units]), target / target.sum())
    return groups


def fit_listwise(groups: list[Group], iterations: int = 50) -> np.ndarray:
    """Weights (on the raw features) minimising the cross-entropy between each question's target and the softmax
    of its units' scores, plus L2; Newton's method on standardised features, so the result is deterministic."""
    rows = np.vstack([x for x, _ in groups])
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    standard = [((x - mean) / scale, t) for x, t in groups]
    w = np.zeros(rows.shape[1])
    loss = _listwise_loss(standard, w)
    for _ in range(iterations):
        gradient, hessian = 2 * REGULARISATION * w, 2 * REGULARISATION * np.eye(len(w))
        for x, t in standard:
            p = _softmax(x @ w)
            gradient += x.T @ (p - t)
            hessian += x.T @ (np.diag(p) - np.outer(p, p)) @ x
        step = np.linalg.solve(hessian, gradient)
        while _listwise_loss(standard, w - step) > loss and np.abs(step).max() > 1e-10:
            step /= 2  # backtrack until the loss falls
        w, previous, loss = w - step, loss, _listwise_loss(standard, w - step)
        if previous - loss < 1e-10:
            break
    return w / scale


def _listwise_loss(groups: list[Group], w: np.ndarray) -> float:
    total = REGULARISATION * float(w @ w)
    for x, t in groups:
        s = x @ w
        total -= float(t @ (s - s.max() - math.log(np.exp(s - s.max()).sum())))
    return total


def _softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max())
    return e / e.sum()


def top1(groups: list[Group], weights: np.ndarray) -> float:
    """Share of questions whose highest-scoring unit holds a fact."""
    return float(np.mean([t[int(np.argmax(x @ weights))] > 0 for x, t in groups])) if groups else 0.0
