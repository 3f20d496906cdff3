"""`sendbot eval --train`: fit the sentence ranker and the refusal classifier on the golden set's dev split.

Labels come from the golden facts, so no one labels sentences by hand:
- a candidate unit is a positive for the ranker when it holds one of its question's expected facts;
- a question is a positive for the refusal classifier when the documents answer it (`answerable`).
Both are logistic regressions on standardised features, folded back into plain weights (sendbot.core.linear).
Cross-validation is grouped by question, so a question's units never sit on both sides of a split.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from answer.extractive import REFUSAL_FEATURES, refusal_features
from evals.golden import GoldenQuestion
from evals.metrics import fact_found
from retrieve.query import prepare_query
from retrieve.rerank import FEATURES, SentenceReranker
from sendbot.bot import Pipeline
from sendbot.core.linear import LinearModel
from sendbot.core.models import Answer, Filters, Query, Reranked

REGULARISATION = 1.0  # sklearn's C: the golden set is small, so keep the weights modest


@dataclass(frozen=True)
class TrainingReport:
    """The two fitted models and how well they do, cross-validated on the dev split."""

    ranker: LinearModel
    refusal: LinearModel
    questions: int
    units: int
    ranker_top1_cv: float  # share of answerable questions whose best-scored unit holds a fact, held out
    semantic_top1: float  # the same for MiniLM similarity alone, as a yardstick
    refusal_recall: float  # on dev, at the chosen operating point
    false_refusal_rate: float


def train(pipeline: Pipeline, questions: list[GoldenQuestion], trained_on: str) -> TrainingReport:
    """Fit both models on `questions` (the dev split) over the pipeline's index."""
    reranker = SentenceReranker(pipeline.reranker.embedder, pipeline.retriever.chunks, _untrained(FEATURES))
    rows, labels, groups = _unit_rows(pipeline, reranker, [q for q in questions if q.answerable])
    ranker = _fit(rows, labels, FEATURES, trained_on)
    top1 = _grouped_top1(rows, labels, groups, FEATURES)
    semantic = _top1_by(rows[:, 0], labels, groups)
    learned = replace(pipeline, reranker=SentenceReranker(reranker.embedder, pipeline.retriever.chunks, ranker))
    evidence = np.array([refusal_features(_reranking(learned, q.question)) for q in questions])
    answerable = np.array([q.answerable for q in questions])
    refusal, recall, false_rate = _fit_refusal(evidence, answerable, trained_on)
    return TrainingReport(ranker, refusal, len(questions), len(labels), top1, semantic, recall, false_rate)


def _untrained(features: tuple[str, ...]) -> LinearModel:
    return LinearModel(features, tuple(0.0 for _ in features), 0.0)


def _unit_rows(pipeline: Pipeline, reranker: SentenceReranker, questions: list[GoldenQuestion]):
    """Every candidate unit of each question's retrieved passages: features (meaning included) and fact labels."""
    rows, labels, groups = [], [], []
    pool = max(pipeline.settings.top_k, pipeline.settings.rerank_pool)
    for number, golden in enumerate(questions):
        query = prepare_query(golden.question, pipeline.speller)
        found = pipeline.retriever.search(query, pool, Filters())
        units = reranker.candidate_units(reranker.profile(query), found.passages)
        if not units:
            continue
        vectors = reranker.unit_vectors([(found.passages[i].chunk.id, a, b, text) for _, i, a, b, text in units])
        for (features, _, _, _, text), vector in zip(units, vectors):
            features[0] = float(vector @ found.query_vector)
            rows.append(features)
            labels.append(any(fact_found(fact, text) for fact in golden.facts))
            groups.append(number)
    return np.array(rows), np.array(labels), np.array(groups)


def _fit(rows: np.ndarray, labels: np.ndarray, features: tuple[str, ...], trained_on: str,
         class_weight: str | None = "balanced") -> LinearModel:
    """Logistic regression on standardised rows, returned as weights on the raw features."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = LogisticRegression(C=REGULARISATION, class_weight=class_weight, max_iter=5000)
    fitted.fit((rows - mean) / scale, labels)
    weights = fitted.coef_[0] / scale
    bias = float(fitted.intercept_[0] - np.sum(fitted.coef_[0] * mean / scale))
    return LinearModel(features, tuple(float(w) for w in weights), bias, trained_on)


def _grouped_top1(rows: np.ndarray, labels: np.ndarray, groups: np.ndarray, features: tuple[str, ...]) -> float:
    """Held-out top-1: fit on four fifths of the questions, score the units of the rest, repeat."""
    from sklearn.model_selection import GroupKFold

    scores = np.zeros(len(labels))
    for fit_rows, held_out in GroupKFold(n_splits=5).split(rows, labels, groups):
        model = _fit(rows[fit_rows], labels[fit_rows], features, "")
        scores[held_out] = model.logit(rows[held_out])
    return _top1_by(scores, labels, groups)


def _top1_by(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> float:
    """Share of questions (with any positive unit) whose highest-scoring unit is a positive."""
    hits = [labels[groups == g][np.argmax(scores[groups == g])] for g in np.unique(groups) if labels[groups == g].any()]
    return float(np.mean(hits)) if hits else 0.0


class _Recorder:
    """An answerer that keeps what it was given, so training sees exactly what the real answerer would."""

    def __init__(self) -> None:
        self.ranked: Reranked | None = None

    def answer(self, query: Query, ranked: Reranked, part_answers=()) -> Answer:
        self.ranked = ranked
        return Answer(query.question, (), (), refused=False)


def _reranking(pipeline: Pipeline, question: str) -> Reranked:
    recorder = _Recorder()
    replace(pipeline, answerer=recorder).ask(question)
    return recorder.ranked or Reranked([], [])


def _fit_refusal(evidence: np.ndarray, answerable: np.ndarray, trained_on: str) -> tuple[LinearModel, float, float]:
    """The refusal classifier with its bias shifted so that 0.5 is the operating point that best balances refusal
    recall against false refusals on dev; returns it with that point's recall and false refusal rate."""
    model = _fit(evidence, answerable, REFUSAL_FEATURES, trained_on)
    logits = model.logit(evidence)
    best = max(np.unique(logits), key=lambda t: _balance(logits, answerable, t))
    threshold = float(best) - 1e-9  # answer when logit >= best
    recall = float(np.mean(logits[~answerable] < threshold)) if (~answerable).any() else 0.0
    false_rate = float(np.mean(logits[answerable] < threshold)) if answerable.any() else 0.0
    return replace(model, bias=model.bias - threshold), recall, false_rate


def _balance(logits: np.ndarray, answerable: np.ndarray, threshold: float) -> tuple[float, float]:
    """Balanced accuracy of answering when logit >= threshold (ties: fewer false refusals)."""
    refused = logits < threshold
    recall = np.mean(refused[~answerable]) if (~answerable).any() else 0.0
    kept = np.mean(~refused[answerable]) if answerable.any() else 0.0
    return (recall + kept) / 2, kept
