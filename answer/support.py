"""The lexical support test: does a passage back a sentence? One test for the eval's judge and the answer guard.

`evals.metrics.grounding` uses it to score every reply's citations, and `answer.generated` uses it to drop any
generated sentence its cited passage does not back, so what the eval measures is what the guard enforces.
No model is involved: numbers and names must appear in the evidence, and most of the sentence's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sendbot.core.text import content_words, fold, numbers_in

# Share of a sentence's content words that must be in the evidence. Calibrated on good and deliberately broken
# sentence/quote pairs (tests/test_metrics.py); the answer guard's calibration on paraphrases of corpus passages
# (answer/generated.py, MIN_GUARD_OVERLAP) arrived at the same level.
MIN_OVERLAP_PRECISION = 0.6
_MARKERS = re.compile(r"((?:\s*\[\d+\])+)")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b")


@dataclass(frozen=True)
class CitedSentence:
    """An answer sentence and the citation numbers written after it."""

    text: str
    citations: tuple[int, ...]


def split_cited(answer: str) -> list[CitedSentence]:
    """Split an answer into sentences at its [n] markers; text after the last marker is an uncited sentence."""
    parts = _MARKERS.split(answer)
    sentences = []
    for i in range(0, len(parts), 2):
        text = parts[i].strip()
        markers = parts[i + 1] if i + 1 < len(parts) else ""
        numbers = tuple(int(n) for n in re.findall(r"\d+", markers))
        if text:
            sentences.append(CitedSentence(text, numbers))
    return sentences


def proper_names(text: str) -> set[str]:
    """Capitalised words not at the start of the sentence: the names a sentence may not swap."""
    return {fold(m.group()) for m in _NAME.finditer(text.strip())} - {"i"}


@dataclass(frozen=True)
class Support:
    """Whether evidence supports a sentence, and if not, why."""

    supported: bool
    reasons: tuple[str, ...] = ()


def overlap(sentence: str, evidence: str) -> float:
    """Share of the sentence's content words found in the evidence (1.0 for a sentence without any)."""
    words = content_words(sentence)
    if not words:
        return 1.0
    evidence_words = set(content_words(evidence))
    return sum(w in evidence_words for w in words) / len(words)


def supports(sentence: str, evidence: str, min_overlap: float = MIN_OVERLAP_PRECISION) -> Support:
    """Lexical support test: the sentence's numbers and names must all be in the evidence, and most of its words."""
    reasons = []
    missing_numbers = numbers_in(sentence) - numbers_in(evidence)
    if missing_numbers:
        reasons.append(f"numbers not in the cited text: {', '.join(sorted(missing_numbers))}")
    folded_evidence = fold(evidence)
    missing_names = {n for n in proper_names(sentence) if n not in folded_evidence}
    if missing_names:
        reasons.append(f"names not in the cited text: {', '.join(sorted(missing_names))}")
    if content_words(sentence):
        precision = overlap(sentence, evidence)
        if precision < min_overlap:
            reasons.append(f"only {precision:.0%} of its words are in the cited text")
    return Support(not reasons, tuple(reasons))
