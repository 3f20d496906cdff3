"""Correct misspelt question words against the indexed documents' own vocabulary (symmetric-delete lookup).

"chrismas holliday" finds "christmas holiday": a parent's typo should not hide the answer.
"""

from __future__ import annotations

import re
from collections import Counter

from sendbot.core.text import STOPWORDS

_WORD = re.compile(r"[A-Za-z]+")
MIN_LENGTH = 4


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Speller:
    """Maps an unknown word to the most frequent document word within two edits.

    A word is unknown when neither the documents nor `dictionary` (real English words, which must not be
    "corrected" into document words: "weather" is not a typo of "whether") contain it.
    """

    def __init__(self, texts: list[str], dictionary: frozenset[str] = frozenset()) -> None:
        self.dictionary = dictionary
        self.frequency = Counter(w.lower() for text in texts for w in _WORD.findall(text))
        self.index: dict[str, list[str]] = {}
        for word in self.frequency:
            if len(word) >= MIN_LENGTH:
                for key in _deletes(word) | {word}:
                    self.index.setdefault(key, []).append(word)

    def correct_word(self, word: str) -> str:
        """The word itself if the documents use it (or it is too short to judge), else the likeliest correction."""
        lower = word.lower()
        if len(lower) < MIN_LENGTH or lower in self.frequency or lower in STOPWORDS or lower in self.dictionary:
            return word
        candidates = {c for key in _deletes(lower) | {lower} for c in self.index.get(key, ())}
        candidates = {c for c in candidates if abs(len(c) - len(lower)) <= 1}
        if not candidates:
            return word
        return max(candidates, key=lambda c: (self.frequency[c], c))

    def correct(self, text: str) -> str:
        """The text with each unknown word replaced by its correction."""
        return _WORD.sub(lambda m: self.correct_word(m.group()), text)
