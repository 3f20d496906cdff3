"""sendbot's web app: a chat over the indexed SEND documents, with numbered source cards, filters, feedback,
a documents tab (uploads for administrators) and the `/ask` API endpoint.

Run `python app.py` or `sendbot serve`: it listens on 127.0.0.1:7860 unless --host/--port or Gradio's
GRADIO_SERVER_NAME/GRADIO_SERVER_PORT say otherwise. The Gradio Blocks are mounted on a FastAPI app that also
serves the indexed documents at /documents/{file name} (only files the index lists, nothing else).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no telemetry calls

import argparse
import functools
import hmac
import html
import shutil
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Mapping
from urllib.parse import quote

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.responses import FileResponse, PlainTextResponse

from sendbot.core.config import SUPPORTED_SUFFIXES, Settings, load_settings
from sendbot.feedback import FeedbackStore
from sendbot.core.dates import format_date
from sendbot.core.models import Answer, Citation, Filters
from sendbot.core.prompts import prompts

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
MAX_QUESTION_CHARS = 1000
TITLE = "SEND documents assistant"
# The content type /documents/{source} serves each supported file type (SUPPORTED_SUFFIXES) with.
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers: addresses, dates, filters and HTML rendering (unit-tested without a server)
# ---------------------------------------------------------------------------------------------------------------

def resolve_address(host: str | None = None, port: int | None = None,
                    environ: Mapping[str, str] = os.environ) -> tuple[str, int]:
    """Flags win, then Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, then 127.0.0.1:7860."""
    host = host or environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    if port is None:
        raw = environ.get("GRADIO_SERVER_PORT") or ""
        try:
            port = int(raw) if raw.strip() else DEFAULT_PORT
        except ValueError:
            raise ValueError(f"GRADIO_SERVER_PORT={raw!r} is not a port number") from None
    return host, port


def esc(text: object) -> str:
    """Document and user text made safe to put into HTML."""
    return html.escape(str(text), quote=True)


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
    if filters.date_from and filters.date_to:
        parts.append(f"documents dated {format_date(filters.date_from.isoformat())} to {format_date(filters.date_to.isoformat())}")
    elif filters.date_from:
        parts.append(f"documents dated from {format_date(filters.date_from.isoformat())}")
    elif filters.date_to:
        parts.append(f"documents dated up to {format_date(filters.date_to.isoformat())}")
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
    return f"sb-t{turn}-source-{n}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


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


def render_documents_table(records: list) -> str:
    """The indexed documents (FileRecords) as an accessible table: title, date, kind, passages."""
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


def render_document_list(records: list) -> str:
    """The short list for the 'what this assistant knows' note: title and date of each document."""
    if not records:
        return "<p>No documents are indexed yet.</p>"
    items = "".join(
        f'<li><a href="{esc(document_url(r.source))}" target="_blank" rel="noopener">{esc(short_title(r.title))}</a>'
        f" ({esc(format_date(r.date, r.period))})</li>"
        for r in records
    )
    return f'<p><strong>The documents it knows</strong> (newest first):</p><ul class="sb-doc-list">{items}</ul>'


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


def upload_problem(path: Path, max_mb: float) -> str:
    """Why an uploaded file can't be added (type or size), or '' if it can be tried."""
    name = path.name
    if not name or name.startswith("."):
        return "the file name can't start with a dot."
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        kind = f"'{path.suffix}' files" if path.suffix else "files without an extension like .pdf"
        return f"{kind} can't be added. Please use PDF, Word (.docx), web page (.html) or text (.txt, .md) files."
    size_mb = path.stat().st_size / (1024 * 1024)
    if size_mb > max_mb:
        return f"the file is {size_mb:.1f} MB, and the limit is {max_mb:g} MB."
    if size_mb == 0:
        return "the file is empty."
    return ""


