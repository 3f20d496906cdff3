"""The golden set itself: well-formed, broad enough, and checkable against the bundled corpus."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evals.golden import GoldenSetError, load_golden, select
from evals.metrics import fact_found
from ingest.loaders import load_document
from sendbot.core.config import PROJECT_DIR

CORPUS = PROJECT_DIR / "corpus"


@pytest.fixture(scope="module")
def golden():
    return load_golden()


@pytest.fixture(scope="module")
def corpus_text():
    return {p.name: load_document(p).text for p in CORPUS.iterdir() if p.suffix in (".txt", ".pdf")}


def test_the_golden_set_covers_what_the_eval_issue_asks_for(golden):
    tags = Counter(t for q in golden for t in q.tags)
    assert len(golden) >= 80
    assert sum(not q.answerable for q in golden) >= 15
    assert tags["injection"] >= 5
    for tag in ("parent", "officer", "typo", "paraphrase", "acronym", "number", "date", "money", "multi-document",
                "multi-passage", "near-miss"):
        assert tags[tag] > 0, tag


def test_every_expected_fact_is_in_its_source_document(golden, corpus_text):
    for q in golden:
        if not q.answerable:
            continue
        text = " ".join(corpus_text[s] for s in q.sources)
        for fact in q.facts:
            assert fact_found(fact, text), f"{q.id}: none of {fact} is in {q.sources}"


def test_unanswerable_questions_name_no_sources(golden):
    assert all(not q.sources and not q.facts for q in golden if not q.answerable)


def test_select_takes_tags_and_id_globs(golden):
    acronyms = select(golden, "acronym")
    assert acronyms and all("acronym" in q.tags for q in acronyms)
    assert [q.id for q in select(golden, "ep-assessment-late")] == ["ep-assessment-late"]
    assert len(select(golden, "typo,injection")) == len({q.id for q in golden if {"typo", "injection"} & set(q.tags)})


def test_a_malformed_golden_file_is_rejected_with_the_entry_named(tmp_path: Path):
    bad = tmp_path / "golden.yaml"
    bad.write_text("- id: x\n  question: q\n  tags: [parent, nonsense]\n  answerable: true\n  facts: [[a]]\n  sources: [s]\n")
    with pytest.raises(GoldenSetError, match="entry 1 \\(x\\): unknown tags \\['nonsense'\\]"):
        load_golden(bad)
    bad.write_text("- id: y\n  question: q\n  tags: []\n  answerable: true\n  facts: []\n  sources: []\n")
    with pytest.raises(GoldenSetError, match="needs facts and sources"):
        load_golden(bad)
