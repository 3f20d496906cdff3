"""Structure-aware chunking: split at headings, numbered paragraphs and table headers, sized in word pieces.

Every chunk's text is an exact slice of one page's text, so any sentence quoted from it is verbatim.
Headings and table headers travel with their chunks as `context`, which is embedded and searched but never quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator

from sendbot.core.models import Chunk, Document
from sendbot.core.text import BULLET_LINE, NUMBERED_LINE, looks_like_heading, split_sentences

TokenCounter = Callable[[list[str]], list[int]]

MIN_TOKENS_BEFORE_SOFT_BREAK = 60
MAX_CONTEXT_TOKENS = 50
MIN_UNMARKED_ITEMS = 2  # items before a heading-shaped line that make it the last of an unmarked list
MAX_UNMARKED_ITEM_WORDS = 6  # words in such an item ("Community inclusion"); a longer line is prose again


@dataclass(frozen=True)
class Block:
    """A paragraph, heading or table row of one page, as offsets into the page text."""

    start: int
    end: int
    kind: str  # "heading" | "numbered" | "paragraph" | "row"
    header: str = ""  # for table rows: the table's header row


def chunk_document(doc: Document, count_tokens: TokenCounter, max_tokens: int = 200, overlap_sentences: int = 1) -> list[Chunk]:
    """Cut a document into chunks that fit MiniLM's window with their context, keeping headings with their text."""
    pieces: list[tuple[int, str, int, int, str]] = []  # (page, section, start, end, table header)
    section = ""
    for page in doc.pages:
        blocks = parse_blocks(page.text)
        sizes = count_tokens([page.text[b.start : b.end] for b in blocks]) if blocks else []
        for span, new_section in _pack(page.text, blocks, sizes, count_tokens, max_tokens, overlap_sentences, section):
            section = new_section
            pieces.append((page.number, section, *span))
    short_title = " ".join(doc.title.split()[:12])
    contexts = [" | ".join(x for x in (short_title, sec, header) if x) for _, sec, _, _, header in pieces]
    context_sizes = count_tokens(contexts) if contexts else []
    chunks = []
    for ordinal, ((page_no, sec, start, end, _), context, size) in enumerate(zip(pieces, contexts, context_sizes)):
        if size > MAX_CONTEXT_TOKENS:
            context = context[: int(len(context) * MAX_CONTEXT_TOKENS / size)]
        page_text = _page(doc, page_no)
        chunks.append(
            Chunk(
                id=f"{doc.source}:{doc.sha256[:12]}:{ordinal:04d}",
                source=doc.source,
                sha256=doc.sha256,
                ordinal=ordinal,
                page=page_no if doc.paged else None,
                section=sec,
                text=page_text[start:end],
                context=context,
                title=doc.title,
                date=doc.date,
                period=doc.period,
                kind=doc.kind,
                publisher=doc.publisher,
                url=doc.url,
                committee=doc.committee,
                meeting=doc.meeting,
                item=doc.item,
            )
        )
    return chunks


def _page(doc: Document, number: int) -> str:
    return next(p.text for p in doc.pages if p.number == number)


def parse_blocks(text: str) -> list[Block]:
    """Classify each non-empty line of a page as heading, numbered paragraph, paragraph or table row."""
    lines: list[tuple[int, int, str]] = []
    offset = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            lines.append((offset + lead, offset + lead + len(stripped), stripped))
        offset += len(line) + 1
    candidates = [looks_like_heading(line) for _, _, line in lines]
    blocks: list[Block] = []
    header = ""
    items = -1  # unmarked list items so far after a lead-in ending with ":" (-1: not in such a list)
    for i, (start, end, line) in enumerate(lines):
        if "\t" in line:
            if not (blocks and blocks[-1].kind == "row"):
                header = line.replace("\t", " | ")  # the first row of a table is its header
            blocks.append(Block(start, end, "row", header))
            items = -1
            continue
        following = lines[i + 1][2] if i + 1 < len(lines) else ""
        next_is_paragraph = bool(following) and ("\t" in following or (not candidates[i + 1] and _is_paragraph(following)))
        # The last of several items a lead-in introduced, its bullets lost in the PDF's text ("four key areas:" /
        # "Independent living" / "Employment" / "Community inclusion" / "Living healthily"), is followed by a
        # paragraph as a heading is: it stays in the list.
        short = len(line.split()) <= MAX_UNMARKED_ITEM_WORDS
        closes_list = items >= MIN_UNMARKED_ITEMS and short
        if line.endswith(":"):
            items = 0  # a lead-in: an unmarked list may follow
        elif items >= 0 and candidates[i] and short:
            items += 1
        else:
            items = -1
        if candidates[i] and (line.isupper() or (next_is_paragraph and not closes_list)):
            blocks.append(Block(start, end, "heading"))
        elif NUMBERED_LINE.match(line):
            blocks.append(Block(start, end, "numbered"))
        else:
            blocks.append(Block(start, end, "paragraph"))
    return blocks