def add_uploads(bot, files: list[Path], settings: Settings,
                progress: Callable[[int, int], None] = lambda done, total: None) -> list[tuple[bool, str, str]]:
    """Check uploaded files, copy the good ones into the uploads folder and ingest them; returns each file's
    outcome as (ok, file name, what happened). A failed file leaves no copy behind, and a file it was meant to
    replace is put back."""
    lines: list[tuple[bool, str, str]] = []
    staged: list[tuple[Path, Path | None]] = []  # (copy in uploads/, backup of the file it replaced)
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    for upload in files:
        problem = upload_problem(upload, settings.max_upload_mb)
        target = settings.uploads_dir / upload.name
        if not problem and any(target == earlier for earlier, _ in staged):
            problem = "another file with this name is in the same upload."
        if problem:
            lines.append((False, upload.name, problem))
            continue
        backup = None
        if target.exists():
            backup = target.with_name(f".{target.name}.previous")
            os.replace(target, backup)
        shutil.copyfile(upload, target)
        staged.append((target, backup))
    if not staged:
        return lines
    done = 0

    def step(_message: str) -> None:
        nonlocal done
        done += 1
        progress(done, len(staged))

    progress(0, len(staged))
    outcomes = {Path(f.path).name: f for f in bot.ingest([target for target, _ in staged], progress=step).files}
    for target, backup in staged:
        result = outcomes.get(target.name)
        if result is None or result.status == "failed":
            target.unlink(missing_ok=True)
            if backup:
                os.replace(backup, target)
            lines.append((False, target.name, result.reason if result else "it could not be read."))
            continue
        if backup:
            backup.unlink(missing_ok=True)
        lines.append((True, target.name, {
            "added": f"{result.chunks} passages can now be searched.",
            "updated": f"replaced the earlier version; {result.chunks} passages can now be searched.",
            "unchanged": "this file was already there, unchanged.",
        }.get(result.status, result.status)))
    return lines


def render_upload_results(lines: list[tuple[bool, str, str]]) -> str:
    """Per-file outcome of an upload: (ok, file name, what happened)."""
    if not lines:
        return "<p>No files were chosen.</p>"
    items = "".join(
        f'<li class="{"sb-ok" if ok else "sb-error"}"><strong>{"Added" if ok else "Not added"}:</strong> '
        f"{esc(name)}: {esc(what)}</li>"
        for ok, name, what in lines
    )
    return f'<ul class="sb-results">{items}</ul>'


# ---------------------------------------------------------------------------------------------------------------
# The Blocks
# ---------------------------------------------------------------------------------------------------------------

