"""What the web app does when someone uses it: ask, rate an answer, sign in, add or remove documents, export.

`WebHandlers` holds the bot, the settings and the feedback store; layout.py wires its methods to Gradio events.
The methods take and return plain values, so tests call them without a server. Gradio's own types appear only
where Gradio needs them: component updates (`gr.update`), the API's error (`gr.Error`), the like event's data and
the upload progress bar.
"""

from __future__ import annotations

import hmac
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from ingest.uploads import add_uploads
from sendbot.core.config import Settings
from sendbot.core.dates import format_date
from sendbot.core.models import Answer, Filters
from sendbot.feedback import FeedbackStore
from sendbot.web.render import (describe_filters, esc, render_answer, render_document_list, render_documents_table,
                                render_note, render_upload_results, short_title)

if TYPE_CHECKING:
    from sendbot.bot import SendBot

MAX_QUESTION_CHARS = 1000
NOT_SIGNED_IN = "Please sign in as an administrator first."


def _admin_view(signed_in: bool) -> tuple:
    """The administrator state and panel visibility: (signed in?, the sign-in box, the tools)."""
    return signed_in, gr.update(visible=not signed_in), gr.update(visible=signed_in)


class WebHandlers:
    """The app's event handlers over one bot; `bot` is a SendBot (or anything with ask/documents/record/ingest/remove)."""

    wrong_password_delay = 1.0  # seconds before a wrong password is answered: slows down guessing

    def __init__(self, bot: SendBot, settings: Settings, feedback: FeedbackStore) -> None:
        self.bot = bot
        self.settings = settings
        self.feedback = feedback
        self.admin_enabled = bool(settings.admin_password)
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
        return self.bot.ask(question[:MAX_QUESTION_CHARS], filters)

    # -- chat --------------------------------------------------------------------------------------------------------

    def respond(self, question, history, answers, sources, kinds, date_from, date_to):
        """Answer a question in the chat: returns the conversation, the question box and the answers shown.

        `answers` maps each answer's place in the conversation to what feedback on it saves. A date the filters
        can't read is explained in the chat, and the question stays in its box to try again.
        """
        question = (question or "").strip()
        if not question:
            return history, "", answers
        history = list(history or []) + [{"role": "user", "content": esc(question)}]
        try:
            filters = Filters.parse(sources, kinds, date_from, date_to)
        except ValueError as error:
            history.append({"role": "assistant", "content": render_note(str(error))})
            return history, question, answers
        reply = self._answer(question, filters)
        turn = len(history)
        history.append({"role": "assistant", "content": render_answer(reply, turn, describe_filters(filters, self.titles()))})
        shown = {"id": uuid.uuid4().hex, "answer": reply.to_json(), "filters": filters.to_json()}
        return history, "", {**(answers or {}), turn: shown}

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
        (YYYY-MM-DD). Returns the same JSON object as `sendbot ask --json`: {"question", "answer", "refused",
        "citations": [{"n", "source", "title", "date", "page", "section", "text", "quote", "score"}]}.
        """
        known = {r.source for r in self.bot.documents()}
        unknown = [s for s in sources or () if s not in known]
        if unknown:
            raise gr.Error(f"Unknown document(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}.")
        try:
            filters = Filters.parse(sources, kinds, date_from, date_to)
        except ValueError as error:
            raise gr.Error(str(error)) from None
        return self._answer(question or "", filters).to_json()

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
        if self.admin_enabled:
            updates.append(gr.update(choices=self.removal_choices(), value=None))
        return tuple(updates)

    def is_admin(self, state) -> bool:
        """Whether this session has signed in (and administration is on at all)."""
        return self.admin_enabled and state is True

    def sign_in(self, password):
        """Check the administrator password: returns the admin state, the panel's visibility, an emptied password
        box and a status line."""
        ok = self.admin_enabled and hmac.compare_digest((password or "").encode(), self.settings.admin_password.encode())
        if not ok:
            time.sleep(self.wrong_password_delay)
            return (*_admin_view(False), "", "That password is not right. Please try again.")
        return (*_admin_view(True), "", "You are signed in as an administrator.")

    def sign_out(self):
        """Leave administration: the admin state, the panel's visibility and a status line."""
        return (*_admin_view(False), "You have signed out.")

    def add_documents(self, files, state, progress=gr.Progress()):
        """Add uploaded files to the index (administrators only): each file's outcome, then the refreshed lists."""
        if not self.is_admin(state):
            return (f"<p>{NOT_SIGNED_IN}</p>", *self.refresh())

        def step(done: int, total: int) -> None:
            progress((done, total), desc=f"Read {done} of {total} files" if done else f"Reading {total} file(s)…")

        with self._admin_lock:
            results = add_uploads([Path(f) for f in files or []], self.bot.ingest, self.settings.uploads_dir,
                                  self.settings.max_upload_mb, step)
        return (render_upload_results(results), *self.refresh())

    def remove_document(self, source, state):
        """Remove a document from the index (administrators only), and its file if it was uploaded through the
        app; files elsewhere are never deleted. Returns a message, then the refreshed lists."""
        if not self.is_admin(state):
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

    def export_feedback(self, state):
        """The feedback as a CSV file to download (administrators only), and a line saying how many votes.

        The file is written to the data directory's exports/ folder, replacing the previous export.
        """
        if not self.is_admin(state):
            return None, NOT_SIGNED_IN
        folder = self.settings.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        for earlier in folder.glob("sendbot-feedback-*.csv"):
            earlier.unlink()  # only the latest export is kept: Gradio serves its own copy, which it cleans up
        out = folder / f"sendbot-feedback-{date.today().isoformat()}.csv"
        count = self.feedback.export_csv(out)
        return str(out), f"{count} feedback {'entry' if count == 1 else 'entries'} exported."
