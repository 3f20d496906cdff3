"""Answer units: the pieces of a passage an answer may quote, following the document's own structure.

Usually a unit is a sentence. These structures make a larger or a different unit:
- a lead-in that introduces a list ("The priorities are:", "four significant weaknesses remained:") together with
  the list items that follow it, so an answer never stops at the colon; in PDF tables a short label ("Approach")
  heads its items the same way;
- a question in a questions-and-answers document (an AGM paper, "Response:" blocks), or a question minutes report
  ("A Member queried who ...", "The Chief Executive was asked how ..."): the question itself is not an answer,
  and the response that follows it (the next lines; in minutes, the rest of the same paragraph) inherits its
  words, so it can be found by the question it answers;
- a sentence that names its subject only by pointing back ("This initiative delivers workshops ...") is a unit
  together with the sentence before it, not alone, so the answer says what "this" is (alone only when the two
  would be too long to quote).
- a table row (cells separated by tabs) under its header row: the headings count for the row ("Year End" for
  "Delegates ... 2,681"), and a row of figures a few lines under its header is quoted together with it
  (`quoted_with_header`), so the answer shows what its numbers are.
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
MAX_LABEL_WORDS = 3  # "Approach", "Next steps": a label heading the items under it in a PDF table
MAX_ROWS_UNDER_HEADER = 3  # a row of figures this close under its table's header row is also quoted with it
_FIGURE = re.compile(r"[£$]?\d[\d,.]*%?")
MAX_PLAIN_ITEM_WORDS = 20  # an unmarked line longer than this after the first is prose again, not a list item
# A sentence of minutes that reports a question put to someone, as opposed to one reporting what they said.
_REPORTED_QUESTION = re.compile(
    r"\b(?:member|members|councillor|councillors|chairman|chair|panel)\s+(?:had\s+)?"
    r"(?:queried|asked|questioned|enquired|inquired|sought clarification|raised (?:a|the) question)\b"
    r"|\ba question was (?:raised|asked)\b"
    r"|\bwas asked (?:how|what|whether|why|when|where|who|which|if|about)\b", re.I)
# "This initiative ...", also after a connective or a preposition: "Further, within this priority ...".
_REFERS_BACK = re.compile(r"(?:(?:Further|Furthermore|However|Additionally|In addition|Also|As a result),\s+)?"
                          r"(?:(?:[Ww]ithin|[Ii]n|[Ff]or|[Ff]rom|[Uu]nder|[Aa]s part of|[Tt]hrough)\s+)?"
                          r"(?:[Tt]his|[Tt]hese|[Ss]uch|[Tt]hey|[Tt]heir|[Ii]ts|[Hh]e|[Ss]he)\b")
MAX_PAIR_WORDS = 60  # a pointing-back sentence and the one before it, together
_ITEM = re.compile(rf"{BULLET_LINE.pattern}|{NUMBERED_LINE.pattern}|^[\u2022\u00b7\u25aa\u25cf\u2013]\s?\S")


@dataclass(frozen=True)
class Unit:
    """A quotable span of a passage: its offsets, its kind, and the question it responds to ("" if none)."""

    start: int
    end: int
    kind: UnitKind
    responds_to: str = ""


def answer_units(text: str) -> list[Unit]:
    """The units of a passage, in order: its sentences (questions marked), plus lead-in-and-list and
    label-and-items spans."""
    units: list[Unit] = []
    lines = _lines(text)
    asked, listed = "", 0
    header = -1  # the index of the line holding the first row of the table the line is in (-1: not in a table)
    for index, (start, end) in enumerate(lines):
        line = text[start:end]
        if "\t" not in line:
            header = -1
        elif header < 0:
            header = index
        else:  # a row answers with its column headings: they count for it (`quoted_with_header` quotes them too)
            units.extend(_sentence_units(line, start, text[slice(*lines[header])]))
            continue
        if _is_question_line(line):
            asked = line
            units.extend(Unit(start + s.start, start + s.end, "question") for s in split_sentences(line))
            continue
        sentences = _sentence_units(line, start, asked)
        units.extend(sentences)
        if line.endswith(":") and sentences:
            listed = _list_after(text, lines[index + 1 :])
            if listed:
                units.append(Unit(sentences[-1].start, listed, "list", asked))  # from the lead-in sentence itself
        elif start >= listed and _is_label(line) and (items_end := _items_under_label(text, lines[index + 1 :])):
            listed = items_end  # an item of this list is not a label of another
            units.append(Unit(start, listed, "list", asked))
    return units


def quoted_with_header(text: str, start: int, end: int) -> int:
    """Where a quote of text[start:end] should start: at its table's header row when the unit is a row of figures at
    most MAX_ROWS_UNDER_HEADER rows under it (and the whole stays short), so a reader sees what its numbers are;
    else at `start`. A row of words reads well alone, and is quoted alone."""
    line_start = text.rfind("\n", 0, start) + 1
    if "\t" not in text[line_start:end] or not _figures(text[line_start:end]):
        return start
    head, rows = _table_start(text, line_start, MAX_ROWS_UNDER_HEADER + 1)
    if rows == 0 or rows > MAX_ROWS_UNDER_HEADER or len(text[head:end].split()) > MAX_LIST_WORDS:
        return start
    return head


def _table_start(text: str, line_start: int, limit: int) -> tuple[int, int]:
    """The start of the first row of the table whose row starts at `line_start` (up to `limit` rows up), and how
    many rows up it is."""
    head, rows = line_start, 0
    while head > 0 and rows < limit and "\t" in text[text.rfind("\n", 0, head - 1) + 1 : head - 1]:
        head, rows = text.rfind("\n", 0, head - 1) + 1, rows + 1
    return head, rows


def _figures(row: str) -> bool:
    """True when most of a row's cells after the first are figures ("429", "2,681", "17%", "£60,000")."""
    cells = [c.strip() for c in row.split("\t")[1:] if c.strip()]
    return bool(cells) and sum(bool(_FIGURE.fullmatch(c)) for c in cells) * 2 >= len(cells)