def build_app(bot, settings: Settings) -> gr.Blocks:
    """The whole user interface; `bot` is a SendBot (or anything with ask/documents/record/ingest/remove)."""
    feedback = FeedbackStore(settings.feedback_db)
    admin_enabled = bool(settings.admin_password)
    admin_lock = threading.Lock()
    examples = load_examples()

    def titles() -> dict[str, str]:
        return {r.source: r.title for r in bot.documents()}

    def document_choices() -> list[tuple[str, str]]:
        return [(f"{short_title(r.title, 70)} ({format_date(r.date, r.period)})", r.source) for r in bot.documents()]

    def kind_choices() -> list[str]:
        return sorted({r.kind for r in bot.documents() if r.kind})

    def answer(question: str, filters: Filters) -> Answer:
        return bot.ask(question[:MAX_QUESTION_CHARS], filters)

    # -- chat ------------------------------------------------------------------------------------------------------
    def respond(question, history, records, sources, kinds, date_from, date_to):
        question = (question or "").strip()
        if not question:
            return history, "", records
        history = list(history or []) + [{"role": "user", "content": esc(question)}]
        try:
            filters = Filters.parse(sources, kinds, date_from, date_to)
        except ValueError as error:
            history.append({"role": "assistant", "content": f'<p class="sb-note">{esc(error)}</p>'})
            return history, question, records
        reply = answer(question, filters)
        turn = len(history)
        history.append({"role": "assistant", "content": render_answer(reply, turn, describe_filters(filters, titles()))})
        record = {"id": uuid.uuid4().hex, "answer": reply.to_json(), "filters": filters.to_json()}
        records = {**(records or {}), turn: record}
        return history, "", records

    def start_again():
        return [], {}, ""

    def on_feedback(records, data: gr.LikeData, request: gr.Request):
        index = data.index if isinstance(data.index, int) else data.index[0]
        record = (records or {}).get(index)
        if record is None:
            return
        session = getattr(request, "session_hash", None) or "unknown"
        if data.liked is True or data.liked is False:
            feedback.record(session, record["id"], data.liked, record["answer"], record["filters"])
            gr.Info("Thank you. Your feedback has been saved.")
        else:
            feedback.withdraw(session, record["id"])

    # -- API -------------------------------------------------------------------------------------------------------
    def ask(question: str, sources: list[str] | None = None, kinds: list[str] | None = None,
            date_from: str = "", date_to: str = "") -> dict:
        """Answer a question from the SEND documents, citing a source for every sentence.

        Optional filters: sources (document file names), kinds (e.g. "minutes"), date_from / date_to
        (YYYY-MM-DD). Returns the same JSON object as `sendbot ask --json`: {"question", "answer", "refused",
        "citations": [{"n", "source", "title", "date", "page", "section", "text", "quote", "score"}]}.
        """
        known = {r.source for r in bot.documents()}
        unknown = [s for s in sources or () if s not in known]
        if unknown:
            raise gr.Error(f"Unknown document(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}.")
        try:
            filters = Filters.parse(sources, kinds, date_from, date_to)
        except ValueError as error:
            raise gr.Error(str(error)) from None
        return answer(question or "", filters).to_json()

    # -- documents and administration ------------------------------------------------------------------------------
    def refresh():
        records = bot.documents()
        updates = [
            render_documents_table(records),
            render_document_list(records),
            gr.update(choices=document_choices()),
            gr.update(choices=kind_choices()),
        ]
        if admin_enabled:
            updates.append(gr.update(choices=[(f"{short_title(r.title, 70)} ({r.source})", r.source) for r in records],
                                     value=None))
        return tuple(updates)

    def is_admin(state) -> bool:
        return admin_enabled and state is True

    not_signed_in = "Please sign in as an administrator first."

    def sign_in(password):
        ok = admin_enabled and hmac.compare_digest((password or "").encode(), settings.admin_password.encode())
        if not ok:
            time.sleep(1.0)  # slows down guessing
            return False, gr.update(visible=True), gr.update(visible=False), "", "That password is not right. Please try again."
        return True, gr.update(visible=False), gr.update(visible=True), "", "You are signed in as an administrator."

    def sign_out():
        return False, gr.update(visible=True), gr.update(visible=False), "You have signed out."

    def add_documents(files, state, progress=gr.Progress()):
        if not is_admin(state):
            return (f"<p>{not_signed_in}</p>", *refresh())

        def step(done: int, total: int) -> None:
            progress((done, total), desc=f"Read {done} of {total} files" if done else f"Reading {total} file(s)…")

        with admin_lock:
            lines = add_uploads(bot, [Path(f) for f in files or []], settings, step)
        return (render_upload_results(lines), *refresh())

    def remove_document(source, state):
        if not is_admin(state):
            return (not_signed_in, *refresh())
        if not source:
            return ("Please choose a document to remove.", *refresh())
        with admin_lock:
            record = bot.record(source)
            removed = bot.remove(source)
            if removed and record and Path(record.path).resolve().parent == settings.uploads_dir.resolve():
                Path(record.path).unlink(missing_ok=True)  # an uploaded copy; files elsewhere are never deleted
        message = f"Removed {source}." if removed else f"{source} was not in the list."
        return (message, *refresh())

    def export_feedback(state):
        if not is_admin(state):
            return None, not_signed_in
        out = Path(tempfile.mkdtemp(prefix="sendbot-feedback-")) / f"sendbot-feedback-{date.today().isoformat()}.csv"
        feedback.export_csv(out)
        count = len(feedback.rows())
        return str(out), f"{count} feedback {'entry' if count == 1 else 'entries'} exported."

    # -- layout ----------------------------------------------------------------------------------------------------
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        records_state = gr.State({})
        admin_state = gr.State(False)
        gr.Markdown(f"# {TITLE}\n\n{prompts().app_intro.text}", elem_id="sb-intro")
        with gr.Tabs():
            with gr.Tab("Ask a question", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chat = gr.Chatbot(
                            label="Conversation", elem_id="sb-chat", height="65vh", min_height=360, layout="panel",
                            autoscroll=False,
                            latex_delimiters=[], buttons=["copy", "copy_all"], feedback_options=("Like", "Dislike"),
                            placeholder="Your answers will appear here. Type a question below, or choose an example.",
                        )
                        with gr.Row(equal_height=False, elem_id="sb-ask-row"):
                            question = gr.Textbox(
                                label="Your question", placeholder="For example: what happens if my EP assessment is late?",
                                lines=1, max_lines=4, scale=5, min_width=260, elem_id="sb-question", submit_btn=False,
                                max_length=MAX_QUESTION_CHARS,
                            )
                            ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=90, elem_id="sb-ask")
                        restart = gr.Button("Start again", variant="secondary", size="sm", elem_id="sb-restart")
                        with gr.Accordion("Narrow the search (optional)", open=False, elem_id="sb-filters"):
                            gr.Markdown(prompts().app_filters_help.text)
                            source_filter = gr.CheckboxGroup(label="Only these documents", choices=document_choices())
                            kind_filter = gr.CheckboxGroup(label="Only these kinds of document", choices=kind_choices())
                            with gr.Row():
                                date_from = gr.Textbox(label="From date", placeholder="e.g. 2023-01-01", min_width=140)
                                date_to = gr.Textbox(label="To date", placeholder="e.g. 2024-12-31", min_width=140)
                            clear_filters = gr.Button("Clear the filters", size="sm")
                    with gr.Column(scale=2, min_width=280, elem_id="sb-side"):
                        gr.Markdown("## Not sure what to ask?")
                        example_buttons = []
                        for heading, items in examples.items():
                            gr.Markdown(f"### {heading}")
                            for item in items:
                                example_buttons.append((gr.Button(item, size="sm", elem_classes=["sb-example"]), item))
                        with gr.Accordion("What this assistant knows, and what it can't do", open=True):
                            gr.Markdown(prompts().about.text)
                            about_documents = gr.HTML(render_document_list(bot.documents()))
            with gr.Tab("Documents", id="documents"):
                gr.Markdown("## The documents this assistant answers from")
                documents_table = gr.HTML(render_documents_table(bot.documents()), elem_id="sb-documents")
                remove_choice = None
                if admin_enabled:
                    with gr.Accordion("For administrators: add or remove documents", open=False, elem_id="sb-admin"):
                        with gr.Group(visible=True) as login_box:
                            password = gr.Textbox(label="Administrator password", type="password", elem_id="sb-password")
                            sign_in_button = gr.Button("Sign in", variant="primary", elem_id="sb-sign-in")
                        admin_status = gr.Markdown("", elem_id="sb-admin-status")
                        with gr.Column(visible=False, elem_id="sb-admin-tools") as admin_tools:
                            sign_out_button = gr.Button("Sign out", size="sm", elem_id="sb-sign-out")
                            gr.Markdown(prompts().app_admin_help.format(max_mb=f"{settings.max_upload_mb:g}"))
                            uploads = gr.File(label="Documents to add", file_count="multiple", elem_id="sb-upload")
                            add_button = gr.Button("Add these documents", variant="primary", elem_id="sb-add")
                            upload_result = gr.HTML("", elem_id="sb-upload-result")
                            remove_choice = gr.Dropdown(label="Document to remove", choices=[], elem_id="sb-remove-choice",
                                                        allow_custom_value=True)
                            remove_button = gr.Button("Remove this document", variant="stop", elem_id="sb-remove")
                            remove_result = gr.Markdown("")
                            export_button = gr.Button("Download the feedback as a spreadsheet (CSV)", elem_id="sb-export")
                            export_file = gr.File(label="Feedback file", interactive=False)
                            export_result = gr.Markdown("")

        # -- events --------------------------------------------------------------------------------------------------
        filters_in = [source_filter, kind_filter, date_from, date_to]
        chat_out = [chat, question, records_state]
        for trigger in (question.submit, ask_button.click):
            trigger(respond, [question, chat, records_state, *filters_in], chat_out, api_visibility="private",
                    concurrency_limit=4, concurrency_id="answer").then(None, js=SHOW_LATEST_JS)
        for button, item in example_buttons:
            button.click(
                functools.partial(respond, item), [chat, records_state, *filters_in], chat_out, api_visibility="private",
                concurrency_limit=4, concurrency_id="answer",
            ).then(None, js=SHOW_LATEST_JS)
        restart.click(start_again, None, [chat, records_state, question], api_visibility="private")
        chat.clear(lambda: {}, None, records_state, api_visibility="private")
        chat.like(on_feedback, [records_state], None, api_visibility="private")
        clear_filters.click(lambda: ([], [], "", ""), None, filters_in, api_visibility="private")

        refresh_out = [documents_table, about_documents, source_filter, kind_filter]
        if admin_enabled:
            refresh_out.append(remove_choice)
            sign_in_event = dict(fn=sign_in, inputs=[password],
                                 outputs=[admin_state, login_box, admin_tools, password, admin_status])
            sign_in_button.click(**sign_in_event, api_name="admin_sign_in", api_visibility="undocumented")
            password.submit(**sign_in_event, api_visibility="private")
            sign_out_button.click(sign_out, None, [admin_state, login_box, admin_tools, admin_status], api_name="admin_sign_out",
                                  api_visibility="undocumented")
            add_button.click(add_documents, [uploads, admin_state], [upload_result, *refresh_out],
                             api_name="add_documents", api_visibility="undocumented", concurrency_id="admin")
            remove_button.click(remove_document, [remove_choice, admin_state], [remove_result, *refresh_out],
                                api_name="remove_document", api_visibility="undocumented", concurrency_id="admin")
            export_button.click(export_feedback, [admin_state], [export_file, export_result],
                                api_name="export_feedback", api_visibility="undocumented")
        demo.load(refresh, None, refresh_out, api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_limit=4, concurrency_id="answer")
    return demo


