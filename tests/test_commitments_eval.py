"""The commitments eval (issue 11): the register built from the bundled corpus's index, scored against the
hand-labelled evals/commitments.yaml and held to the budgets in evals/commitments_gate.toml on the test split
(cut-offs are tuned on the dev split only)."""

from __future__ import annotations

import pytest

from evals.commitments import gate_failures, load_gate, run_commitments_eval, summary_text


@pytest.fixture(scope="module")
def scores(corpus) -> dict:
    result = run_commitments_eval(corpus.settings)
    print("\n" + summary_text(result))  # the real numbers, in the test log
    return result


@pytest.mark.parametrize("budget", ["precision", "recall", "due_accuracy"])
def test_extraction_holds_its_budget(scores: dict, budget: str) -> None:
    gate = load_gate()
    assert not gate_failures(scores["test"], {budget: gate[budget]}), f"misses: {scores['test']['misses']}"


def test_follow_up_links_hold_their_budget(scores: dict) -> None:
    assert not gate_failures(scores["test"], {"link_precision": load_gate()["link_precision"]})


def test_every_register_quote_is_a_verbatim_slice_of_its_page(corpus) -> None:
    from commitments.register import read_register, register_path

    register = read_register(register_path(corpus.settings.data_dir))
    assert register is not None and register.commitments
    for c in register.commitments:
        pages = {p.number: p.text for p in corpus.document(c.source).pages}
        assert c.quote and c.quote in pages[c.page or 1]
        for follow in c.follow_ups:
            assert follow.quote in {p.number: p.text for p in corpus.document(follow.source).pages}[follow.page or 1]