def _sentence_units(line: str, start: int, asked: str) -> list[Unit]:
    """The sentences of a line that is not a question: a sentence reporting a question is marked as one, and the
    sentences after it in the line respond to it rather than to `asked` (the question of an earlier line)."""
    units: list[Unit] = []
    before: Unit | None = None
    for sentence in split_sentences(line):
        text = line[sentence.start : sentence.end]
        reported = bool(_REPORTED_QUESTION.search(text))
        unit = Unit(start + sentence.start, start + sentence.end, "question" if reported else "sentence",
                    "" if reported else asked)
        if (before and before.kind == "sentence" and not reported and _REFERS_BACK.match(text)
                and len(line[before.start - start : sentence.end].split()) <= MAX_PAIR_WORDS):
            units.append(Unit(before.start, unit.end, "sentence", asked))  # "This initiative ..." with what it is
        else:
            units.append(unit)
        before = unit
        if reported:
            asked = text
    return units


_COUNT_START = re.compile(r"^(?!(?:19|20)\d\d\b)\d[\d,.]*%?\s+[a-z]")  # "215 responses to the survey"
_CLOCK_TIME = re.compile(r"\b\d{1,2}(?:[.:]\d\d)?\s?[ap]\.?m\b", re.I)
MAX_FRAGMENT_WORDS = 6  # a line begun in lower case and this short is a cell's or a sentence's tail, full stop or not
_CUT_OFF = re.compile(r"\b(a|an|and|as|at|by|for|from|in|of|on|or|the|to|with)$", re.I)


def _is_fragment(sentence: str) -> bool:
    """True for a piece of a sentence rather than a sentence (a PDF table's cell, a text box's line). Unless it holds a
    figure that may answer "how many" ("increased from baseline (65%"): one ending on a comma ("Manager Membership:
    Foster Carer,"), however it starts; and one begun in lower case (mid-sentence) that ends on a semicolon, inside a
    bracket it did not open ("the Service) All Age Autism") or after a few words ("school for children with
    autism", "supervising Foster Carers."). One begun in lower case that stops on a function word ("assessment and
    diagnostics Improved feedback from") is a fragment even with a figure."""
    figure = bool(_FIGURE.search(sentence))
    if sentence.endswith(",") and not figure:
        return True
    if not sentence[0].islower():
        return False
    if _CUT_OFF.search(sentence):
        return True
    return not figure and (sentence.endswith(";") or sentence.count(")") > sentence.count("(")
                           or len(sentence.split()) <= MAX_FRAGMENT_WORDS)


