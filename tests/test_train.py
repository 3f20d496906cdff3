"""The learned answer-unit ranker: the shipped model is what retraining on the dev split produces, and a broken
model file or a test-split question is refused with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evals.golden import load_golden, select
from evals.suite import extractive_pipeline
from evals.train import FOLDS, fit_listwise, fold_of, top1, train, unit_groups, with_ranker
from retrieve.rerank import FEATURES, RANKER_PATH, load_ranker


def test_retraining_on_the_dev_split_reproduces_the_shipped_model(corpus):
    """Retraining on a fresh index of the bundled corpus gives the shipped model back: the same direction of
    weights and as good a first pick. (Not bit for bit: Chroma's approximate search and the embedder's batching
    move a few pool units between runs, and weakly determined weights such as passage similarity wander.)"""
    groups = list(unit_groups(corpus.bot.pipeline, select(load_golden(), "dev")).values())
    retrained = fit_listwise(groups)
    shipped = np.array(load_ranker().weights)
    cosine = float(retrained @ shipped / (np.linalg.norm(retrained) * np.linalg.norm(shipped)))
    print(f"\nretrained on {len(groups)} dev questions: cosine to shipped {cosine:.4f}, first pick holds a fact "
          f"{top1(groups, retrained):.3f} retrained vs {top1(groups, shipped):.3f} shipped")
    assert cosine >= 0.99, "retrieve/unit_ranker.json is stale: run `sendbot eval --train` and commit the file"
    assert top1(groups, shipped) >= top1(groups, retrained) - 0.03
    assert np.array_equal(fit_listwise(groups), retrained)  # the fit itself is deterministic
    semantic = np.zeros(len(FEATURES))
    semantic[0] = 1.0
    assert top1(groups, shipped) >= top1(groups, semantic)  # the learned ranking beats meaning alone


def test_each_dev_question_is_answered_by_a_ranker_fitted_without_it(corpus):
    """`sendbot eval --train`'s held-out answers: fold n's ranker is the fit on every other fold's questions, and a
    question's held-out answer is the one its fold's ranker gives."""
    pipeline = corpus.bot.pipeline
    dev = select(load_golden(), "dev")[:30]
    assert {fold_of(q.id) for q in dev} == set(range(FOLDS))  # the subset fills every fold
    report = train(pipeline, dev)
    assert [r.golden.id for r in report.held_out.results] == [q.id for q in dev]
    groups = unit_groups(pipeline, dev)
    for n, ranker in enumerate(report.fold_rankers):
        fitted = fit_listwise([group for qid, group in groups.items() if fold_of(qid) != n])
        assert np.allclose(ranker.weights, fitted)
        assert not np.allclose(ranker.weights, report.ranker.weights)  # it never saw its own fold
    for result in report.held_out.results[::5]:
        held = with_ranker(extractive_pipeline(pipeline), report.fold_rankers[fold_of(result.golden.id)])
        answer, _ = held.ask(result.golden.question, k=pipeline.settings.top_k)
        assert answer.to_json()["answer"] == result.reply["answer"]


def test_the_listwise_fit_learns_which_feature_marks_the_answer():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(30):
        x = rng.normal(size=(12, 3))
        answer = int(rng.integers(12))
        x[answer, 1] += 3.0  # feature 1 marks the unit holding the fact; 0 and 2 are noise
        target = np.zeros(12)
        target[answer] = 1.0
        groups.append((x, target))
    weights = fit_listwise(groups)
    assert weights[1] > 1.0 and abs(weights[0]) < weights[1] / 3 and abs(weights[2]) < weights[1] / 3
    assert top1(groups, weights) >= 0.9


def test_training_refuses_a_test_split_question(corpus):
    with pytest.raises(ValueError, match="dev split only"):
        train(corpus.bot.pipeline, select(load_golden(), "test")[:1])


def test_a_model_file_that_does_not_match_the_features_says_how_to_rebuild_it(tmp_path: Path):
    stale = tmp_path / "unit_ranker.json"
    raw = json.loads(RANKER_PATH.read_text(encoding="utf-8"))
    raw["weights"].pop(FEATURES[-1])
    stale.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match=r"sendbot eval --train"):
        load_ranker(stale)
    with pytest.raises(ValueError, match=r"unusable"):
        load_ranker(tmp_path / "missing.json")
