"""Answer units: the pieces of a passage an answer may quote, following the document's own structure.

Usually a unit is a sentence. Two structures make a larger or a different unit:
- a lead-in that introduces a list ("The priorities are:", "four significant weaknesses remained:") together with
  the list items that follow it, so an answer never stops at the colon;
- a question in a questions-and-answers document (an AGM paper, "Response:" blocks): the question itself is not
  an answer, and the response that follows inherits its words, so it can be found by the question it answers.
Every unit is a span of the passage text, so a quote taken from it is verbatim. Headings, lead-ins and planted
instructions are units that answer nothing (`answers_something`); the rest are quotable, and ingest embeds them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sendbot.core.text import (BULLET_LINE, NUMBERED_LINE, content_words, looks_like_heading, looks_like_instruction,
                               split_sentences)

UnitKind = Literal["sentence", "list", "question"]
MAX_LIST_ITEMS = 6
MAX_LIST_WORDS = 90
MAX_PLAIN_ITEM_WORDS = 20  # an unmarked line longer than this after the first is prose again, not a list item
_ITEM = re.compile(rf"{BULLET_LINE.pattern}|{NUMBERED_LINE.pattern}|^[\u2022\u00b7\u25aa\u25cf\u2013]\s?\S")


@dataclass(frozen=True)
class Unit:
    """A quotable span of a passage: its offsets, its kind, and the question it responds to ("" if none)."""

    start: int
    end: int
    kind: UnitKind
    responds_to: str = ""


def answer_units(text: str) -> list[Unit]:
    """The units of a passage, in order: its sentences (questions marked), plus lead-in-and-list spans."""
    units: list[Unit] = []
    lines = _lines(text)
    asked = ""
    for index, (start, end) in enumerate(lines):
        line = text[start:end]
        if _is_question_line(line):
            asked = line
            units.extend(Unit(start + s.start, start + s.end, "question") for s in split_sentences(line))
            continue
        sentences = [Unit(start + s.start, start + s.end, "sentence", asked) for s in split_sentences(line)]
        units.extend(sentences)
        if line.endswith(":") and sentences:
            listed = _list_after(text, lines[index + 1 :])
            if listed:
                units.append(Unit(sentences[-1].start, listed, "list", asked))  # from the lead-in sentence itself
    return units


_COUNT_START = re.compile(r"^(?!(?:19|20)\d\d\b)\d[\d,.]*%?\s+[a-z]")  # "215 responses to the survey"
_CUT_OFF = re.compile(r"\b(a|an|and|as|at|by|for|from|in|of|on|or|the|to|with)$", re.I)


def answers_something(text: str, start: int, end: int, named: bool = False) -> bool:
    """False for headings and lead-ins ("... as follows:"), which state nothing on their own, and for sentences
    planted in a document to steer an AI assistant, which must never reach a reader as an answer. A heading-shaped
    line that names a person (`named`, for a "who" question) is a signature or a table row ("NEET Strategy Judy
    Gibbs") and answers it; one that opens with a count ("215 responses to the survey") states it."""
    sentence = text[start:end]
    if len(content_words(sentence)) < 3 or sentence.endswith(":") or looks_like_instruction(sentence):
        return False
    if sentence[0].islower() and _CUT_OFF.search(sentence):
        return False  # a fragment, begun and ended mid-sentence: PDF table cells ("assessment and diagnostics Improved feedback from")
    whole_line = (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
    counted = bool(_COUNT_START.match(sentence))  # a line opening with a count states it: a table row, not a heading
    return named or counted or not (whole_line and looks_like_heading(sentence))


def quotable_units(text: str) -> list[Unit]:
    """The units an answer could ever quote (any question's: a heading-shaped line naming a person counts), whose
    vectors ingest stores so that no question waits for them to be embedded."""
    return [u for u in answer_units(text) if answers_something(text, u.start, u.end, named=True)]


def _lines(text: str) -> list[tuple[int, int]]:
    spans, offset = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            spans.append((offset + lead, offset + lead + len(stripped)))
        offset += len(line) + 1
    return spans


def _is_question_line(line: str) -> bool:
    """A line that asks rather than tells: it ends with a question mark, or most of its sentences do."""
    if line.endswith("?"):
        return True
    sentences = [line[s.start : s.end] for s in split_sentences(line)]
    return len(sentences) > 1 and sum(s.endswith("?") for s in sentences) > len(sentences) / 2


def _list_after(text: str, following: list[tuple[int, int]]) -> int:
    """Where the list items right after a lead-in end (0 when no item follows), within the unit's size limits.

    Items are bulleted or numbered lines; PDF text often loses the bullet glyphs, so when the first line after the
    lead-in has no marker, the items are the short lines that follow it ("Independent living", "Employment"), or
    that one line when it runs the items together.
    """
    end, words = 0, 0
    marked = bool(following) and bool(_ITEM.match(text[following[0][0] : following[0][1]]))
    for count, (start, stop) in enumerate(following):
        item = text[start:stop]
        words += len(item.split())
        if count == MAX_LIST_ITEMS or words > MAX_LIST_WORDS or item.endswith(":"):
            break
        if marked and not _ITEM.match(item):
            break
        if not marked and count and len(item.split()) > MAX_PLAIN_ITEM_WORDS:
            break  # a paragraph resumes
        end = stop
    return end
