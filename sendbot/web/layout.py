"""The page: Gradio Blocks laid out tab by tab, then each control wired to its WebHandlers method.

Building and wiring are separate steps: the build_* functions return the components the wiring needs (as the small
dataclasses below), and the wire_* functions connect them to handlers. Nothing here decides anything itself.
`admin_events` tells app.py which events are for administrators only, for the gate in front of Gradio.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import gradio as gr

from sendbot.core.prompts import prompts
from sendbot.web.chat import render_conversation
from sendbot.web.commitments import build_commitments_tab
from sendbot.web.handlers import WebHandlers
from sendbot.web.render import load_examples, render_document_list
from sendbot.web.theme import static_text

TITLE = "SEND documents assistant"
# Questions (chat, examples and the API) share one pool of four workers.
ANSWERING = dict(concurrency_limit=4, concurrency_id="answer")


@dataclass
class ChatTab:
    """The 'Ask a question' tab's controls."""

    chat: gr.HTML  # the conversation as the page shows it (chat.py), with the script for its buttons (chat.js)
    history: gr.BrowserState  # the conversation, kept in the browser across reloads
    answers: gr.State  # the answers shown, by place in the conversation: what a vote on each saves
    asking: gr.State  # the question being answered, handed from showing it to answering it
    standalone: gr.State  # whether a tapped question is asked without the conversation before it
    question: gr.Textbox
    ask_button: gr.Button
    restart: gr.Button
    source_filter: gr.CheckboxGroup
    kind_filter: gr.CheckboxGroup
    date_from: gr.Textbox
    date_to: gr.Textbox
    clear_filters: gr.Button
    examples: list[tuple[gr.Button, str]]
    about_documents: gr.HTML

    @property
    def filters(self) -> list:
        return [self.source_filter, self.kind_filter, self.date_from, self.date_to]


@dataclass
class AdminPanel:
    """The administrators' controls on the Documents tab (only built when a password is set)."""

    login_box: gr.Group
    password: gr.Textbox
    sign_in_button: gr.Button
    status: gr.Markdown
    tools: gr.Column
    sign_out_button: gr.Button
    uploads: gr.File
    details: list  # title, date, kind, publisher set for an upload (blank: the file's own)
    typed_details: gr.State  # what they hold, handed to the upload (a State, so the API takes only the files)
    add_button: gr.Button
    upload_result: gr.HTML
    remove_choice: gr.Dropdown
    remove_button: gr.Button
    remove_result: gr.Markdown
    sync_button: gr.Button  # sync the council's sites (sources file), then show the summary
    sync_result: gr.HTML


def build_blocks(handlers: WebHandlers) -> gr.Blocks:
    """The whole user interface over one set of handlers, with the `/ask` API endpoint."""
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        gr.Markdown(f"# {TITLE}\n\n{prompts().app_intro.text}", elem_id="sb-intro")
        with gr.Tabs():
            with gr.Tab("Ask a question", id="ask"):
                chat_tab = build_chat_tab(handlers)
            with gr.Tab("Documents", id="documents"):
                gr.Markdown("## The documents this assistant answers from")
                documents_table = gr.HTML(handlers.documents_table(), elem_id="sb-documents")
                admin = build_admin_panel(handlers) if handlers.admin.enabled else None
            with gr.Tab("Commitments", id="commitments"):
                build_commitments_tab(handlers.settings)
        wire_chat(handlers, chat_tab, demo)
        refreshed = [documents_table, chat_tab.about_documents, chat_tab.source_filter, chat_tab.kind_filter]
        if admin:
            refreshed.append(admin.remove_choice)
            wire_admin(handlers, admin, refreshed, demo)
        demo.load(handlers.refresh, None, refreshed, api_visibility="private", show_progress="hidden")
        gr.api(handlers.ask, api_name="ask", **ANSWERING)
    return demo


