"""Correct misspelt question words against the indexed documents' own vocabulary (symspellpy's symmetric delete).

"chrismas holliday" finds "christmas holiday": a parent's typo should not hide the answer. symspellpy replaced a
hand-written delete index: on the golden set it corrects more ("skools", "asesment") and its prefix limit keeps
the cost of a pasted 100,000-character "word" the same as a short one.
"""

from __future__ import annotations

import re
import functools
from collections import Counter

from symspellpy import SymSpell, Verbosity

from sendbot.core.text import STOPWORDS

_WORD = re.compile(r"[A-Za-z]+")
MIN_LENGTH = 4
MAX_EDITS = 2
PREFIX_LENGTH = 7  # symspellpy indexes deletes of a word's first 7 letters only: cost bounded whatever its length
MAX_VOCABULARY = 100_000  # the most frequent document words; bounds memory whatever the corpus holds
# Spelling by sound ("mediashun", "ocupashunal", "fonics"): written the way the papers spell the sound, the word is
# often within two edits of the right one when the misspelling itself is not.
SOUNDS = (("shun", "tion"), ("shon", "tion"), ("f", "ph"), ("k", "c"), ("z", "s"))


class Speller:
    """Maps an unknown word to the closest known word within two edits: a document word (ties: the most
    frequent), or an English word from `dictionary` when that is strictly closer; failing both, the same for the
    word respelt by sound (SOUNDS: "mediashun" as "mediation").

    A word is unknown when neither the documents nor `dictionary` (real English words, which must not be
    "corrected" into document words: "weather" is not a typo of "whether") contain it. English words are
    candidates too, so "hapens" becomes "happens" (one edit), not the document word "papers" (two).
    """

    def __init__(self, texts: list[str], dictionary: frozenset[str] = frozenset()) -> None:
        self.dictionary = dictionary
        counts = Counter(w.lower() for text in texts for w in _WORD.findall(text))
        self.frequency = dict(counts.most_common(MAX_VOCABULARY))
        self.symspell = _symspell(tuple(w for w in self.frequency.items() if len(w[0]) >= MIN_LENGTH))
        _english(dictionary)  # built here (once per process), not inside the first question with a typo (~3 s)

    def correct_word(self, word: str) -> str:
        """The word itself if the documents use it (or it is too short to judge), else the likeliest correction."""
        lower = word.lower()
        if len(lower) < MIN_LENGTH or self._known(lower) or (lower.endswith("s") and self._known(lower[:-1])):
            return word  # a plural of a known word ("mums", "dads") is known too
        candidates = self._candidates(lower)
        for sound, spelling in SOUNDS:
            if candidates:
                break
            if sound in lower:
                candidates = self._candidates(lower.replace(sound, spelling))
        return min(candidates)[2] if candidates else word

    def _candidates(self, lower: str) -> list[tuple[int, int, str]]:
        """(edits, 0 for a document word or 1 for an English one, word) of the closest word in each vocabulary."""
        found = [s.lookup(lower, Verbosity.TOP, max_edit_distance=MAX_EDITS) for s in (self.symspell, _english(self.dictionary))]
        return [(s[0].distance, order, s[0].term) for order, s in enumerate(found) if s]

    def _known(self, lower: str) -> bool:
        return lower in self.frequency or lower in STOPWORDS or lower in self.dictionary

    def correct(self, text: str) -> str:
        """The text with each unknown word replaced by its correction."""
        return _WORD.sub(lambda m: self.correct_word(m.group()), text)


def _symspell(counts: tuple[tuple[str, int], ...]) -> SymSpell:
    symspell = SymSpell(max_dictionary_edit_distance=MAX_EDITS, prefix_length=PREFIX_LENGTH)
    for word, count in counts:
        symspell.create_dictionary_entry(word, count)
    return symspell


@functools.lru_cache(maxsize=2)
def _english(dictionary: frozenset[str]) -> SymSpell:
    """The dictionary's words as correction candidates, built once per process (it is the same every time)."""
    return _symspell(tuple((w, 1) for w in dictionary if len(w) >= MIN_LENGTH))
