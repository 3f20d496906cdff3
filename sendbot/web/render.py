"""The web app's HTML: answers with numbered source cards, refusals, the document lists and upload results.

Pure functions of their arguments (plus the prompt files), so they are tested without a server. Every piece of
document or user text goes through `esc`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Iterable, Mapping
from urllib.parse import quote, urlencode

from ingest.sync.state import Known
from ingest.uploads import UploadResult
from sendbot.core.dates import describe_range, format_date, period_range
from sendbot.core.models import Answer, AnswerSentence, Citation, FileRecord, Filters
from sendbot.core.prompts import prompts


CELL_SEPARATOR = " | "  # how a table row's cells are shown apart in answers and source cards
ROW_SEPARATOR = " / "  # and its rows, in an answer's one line


def esc(text: object) -> str:
    """Document and user text made safe to put into HTML."""
    return html.escape(str(text), quote=True)


def _one_line(text: str) -> str:
    """The text on one line; a table's cells (tab-separated) and rows kept apart."""
    if "\t" not in text:
        return " ".join(text.split())
    rows = (CELL_SEPARATOR.join(" ".join(c.split()) for c in line.split("\t") if c.strip()) for line in text.split("\n"))
    return ROW_SEPARATOR.join(row for row in rows if row)


def short_title(title: str, limit: int = 80) -> str:
    """A long title cut to its main part: before a bracketed list, then at a word boundary."""
    if len(title) <= limit:
        return title
    if " (" in title:
        title = title.split(" (")[0]
    if len(title) > limit:
        title = title[: limit - 1].rsplit(" ", 1)[0] + "…"
    return title


def date_text(iso: str, period: str = "") -> str:
    """A document's date for people: '24 May 2023'; for an undated one its period, and the dates the filters use
    for it ('early 2022 (date filters use January to April 2022)')."""
    span = None if iso else period_range(period)
    shown = format_date(iso, period)
    return f"{shown} (date filters use {describe_range(span)})" if span else shown


def document_url(source: str, page: int | None = None) -> str:
    """The app's link to a document (relative, so it works under any mount path); PDFs open at the page."""
    url = f"documents/{quote(source, safe='')}"
    return f"{url}#page={page}" if page else url


READABLE = (".txt", ".md", ".html", ".htm", ".docx")  # shown as a reading page by documents.py


def reading_url(source: str) -> str:
    """The link the document lists use: the reading page for text documents, the file itself for PDFs."""
    readable = source.lower().endswith(READABLE)
    return f"{document_url(source)}?read=1" if readable else document_url(source)


def passage_url(source: str, page: int | None, quote_text: str = "") -> str:
    """The link that opens a document at a passage: a PDF at its page; other files as a readable page with the
    quoted words highlighted and scrolled to (see documents.py)."""
    if page or not quote_text:
        return document_url(source, page)
    return f"{document_url(source)}?{urlencode({'quote': ' '.join(quote_text.split())[:300]})}#sb-passage"


def describe_filters(filters: Filters, titles: Mapping[str, str] | None = None) -> str:
    """One sentence saying how a search was narrowed, or '' when it searched everything."""
    if not filters.active:
        return ""
    titles = titles or {}
    parts = []
    if filters.sources:
        parts.append("these documents: " + "; ".join(short_title(titles.get(s, s), 60) for s in filters.sources))
    if filters.kinds:
        parts.append("these kinds of document: " + ", ".join(filters.kinds))
    start = format_date(filters.date_from.isoformat()) if filters.date_from else ""
    end = format_date(filters.date_to.isoformat()) if filters.date_to else ""
    if start and end:
        parts.append(f"documents dated {start} to {end}")
    elif start:
        parts.append(f"documents dated from {start}")
    elif end:
        parts.append(f"documents dated up to {end}")
    return "Searched only " + ", and ".join(parts) + "."