# ---------------------------------------------------------------------------------------------------------------
# Serving: FastAPI app with the document route, uvicorn, and the command line
# ---------------------------------------------------------------------------------------------------------------

# After an answer arrives: bring the chat into view (example buttons sit below it on a phone) and scroll the
# conversation so the latest question and the start of its answer show, rather than the end of the source cards.
SHOW_LATEST_JS = """() => setTimeout(() => {
  const chat = document.getElementById('sb-chat');
  if (!chat) return;
  const box = chat.getBoundingClientRect();
  if (box.top < 0 || box.top > window.innerHeight * 0.6) chat.scrollIntoView({block: 'start'});
  const rows = chat.querySelectorAll('.message-row.user-row');
  const last = rows[rows.length - 1];
  let pane = last && last.parentElement;
  while (pane && pane !== chat && !(/auto|scroll/.test(getComputedStyle(pane).overflowY) && pane.scrollHeight > pane.clientHeight)) {
    pane = pane.parentElement;
  }
  if (pane && pane !== chat) pane.scrollTop += last.getBoundingClientRect().top - pane.getBoundingClientRect().top - 8;
}, 150)"""


CSS = """
.sb-visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
#sb-intro h1 { margin-bottom: 0.25em; }
.sb-answer p { display: block; margin: 0.35em 0; }
.sb-answer .sb-note { font-style: italic; }
.sb-answer a, .sb-docs a, .sb-doc-list a { color: var(--link-text-color); padding: 0; }
a.sb-marker { font-weight: 700; text-decoration: underline; padding: 0 0.15em; white-space: nowrap; }
.sb-answer a:focus-visible, .sb-docs a:focus-visible, .sb-doc-list a:focus-visible, .sb-docs-wrap:focus-visible {
  outline: 3px solid #1d4ed8; outline-offset: 2px; border-radius: 2px; }
.sb-sources-title { margin-top: 0.8em !important; }
ol.sb-cards { list-style: none; padding: 0; margin: 0.3em 0 0 0; }
li.sb-card { border: 1px solid var(--border-color-primary); border-left: 5px solid #1d4ed8; border-radius: 6px;
  padding: 0.6em 0.8em; margin: 0.5em 0; background: var(--background-fill-primary); scroll-margin-top: 1em; }
li.sb-card:target { outline: 3px solid #b45309; outline-offset: 1px; }
.sb-answer .sb-card-title { font-size: 1rem; font-weight: 600; line-height: 1.4; }
.sb-card-n { font-weight: 700; }
.sb-meta, .sb-file { font-size: 0.9em; color: var(--body-text-color-subdued); }
.sb-file { display: block; overflow-wrap: anywhere; }
blockquote.sb-passage { margin: 0.4em 0; padding: 0.2em 0 0.2em 0.8em; border-left: 3px solid var(--border-color-primary);
  font-size: 0.95em; overflow-wrap: anywhere; }
.sb-answer mark, .sb-passage mark { background: #fde68a; color: #111827; padding: 0 0.1em; }
.sb-docs-wrap { overflow-x: auto; }
table.sb-docs { width: 100%; border-collapse: collapse; border: 0; }
table.sb-docs caption { text-align: left; padding: 0.3em 0; color: var(--body-text-color-subdued); }
table.sb-docs th, table.sb-docs td { text-align: left; padding: 0.45em 0.6em; border: 0; border-bottom: 1px solid var(--border-color-primary);
  vertical-align: top; }
table.sb-docs td.sb-num { text-align: right; }
ul.sb-doc-list { list-style: disc; padding-left: 1.2em; }
ul.sb-doc-list li { margin: 0.3em 0; }
.sb-results .sb-error { color: #b91c1c; }
.dark .sb-results .sb-error { color: #fca5a5; }
button.sb-example { justify-content: flex-start; text-align: left; white-space: normal; }
@media (max-width: 640px) {
  table.sb-docs thead { display: none; }
  table.sb-docs tr { display: block; border-bottom: 1px solid var(--border-color-primary); padding: 0.4em 0; }
  table.sb-docs td { display: block; border: 0; padding: 0.1em 0; }
  table.sb-docs td.sb-num { text-align: left; }
  table.sb-docs td.sb-num::before { content: "Passages indexed: "; }
}
"""