def build_chat_tab(handlers: WebHandlers) -> ChatTab:
    """The conversation and question box with the optional filters, beside example questions and the about note."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            chat, question, ask_button, restart = _build_conversation(handlers.settings.max_question_chars)
            with gr.Accordion("Narrow the search (optional)", open=False, elem_id="sb-filters"):
                gr.Markdown(prompts().app_filters_help.text)
                source_filter = gr.CheckboxGroup(label="Only these documents", choices=handlers.document_choices())
                kind_filter = gr.CheckboxGroup(label="Only these kinds of document", choices=handlers.kind_choices())
                with gr.Row():
                    date_from = gr.Textbox(label="From date", placeholder="e.g. 01/01/2023", min_width=140)
                    date_to = gr.Textbox(label="To date", placeholder="e.g. 31/12/2024", min_width=140)
                clear_filters = gr.Button("Clear the filters", size="sm")
        with gr.Column(scale=2, min_width=280, elem_id="sb-side"):
            examples = _build_examples()
            with gr.Accordion("What this assistant knows, and what it can't do", open=True):
                gr.Markdown(prompts().about.text)
                about_documents = gr.HTML(render_document_list(handlers.bot.documents()))
    history = gr.BrowserState([], storage_key="sendbot-conversation")
    return ChatTab(chat, history, gr.State({}), gr.State(""), gr.State(False), question, ask_button, restart,
                   source_filter, kind_filter, date_from, date_to, clear_filters, examples, about_documents)


def _build_conversation(max_question_chars: int) -> tuple[gr.HTML, gr.Textbox, gr.Button, gr.Button]:
    """The conversation, the question box (as long as a question may be) with its Ask button, and Start again."""
    chat = gr.HTML(render_conversation([]), elem_id="sb-chat", js_on_load=static_text("chat.js"),
                   elem_classes=["sb-chat"])
    with gr.Row(equal_height=False, elem_id="sb-ask-row"):
        question = gr.Textbox(
            label="Your question", placeholder="For example: what happens if my EP assessment is late?",
            lines=1, max_lines=4, scale=5, min_width=220, elem_id="sb-question", submit_btn=False,
            max_length=max_question_chars,
        )
        ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="sb-ask")
    restart = gr.Button("Start again", variant="secondary", size="sm", elem_id="sb-restart")
    return chat, question, ask_button, restart


def _build_examples() -> list[tuple[gr.Button, str]]:
    """A button for each example question, under its group's heading; returns (button, question) pairs."""
    gr.Markdown("## Not sure what to ask?")
    buttons = []
    for heading, questions in load_examples().items():
        gr.Markdown(f"### {heading}")
        for text in questions:
            buttons.append((gr.Button(text, size="sm", elem_classes=["sb-example"]), text))
    return buttons


def build_admin_panel(handlers: WebHandlers) -> AdminPanel:
    """Sign in, then add documents, remove one, or download the feedback; the tools stay hidden until signed in."""
    with gr.Accordion("For administrators: add or remove documents", open=False, elem_id="sb-admin"):
        with gr.Group(visible=True) as login_box:
            password = gr.Textbox(label="Administrator password", type="password", elem_id="sb-password")
            sign_in_button = gr.Button("Sign in", variant="primary", elem_id="sb-sign-in")
        status = gr.Markdown("", elem_id="sb-admin-status")
        with gr.Column(visible=False, elem_id="sb-admin-tools") as tools:
            sign_out_button = gr.Button("Sign out", size="sm", elem_id="sb-sign-out")
            gr.Markdown(prompts().app_admin_help.format(max_mb=f"{handlers.settings.max_upload_mb:g}"))
            uploads = gr.File(label="Documents to add", file_count="multiple", elem_id="sb-upload")
            details = _build_upload_details(handlers)
            add_button = gr.Button("Add these documents", variant="primary", elem_id="sb-add")
            upload_result = gr.HTML("", elem_id="sb-upload-result")
            remove_choice = gr.Dropdown(label="Document to remove", choices=[], elem_id="sb-remove-choice",
                                        allow_custom_value=True)
            remove_button = gr.Button("Remove this document", variant="stop", elem_id="sb-remove")
            remove_result = gr.Markdown("")
            sync_button, sync_result = _build_sync()
            gr.HTML('<a class="sb-download" href="admin/feedback.csv" download>'
                    "Download the feedback as a spreadsheet (CSV)</a>", elem_id="sb-export")
    return AdminPanel(login_box, password, sign_in_button, status, tools, sign_out_button, uploads, details,
                      gr.State({}), add_button, upload_result, remove_choice, remove_button, remove_result,
                      sync_button, sync_result)


def _build_sync() -> tuple[gr.Button, gr.HTML]:
    """Sync the council's sites now (the sources file's ModernGov committees and Local Offer pages), and its summary."""
    gr.Markdown("### Sync with the council's sites\n\nFetches the committee papers and Local Offer pages listed in "
                "the sources file, and indexes what is new or changed (as `sendbot sync` does).")
    return gr.Button("Sync the council's sites now", elem_id="sb-sync"), gr.HTML("", elem_id="sb-sync-result")


