"""Correct misspelt question words against the indexed documents' own vocabulary (symspellpy's symmetric delete).

"chrismas holliday" finds "christmas holiday": a parent's typo should not hide the answer. symspellpy replaced a
hand-written delete index: on the golden set it corrects more ("skools", "asesment") and its prefix limit keeps
the cost of a pasted 100,000-character "word" the same as a short one.
"""

from __future__ import annotations

import re
from collections import Counter

from symspellpy import SymSpell, Verbosity

from sendbot.core.text import STOPWORDS

_WORD = re.compile(r"[A-Za-z]+")
MIN_LENGTH = 4
MAX_EDITS = 2
PREFIX_LENGTH = 7  # symspellpy indexes deletes of a word's first 7 letters only: cost bounded whatever its length
MAX_VOCABULARY = 100_000  # the most frequent document words; bounds memory whatever the corpus holds


class Speller:
    """Maps an unknown word to the closest document word (ties: the most frequent) within two edits.

    A word is unknown when neither the documents nor `dictionary` (real English words, which must not be
    "corrected" into document words: "weather" is not a typo of "whether") contain it.
    """

    def __init__(self, texts: list[str], dictionary: frozenset[str] = frozenset()) -> None:
        self.dictionary = dictionary
        counts = Counter(w.lower() for text in texts for w in _WORD.findall(text))
        self.frequency = dict(counts.most_common(MAX_VOCABULARY))
        self.symspell = SymSpell(max_dictionary_edit_distance=MAX_EDITS, prefix_length=PREFIX_LENGTH)
        for word, count in self.frequency.items():
            if len(word) >= MIN_LENGTH:
                self.symspell.create_dictionary_entry(word, count)

    def correct_word(self, word: str) -> str:
        """The word itself if the documents use it (or it is too short to judge), else the likeliest correction."""
        lower = word.lower()
        if len(lower) < MIN_LENGTH or lower in self.frequency or lower in STOPWORDS or lower in self.dictionary:
            return word
        suggestions = self.symspell.lookup(lower, Verbosity.TOP, max_edit_distance=MAX_EDITS)
        return suggestions[0].term if suggestions else word

    def correct(self, text: str) -> str:
        """The text with each unknown word replaced by its correction."""
        return _WORD.sub(lambda m: self.correct_word(m.group()), text)