def theme() -> gr.themes.Base:
    """Gradio's default look with darker blues so buttons, links and small text pass WCAG AA contrast.

    The font is Gradio's bundled Source Sans Pro (served by the app, never fetched from the internet) in its regular
    and bold files: the semibold file shipped with this Gradio is a few-KB stub missing most capitals.
    """
    font = [gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"]
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=font).set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="white",
        button_primary_background_fill_dark="*primary_600",
        link_text_color="*primary_700",
        link_text_color_visited="*primary_800",
        link_text_color_dark="*primary_300",
        body_text_color_subdued="*neutral_600",
        input_placeholder_color="*neutral_500",
        button_cancel_background_fill="#b91c1c",
        button_cancel_background_fill_hover="#991b1b",
        button_cancel_text_color="white",
        button_cancel_background_fill_dark="#b91c1c",
    )


def create_app(bot, settings: Settings) -> FastAPI:
    """The FastAPI app: /documents/{source} for indexed files, and the Gradio UI and API at /."""
    app = FastAPI(title=TITLE, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/documents/{source}")
    def document(source: str):
        record = bot.record(source)  # only files the index lists; the name never becomes a path
        if record is None:
            return PlainTextResponse("That document is not in the index.", status_code=404)
        path = Path(record.path)
        if not path.is_file():
            return PlainTextResponse("The file for this document is no longer on the server.", status_code=404)
        suffix = path.suffix.lower()
        disposition = "attachment" if suffix == ".docx" else "inline"
        headers = {
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(record.source)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        }
        if suffix in (".html", ".htm"):
            headers["Content-Security-Policy"] = "sandbox"  # saved web pages may carry scripts: never run them
        return FileResponse(path, media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"), headers=headers)

    demo = build_app(bot, settings)
    return gr.mount_gradio_app(
        app, demo, path="/", footer_links=["api"], run_history=False, show_error=False, ssr_mode=False,
        mcp_server=False, max_file_size=int(settings.max_upload_mb * 1024 * 1024), theme=theme(), css=CSS,
        i18n=gr.I18n(en={"chatbot.like": "Helpful", "chatbot.dislike": "Not helpful"}),
    )


class ReadyServer(uvicorn.Server):
    """uvicorn's server, calling `on_ready` once the socket is listening."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.on_ready()


def say(message: str) -> None:
    print(message, flush=True)


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """Open the index (ingesting the bundled corpus into an empty one), then serve until interrupted."""
    from index.embedder import ModelError
    from index.store import IndexDamaged
    from sendbot.bot import SendBot

    started = time.perf_counter()
    settings = settings or load_settings()
    host, port = resolve_address(host, port)
    say(f"Starting sendbot: index in {settings.data_dir}")
    try:
        bot = SendBot.open(settings, progress=say)
    except (ModelError, IndexDamaged) as error:
        raise SystemExit(f"sendbot cannot start: {error}") from None
    documents = bot.documents()
    say(f"{len(documents)} documents, {sum(r.chunks for r in documents)} passages indexed.")
    if settings.admin_password:
        say("Administrator uploads are on (SENDBOT_ADMIN_PASSWORD is set).")
    app = create_app(bot, settings)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown if ':' not in shown else f'[{shown}]'}:{port}/"

    def ready() -> None:
        say(f"sendbot is ready at {url} (started in {time.perf_counter() - started:.1f}s). Press Ctrl+C to stop.")

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    server = ReadyServer(config, ready)
    server.run()
    if not server.started:
        raise SystemExit(f"Could not start the web server on {host}:{port} (is the port already in use?).")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python app.py", description=f"Start the {TITLE} web app.")
    parser.add_argument("--host", help=f"address to listen on (default $GRADIO_SERVER_NAME or {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, help=f"port to listen on (default $GRADIO_SERVER_PORT or {DEFAULT_PORT})")
    parser.add_argument("--data-dir", type=Path, help="where the index lives (default $SENDBOT_DATA_DIR or ./data)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(data_dir=args.data_dir)
        resolve_address(args.host, args.port)
    except ValueError as error:
        parser.error(str(error))
    serve(settings, args.host, args.port)


if __name__ == "__main__":
    main()
