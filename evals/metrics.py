"""Grounding and retrieval metrics that need no LLM (ALCE-style citation checks with a lexical support test).

Every function here is pure: it judges a reply given as the JSON contract (`sendbot ask --json`), so the same
checks apply to sendbot, the baselines or any other system that produces that shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The support test is shared with the answer guard (answer/generated.py): the eval judges with what the guard enforces.
from answer.support import CitedSentence, Support, proper_names, split_cited, supports  # noqa: F401 (re-exported)
from sendbot.core.text import fold


def fact_found(phrasings: tuple[str, ...], text: str) -> bool:
    """True if any accepted phrasing of a fact occurs in the text (case, quotes, dashes, spaces folded)."""
    folded = fold(text)
    return any(fold(p) in folded for p in phrasings)


def states_fact(phrasings: tuple[str, ...], span: str) -> bool:
    """True if a direct answer's few words state the fact: they hold an accepted phrasing ("up to 8 weeks" holds
    "8 weeks"), or are a whole-word part of one ("8 weeks" of "a delay of 8 weeks"; "2" is no part of "220")."""
    folded = fold(span)
    return bool(folded) and any(fold(p) in folded or re.search(rf"(?<!\w){re.escape(folded)}(?!\w)", fold(p))
                                for p in phrasings)


def fact_recall(facts: tuple[tuple[str, ...], ...], text: str) -> float:
    """Share of expected facts present in the text (1.0 when nothing is expected)."""
    if not facts:
        return 1.0
    return sum(fact_found(f, text) for f in facts) / len(facts)


def reciprocal_rank(ranked_sources: list[str], expected: tuple[str, ...]) -> float:
    """1/rank of the first passage from an expected source (0 when none is retrieved)."""
    for rank, source in enumerate(ranked_sources, start=1):
        if source in expected:
            return 1.0 / rank
    return 0.0


def hit_at_k(ranked_sources: list[str], expected: tuple[str, ...], k: int) -> float:
    """1.0 when an expected source is among the first k passages."""
    return float(any(s in expected for s in ranked_sources[:k]))


@dataclass
class GroundingScore:
    """ALCE-style grounding of one reply."""

    sentences: int = 0
    cited_sentences: int = 0
    supported_sentences: int = 0
    citations: int = 0
    precise_citations: int = 0
    quotes: int = 0
    verbatim_quotes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.cited_sentences / self.sentences if self.sentences else 1.0

    @property
    def citation_recall(self) -> float:
        return self.supported_sentences / self.sentences if self.sentences else 1.0

    @property
    def citation_precision(self) -> float:
        return self.precise_citations / self.citations if self.citations else 1.0

    @property
    def quote_accuracy(self) -> float:
        return self.verbatim_quotes / self.quotes if self.quotes else 1.0


def grounding(reply: dict, document_text: dict[str, str]) -> GroundingScore:
    """Judge a reply: citation coverage, recall and precision (ALCE) and verbatim quotes.

    `document_text` maps a source file name to its extracted text; a quote must be a substring of it.
    A citation is precise when its sentence is supported and the citation is not irrelevant, i.e. it
    supports the sentence alone or the sentence's other citations do not support it without it.
    """
    score = GroundingScore()
    if reply.get("refused"):
        return score
    by_number = {c["n"]: c for c in reply.get("citations", [])}
    for c in by_number.values():
        score.quotes += 1
        document = document_text.get(c["source"], "")
        if c["quote"] and fold(c["quote"]) in fold(document) and c["quote"] in c["text"]:
            score.verbatim_quotes += 1
        else:
            score.problems.append(f"[{c['n']}] quote is not verbatim in {c['source']}: {c['quote'][:80]!r}")
    for sentence in split_cited(reply.get("answer", "")):
        score.sentences += 1
        cited = [by_number[n] for n in sentence.citations if n in by_number]
        if not sentence.citations:
            score.problems.append(f"uncited sentence: {sentence.text[:80]!r}")
            continue
        score.cited_sentences += 1
        if len(cited) < len(sentence.citations):
            score.problems.append(f"citation number with no source: {sentence.text[:60]!r} {sentence.citations}")
            score.citations += len(sentence.citations)
            continue
        together = supports(sentence.text, " ".join(c["quote"] or c["text"] for c in cited))
        if together.supported:
            score.supported_sentences += 1
        else:
            score.problems.append(f"unsupported: {sentence.text[:80]!r} ({'; '.join(together.reasons)})")
        for c in cited:
            score.citations += 1
            alone = supports(sentence.text, c["quote"] or c["text"]).supported
            others = [o for o in cited if o is not c]
            irrelevant = not alone and bool(others) and supports(sentence.text, " ".join(o["quote"] or o["text"] for o in others)).supported
            if together.supported and not irrelevant:
                score.precise_citations += 1
    return score


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
