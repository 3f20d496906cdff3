"""What the web app does when someone uses it: ask, rate an answer, show the administrators' panel, add or remove
documents.

`WebHandlers` holds the bot, the settings, the feedback store and the administration (admin.py: who is signed in);
layout.py wires its methods to Gradio events. The methods take and return plain values, so tests call them without
a server. Gradio's own types appear only where Gradio needs them: component updates (`gr.update`), the API's error
(`gr.Error`), the request (whose cookie says who is an administrator), the like event's data and the upload
progress bar. Whatever goes wrong while answering, the person asking gets a plain message, never a traceback.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from ingest.uploads import add_uploads
from sendbot.core.config import Settings
from sendbot.core.dates import format_date
from sendbot.core.models import CITATION_FIELDS, Answer, Filters
from sendbot.feedback import FeedbackStore
from sendbot.web.admin import NOT_SIGNED_IN, SIGNED_IN, SIGNED_OUT, Administration, admin_only
from sendbot.web.render import (describe_filters, esc, render_answer, render_document_list, render_documents_table,
                                render_note, render_upload_results, short_title)

if TYPE_CHECKING:
    from sendbot.bot import SendBot

ANSWER_FAILED = "Something went wrong while answering. Please try again, or ask in different words."

logger = logging.getLogger(__name__)


def _panel(signed_in: bool, status: str) -> tuple:
    """The administrators' panel: the sign-in box, the tools, an emptied password box and a status line."""
    return gr.update(visible=not signed_in), gr.update(visible=signed_in), "", status


