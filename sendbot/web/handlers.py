"""What the web app does when someone uses it: ask, rate an answer, show the administrators' panel, add or remove
documents, sync the council's sites.

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

from ingest.sync.state import synced_documents
from ingest.uploads import add_uploads
from retrieve.conversation import Resolved, resolve, topic_of
from sendbot.core.config import Settings
from sendbot.core.dates import format_date, parse_day
from sendbot.core.models import CITATION_FIELDS, Answer, Filters, Passage
from sendbot.core.topics import clean_title, passage_topics
from sendbot.feedback import FeedbackStore
from sendbot.web.admin import NOT_SIGNED_IN, SIGNED_IN, SIGNED_OUT, Administration, admin_only
from sendbot.web.chat import last_exchange, render_conversation
from sendbot.web.render import (Around, describe_filters, esc, render_answer, render_document_list,
                                render_documents_table, render_note, render_upload_results, short_title)
from sendbot.web.suggest import missing_words
from sendbot.web.sync import sync_configured

if TYPE_CHECKING:
    from sendbot.bot import SendBot

ANSWER_FAILED = "Something went wrong while answering. Please try again, or ask in different words."
FOLLOW_UPS = 3  # questions offered after an answer (or topics after a refusal)

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

    def respond(self, question, history, answers, sources, kinds, date_from, date_to, standalone: bool = False):
        """Answer a question in the chat: returns the conversation, the question box and the answers shown.

        A follow-up ("can I complain about the delay?") is read against the previous answer, unless `standalone`.
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
            return self._reply(question, history, answers, filters, standalone)
        except Exception:
            logger.exception("Answering a question in the chat failed")
            return [*history, {"role": "assistant", "content": render_note(ANSWER_FAILED)}], question, answers

    def _reply(self, question: str, history: list, answers, filters: Filters, standalone: bool):
        """The conversation with the answer to `question` added, an emptied question box, and the answers shown."""
        read = Resolved(question, topic_of(question), False) if standalone else resolve(question, *last_exchange(history))
        reply, passages = self.bot.ask_with_passages(read.question, filters)
        turn = len(history)
        around = Around(asked=question, topic=read.topic if read.follow_up else "",
                        filters_note=describe_filters(filters, self.titles()),
                        follow_ups=tuple(self.next_questions(reply, passages)),
                        missing=tuple(missing_words(question, self.bot.vocabulary()) if reply.reason == "not_found" else ()))
        message = {"role": "assistant", "content": render_answer(reply, turn, around), "searched": read.question,
                   "topic": read.topic}
        shown = {"id": uuid.uuid4().hex, "answer": reply.to_json(), "filters": filters.to_json()}
        return [*history, message], "", {**(answers or {}), turn: shown}

    def next_questions(self, reply: Answer, passages: list[Passage]) -> list[str]:
        """Up to FOLLOW_UPS clean section titles of the passages the question found (the reply's nearest topics, from
        the whole ranked pool, else its top passages), not those it quotes: questions the documents answer, in their
        own words (see sendbot.core.topics.clean_title for how well they answer)."""
        offered = [t for t in reply.nearest_topics if clean_title(t) == t]  # from the whole ranked pool (bot.py)
        if offered:
            return offered[:FOLLOW_UPS]
        return passage_topics(passages, exclude=[c.section for c in reply.citations] + [reply.question],
                              limit=FOLLOW_UPS)

    def respond_shown(self, question, history, answers, sources, kinds, date_from, date_to, standalone=False):
        """`respond`, plus the conversation rendered for the page."""
        history, box, answers = self.respond(question, history, answers, sources, kinds, date_from, date_to,
                                             standalone)
        return history, box, answers, render_conversation(history)

    def hold(self, question, history):
        """The question being asked (kept for the answering step) and the conversation showing it, with a
        'finding the passages' status, while the answer is found."""
        question = (question or "").strip()
        return question, render_conversation(history, pending=question)

    def hold_tapped(self, history, data: gr.EventData):
        """`hold` for a question tapped in the conversation (a follow-up, a nearby topic, 'ask it on its own'):
        the question and whether to ask it without the conversation."""
        event = getattr(data, "_data", None) or {}
        question = str(event.get("question") or "")
        return (*self.hold(question, history), bool(event.get("standalone")))

    def start_again(self):
        """An empty conversation, no answers to rate, an empty question box, and the empty page."""
        return [], {}, "", render_conversation([])

    def on_load(self, history, answers, sources, kinds, date_from, date_to, request: gr.Request):
        """The page opening: the conversation kept in the browser, and a shared link's question (?q=...) asked."""
        shared = (dict(getattr(request, "query_params", None) or {}).get("q") or "").strip()
        if shared:
            return self.respond_shown(shared[: self.settings.max_question_chars], history, answers, sources, kinds,
                                      date_from, date_to, standalone=True)
        if not history:  # nothing kept: leave the page alone, in case a question is already on its way
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return history, gr.skip(), gr.skip(), render_conversation(history)

    def on_vote(self, answers, data: gr.EventData, request: gr.Request) -> None:
        """An answer's Helpful / Not helpful buttons: save the vote, or withdraw it when pressed again."""
        event = getattr(data, "_data", None) or {}
        liked = {"up": True, "down": False}.get(event.get("vote"))
        try:
            turn = int(event.get("turn"))
        except (TypeError, ValueError):
            return
        session = getattr(request, "session_hash", None) or "unknown"
        if self.vote(answers, turn, liked, session):
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

    def documents_table(self, records: list | None = None) -> str:
        """The Documents tab's table as it is now, with each synced document's origin and last sync."""
        records = self.bot.documents() if records is None else records
        return render_documents_table(records, synced_documents(self.settings.sync_state))

    def refresh(self) -> tuple:
        """The documents table, the 'documents it knows' list and the filter choices (and, with administration
        on, the removal choices), as they are now."""
        records = self.bot.documents()
        updates = [
            self.documents_table(records),
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

    @staticmethod
    def upload_details(title: str, date: str, kind: str, publisher: str) -> dict:
        """What the administrator typed for the next upload (kept in the session until it is added)."""
        return {"title": title or "", "date": date or "", "kind": kind or "", "publisher": publisher or ""}

    @admin_only
    def add_documents(self, files, details: dict | None = None, request: gr.Request = None, progress=gr.Progress()):
        """Add uploaded files to the index (administrators only), with the title, date, kind and publisher the
        administrator set (`details`; blank: the file's own): each file's outcome, then the refreshed lists."""
        if not self.admin.is_admin(request):
            return (f"<p>{NOT_SIGNED_IN}</p>", *self.refresh())
        typed = {key: " ".join(str(value or "").split()) for key, value in (details or {}).items()}
        try:
            day = parse_day(typed.get("date"))
        except ValueError as error:
            return (f"<p>Nothing was added: {esc(error)}</p>", *self.refresh())
        typed["date"] = day.isoformat() if day else ""

        def step(done: int, total: int) -> None:
            progress((done, total), desc=f"Read {done} of {total} files" if done else f"Reading {total} file(s)…")

        with self._admin_lock:
            results = add_uploads([Path(f) for f in files or []], self.bot.ingest, self.settings.uploads_dir,
                                  self.settings.max_upload_mb, step, typed)
        return (render_upload_results(results), *self.refresh())

    @admin_only
    def sync_sources(self, request: gr.Request = None, progress=gr.Progress()):
        """Sync the council's sites listed in the sources file (administrators only), as `sendbot sync` does, then
        reload the bot so questions see what changed: the sync's summary, then the refreshed lists."""
        if not self.admin.is_admin(request):
            return (f"<p>{NOT_SIGNED_IN}</p>", *self.refresh())
        progress(None, desc="Syncing the council's sites…")
        with self._admin_lock:
            summary = sync_configured(self.settings, lambda line: progress(None, desc=" ".join(line.split())[:120]))
            self.bot.reload()
        return (summary, *self.refresh())

    @admin_only
    def remove_document(self, source, request: gr.Request):
        """Remove a document from the index (administrators only), and its file if it was uploaded through the
        app; files elsewhere are never deleted. Returns a message, then the refreshed lists."""
        if not self.admin.is_admin(request):
            return (NOT_SIGNED_IN, *self.refresh())
        if not source:  # none chosen, or the confirmation was cancelled
            return ("Nothing was removed: choose a document, then confirm.", *self.refresh())
        with self._admin_lock:
            record = self.bot.record(source)
            removed = self.bot.remove(source)
            if removed and record and Path(record.path).resolve().parent == self.settings.uploads_dir.resolve():
                Path(record.path).unlink(missing_ok=True)
        message = f"Removed {source}." if removed else f"{source} was not in the list."
        return (message, *self.refresh())


# The API page shows this docstring: its citation fields come from the model, so they cannot drift from the contract.
WebHandlers.ask.__doc__ = WebHandlers.ask.__doc__.format(citation_fields=", ".join(f'"{f}"' for f in CITATION_FIELDS))
