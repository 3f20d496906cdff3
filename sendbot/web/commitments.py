"""The Commitments tab: the register as a sortable, filterable table, each row linking to its document at the page
it quotes, and the rows shown downloadable as CSV (the same register `sendbot commitments` prints)."""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass
from datetime import date

import gradio as gr

from commitments.models import KINDS, STATUSES, Commitment
from commitments.register import RegisterFilter, select, update_register
from commitments.render import to_csv
from sendbot.core.config import Settings
from sendbot.core.dates import format_date
from sendbot.web.render import passage_url

HEADERS = ["Status", "Kind", "What", "Who", "Due", "Words", "Paper", "Later reports"]
DATATYPES = ["str", "str", "str", "str", "str", "str", "markdown", "markdown"]


@dataclass(frozen=True)
class CommitmentsTab:
    kinds: gr.Dropdown
    statuses: gr.Dropdown
    who: gr.Textbox
    show: gr.Button
    table: gr.Dataframe
    download: gr.DownloadButton


def _link(text: str, source: str, page: int | None, quote: str) -> str:
    label = html.escape(text).replace("[", "(").replace("]", ")")
    return f"[{label}]({passage_url(source, page, quote)})"


def table_rows(rows: list[tuple[Commitment, str]]) -> list[list[str]]:
    """One table row per commitment: the paper and each later report link to the document at the quoted passage."""
    table = []
    for c, state in rows:
        paper = _link(f"{format_date(c.date, c.period)}, {c.source}{f' p.{c.page}' if c.page else ''}", c.source, c.page, c.quote)
        later = "; ".join(_link(f"{format_date(f.date, f.period)} ({f.state}): {f.source}{f' p.{f.page}' if f.page else ''}",
                                f.source, f.page, f.quote) for f in c.follow_ups)
        table.append([state, c.kind, c.what, c.who, c.due or "", " ".join(c.quote.split()), paper, later])
    return table


def show_register(settings: Settings, kinds: list[str] | None, statuses: list[str] | None, who: str,
                  today: date | None = None) -> tuple[list[list[str]], str]:
    """The filtered register as table rows, and a CSV file of the same rows for the download button."""
    rows = select(update_register(settings), RegisterFilter.parse(who=who or "", statuses=statuses or (), kinds=kinds or ()),
                  today or date.today())
    with tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="commitments-", delete=False, encoding="utf-8") as out:
        out.write(to_csv(rows))
    return table_rows(rows), out.name


def build_commitments_tab(settings: Settings) -> CommitmentsTab:
    """The tab's controls and table, wired: Show (or Enter in the who box) applies the filters."""
    gr.Markdown("## Commitments\n\nWhat the papers promised, decided, asked for or targeted, by whom and by when, "
                "word for word, with what later papers say. Click a column heading to sort; click a paper to open it.")
    with gr.Row():
        kinds = gr.Dropdown(list(KINDS), multiselect=True, label="Kind")
        statuses = gr.Dropdown(list(STATUSES), multiselect=True, label="Status")
        who = gr.Textbox(label="Who (a name, role or body)", placeholder="e.g. Board")
        show = gr.Button("Show", variant="primary")
    table = gr.Dataframe(lambda: show_register(settings, [], [], "")[0], headers=HEADERS, datatype=DATATYPES,
                         interactive=False, wrap=True, elem_id="sb-commitments")
    download = gr.DownloadButton("Download these rows as CSV")
    tab = CommitmentsTab(kinds, statuses, who, show, table, download)
    gr.on([show.click, who.submit], lambda k, s, w: show_register(settings, k, s, w), [kinds, statuses, who],
          [table, download], api_name="commitments")
    return tab