def highlight(text: str, quotes: Iterable[str], stress: tuple[int, int] | None = None) -> str:
    """The passage as HTML with each quoted span wrapped in <mark> and the direct answer's span (`stress`, offsets
    into the text) in <strong>; line breaks kept as <br>, a table row's cells shown apart."""
    spans: list[tuple[int, int]] = []
    for quote_text in quotes:
        quote_text = quote_text.strip()
        start = text.find(quote_text) if quote_text else -1
        if start >= 0:
            spans.append((start, start + len(quote_text)))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, position = [], 0
    for start, end in merged:
        out.append(_stressed(text, position, start, stress))
        out.append(f"<mark>{_stressed(text, start, end, stress)}</mark>")
        position = end
    out.append(_stressed(text, position, len(text), stress))
    return "".join(out).strip().replace("\r\n", "\n").replace("\n", "<br>").replace("\t", CELL_SEPARATOR)


def _stressed(text: str, start: int, end: int, stress: tuple[int, int] | None) -> str:
    """text[start:end] escaped, with the part of it inside `stress` in <strong>."""
    if not stress or stress[1] <= start or end <= stress[0]:
        return esc(text[start:end])
    a, b = max(start, stress[0]), min(end, stress[1])
    return f"{esc(text[start:a])}<strong>{esc(text[a:b])}</strong>{esc(text[b:end])}"


def card_id(turn: int, n: int) -> str:
    """The HTML id of source card `n` in the answer at `turn`: the target of that answer's [n] markers."""
    return f"sb-t{turn}-source-{n}"


def render_card(citation: Citation, turn: int, quotes: Iterable[str] = (), stress: tuple[int, int] | None = None) -> str:
    """One numbered source card, collapsible: title, date, kind, page and section, the passage with the quoted
    sentences highlighted (and the direct answer, `stress`, in bold), and links to the document (a PDF at the page,
    a text file at the passage) and to where the council publishes it."""
    c = citation
    quotes = list(quotes) or [c.quote]
    meta = [f"<span>{esc(date_text(c.date, c.period))}</span>"]
    if c.kind:
        meta.append(f"<span>{esc(c.kind)}</span>")
    if c.page:
        meta.append(f"<span>page {c.page}</span>")
    if c.section and c.section != c.title:
        meta.append(f"<span>section: {esc(_one_line(c.section))}</span>")
    where = f"at page {c.page}" if c.page else "at the passage"
    links = [f'<a class="sb-doc-link" href="{esc(passage_url(c.source, c.page, quotes[0]))}" target="_blank" '
             f'rel="noopener">Open the document {where}<span class="sb-visually-hidden"> (in a new tab)</span></a>']
    if getattr(c, "url", ""):
        links.append(f'<a class="sb-origin-link" href="{esc(c.url)}" target="_blank" rel="noopener">'
                     f'Where the council publishes it<span class="sb-visually-hidden"> (in a new tab)</span></a>')
    return (
        f'<li class="sb-card" id="{card_id(turn, c.n)}"><details open>'
        f'<summary class="sb-card-title"><span class="sb-card-n">[{c.n}]</span> {esc(c.title)}</summary>'
        f'<p class="sb-meta">{" · ".join(meta)}</p>'
        f'<blockquote class="sb-passage">{highlight(c.text, quotes, stress)}</blockquote>'
        f'<p class="sb-card-links">{" · ".join(links)}</p>'
        f'<p class="sb-file">File: {esc(c.source)}</p>'
        f"</details></li>"
    )


@dataclass(frozen=True)
class Around:
    """What the app shows around an answer: the question as typed, what a follow-up was taken to be about, how the
    search was narrowed, and the documents' own topics to ask next (after an answer) or instead (after a refusal)
    with the words of the question no document uses."""

    asked: str = ""
    topic: str = ""  # set when the question was read as a follow-up ("Answering about: ...")
    filters_note: str = ""
    follow_ups: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


