"""The learned answer-unit ranker: the shipped model is what retraining on the dev split produces, and a broken
model file or a test-split question is refused with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evals.golden import load_golden, select
from evals.train import fit_listwise, top1, train, unit_groups
from retrieve.rerank import FEATURES, RANKER_PATH, load_ranker


def test_retraining_on_the_dev_split_reproduces_the_shipped_model(corpus):
    """Retraining on a fresh index of the bundled corpus gives the shipped model back: the same direction of
    weights and as good a first pick. (Not bit for bit: Chroma's approximate search and the embedder's batching
    move a few pool units between runs, and weakly determined weights such as passage similarity wander.)"""
    groups = unit_groups(corpus.bot.pipeline, select(load_golden(), "dev"))
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