def _is_paragraph(line: str) -> bool:
    return len(line.split()) >= 8 or line.endswith((".", "?", "!", ":")) or bool(BULLET_LINE.match(line) or NUMBERED_LINE.match(line))


def _pack(text: str, blocks: list[Block], sizes: list[int], count_tokens: TokenCounter,
          max_tokens: int, overlap: int, section: str) -> Iterator[tuple[tuple[int, int, str], str]]:
    """Group a page's blocks into chunk spans; yields ((start, end, table header), section)."""
    start = end = None
    used = 0
    table: str | None = None  # header of the table the open chunk is in, None outside tables
    heading_only = False  # the open chunk holds just a heading, which must stay with what follows
    for block, size in zip(blocks, sizes):
        block_table = block.header if block.kind == "row" else None
        hard_break = block.kind == "heading" or block_table != table
        soft_break = block.kind == "numbered" and used >= MIN_TOKENS_BEFORE_SOFT_BREAK
        too_big = used + size > max_tokens and not (heading_only and size > max_tokens)
        if start is not None and (hard_break or soft_break or too_big):
            yield (start, end, table or ""), section
            carried = (None, 0)
            if not (hard_break or soft_break) and overlap and block.kind != "row":
                carried = _overlap_start(text, start, end, overlap, count_tokens)
            # The repeated sentence opens the next chunk only if the block still fits beside it.
            start, used = carried if carried[1] + size <= max_tokens else (None, 0)
        if block.kind == "heading":
            section = text[block.start : block.end]
        table = block_table
        if size > max_tokens:
            lead = (start, end, used) if start is not None else None
            for piece in _split_long(text, block, count_tokens, max_tokens, overlap, lead):
                yield (*piece, table or ""), section
            start, used, heading_only = None, 0, False
            continue
        heading_only = block.kind == "heading"
        start = block.start if start is None else start
        end = block.end
        used += size
    if start is not None:
        yield (start, end, table or ""), section


def _overlap_start(text: str, start: int, end: int, overlap: int, count_tokens: TokenCounter) -> tuple[int, int]:
    """Where the next chunk starts so that it repeats the last `overlap` sentences of the previous one."""
    spans = split_sentences(text[start:end])
    if len(spans) <= overlap:
        return None, 0
    first = spans[-overlap]
    carried = text[start + first.start : end]
    return start + first.start, count_tokens([carried])[0]


def _split_long(text: str, block: Block, count_tokens: TokenCounter, max_tokens: int, overlap: int,
                lead: tuple[int, int, int] | None = None) -> Iterator[tuple[int, int]]:
    """Windows of whole sentences (or, for a run-on sentence, of words) that each fit in max_tokens.

    `lead` (start, end, tokens) is text before the block that must open the first window, such as its heading.
    """
    units = [(block.start + s.start, block.start + s.end) for s in split_sentences(text[block.start : block.end])]
    sizes = count_tokens([text[a:b] for a, b in units])
    pieces: list[tuple[int, int, int]] = [lead] if lead else []
    for (a, b), size in zip(units, sizes):
        if size <= max_tokens:
            pieces.append((a, b, size))
            continue
        words = [(a + m.start(), a + m.end()) for m in re.finditer(r"\S+", text[a:b])]
        word_sizes = count_tokens([text[x:y] for x, y in words])
        window: list[tuple[int, int]] = []
        used = 0
        for (x, y), w in zip(words, word_sizes):
            if window and used + w > max_tokens:
                pieces.append((window[0][0], window[-1][1], used))
                window, used = [], 0
            window.append((x, y))
            used += w
        if window:
            pieces.append((window[0][0], window[-1][1], used))
    i = 0
    while i < len(pieces):
        j, used = i, 0
        while j < len(pieces) and (j == i or used + pieces[j][2] <= max_tokens):
            used += pieces[j][2]
            j += 1
        yield pieces[i][0], pieces[j - 1][1]
        if j >= len(pieces):
            break
        i = max(i + 1, j - overlap)