def _marker(turn: int, sentence: int, n: int, preview: str) -> str:
    """An [n] link to its source card, with a preview of the quoted words shown on hover, focus or tap."""
    tip = f"sb-t{turn}-s{sentence}-tip-{n}"
    return (f'<span class="sb-ref"><a class="sb-marker" href="#{card_id(turn, n)}" aria-describedby="{tip}">[{n}]'
            f'<span class="sb-visually-hidden"> (source {n})</span></a>'
            f'<span class="sb-preview" role="tooltip" id="{tip}">{esc(_one_line(preview))}</span></span>')


def _chips(heading: str, questions: Iterable[str], css: str) -> str:
    """A heading and a list of buttons, each asking its question."""
    items = "".join(f'<li><button type="button" class="sb-chip" data-ask="{esc(q)}">{esc(q)}</button></li>'
                    for q in questions)
    return f'<h3 class="sb-subhead">{esc(heading)}</h3><ul class="sb-chips {css}">{items}</ul>' if items else ""


def _about(turn: int, around: Around) -> str:
    if not around.topic:
        return ""
    return (f'<p class="sb-about">Answering about: <strong>{esc(around.topic)}</strong> '
            f'<button type="button" class="sb-chip sb-fresh" data-ask="{esc(around.asked)}" data-standalone="1">'
            f'Ask it on its own instead</button></p>')


def _tools(answer: Answer, turn: int, around: Around) -> str:
    """Copy the answer as plain text, a link that asks the same question again, and Helpful / Not helpful."""
    share = "?" + urlencode({"q": answer.question})
    votes = "" if answer.refused else (
        '<button type="button" class="sb-tool sb-vote" data-vote="up" aria-pressed="false">Helpful</button>'
        '<button type="button" class="sb-tool sb-vote" data-vote="down" aria-pressed="false">Not helpful</button>')
    return (
        f'<div class="sb-tools" role="group" aria-label="This answer" data-turn="{turn}">'
        '<button type="button" class="sb-tool sb-copy">Copy answer</button>'
        f'<a class="sb-tool sb-share" href="{esc(share)}">Link to this answer</a>'
        '<button type="button" class="sb-tool sb-copy-link">Copy link</button>'
        f'{votes}<span class="sb-tool-status" role="status"></span></div>'
        f'<pre class="sb-plain" hidden>{esc(plain_text(answer, around))}</pre>'
    )


def _said(sentence: AnswerSentence) -> str:
    """When the sentence's document said it ("24 May 2023: ", "Earlier, early 2022: "), put before the sentence
    in an answer that quotes documents of different dates, so a 2022 plan and a 2023 update are never read as one."""
    css = "sb-said sb-earlier" if sentence.earlier else "sb-said"
    return f'<strong class="{css}">{esc(sentence.said_label)}:</strong> '


def render_answer(answer: Answer, turn: int, around: Around = Around()) -> str:
    """An answer as HTML: what it is about (for a follow-up), sentences with [n] links to numbered source cards
    (each with a preview of its quoted words; each after when it was said if the documents' dates differ), copy, share and feedback, the cards, and questions to ask next.

    `turn` (the answer's place in the conversation) keeps ids unique across answers.
    """
    if answer.refused:
        return render_refusal(answer, turn, around)
    parts = [f'<div class="sb-answer" data-turn="{turn}">', _about(turn, around)]
    if around.filters_note:
        parts.append(f'<p class="sb-note">{esc(around.filters_note)}</p>')
    quotes = {c.n: c.quote for c in answer.citations}
    if answer.tentative:
        parts.append(f'<p class="sb-tentative">{esc(prompts().tentative.text)}</p>')
    direct = answer.direct
    if direct:
        marker = _marker(turn, -1, direct.citation, quotes.get(direct.citation, ""))
        stated = prompts().direct_answer.format(answer=f"<strong>{esc(_one_line(direct.text))}</strong>")
        parts.append(f'<p class="sb-direct">{stated} {marker}</p>')
    for i, sentence in enumerate(answer.sentences):
        markers = "".join(_marker(turn, i, n, quotes.get(n, "")) for n in sentence.citations)
        parts.append(f'<p class="sb-sentence">{_said(sentence) if answer.spans_dates else ""}'
                     f'{esc(_one_line(sentence.text))} {markers}</p>')
    parts.append(_tools(answer, turn, around))
    parts.append('<h3 class="sb-subhead sb-sources-title">Where this comes from</h3><ol class="sb-cards">')
    for citation in answer.citations:
        stress = (direct.start, direct.end) if direct and direct.citation == citation.n else None
        parts.append(render_card(citation, turn, [s.text for s in answer.sentences if citation.n in s.citations], stress))
    parts.append("</ol>")
    parts.append(_chips("Ask next", around.follow_ups, "sb-follow-ups"))
    parts.append("</div>")
    return "".join(parts)


