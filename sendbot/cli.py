"""The `sendbot` command: ingest documents, ask questions, list sources, run the eval, serve the app."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from sendbot.config import load_settings
from sendbot.models import Answer, Filters


def _settings(ctx: click.Context):
    return ctx.obj["settings"]


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the index lives (default: ./data in the project, or $SENDBOT_DATA_DIR).")
@click.version_option(package_name="sendbot")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """sendbot answers questions from a council's SEND Local Offer and published papers, citing every sentence.

    \b
    Start with:
      sendbot ask "what happens if my EP assessment is late?"
    The first question ingests the bundled corpus if the index is empty.
    """
    try:
        ctx.obj = {"settings": load_settings(data_dir=data_dir)}
    except ValueError as error:
        raise click.UsageError(str(error)) from None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Also remove indexed documents whose files no longer exist.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: bool, as_json: bool) -> None:
    """Add or update documents (.pdf .docx .html .md .txt) in the index.

    PATHS are files or folders (searched recursively); the default is the bundled corpus. Unchanged files are
    skipped, changed files replaced whole. A manifest.json beside the files may give each one's title, date,
    publisher and kind. Exits with status 1 if any file failed.
    """
    from ingest.pipeline import ingest as run_ingest

    settings = _settings(ctx)
    targets = list(paths) or [settings.corpus_dir]
    report = run_ingest(targets, settings, prune=prune, progress=None if as_json else _say, show_bar=sys.stderr.isatty())
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        click.echo(
            f"{len(report.files)} files: {report.count('added')} added, {report.count('updated')} updated, "
            f"{report.count('unchanged')} unchanged, {report.count('removed')} removed, {report.count('failed')} failed; "
            f"{report.chunks_written} chunks written in {report.seconds:.1f}s. Index: {settings.data_dir}"
        )
        for failure in report.failed:
            click.echo(f"  failed: {failure.path}: {failure.reason}", err=True)
    if report.failed:
        ctx.exit(1)


def _filters(source: tuple[str, ...], kind: tuple[str, ...], date_from: str | None, date_to: str | None) -> Filters:
    try:
        return Filters(
            sources=source, kinds=kind,
            date_from=date.fromisoformat(date_from) if date_from else None,
            date_to=date.fromisoformat(date_to) if date_to else None,
        )
    except ValueError as error:
        raise click.BadParameter(f"dates are written YYYY-MM-DD ({error})") from None


def format_answer(answer: Answer) -> str:
    """An answer and its numbered sources as plain text for a terminal."""
    lines = [answer.text, ""]
    for c in answer.citations:
        where = ", ".join(x for x in (f"page {c.page}" if c.page else "", c.section) if x)
        lines.append(f"[{c.n}] {c.title} ({c.date or c.period or 'undated'}) - {c.source}{', ' + where if where else ''}")
        lines.append(f'    "{c.quote}"')
    return "\n".join(lines).rstrip()


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (with '-' as QUESTION: one per input line).")
@click.option("-k", "--top-k", type=click.IntRange(1, 20), default=None, help="Passages to answer from (default 5).")
@click.option("--source", multiple=True, help="Only this document (file name); repeat for several.")
@click.option("--kind", multiple=True, help="Only documents of this kind, e.g. minutes; repeat for several.")
@click.option("--from", "date_from", help="Only documents dated on or after YYYY-MM-DD.")
@click.option("--to", "date_to", help="Only documents dated on or before YYYY-MM-DD.")
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool, top_k: int | None, source, kind, date_from, date_to) -> None:
    """Answer QUESTION from the documents, citing a source for every sentence.

    Use '-' as QUESTION to read one question per line from standard input (the model loads once). With --json
    each answer is {"question", "answer", "refused", "citations": [{"n", "source", "title", "date", "page",
    "section", "text", "quote", "score"}]}.
    """
    from sendbot.bot import SendBot

    filters = _filters(source, kind, date_from, date_to)
    bot = SendBot.open(_settings(ctx), progress=_say, show_bar=sys.stderr.isatty())
    questions = (line.strip() for line in sys.stdin) if question == "-" else iter([question])
    for text in questions:
        if not text:
            continue
        answer = bot.ask(text, filters, top_k)
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False) if as_json else format_answer(answer) + "\n")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List the indexed documents with their date, kind and chunk count."""
    from index.store import Store

    records = sorted(Store(_settings(ctx).data_dir).files.values(), key=lambda r: r.source)
    if as_json:
        click.echo(json.dumps([{"source": r.source, "title": r.title, "date": r.date, "period": r.period,
                                "kind": r.kind, "publisher": r.publisher, "chunks": r.chunks} for r in records]))
        return
    if not records:
        click.echo("The index is empty. Run `sendbot ingest` to add the bundled corpus.")
    for r in records:
        click.echo(f"{r.date or 'undated':10}  {r.kind:30}  {r.chunks:4} chunks  {r.source}\n            {r.title}")
