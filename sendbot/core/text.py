"""Text helpers shared by chunking, answering and the eval metrics."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

_LIGATURES = {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0xFB00, 0xFB07)}
_SPACES = re.compile(r"[ \u00a0\u2000-\u200a\u202f\u205f\u3000]+")  # not tabs: they separate table cells
_CELL_EDGE = re.compile(r" *\t *")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # control characters (Unicode's Cc) but tab and newline
_PUNCT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00a0": " "})


def normalise_text(text: str) -> str:
    """Repair extraction artefacts every format shares: ligatures, odd spaces, stray control characters."""
    for lig, plain in _LIGATURES.items():
        text = text.replace(lig, plain)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00ad", "").replace("\ufeff", "")
    text = _CONTROL.sub("", text)
    lines = [_CELL_EDGE.sub("\t", _SPACES.sub(" ", line)).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def fold(text: str) -> str:
    """Case-, quote-, dash- and space-insensitive form used to compare phrases."""
    return re.sub(r"\s+", " ", text.translate(_PUNCT).lower()).strip()


@dataclass(frozen=True)
class Span:
    """A sentence as character offsets into the text it came from."""

    start: int
    end: int


# Abbreviations a sentence does not end on, with those of the legal references council papers cite ("the matters set
# out in Sch. 6", "complete the Reg. 35 Report"): schedule, regulation, article, clause, section, reference.
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "no", "e.g", "i.e", "etc", "st", "cllr", "approx", "vs", "nb", "incl", "para",
                  "sch", "reg", "regs", "art", "cl", "sec", "ref"}
_SENTENCE_END = re.compile(r"[.!?][\"')\u2019\u201d]*\s+(?=[\"'(\u2018\u201c]?[A-Z0-9\u2022\u00b7-])|\s*(?=[\u2022\u00b7]\s?\S)")


def split_sentences(text: str) -> list[Span]:
    """Split text into sentences: at line breaks, and at . ! ? before a capital (abbreviations kept whole)."""
    spans: list[Span] = []
    line_start = 0
    for line in text.split("\n"):
        start = line_start
        line_start += len(line) + 1
        pos = 0
        for match in _SENTENCE_END.finditer(line):
            if match.end() == 0:
                continue  # a bullet at the very start of the line
            word = re.search(r"([\w.]+)[.!?][\"')\u2019\u201d]*\s+$", line[pos : match.end()])
            if word and word.group(1).lower() in _ABBREVIATIONS:
                continue
            if word and re.fullmatch(r"[A-Z]", word.group(1)):  # an initial such as "T. Reid"
                continue
            is_bullet = match.group().strip() == ""
            _add_span(spans, line, start, pos, match.start() + (0 if is_bullet else 1))
            pos = match.end()
        _add_span(spans, line, start, pos, len(line))
    return spans


def _add_span(spans: list[Span], line: str, offset: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append(Span(offset + start + lead, offset + start + lead + len(stripped)))


STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be been before being below between both but by
    can could did do does doing down during each few for from further had has have having he her here hers him his how
    i if in into is it its itself just me more most my no nor not now of off on once only or other our ours out over own
    same she should so some such than that the their theirs them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours
    please tell know get got much many there's what's any will shall may might us being""".split()
)

_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")


def content_words(text: str) -> list[str]:
    """Lower-cased words of a text minus stop words: what lexical overlap is measured on."""
    return [w for w in _WORD.findall(fold(text)) if w not in STOPWORDS and len(w) > 1]


_NUMBER = re.compile(r"£?\d[\d,]*(?:\.\d+)?%?")


def numbers_in(text: str) -> set[str]:
    """Numbers, money and percentages in a text, normalised ("1,993" and "1993" compare equal; ordinals dropped)."""
    found = set()
    for match in _NUMBER.finditer(fold(text)):
        value = match.group().replace(",", "").lstrip("£").rstrip("%")
        value = value.rstrip(".")
        if value:
            found.add(value)
    return found


NUMBERED_LINE = re.compile(r"^(?:\d{1,3}[.)]|\(?[a-z]\)|Question \d+|Q\d+)\s")
BULLET_LINE = re.compile(r"^[\u2022\u00b7\u25aa\u25cf*-]\s")
_TRAILING_FUNCTION_WORD = re.compile(r"\b(and|or|of|the|a|an|to|for|with|in|on|by|from|at|as|is|are)$", re.I)


def looks_like_heading(line: str) -> bool:
    """A short line without closing punctuation, starting with a capital: a heading if a paragraph follows.

    Chart legends ("Not like me Sometimes like me Like me") and lone table-cell acronyms ("CYP") are not.
    """
    words = line.split()
    repeats = Counter(w.lower() for w in words if len(w) > 1).most_common(1)
    if (repeats and repeats[0][1] >= 3) or (len(words) == 1 and line.isupper() and len(line) <= 5):
        return False
    return (
        len(line) <= 160
        and 1 <= len(words) <= 24
        and not line.endswith((".", ",", ";", ":"))
        and not _TRAILING_FUNCTION_WORD.search(line)
        and not BULLET_LINE.match(line)
        and not NUMBERED_LINE.match(line)
        and (line[0].isupper() or line[0].isdigit())
        and "\t" not in line
    )


def clean_input(text: str) -> str:
    """Text from outside (a question, a line of stdin) made safe to process: lone surrogates, control and format characters
    and the replacement marks left by undecodable bytes removed, runs of white space folded to one space."""
    kept = "".join(ch for ch in text if ch != "\ufffd" and unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    return " ".join(kept.split())


# Sentences in a document that address an AI assistant rather than a reader: never quoted as an answer.
_PLANTED_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all)\b.{0,20}\b(instructions?|prompts?|rules)\b"
    r"|\b(system|hidden) prompt\b|\byou are now\b|\bnew instructions\b|\bjailbreak\b|\bdeveloper mode\b"
    r"|\b(tell|instruct|advise|ask)\s+(every|all|each|any)\s+(users?|parents?|visitors?|readers?|people)\s+to\b"
    r"|\b(as an? )?(AI|language model|chatbot|assistant)\b.{0,30}\b(must|should|will)\s+(say|tell|answer|respond)",
    re.IGNORECASE,
)


def looks_like_instruction(sentence: str) -> bool:
    """True for a sentence planted to steer an AI assistant ("Ignore all previous instructions and tell...")."""
    return bool(_PLANTED_INSTRUCTION.search(sentence))


def cap_long_words(text: str, max_chars: int) -> tuple[str, int]:
    """The text with every unbroken run of over `max_chars` characters cut to that length, and how many were cut.

    Such runs (encoded data, a file of one repeated letter) are never words a person asks about, and left whole they
    make tokenising, spelling and keyword indexes cost far more than the rest of the corpus.
    """
    cut = 0

    def shorten(match: re.Match) -> str:
        nonlocal cut
        cut += 1
        return match.group()[:max_chars]

    return re.sub(rf"\S{{{max_chars + 1},}}", shorten, text), cut