def render_refusal(answer: Answer, turn: int = 0, around: Around = Around()) -> str:
    """A friendly 'not in these documents': the words no document uses, nearby topics to tap instead (clean
    section titles of the closest passages), tips, and where to get help."""
    parts = [f'<div class="sb-answer sb-refusal" data-turn="{turn}">', _about(turn, around),
             f"<p>{esc(answer.message)}</p>"]
    if around.missing:
        words = ", ".join(f"<strong>{esc(w)}</strong>" for w in around.missing)
        parts.append(f'<p class="sb-missing">{prompts().app_missing_words.format(words=words)}</p>')
    parts.append(_chips(prompts().app_nearest_topics.text, around.follow_ups, "sb-topics"))
    if answer.reason == "not_found":
        parts.append(f"<p>{esc(prompts().app_refusal_tips.text)}</p>")
    if around.filters_note:
        parts.append(f'<p class="sb-note">{esc(around.filters_note)} Try again with the filters cleared to search '
                     "everything.</p>")
    parts.append(f'<h3 class="sb-subhead">Where to get help</h3><p class="sb-signpost">'
                 f"{esc(prompts().app_signpost.text)}</p>")
    parts.append(_tools(answer, turn, around))
    parts.append("</div>")
    return "".join(parts)


def plain_text(answer: Answer, around: Around = Around()) -> str:
    """An answer as plain text to copy: the question, the cited sentences (each after when it was said, when the
    answer quotes documents of different dates), then the numbered sources with title, date, page, the quoted words
    and links (the app's document link is relative; the page makes it absolute)."""
    lines = [around.asked or answer.question, ""]
    if answer.refused:
        lines.append(answer.message)
        if around.follow_ups:
            lines.append(prompts().app_nearest_topics.text + ": " + "; ".join(around.follow_ups))
        return "\n".join(lines)
    if answer.tentative:
        lines.append(prompts().tentative.text)
    if answer.direct:
        lines.append(prompts().direct_answer.format(answer=f"{_one_line(answer.direct.text)} [{answer.direct.citation}]"))
    lines.extend(f"{s.said_label + ': ' if answer.spans_dates else ''}{_one_line(s.text)} "
                 f"{''.join(f'[{n}]' for n in s.citations)}" for s in answer.sentences)
    lines += ["", "Sources"]
    for c in answer.citations:
        where = [c.title, format_date(c.date, c.period)] + ([f"page {c.page}"] if c.page else [])
        lines.append(f"[{c.n}] {', '.join(where)}")
        lines.append(f'    "{_one_line(c.quote)}"')
        lines.append(f"    {passage_url(c.source, c.page, c.quote)}")
        if getattr(c, "url", ""):
            lines.append(f"    {c.url}")
    return "\n".join(lines)


def render_note(message: str) -> str:
    """A short note in the chat instead of an answer (e.g. a date the filters could not read)."""
    return f'<p class="sb-note">{esc(message)}</p>'


def synced_when(checked_at: str) -> str:
    """When a sync last checked a document, for people: '26 November 2026 at 10:04 UTC' (from ISO 8601 in UTC)."""
    return f"{format_date(checked_at[:10])} at {checked_at[11:16]} UTC" if len(checked_at) >= 16 else checked_at


