"""What to offer next: the words of a question that no document uses (the topics to offer are
sendbot.core.topics). Pure functions; nothing here writes a word of its own.
"""

from __future__ import annotations

import bisect

from sendbot.core.text import content_words


def missing_words(question: str, vocabulary: frozenset[str]) -> list[str]:
    """The content words of a question that no indexed document uses, in any form starting the same way
    ("complain" is found in "complaints", "delays" in "delay")."""
    words = sorted(vocabulary)
    missing: list[str] = []
    for word in content_words(question):
        stems = {word, word.removesuffix("s"), word.removesuffix("es"), word.removesuffix("ed"),
                 word.removesuffix("ing")}
        found = any(stem in vocabulary or (len(stem) >= 4 and _starts_a_word(words, stem)) for stem in stems)
        if not found and word not in missing:
            missing.append(word)
    return missing


def _starts_a_word(words: list[str], prefix: str) -> bool:
    """Whether any of the sorted `words` starts with `prefix`."""
    at = bisect.bisect_left(words, prefix)
    return at < len(words) and words[at].startswith(prefix)