class WebHandlers:
    """The app's event handlers over one bot; `bot` is a SendBot (or anything with ask/documents/record/ingest/remove)."""

    def __init__(self, bot: SendBot, settings: Settings, feedback: FeedbackStore) -> None:
        self.bot = bot
        self.settings = settings
        self.feedback = feedback
        self.admin = Administration(settings.admin_password)
        self._admin_lock = threading.Lock()  # one upload or removal at a time

    # -- what the lists and filters offer ----------------------------------------------------------------------------

    def titles(self) -> dict[str, str]:
        """Each indexed document's title by file name (for the note saying how a search was narrowed)."""
        return {r.source: r.title for r in self.bot.documents()}

    def document_choices(self) -> list[tuple[str, str]]:
        """The 'only these documents' filter's choices: (title and date, file name)."""
        return [(f"{short_title(r.title, 70)} ({format_date(r.date, r.period)})", r.source) for r in self.bot.documents()]

    def kind_choices(self) -> list[str]:
        """The 'only these kinds of document' filter's choices."""
        return sorted({r.kind for r in self.bot.documents() if r.kind})

    def removal_choices(self) -> list[tuple[str, str]]:
        """The administrator's 'document to remove' choices: (title and file name, file name)."""
        return [(f"{short_title(r.title, 70)} ({r.source})", r.source) for r in self.bot.documents()]

    def _answer(self, question: str, filters: Filters) -> Answer:
        return self.bot.ask(question, filters)  # one over the length limit is refused, saying why

    # -- chat --------------------------------------------------------------------------------------------------------

    def respond(self, question, history, answers, sources, kinds, date_from, date_to):
        """Answer a question in the chat: returns the conversation, the question box and the answers shown.

        `answers` maps each answer's place in the conversation to what feedback on it saves. A date the filters
        can't read, or any failure while answering, is explained in the chat, and the question stays in its box to
        try again.
        """
        question = (question or "").strip()
        if not question:
            return history, "", answers
        history = list(history or []) + [{"role": "user", "content": esc(question)}]
        try:
            filters = Filters.parse(sources, kinds, date_from, date_to)
        except ValueError as error:
            return [*history, {"role": "assistant", "content": render_note(str(error))}], question, answers
        try:
            return self._reply(question, history, answers, filters)
        except Exception:
            logger.exception("Answering a question in the chat failed")
            return [*history, {"role": "assistant", "content": render_note(ANSWER_FAILED)}], question, answers

    def _reply(self, question: str, history: list, answers, filters: Filters):
        """The conversation with the answer to `question` added, an emptied question box, and the answers shown."""
        reply = self._answer(question, filters)
        turn = len(history)
        content = render_answer(reply, turn, describe_filters(filters, self.titles()))
        shown = {"id": uuid.uuid4().hex, "answer": reply.to_json(), "filters": filters.to_json()}
        return [*history, {"role": "assistant", "content": content}], "", {**(answers or {}), turn: shown}

    def start_again(self):
        """An empty conversation, no answers to rate, an empty question box."""
        return [], {}, ""

    def on_feedback(self, answers, data: gr.LikeData, request: gr.Request) -> None:
        """The chat's Helpful / Not helpful buttons: save the vote, or withdraw it when clicked again."""
        turn = data.index if isinstance(data.index, int) else data.index[0]
        session = getattr(request, "session_hash", None) or "unknown"
        if self.vote(answers, turn, data.liked, session):
            gr.Info("Thank you. Your feedback has been saved.")

    def vote(self, answers, turn: int, liked, session: str) -> bool:
        """Save a vote (`liked` True or False) on the answer at `turn`, or withdraw it (anything else).

        Returns True when a vote was saved; a turn that is not an answer is ignored.
        """
        shown = (answers or {}).get(turn)
        if shown is None:
            return False
        if liked is True or liked is False:
            self.feedback.record(session, shown["id"], liked, shown["answer"], shown["filters"])
            return True
        self.feedback.withdraw(session, shown["id"])
        return False

    # -- API ---------------------------------------------------------------------------------------------------------

    def ask(self, question: str, sources: list[str] | None = None, kinds: list[str] | None = None,
            date_from: str = "", date_to: str = "") -> dict:
        """Answer a question from the SEND documents, citing a source for every sentence.

        Optional filters: sources (document file names), kinds (e.g. "minutes"), date_from / date_to
        (2023-05-24, 24/05/2023, May 2023 or 2023). Returns the same JSON object as `sendbot ask --json`:
        {{"question", "answer", "refused", "citations": [{{{citation_fields}}}], "answerer"}}.
        """
        known = {r.source for r in self.bot.documents()}
        unknown = [s for s in sources or () if s not in known]
        if unknown:
            raise gr.Error(f"Unknown document(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}.")
        try:
            filters = Filters.parse(sources, kinds, date_from, date_to)
        except ValueError as error:
            raise gr.Error(str(error)) from None
        try:
            return self._answer(question or "", filters).to_json()
        except Exception:
            logger.exception("Answering a question through the API failed")
            raise gr.Error(ANSWER_FAILED, print_exception=False) from None

    # -- documents and administration --------------------------------------------------------------------------------

    def refresh(self) -> tuple:
        """The documents table, the 'documents it knows' list and the filter choices (and, with administration
        on, the removal choices), as they are now."""
        records = self.bot.documents()
        updates = [
            render_documents_table(records),
            render_document_list(records),
            gr.update(choices=self.document_choices()),
            gr.update(choices=self.kind_choices()),
        ]
        if self.admin.enabled:
            updates.append(gr.update(choices=self.removal_choices(), value=None))
        return tuple(updates)

    def admin_panel(self, request: gr.Request, message: str = ""):
        """The administrators' panel as this request's session cookie allows: the sign-in box, the tools, an emptied
        password box and a status line (`message`, what the sign-in route said, unless signed in).

        Signing in and out happen on admin.py's routes, called from the page's script, which set or clear the
        cookie; this only shows the outcome. The password itself never passes through Gradio.
        """
        signed_in = self.admin.is_admin(request)
        return _panel(signed_in, SIGNED_IN if signed_in else esc(message or ""))

    def signed_out(self):
        """The panel after signing out: the sign-in box again, the tools hidden."""
        return _panel(False, SIGNED_OUT)

    @admin_only
    def add_documents(self, files, request: gr.Request, progress=gr.Progress()):
        """Add uploaded files to the index (administrators only): each file's outcome, then the refreshed lists."""
        if not self.admin.is_admin(request):
            return (f"<p>{NOT_SIGNED_IN}</p>", *self.refresh())

        def step(done: int, total: int) -> None:
            progress((done, total), desc=f"Read {done} of {total} files" if done else f"Reading {total} file(s)…")

        with self._admin_lock:
            results = add_uploads([Path(f) for f in files or []], self.bot.ingest, self.settings.uploads_dir,
                                  self.settings.max_upload_mb, step)
        return (render_upload_results(results), *self.refresh())

    @admin_only
    def remove_document(self, source, request: gr.Request):
        """Remove a document from the index (administrators only), and its file if it was uploaded through the
        app; files elsewhere are never deleted. Returns a message, then the refreshed lists."""
        if not self.admin.is_admin(request):
            return (NOT_SIGNED_IN, *self.refresh())
        if not source:
            return ("Please choose a document to remove.", *self.refresh())
        with self._admin_lock:
            record = self.bot.record(source)
            removed = self.bot.remove(source)
            if removed and record and Path(record.path).resolve().parent == self.settings.uploads_dir.resolve():
                Path(record.path).unlink(missing_ok=True)
        message = f"Removed {source}." if removed else f"{source} was not in the list."
        return (message, *self.refresh())


# The API page shows this docstring: its citation fields come from the model, so they cannot drift from the contract.
WebHandlers.ask.__doc__ = WebHandlers.ask.__doc__.format(citation_fields=", ".join(f'"{f}"' for f in CITATION_FIELDS))