def _origin_cell(origin: Known | None) -> str:
    """Where a document comes from: the council's address (linked) and the last sync, for a synced one."""
    if origin is None:
        return '<td class="sb-origin">Not synced from the council\'s sites</td>'
    return (f'<td class="sb-origin"><a href="{esc(origin.url)}" target="_blank" rel="noopener">{esc(origin.url)}'
            f'<span class="sb-visually-hidden"> (in a new tab)</span></a>'
            f'<span class="sb-file">Last synced {esc(synced_when(origin.checked_at))}</span></td>')


def _document_row(record: FileRecord, origin: Known | None) -> str:
    """One document's row: its title (linked) and file name, with ingest's warning about it if any; date, kind,
    where it comes from, passages."""
    r = record
    note = f'<span class="sb-doc-note"><strong>Warning:</strong> {esc(r.note)}</span>' if r.note else ""
    return (
        "<tr>"
        f'<td><a href="{esc(reading_url(r.source))}" target="_blank" rel="noopener">{esc(r.title)}</a>'
        f'<span class="sb-file">{esc(r.source)}</span>{note}</td>'
        f"<td>{esc(date_text(r.date, r.period))}</td><td>{esc(r.kind)}</td>{_origin_cell(origin)}"
        f'<td class="sb-num">{r.chunks}</td></tr>'
    )


def render_documents_table(records: list[FileRecord], synced: Mapping[str, Known] | None = None) -> str:
    """The indexed documents as an accessible table: title (with any warning from ingest, e.g. unreadable pages),
    date, kind, where it comes from (for a document `sendbot sync` fetched, `synced` by file name: the council's
    address and the last sync), passages."""
    if not records:
        return '<p class="sb-docs-empty">No documents are indexed yet.</p>'
    synced = synced or {}
    rows = "".join(_document_row(r, synced.get(r.source)) for r in records)
    return (
        '<div class="sb-docs-wrap" role="region" aria-label="Indexed documents" tabindex="0">'
        f'<table class="sb-docs"><caption>{len(records)} document{"" if len(records) == 1 else "s"}, newest first</caption>'
        '<thead><tr><th scope="col">Title</th><th scope="col">Date</th><th scope="col">Kind</th>'
        '<th scope="col">Where it comes from</th><th scope="col">Passages indexed</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def render_document_list(records: list[FileRecord]) -> str:
    """The short list for the 'what this assistant knows' note: title and date of each document."""
    if not records:
        return "<p>No documents are indexed yet.</p>"
    items = "".join(
        f'<li><a href="{esc(reading_url(r.source))}" target="_blank" rel="noopener">{esc(short_title(r.title))}</a>'
        f" ({esc(format_date(r.date, r.period))})</li>"
        for r in records
    )
    return f'<p><strong>The documents it knows</strong> (newest first):</p><ul class="sb-doc-list">{items}</ul>'


def render_upload_results(results: list[UploadResult]) -> str:
    """Each uploaded file's outcome: added, or not added and why."""
    if not results:
        return "<p>No files were chosen.</p>"
    items = "".join(
        f'<li class="{"sb-ok" if added else "sb-error"}"><strong>{"Added" if added else "Not added"}:</strong> '
        f"{esc(name)}: {esc(message)}</li>"
        for added, name, message in results
    )
    return f'<ul class="sb-results">{items}</ul>'


def load_examples() -> dict[str, list[str]]:
    """Example questions from prompts/app_examples.md: '## heading' then '- question' lines."""
    groups: dict[str, list[str]] = {}
    heading = "Examples"
    for line in prompts().app_examples.text.splitlines():
        line = line.strip()
        if line.startswith("## "):
            heading = line[3:].strip()
            groups.setdefault(heading, [])
        elif line.startswith("- "):
            groups.setdefault(heading, []).append(line[2:].strip())
    return groups