def _build_upload_details(handlers: WebHandlers) -> list:
    """Title, date, kind and publisher for the documents being added; left blank, each comes from the file."""
    with gr.Accordion("Title, date and kind (optional: otherwise taken from the file)", open=False,
                      elem_id="sb-upload-details"):
        title = gr.Textbox(label="Title", elem_id="sb-upload-title")
        with gr.Row():
            date = gr.Textbox(label="Date", placeholder="e.g. 24/05/2023", min_width=140, elem_id="sb-upload-date")
            kind = gr.Dropdown(label="Kind of document", choices=handlers.kind_choices(), value=None,
                               allow_custom_value=True, min_width=160, elem_id="sb-upload-kind")
        publisher = gr.Textbox(label="Publisher", elem_id="sb-upload-publisher")
    return [title, date, kind, publisher]


def wire_chat(handlers: WebHandlers, tab: ChatTab, demo: gr.Blocks) -> None:
    """Asking (Enter, the Ask button, an example, or a question tapped in the conversation): the question shows at
    once with a 'finding the passages' status, then its answer. Also: a shared link's question on load, votes,
    starting again and clearing the filters."""
    quick = dict(api_visibility="private", queue=False, show_progress="hidden")
    answer = dict(fn=handlers.respond_shown, outputs=[tab.history, tab.question, tab.answers, tab.chat],
                  show_progress="hidden", api_visibility="private", **ANSWERING)
    inputs = [tab.asking, tab.history, tab.answers, *tab.filters]
    show_latest = dict(fn=None, js=static_text("show_latest.js"))
    for trigger in (tab.question.submit, tab.ask_button.click):
        trigger(handlers.hold, [tab.question, tab.history], [tab.asking, tab.chat], **quick).then(
            inputs=inputs, **answer).then(**show_latest)
    for button, text in tab.examples:
        button.click(functools.partial(handlers.hold, text), [tab.history], [tab.asking, tab.chat], **quick).then(
            inputs=inputs, **answer).then(**show_latest)
    tab.chat.click(handlers.hold_tapped, [tab.history], [tab.asking, tab.chat, tab.standalone], **quick).then(
        inputs=[*inputs, tab.standalone], **answer).then(**show_latest)
    tab.chat.select(handlers.on_vote, [tab.answers], None, api_visibility="private")
    demo.load(handlers.on_load, [tab.history, tab.answers, *tab.filters], answer["outputs"],
              api_visibility="private", show_progress="hidden", queue=False).then(**show_latest)
    tab.restart.click(handlers.start_again, None, [tab.history, tab.answers, tab.question, tab.chat],
                      api_visibility="private")
    tab.clear_filters.click(lambda: ([], [], "", ""), None, tab.filters, api_visibility="private")


def wire_admin(handlers: WebHandlers, admin: AdminPanel, refreshed: list, demo: gr.Blocks) -> None:
    """Sign in and out (the page's script calls admin.py's routes, then the panel shows what the session cookie
    allows, also on page load), add and remove documents (each then refreshes `refreshed`).

    Adding and removing have API names so tests can drive them, but stay out of the API page (`undocumented`).
    """
    panel = dict(fn=handlers.admin_panel, outputs=[admin.login_box, admin.tools, admin.password, admin.status],
                 api_visibility="private")
    for trigger in (admin.sign_in_button.click, admin.password.submit):
        trigger(inputs=[admin.password], js=static_text("sign_in.js"), **panel)
    demo.load(**panel)
    admin.sign_out_button.click(handlers.signed_out, None, panel["outputs"], js=static_text("sign_out.js"),
                                api_visibility="private")
    for field in admin.details:
        field.change(handlers.upload_details, admin.details, admin.typed_details, api_visibility="private")
    admin.add_button.click(handlers.add_documents, [admin.uploads, admin.typed_details], [admin.upload_result, *refreshed],
                           api_name="add_documents", api_visibility="undocumented", concurrency_id="admin")
    admin.remove_button.click(handlers.remove_document, [admin.remove_choice], [admin.remove_result, *refreshed],
                              js=static_text("confirm_remove.js"), api_name="remove_document", api_visibility="undocumented", concurrency_id="admin")
    admin.sync_button.click(handlers.sync_sources, None, [admin.sync_result, *refreshed], api_name="sync_sources",
                            api_visibility="undocumented", concurrency_id="admin")


def admin_events(blocks: gr.Blocks) -> dict[int, str | None]:
    """The events only administrators may run (their handlers are marked `admin_only`): function id -> API name."""
    return {fn_id: fn.api_name for fn_id, fn in blocks.fns.items() if getattr(fn.fn, "admin_only", False)}
