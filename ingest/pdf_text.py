"""Rebuild paragraphs from PDF text lines: undo line wrapping, repair words hyphenated across lines, and mend words
that a narrow table cell broke in two ("Workstrea m 4", "Carer Ambassad or Scheme")."""

from __future__ import annotations

import re

from index.embedder import known_words

_BLOCK_START = re.compile(r"^(?:[\u2022\u00b7\u25aa\u25cf\u2013*-]\s|\d{1,3}[.)]\s|\(?[a-z]{1,3}\)\s|[A-Z][A-Z &'/-]{3,}$)")
_HYPHEN_END = re.compile(r"([A-Za-z]+)-$")
_WORDS = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
# Two pieces of one word a table cell wrapped, with a space where the wrap was: the tail in the head's case. The
# tail is looked at, not taken, so that it can be the head of the next pair ("including manageme nt").
_BROKEN_WORD = re.compile(r"\b([A-Za-z][a-z]{2,}) (?=([a-z]{1,8})\b)|\b([A-Z]{3,}) (?=([A-Z]{1,8})\b)")


def join_pdf_lines(pages: list[str]) -> list[str]:
    """Join wrapped lines into paragraphs on each page, one paragraph per line in the result, with the words a
    table cell broke in two made whole."""
    vocabulary = {w.lower() for page in pages for w in _WORDS.findall(page)}
    return [mend_broken_words(_join_page(page, vocabulary), vocabulary) for page in pages]


def mend_broken_words(text: str, vocabulary: set[str]) -> str:
    """`text` with each pair of pieces of a word, which pypdf gives apart when a narrow table cell wrapped it
    ("Recruitme nt", "WORKSTRE AM"), made one word again: the head is no word the encoder knows, and the two together
    are one (the encoder's or the document's `vocabulary`). A word a cell broke cannot be found by its name, and an
    answer quoting the cell reads as noise."""
    known = known_words()

    def mend(match: re.Match) -> str:
        head, tail = match.group(1) or match.group(3), match.group(2) or match.group(4)
        whole = (head + tail).lower()
        return head if head.lower() not in known and (whole in known or whole in vocabulary) else match.group()

    return _BROKEN_WORD.sub(mend, text)


def _join_page(page: str, vocabulary: set[str]) -> str:
    lines = [line for line in page.split("\n") if line.strip()]
    if not lines:
        return ""
    widths = sorted(len(line) for line in lines if "\t" not in line) or [0]  # the prose's width, not a table row's
    full = widths[int(len(widths) * 0.9)] if len(widths) > 4 else widths[-1]
    paragraphs: list[list[str]] = []
    for line in lines:
        if paragraphs and _continues(paragraphs[-1][-1], line, full):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return "\n".join(_glue(paragraph, vocabulary) for paragraph in paragraphs)


def _continues(previous: str, line: str, full: int) -> bool:
    """True when `line` wraps on from the line `previous` rather than starting a new block."""
    if _BLOCK_START.match(line) or len(previous) < 0.7 * full:  # a short line ends its paragraph
        return False
    if "\t" in previous or "\t" in line:  # a table's row (ingest.pdf_tables) is a line of its own
        return False
    if previous.endswith(":"):
        return False
    if previous.endswith((".", "?", "!")) and line[:1].isupper():
        return len(previous) >= 0.9 * full  # the sentence ended exactly at the margin
    return True


def _glue(lines: list[str], vocabulary: set[str]) -> str:
    text = lines[0]
    for line in lines[1:]:
        match = _HYPHEN_END.search(text)
        if match:
            first = re.match(r"[A-Za-z]*", line).group()
            joined = (match.group(1) + first).lower()
            hyphenated = f"{match.group(1)}-{first}".lower()
            if first and line[0].islower() and joined in vocabulary and hyphenated not in vocabulary:
                text = text[:-1] + line  # a word split by the line break: drop the hyphen
            else:
                text += line  # a real hyphen that fell at the end of the line
        else:
            text += " " + line
    return text
