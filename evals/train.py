"""`sendbot eval --train`: fit the answer-unit ranker (retrieve/unit_ranker.json) on the golden set's dev split.

Labels come from the golden facts, so no one labels units by hand. The ranker is trained per question, not per
unit: for each answerable dev question every unit of its evidence pool (the leading retrieved passages, the ones
the refusal evidence is judged over) is scored (meaning included, not only a shortlist), and a softmax over that
question's units is fitted to put its mass on the units holding an expected fact, shorter ones preferred (a
fact-holding list of 80 words is a worse answer than the sentence inside it).
Units are only compared with units of the same question, so a question with many candidates does not outweigh
one with few, and "long units hold more facts" cannot leak into the weights as it does with per-unit labels.
Cross-validation is grouped by question. Only dev questions are read; test questions never are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from answer.extractive import KEEP_RATIO
from evals.golden import GoldenQuestion
from evals.metrics import fact_found
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
    """The fitted ranker and how well it picks a fact-holding unit first, in-sample and held out."""

    ranker: UnitRanker
    questions: int
    units: int
    top1: float  # share of questions (with a fact-holding unit in the pool) whose best-ranked unit holds a fact
    top1_cv: float  # the same, each question ranked by a model fitted without its fold
    semantic_top1: float  # the same for MiniLM similarity alone, as a yardstick


def train(pipeline: Pipeline, questions: list[GoldenQuestion], progress: Callable[[int], None] = lambda _: None) -> TrainingReport:
    """Fit the unit ranker on `questions` (dev split only: the caller selects them) over the pipeline's index."""
    if any(q.split != "dev" for q in questions):
        raise ValueError("the ranker trains on the dev split only; test questions must never be seen")
    groups = unit_groups(pipeline, questions, progress)
    weights = fit_listwise(groups)
    folds = [groups[n::FOLDS] for n in range(FOLDS)]
    held_out = [top1(fold, fit_listwise([g for m, other in enumerate(folds) if m != n for g in other]))
                for n, fold in enumerate(folds)]
    semantic = np.zeros(len(FEATURES))
    semantic[0] = 1.0
    ranker = UnitRanker(tuple(float(w) for w in weights), math.log(1 / KEEP_RATIO) / MARGIN, "dev")
    return TrainingReport(ranker, len(groups), sum(len(x) for x, _ in groups), top1(groups, weights),
                          float(np.average(held_out, weights=[len(f) for f in folds])), top1(groups, semantic))


def unit_groups(pipeline: Pipeline, questions: list[GoldenQuestion], progress: Callable[[int], None] = lambda _: None) -> list[Group]:
    """For each answerable question with a fact-holding unit in its pool: every unit's features and its target."""
    reranker = SentenceReranker(pipeline.reranker.embedder, pipeline.retriever.chunks,
                                UnitRanker(tuple(0.0 for _ in FEATURES), 1.0), pipeline.reranker.stored,
                                pipeline.settings.evidence_pool)
    pool = max(pipeline.settings.top_k, pipeline.settings.evidence_pool)
    groups = []
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
        groups.append((np.array([f for f, *_ in units]), target / target.sum()))
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
