"""The web app's HTML: answers with numbered source cards, refusals, the document lists and upload results.

Pure functions of their arguments (plus the prompt files), so they are tested without a server. Every piece of
document or user text goes through `esc`.
"""

from __future__ import annotations

import html
from typing import Iterable, Mapping
from urllib.parse import quote

from ingest.uploads import UploadResult
from sendbot.core.dates import format_date
from sendbot.core.models import Answer, Citation, FileRecord, Filters
from sendbot.core.prompts import prompts


def esc(text: object) -> str:
    """Document and user text made safe to put into HTML."""
    return html.escape(str(text), quote=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def short_title(title: str, limit: int = 80) -> str:
    """A long title cut to its main part: before a bracketed list, then at a word boundary."""
    if len(title) <= limit:
        return title
    if " (" in title:
        title = title.split(" (")[0]
    if len(title) > limit:
        title = title[: limit - 1].rsplit(" ", 1)[0] + "…"
    return title


def document_url(source: str, page: int | None = None) -> str:
    """The app's link to a document (relative, so it works under any mount path); PDFs open at the page."""
    url = f"documents/{quote(source, safe='')}"
    return f"{url}#page={page}" if page else url


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


def highlight(text: str, quotes: Iterable[str]) -> str:
    """The passage as HTML with each quoted span wrapped in <mark>; line breaks kept as <br>."""
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
        out.append(esc(text[position:start]))
        out.append(f"<mark>{esc(text[start:end])}</mark>")
        position = end
    out.append(esc(text[position:]))
    return "".join(out).strip().replace("\r\n", "\n").replace("\n", "<br>")


def card_id(turn: int, n: int) -> str:
    """The HTML id of source card `n` in the answer at `turn`: the target of that answer's [n] markers."""
    return f"sb-t{turn}-source-{n}"


def render_card(citation: Citation, turn: int, quotes: Iterable[str] = ()) -> str:
    """One numbered source card: title (a link to the document, at the page for PDFs), date, kind, page,
    section, and the passage with the quoted sentences highlighted."""
    c = citation
    url = document_url(c.source, c.page)
    where = f" at page {c.page}" if c.page else ""
    meta = [f"<span>{esc(format_date(c.date, c.period))}</span>"]
    if c.kind:
        meta.append(f"<span>{esc(c.kind)}</span>")
    if c.page:
        meta.append(f"<span>page {c.page}</span>")
    if c.section and c.section != c.title:
        meta.append(f"<span>section: {esc(_one_line(c.section))}</span>")
    passage = highlight(c.text, [*quotes, c.quote] if not quotes else quotes)
    return (
        f'<li class="sb-card" id="{card_id(turn, c.n)}">'
        f'<p class="sb-card-title"><span class="sb-card-n">[{c.n}]</span> '
        f'<a class="sb-doc-link" href="{esc(url)}" target="_blank" rel="noopener">{esc(c.title)}'
        f'<span class="sb-visually-hidden"> (opens the document{where} in a new tab)</span></a></p>'
        f'<p class="sb-meta">{" · ".join(meta)}</p>'
        f'<blockquote class="sb-passage">{passage}</blockquote>'
        f'<p class="sb-file">File: {esc(c.source)}</p>'
        f"</li>"
    )


def render_answer(answer: Answer, turn: int, filters_note: str = "") -> str:
    """An answer as one line of HTML for the chat: sentences with [n] links to numbered source cards below.

    `turn` (the message's place in the conversation) keeps the card ids unique across answers. The HTML has no
    line breaks, so the chat's Markdown renderer passes it through as one block.
    """
    if answer.refused:
        return render_refusal(answer, filters_note)
    parts = ['<div class="sb-answer">']
    if filters_note:
        parts.append(f'<p class="sb-note">{esc(filters_note)}</p>')
    for sentence in answer.sentences:
        markers = "".join(
            f'<a class="sb-marker" href="#{card_id(turn, n)}" title="Go to source {n}">[{n}]'
            f'<span class="sb-visually-hidden"> (source {n})</span></a>'
            for n in sentence.citations
        )
        parts.append(f'<p class="sb-sentence">{esc(_one_line(sentence.text))} {markers}</p>')
    parts.append('<p class="sb-sources-title"><strong>Where this comes from</strong></p><ol class="sb-cards">')
    for citation in answer.citations:
        quotes = [s.text for s in answer.sentences if citation.n in s.citations]
        parts.append(render_card(citation, turn, quotes))
    parts.append("</ol></div>")
    return "".join(parts)


def render_refusal(answer: Answer, filters_note: str = "") -> str:
    """A friendly 'not in these documents', with the nearest topics to ask about instead."""
    parts = ['<div class="sb-answer sb-refusal">', f"<p>{esc(answer.message)}</p>"]
    if answer.nearest_topics:
        parts.append(f"<p>{esc(prompts().app_nearest_topics.text)}</p><ul class=\"sb-topics\">")
        parts.extend(f"<li>{esc(_one_line(topic))}</li>" for topic in answer.nearest_topics)
        parts.append("</ul>")
    if answer.reason == "not_found":
        parts.append(f"<p>{esc(prompts().app_refusal_tips.text)}</p>")
    if filters_note:
        parts.append(f'<p class="sb-note">{esc(filters_note)} Try again with the filters cleared to search everything.</p>')
    parts.append("</div>")
    return "".join(parts)


def render_note(message: str) -> str:
    """A short note in the chat instead of an answer (e.g. a date the filters could not read)."""
    return f'<p class="sb-note">{esc(message)}</p>'


def render_documents_table(records: list[FileRecord]) -> str:
    """The indexed documents as an accessible table: title, date, kind, passages."""
    if not records:
        return '<p class="sb-docs-empty">No documents are indexed yet.</p>'
    rows = "".join(
        "<tr>"
        f'<td><a href="{esc(document_url(r.source))}" target="_blank" rel="noopener">{esc(r.title)}</a>'
        f'<span class="sb-file">{esc(r.source)}</span></td>'
        f"<td>{esc(format_date(r.date, r.period))}</td><td>{esc(r.kind)}</td><td class=\"sb-num\">{r.chunks}</td>"
        "</tr>"
        for r in records
    )
    return (
        '<div class="sb-docs-wrap" role="region" aria-label="Indexed documents" tabindex="0">'
        f'<table class="sb-docs"><caption>{len(records)} document{"" if len(records) == 1 else "s"}, newest first</caption>'
        '<thead><tr><th scope="col">Title</th><th scope="col">Date</th><th scope="col">Kind</th>'
        '<th scope="col">Passages indexed</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def render_document_list(records: list[FileRecord]) -> str:
    """The short list for the 'what this assistant knows' note: title and date of each document."""
    if not records:
        return "<p>No documents are indexed yet.</p>"
    items = "".join(
        f'<li><a href="{esc(document_url(r.source))}" target="_blank" rel="noopener">{esc(short_title(r.title))}</a>'
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