def answers_something(text: str, start: int, end: int, named: bool = False) -> bool:
    """False for headings and lead-ins ("... as follows:"), which state nothing on their own, and for sentences
    planted in a document to steer an AI assistant, which must never reach a reader as an answer. A heading-shaped
    line that names a person (`named`, for a "who" question) is a signature or a table row ("NEET Strategy Judy
    Gibbs") and answers it; one that opens with a count ("215 responses to the survey") states it."""
    sentence = text[start:end]
    if len(content_words(sentence)) < 3 or sentence.endswith(":") or looks_like_instruction(sentence):
        return False
    if _is_fragment(sentence):
        return False
    ends_line = end == len(text) or text[end] == "\n"
    whole_line = ends_line and (start == 0 or text[start - 1] == "\n")
    # A heading may share its line with the paragraph before it (PDF text): "... on 18 May 2023. Dates of Future
    # Meetings" ends its line in title case, so it is judged as a heading.
    headed = whole_line or (ends_line and _title_case(sentence))
    counted = bool(_COUNT_START.match(sentence))  # a line opening with a count states it: a table row, not a heading
    timed = bool(_CLOCK_TIME.search(sentence))  # "Wednesday, 24 May 2023, 10.00 am Council Chamber": a notice
    listed = "\n" in sentence  # a lead-in or label with the items under it
    return named or counted or timed or listed or not (headed and looks_like_heading(sentence))


# A line naming a paper attached to a report ("Appendix 2 - DfE letter following the 12-month review"), and the
# label reports list such lines under.
_ATTACHMENT_LINE = re.compile(r"(?:Appendix|Annexe?|Attachment|Enclosure)\s+[0-9A-Z]{1,3}\s*[-\u2013\u2014:]", re.I)
_ATTACHMENTS_LABEL = re.compile(r"(?:Supporting Information|Appendices|Attachments|Background Papers)$", re.I)


def names_attachments(sentence: str) -> bool:
    """True for a unit that only lists the papers attached to a report by their titles (a report's "Supporting
    Information: Appendix 1 - ..."): it says what is attached, not what the papers say, so it answers only a
    question about the attachments themselves."""
    lines = [line.strip() for line in sentence.split("\n") if line.strip()]
    if lines and _ATTACHMENTS_LABEL.match(lines[0]):
        lines = lines[1:]
    return bool(lines) and all(_ATTACHMENT_LINE.match(line) for line in lines)


def _title_case(sentence: str) -> bool:
    """Every word longer than three letters begins with a capital or a digit ("Dates of Future Meetings")."""
    return all(word[0].isupper() or word[0].isdigit() for word in sentence.split() if len(word) > 3)


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


def _is_label(line: str) -> bool:
    """A one-to-three-word heading such as "Approach" or "Next steps", which in PDF tables stands for a lead-in; a
    name with an initial ("K. Moore", a letter's signature) is none."""
    return len(line.split()) <= MAX_LABEL_WORDS and "." not in line and looks_like_heading(line)


def _items_under_label(text: str, following: list[tuple[int, int]]) -> int:
    """Where the items under a label end: at least two lines in a row that each read as an item ("Service User
    Feedback": capitalised, two to MAX_PLAIN_ITEM_WORDS words, no sentence or cell broken off), else 0. Table
    cells wrapped over several lines ("complete 1 session of Direct Work every 12") are not items."""
    end, count = 0, 0
    for start, stop in following[:MAX_LIST_ITEMS]:
        item = text[start:stop]
        if not (2 <= len(item.split()) <= MAX_PLAIN_ITEM_WORDS and item[0].isupper() and looks_like_heading(item)):
            break
        end, count = stop, count + 1
    return end if count >= 2 else 0


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
