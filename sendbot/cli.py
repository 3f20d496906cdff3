"""The `sendbot` command: ingest documents, ask questions, list sources, run the eval, serve the app."""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from commitments.models import KINDS, STATUSES
from sendbot.core.config import ENCODERS, LLM_KINDS, Settings, check_llm, load_settings
from sendbot.core.models import CITATION_FIELDS, Answer, Filters
from sendbot.core.prompts import prompts
from sendbot.web.options import chroma_url_option, serve_options

if TYPE_CHECKING:  # the eval is imported only when it runs: the other commands start without it
    from evals.runner import SystemRun, ThresholdPoint

_CONTRACT = ('{"question", "answer", "refused", "citations": [{'
             + ", ".join(f'"{name}"' for name in CITATION_FIELDS) + '}], "answerer", "sentences": [{"text", '
             '"citations", "date", "period", "earlier"}], "direct": {"text", "citation", "start", "end"} or null}')


def _settings(ctx: click.Context):
    return ctx.obj["settings"]


def _say(message: str) -> None:
    click.echo(message, err=True)


class _FriendlyGroup(click.Group):
    """Shows sendbot's own errors (damaged index, missing model) as one plain line instead of a traceback."""

    def invoke(self, ctx: click.Context):
        from index.embedder import ModelError
        from index.store import IndexDamaged

        try:
            return super().invoke(ctx)
        except (ModelError, IndexDamaged) as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the index lives (default: ./data in the project, or $SENDBOT_DATA_DIR).")
@chroma_url_option
@click.option("--encoder", type=click.Choice(ENCODERS), default=None,
              help="The sentence encoder (default: $SENDBOT_ENCODER, else torch). onnx-int8 is the same model "
                   "quantised to int8 and run by onnxruntime (faster; `pip install -e '.[onnx]'`); an index holds "
                   "one encoder's vectors, so switching needs a fresh index.")
@click.version_option(package_name="sendbot")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, chroma_url: str | None, encoder: str | None) -> None:
    """sendbot answers questions from a council's SEND Local Offer and published papers, citing every sentence.

    \b
    Start with:
      sendbot ask "what happens if my EP assessment is late?"
    The first question ingests the bundled corpus if the index is empty.
    """
    try:
        ctx.obj = {"settings": load_settings(data_dir=data_dir, chroma_url=chroma_url, encoder=encoder)}
    except ValueError as error:
        raise click.UsageError(str(error)) from None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Also remove indexed documents whose files no longer exist.")
@click.option("--follow-links", is_flag=True, help="Also ingest links inside a folder that point to files outside it.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: bool, follow_links: bool, as_json: bool) -> None:
    """Add or update documents (.pdf .docx .html .md .txt) in the index.

    PATHS are files or folders (searched recursively); the default is the bundled corpus. A document's name in the
    index is its path inside the folder given. Unchanged files are skipped, changed files replaced whole. A
    manifest.json beside the files may give each one's title, date, publisher and kind. Exits with status 1 if
    any file failed.
    """
    from ingest.pipeline import ingest as run_ingest

    settings = replace(_settings(ctx), follow_links=True) if follow_links else _settings(ctx)
    targets = list(paths) or [settings.corpus_dir]
    report = run_ingest(targets, settings, prune=prune, progress=None if as_json else _say, show_bar=sys.stderr.isatty())
    _update_commitments(settings)
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        click.echo(
            f"{len(report.files)} files: {report.count('added')} added, {report.count('updated')} updated, "
            f"{report.count('unchanged')} unchanged, {report.count('removed')} removed, {report.count('failed')} failed; "
            f"{report.chunks_written} chunks written in {report.seconds:.1f}s. Index: {settings.data_dir}"
        )
        for result in report.files:
            if result.status in ("failed", "skipped"):
                click.echo(f"  {result.status}: {result.path}: {result.reason}", err=True)
    if report.failed:
        ctx.exit(1)


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The sources file (default: sources.toml in the project, or $SENDBOT_SOURCES); "
              "see sources.example.toml.")
@click.option("--source", "names", multiple=True, help="Only the source with this name; repeat for several.")
@click.option("--dry-run", is_flag=True, help="Fetch and compare, but change nothing: list what would change.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object (counts and every document).")
@click.pass_context
def sync(ctx: click.Context, config_path: Path | None, names: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Fetch the council's committee papers (ModernGov) and Local Offer pages, and index what changed.

    The sites, the contact sent with every request and the pace are in sources.toml. Unchanged documents are not
    indexed again, changed ones are replaced whole, and one gone (404/410) on two syncs in a row is removed. A 403,
    a firewall challenge or a robots.txt disallow is reported as blocked, never worked around. Prints fetched, new,
    changed, unchanged, removed, blocked and failed counts. Exits with status 1 if a document or a whole source
    could not be synced.
    """
    from ingest.sync.run import run_sync
    from ingest.sync.sources import SourcesError, load_sources

    settings = _settings(ctx)
    try:
        config = load_sources((config_path or settings.sources).expanduser().resolve())
    except SourcesError as error:
        raise click.UsageError(str(error)) from None
    unknown = [name for name in names if name not in config.names]
    if unknown:
        raise click.BadParameter(f"no source named {unknown[0]!r} in {config.path} (there are: {', '.join(config.names)})",
                                 param_hint="--source")
    for warning in config.warnings:
        _say(f"warning: {warning}")
    try:
        report = run_sync(config, settings, names, dry_run, progress=None if as_json else _say,
                          show_bar=sys.stderr.isatty())
    except ValueError as error:  # a damaged sync state file: the message says what to do
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        counts = ", ".join(f"{report.count(s)} {s}" for s in ("new", "changed", "unchanged", "removed", "blocked", "failed"))
        click.echo(f"{'Dry run (nothing changed): ' if dry_run else ''}{report.fetched} fetched: {counts} "
                   f"({report.count('missing')} gone once, {report.count('skipped')} skipped); "
                   f"{report.requests} requests in {report.seconds:.1f}s. Files: {settings.synced_dir}")
    for name in report.unreachable:
        _say(f"nothing could be fetched from {name}: see its blocked and failed lines above")
    if report.failed:
        ctx.exit(1)


def _llm_options(command):
    """--llm-url, --llm-model and --llm-kind: a language model to phrase answers, over SENDBOT_LLM_* for this run."""
    options = [
        click.option("--llm-url", help="Phrase answers with the language model served here, e.g. http://127.0.0.1:8080/v1 "
                     "(default $SENDBOT_LLM_URL; unset: no model). The API key is read from $SENDBOT_LLM_API_KEY only."),
        click.option("--llm-model", help="The model's name on that server (default $SENDBOT_LLM_MODEL)."),
        click.option("--llm-kind", type=click.Choice(LLM_KINDS), help="An OpenAI-compatible server or Ollama "
                     "(default $SENDBOT_LLM_KIND, else openai-like)."),
    ]

    @functools.wraps(command)
    def with_llm(*args, llm_url=None, llm_model=None, llm_kind=None, **kwargs):
        ctx = click.get_current_context()
        given = {k: v for k, v in {"llm_url": llm_url, "llm_model": llm_model, "llm_kind": llm_kind}.items() if v}
        try:
            settings = ctx.obj["settings"] = check_llm(replace(_settings(ctx), **given))
        except ValueError as error:
            raise click.UsageError(str(error)) from None
        if settings.llm_configured:
            from answer.generated import LLMUnavailable, make_llm

            try:
                make_llm(settings)  # only builds the client: a missing library is one plain line, not a traceback
            except LLMUnavailable as error:
                raise click.ClickException(str(error)) from None
        return command(*args, **kwargs)

    for option in reversed(options):
        with_llm = option(with_llm)
    return with_llm


def _filters(source: tuple[str, ...], kind: tuple[str, ...], date_from: str | None, date_to: str | None) -> Filters:
    try:
        return Filters.parse(source, kind, date_from, date_to)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def format_answer(answer: Answer) -> str:
    """An answer and its numbered sources as plain text for a terminal.

    When the answer quotes documents of different dates, each sentence goes on its own line under when it was
    said (latest first, earlier ones marked), so a 2022 plan and a 2023 update are never read as one.
    """
    lines = [answer.text, ""]
    if answer.spans_dates:
        lines = [f"{s.said_label}: {s.text} {''.join(f'[{n}]' for n in s.citations)}" for s in answer.sentences] + [""]
    if answer.direct:
        lines.insert(0, prompts().direct_answer.format(answer=f"{answer.direct.text} [{answer.direct.citation}]"))
    if answer.tentative:
        lines.insert(0, prompts().tentative.text)
    for c in answer.citations:
        where = ", ".join(x for x in (f"page {c.page}" if c.page else "", c.section) if x)
        lines.append(f"[{c.n}] {c.title} ({c.date or c.period or 'undated'}) - {c.source}{', ' + where if where else ''}")
        lines.append(f'    "{c.quote}"')
        if c.item:
            lines.append(f"    item {c.item}")
        if c.url:
            lines.append(f"    {c.url}")
    return "\n".join(lines).rstrip()


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True,
              help=f"Print one JSON object {_CONTRACT} (with '-' as QUESTION: one per input line).")
@click.option("-k", "--top-k", type=click.IntRange(1, 20), default=None, help="Passages to answer from (default 5).")
@click.option("--source", multiple=True, help="Only this document (file name); repeat for several.")
@click.option("--kind", multiple=True, help="Only documents of this kind, e.g. minutes; repeat for several.")
@click.option("--from", "date_from", help="Only documents dated on or after this day (2023-05-24, 24/05/2023, May 2023, 2023).")
@click.option("--to", "date_to", help="Only documents dated on or before this day (same forms; 2023 means to the end of 2023).")
@_llm_options
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool, top_k: int | None, source, kind, date_from, date_to) -> None:
    """Answer QUESTION from the documents, citing a source for every sentence.

    Use '-' as QUESTION to read one question per line from standard input (the model loads once). With --json
    each answer is one JSON object (its fields are listed under --json).
    """
    from sendbot.bot import SendBot

    filters = _filters(source, kind, date_from, date_to)
    bot = SendBot.open(_settings(ctx), progress=_say, show_bar=sys.stderr.isatty())
    questions = _stdin_lines() if question == "-" else iter([question])
    failed = 0
    for text in questions:
        try:
            answer = bot.ask(text, filters, top_k)
        except Exception as error:  # one bad line must not end a batch: report it and go on
            failed += 1
            _say(f"could not answer {text[:80]!r}: {type(error).__name__}: {error}")
            if as_json:
                click.echo(json.dumps({"question": text, "error": f"{type(error).__name__}: {error}"}, ensure_ascii=False))
            continue
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False) if as_json else format_answer(answer) + "\n")
    if failed:
        _say(f"{failed} question{'s' if failed > 1 else ''} could not be answered (see above).")
        ctx.exit(1)


def _stdin_lines():
    """Standard input one line at a time, decoded leniently: bytes that are not UTF-8 must not end a batch."""
    for raw in sys.stdin.buffer:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List the indexed documents with their date, kind and chunk count, any warning ingest gave about them (e.g.
    pages without text), and, for those `sendbot sync` fetched, the council's address and when the last sync checked
    them."""
    from index.store import open_store
    from ingest.sync.state import synced_documents

    settings = _settings(ctx)
    records = sorted(open_store(settings).files.values(), key=lambda r: r.source)
    synced = synced_documents(settings.sync_state)
    origin = {r.source: {"url": synced[r.source].url, "synced": synced[r.source].checked_at}
              for r in records if r.source in synced}
    if as_json:
        click.echo(json.dumps([{"source": r.source, "title": r.title, "date": r.date, "period": r.period,
                                "kind": r.kind, "publisher": r.publisher, "chunks": r.chunks, "note": r.note,
                                **origin.get(r.source, {})}
                               for r in records]))
        return
    if not records:
        click.echo("The index is empty. Run `sendbot ingest` to add the bundled corpus.")
    for r in records:
        click.echo(f"{r.date or 'undated':10}  {r.kind:30}  {r.chunks:4} chunks  {r.source}\n            {r.title}")
        if r.note:
            click.echo(f"            warning: {r.note}")
        if r.source in origin:
            click.echo(f"            {origin[r.source]['url']} (checked {origin[r.source]['synced']})")


def _update_commitments(settings) -> None:
    """Rebuild the commitments register after the live files changed (a file it cannot read again is noted)."""
    from commitments.register import update_register

    for note in update_register(settings).notes:
        _say(f"commitments: {note}")


@main.command(name="commitments")
@click.option("--source", "sources_", multiple=True, help="Only this document (repeatable; names as `sendbot sources` lists them).")
@click.option("--who", default="", help="Only commitments whose person, role or body contains this text, e.g. 'Board'.")
@click.option("--from", "date_from", help="Only statements in papers dated from this day (2023-05-24, 24/05/2023, May 2023 or 2023).")
@click.option("--to", "date_to", help="Only statements in papers dated up to this day.")
@click.option("--due-before", help="Only commitments due before this day.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Only this status (repeatable).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only this kind (repeatable).")
@click.option("--today", help="Judge what is overdue as of this day (default: today).")
@click.option("--rebuild", is_flag=True, help="Rebuild the register even if it is up to date.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the rows as CSV (one per commitment, follow-ups in one cell).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of commitments (quote, what, who, due, kind, "
              "status, source, title, date, page, section, follow_ups [{quote, source, date, page}], ...).")
@click.pass_context
def commitments_command(ctx, sources_, who, date_from, date_to, due_before, statuses, kinds, today, rebuild, as_csv,
                        as_json) -> None:
    """The commitments register: what the papers promised, decided, asked for or targeted, by whom and by when,
    each quoted word for word with its page, and what later papers say about it.

    Status: done (a later paper or the plan itself reports it done), overdue (its due date has passed with no report
    of completion), in progress (later papers report on it), or no later mention. The register is rebuilt from the
    index whenever its documents change; an empty index gets the bundled corpus first.
    """
    from datetime import date

    from commitments.register import RegisterFilter, row_json, select, update_register
    from commitments.render import format_text, to_csv
    from index.store import open_store
    from sendbot.core.dates import parse_day

    try:
        chosen = RegisterFilter.parse(sources_, who, date_from, date_to, due_before, statuses, kinds)
        day = parse_day(today) or date.today()
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    settings = _settings(ctx)
    live = open_store(settings).files
    if not live:
        from ingest.pipeline import ingest as run_ingest

        _say(f"The index in {settings.data_dir} is empty: ingesting the bundled corpus from {settings.corpus_dir} first.")
        run_ingest([settings.corpus_dir], settings, progress=_say)
        live = open_store(settings).files
    unknown = [s for s in sources_ if s not in live]
    if unknown:
        raise click.BadParameter(f"no indexed document is named {', '.join(unknown)}; `sendbot sources` lists them.",
                                 param_hint="--source")
    register = update_register(settings, force=rebuild)
    for note in register.notes:
        _say(f"commitments: {note}")
    rows = select(register, chosen, day)
    if as_json:
        click.echo(json.dumps([row_json(c, state) for c, state in rows], ensure_ascii=False))
    elif as_csv:
        click.echo(to_csv(rows), nl=False)
    else:
        click.echo(format_text(rows))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON object.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check the index and repair what an interrupted run left behind.

    Checks the model file, the registry of documents, the vector store (passages of unlisted file versions are
    removed), that every document's file is still there, and the keyword index (leftovers of an interrupted save
    are removed; a missing, damaged or stale index is rebuilt). Run it while nothing else is writing to the index.
    Exits with status 1 if a problem remains that needs you.
    """
    from index.doctor import examine

    settings = _settings(ctx)
    report = examine(settings.data_dir, settings.bm25_dir, settings.chroma_url)
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        for finding in report.findings:
            click.echo(f"{finding.status:>8}  {finding.check}: {finding.detail}")
        click.echo(f"\nThe index in {settings.data_dir} is {'healthy' if report.healthy else 'NOT healthy: see above'}.")
    if not report.healthy:
        ctx.exit(1)


def _train_ranker(pipeline, questions: list, as_json: bool) -> None:
    """`sendbot eval --train`: fit the unit ranker on the dev split, write its model file, print how it ranks."""
    from evals.golden import select
    from evals.train import train
    from retrieve.rerank import RANKER_PATH

    dev = select(questions, "dev")
    with click.progressbar(length=2 * len(dev), label="Scoring, then answering, the dev questions",
                           file=sys.stderr) as bar:
        report = train(pipeline, dev, bar.update)
    RANKER_PATH.write_text(report.ranker.to_json(), encoding="utf-8")
    summary = report.held_out.summary()
    held_out = {name: summary[name] for name in _HELD_OUT_METRICS}
    numbers = {"questions": report.questions, "units": report.units, "top1": report.top1,
               "top1_cv": report.top1_cv, "semantic_top1": report.semantic_top1, "held_out": held_out}
    click.echo(json.dumps(numbers) if as_json else
               f"Wrote {RANKER_PATH} from {report.questions} dev questions ({report.units} units): best unit holds a "
               f"fact {report.top1:.3f} (held out, grouped by question: {report.top1_cv:.3f}; meaning alone "
               f"{report.semantic_top1:.3f}).\n"
               f"Each of the {len(dev)} dev questions answered by the ranker fitted without its fold: "
               + ", ".join(f"{label} {held_out[name]:{spec}}" for name, (label, spec) in _HELD_OUT_METRICS.items())
               + ". (`sendbot eval --subset dev` gives the in-sample figures, which a refit on all of dev flatters.)")


_HELD_OUT_METRICS = {"hit_at_k": ("hit@k", ".3f"), "context_fact_recall": ("facts in passages", ".3f"),
                     "fact_recall": ("facts in answers", ".3f"), "refusal_recall": ("refusal recall", ".3f"),
                     "false_refusal_rate": ("false refusals", ".3f"), "answer_words_p50": ("median words", ".0f")}


def _eval_commitments(ctx: click.Context, gate: Path | None, as_json: bool) -> None:
    """`sendbot eval --commitments`: the register's scores against the labelled set, held to the budgets."""
    from evals.commitments import gate_failures, load_gate, run_commitments_eval, summary_text
    from index.store import open_store

    settings = _settings(ctx)
    if not open_store(settings).files:
        from ingest.pipeline import ingest as run_ingest

        run_ingest([settings.corpus_dir], settings, progress=_say)
    try:
        scores = run_commitments_eval(settings)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    failures = gate_failures(scores["test"], load_gate(gate) if gate else load_gate())  # tuned on dev
    if as_json:
        click.echo(json.dumps({**scores, "gate_failures": failures}, ensure_ascii=False))
    else:
        click.echo(summary_text(scores))
        for failure in failures:
            click.echo(f"BUDGET MISSED: {failure}", err=True)
    if failures:
        ctx.exit(1)


@main.command(name="eval")
@click.option("--commitments", "commitments_eval", is_flag=True, help="Score the commitments register against "
              "evals/commitments.yaml instead (extraction precision/recall, who/due/kind accuracy, follow-up links); "
              "exit 1 if a budget in evals/commitments_gate.toml (or --gate) is missed.")
@click.option("-k", "--top-k", "k", type=click.IntRange(1, 20), default=5, show_default=True, help="Passages retrieved per question.")
@click.option("--subset", help="Only questions of this split ('dev' to tune on, 'test' to judge by), with this tag, or "
              "matching this id glob, e.g. 'test' or 'acronym' or 'ep-*' (comma-separated).")
@click.option("--golden", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Another golden file (default evals/golden.yaml).")
@click.option("--baselines/--no-baselines", default=True, show_default=True, help="Also run stock llama-index and BM25 baselines.")
@click.option("--gate", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML file of [min]/[max] thresholds; exit 1 if any is broken.")
@click.option("--min-fact-recall", type=float, help="Fail below this answer fact recall.")
@click.option("--min-hit-at-k", type=float, help="Fail below this hit@k.")
@click.option("--min-citation-precision", type=float, help="Fail below this citation precision.")
@click.option("--min-refusal-recall", type=float, help="Fail below this refusal recall.")
@click.option("--max-false-refusal-rate", type=float, help="Fail above this share of answerable questions refused.")
@click.option("--min-evidence", type=float, help="Try another refusal threshold for this run.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("evals/reports"), show_default=True)
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the run as JSONL for an LLM judge.")
@click.option("--export-format", type=click.Choice(["ragas", "deepeval"]), default="ragas", show_default=True)
@click.option("--calibrate", is_flag=True, help="Sweep the refusal threshold instead of a normal run.")
@click.option("--train", "train_ranker", is_flag=True, help="Retrain the answer-unit ranker on the dev split (never "
              "test, whatever --subset says) and write retrieve/unit_ranker.json instead of a normal run.")
@click.option("--answerer", type=click.Choice(["extractive", "llm"]), help="Answer with the extractive answerer, or "
              "through the configured language model behind its guard (default: llm if SENDBOT_LLM_URL is set).")
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
@_llm_options
@click.pass_context
def eval_command(ctx, k, subset, golden, baselines, gate, min_fact_recall, min_hit_at_k, min_citation_precision,
                 min_refusal_recall, max_false_refusal_rate, min_evidence, report_dir, export_path, export_format,
                 calibrate, answerer, as_json, commitments_eval=False, train_ranker=False) -> None:
    """Measure answer quality on the golden set: retrieval, grounding, refusals and latency.

    Prints a summary table (sendbot beside the baselines), writes report.md and report.html listing every failing
    question, and exits 1 when a --gate or --min-*/--max-* threshold is broken.
    """
    if commitments_eval:
        return _eval_commitments(ctx, gate, as_json)
    from evals import golden as golden_set
    from evals.report import summary_table, with_splits, write_reports
    from evals.suite import Gate, calibrate as sweep, run_eval, settings_for_eval, write_export
    from sendbot.bot import SendBot

    questions = golden_set.select(golden_set.load_golden(golden or golden_set.GOLDEN_PATH), subset)
    if not questions:
        raise click.UsageError(f"no golden question matches --subset {subset!r}")
    try:
        settings = settings_for_eval(_settings(ctx), min_evidence, answerer)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    pipeline = SendBot.open(settings, progress=_say).pipeline
    if train_ranker:
        return _train_ranker(pipeline, golden_set.load_golden(golden or golden_set.GOLDEN_PATH), as_json)
    if calibrate:
        return _print_calibration(*sweep(pipeline, questions, k), pipeline.settings)
    runs = run_eval(pipeline, questions, k, baselines, progress=_say)
    checks = Gate.load(gate, {"fact_recall": min_fact_recall, "hit_at_k": min_hit_at_k,
                              "citation_precision": min_citation_precision, "refusal_recall": min_refusal_recall,
                              "false_refusal_rate": max_false_refusal_rate})
    broken = checks.check(runs[0].summary())
    md, page = write_reports(runs, broken, report_dir)
    if export_path:
        write_export(runs[0], export_path, export_format)
    if as_json:
        click.echo(json.dumps({run.name: run.summary() for run in with_splits(runs)}))
    else:
        click.echo(summary_table(with_splits(runs)))
        if runs[0].answerer == "llm":
            guard = runs[0].guard_counts()
            click.echo(f"\nlanguage model: {guard['llm_answers']} answers phrased by the model; the guard dropped "
                       f"{guard['guard_dropped_sentences']} sentences (in {guard['guard_answers_with_drops']} answers) "
                       f"and gave the extractive answer {guard['guard_fallbacks']} times (reasons: logger sendbot.llm)")
        click.echo(f"\n{len(runs[0].failing)} of {len(questions)} questions failed a check; details in {md} and {page}")
    for line in broken:
        click.echo(f"GATE FAILED: {line}", err=True)
    if broken:
        ctx.exit(1)


def _print_calibration(run: SystemRun, points: list[ThresholdPoint], settings: Settings) -> None:
    """`eval --calibrate`'s tables: refusal recall and false refusals at each threshold (for `min_evidence`), what no
    threshold can change (the facts a never-refusing run gets, how well the evidence separates answerable questions),
    and how often answers are right at each level of evidence (for `confident_evidence`)."""
    from evals.runner import evidence_bands, evidence_separation

    best = max(points, key=lambda p: (p.balanced_accuracy, -p.false_refusal_rate))
    click.echo("threshold  refusal_recall  false_refusals  correct_answers_kept  balanced_accuracy")
    for p in points[::2]:
        click.echo(f"{p.threshold:9.2f}  {p.refusal_recall:14.3f}  {p.false_refusal_rate:14.3f}  "
                   f"{p.correct_answers_kept:20.3f}  {p.balanced_accuracy:17.3f}")
    click.echo(f"best threshold {best.threshold:.2f} (balanced accuracy {best.balanced_accuracy:.3f}); "
               f"current min_evidence {settings.min_evidence:.2f}")
    summary, separation = run.summary(), evidence_separation(run.results)
    click.echo(f"what no threshold can change: never refusing, the answers hold {summary['fact_recall']:.3f} of the "
               f"expected facts and the top {run.k} passages {summary['context_fact_recall']:.3f}"
               + (f"; the evidence ranks an answerable question above an unanswerable one {separation:.3f} of the time"
                  if separation is not None else ""))
    click.echo("\nevidence     answers  right  (answers under confident_evidence are marked tentative)")
    for band in evidence_bands(run.results):
        click.echo(f"{band.low:.2f}-{min(band.high, 1.0):.2f}  {band.answers:9d}  {band.right:5d}")
    click.echo(f"current confident_evidence {settings.confident_evidence:.2f}")


def _scales(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int] | None:
    """--scale 1,10,100 as a list of whole numbers from 1 up."""
    if value is None:
        return None
    try:
        scales = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        scales = []
    if not scales or min(scales) < 1:
        raise click.BadParameter(f"{value!r} is not a list of copies such as 1,10,100", ctx, param)
    return scales


def _bench_scales(settings, corpus: Path, scales: list[int], modes: tuple[str, ...], rounds: int,
                  as_json: bool) -> None:
    """`sendbot bench --scale`: every scale in every mode, as a table (or JSON)."""
    from sendbot.bench.scale import MODES, as_json as results_json, run_scales, scale_table

    results = run_scales(settings, corpus, scales, modes or MODES, settings.top_k, progress=_say, rounds=rounds)
    if as_json:
        click.echo(json.dumps(results_json(results)))
        return
    click.echo(scale_table(results))
    click.echo("bare/s: the encoder alone on the texts ingest embeds (the chunks and their quotable units), measured "
               "once per scale (in a process of its own) and shown beside each mode, in chunks/s; ratio = ingest/s "
               "over bare/s; rounds: with --rounds N, each mode's corpus was ingested N times into fresh indexes, each "
               "beside a bare encode of its own, and the row shows the median round (ratio range after the count); "
               "ceiling = the best ratio ingest's processor seconds (its workers' included, a Chroma "
               "server's not) allow on this machine's cores: a ratio below it is time spent waiting, a ceiling below 1 "
               "is work beside encoding. Each mode ran in a fresh process; peak MB is that process's (ingest, re-sync, "
               "questions).")
    click.echo("The copies are other (made-up) councils' versions of the same documents. own hit@k / own facts: each "
               "golden question restricted to the original council's documents (a source filter, as a one-council "
               "deployment), with every copy still in the index: hit@k of the expected sources and fact recall of "
               "the answer; this must stay within 0.02 of 1x. family hit@k: the whole index, any council's copy of "
               "an expected document counting as a hit. The strict whole-index hit@k is in --json (hit_at_k).")


def _bench_encoders(settings, corpus: Path, as_json: bool) -> None:
    """`sendbot bench --encoders`: the ONNX int8 encoder beside torch, as a table (or JSON)."""
    from sendbot.bench.encoders import compare_encoders, encoder_table

    numbers = compare_encoders(settings, corpus, settings.top_k, progress=_say)
    click.echo(json.dumps(numbers) if as_json else encoder_table(numbers))


@main.command()
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Folder to ingest (default: the bundled corpus).")
@click.option("--repeats", type=click.IntRange(1, 10), default=1, show_default=True, help="Passes over the golden questions.")
@click.option("--scale", "scales", callback=_scales, metavar="N,N,...",
              help="Instead: measure corpora of N copies of the corpus each (varied, no duplicates), e.g. 1,10,100, "
                   "in each --mode: ingest speed beside a bare encode (and the best ratio ingest's processor work "
                   "allows on this machine), re-sync speed, query p50/p95, peak memory, disk and hit@k.")
@click.option("--encoders", is_flag=True, help="Instead: compare the int8 ONNX encoder with torch (chunks/s of "
              "each on the same chunks, and hit@k and fact recall on the golden set, side by side).")
@click.option("--mode", "modes", type=click.Choice(["embedded", "server"]), multiple=True,
              help="With --scale: Chroma embedded, or a `chroma run` server started for the run (default both).")
@click.option("--rounds", type=click.IntRange(1, 9), default=1, show_default=True,
              help="With --scale: ingest each corpus this many times per mode (fresh indexes), each beside a bare "
                   "encode of its own, and report the median ratio and its range (one run's ratio moves by several "
                   "hundredths with the machine's other work).")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@click.pass_context
def bench(ctx: click.Context, corpus: Path | None, repeats: int, scales: list[int] | None, encoders: bool,
          modes: tuple[str, ...], rounds: int, as_json: bool) -> None:
    """Measure ingest and query speed, each against a baseline from the same run (uses a throwaway index)."""
    from sendbot.bench import run_benchmark

    settings = _settings(ctx)
    if scales:
        _bench_scales(settings, corpus or settings.corpus_dir, scales, modes, rounds, as_json)
        return
    if encoders:
        _bench_encoders(settings, corpus or settings.corpus_dir, as_json)
        return
    _say("Benchmarking: ingest into a temporary index, re-ingest, then every golden question...")
    numbers = run_benchmark(settings, corpus or settings.corpus_dir, repeats)
    if as_json:
        click.echo(json.dumps(numbers))
        return
    click.echo(f"ingest:    {numbers['chunks']} chunks in {numbers['ingest_seconds']:.1f}s = {numbers['ingest_chunks_per_second']:.1f} chunks/s; "
               f"bare encode {numbers['bare_encode_chunks_per_second']:.1f} chunks/s; ratio {numbers['ingest_vs_bare_encode']:.2f}")
    click.echo(f"           reading the files alone (PDF text extraction and the rest) takes {numbers['parse_seconds']:.1f}s")
    click.echo(f"           then the commitments register ({numbers['commitments']} found): "
               f"{numbers['commitments_register_seconds']:.1f}s, {numbers['commitments_register_vs_ingest']:.0%} of the ingest")
    click.echo(f"re-ingest: unchanged corpus in {numbers['reingest_unchanged_seconds']:.2f}s "
               f"({numbers['reingest_vs_first_ingest']:.1%} of the first ingest)")
    click.echo(f"query:     p50 {numbers['query_p50_ms']:.0f} ms, p95 {numbers['query_p95_ms']:.0f} ms over {numbers['questions']} questions; "
               f"bare query encode p50 {numbers['bare_query_encode_p50_ms']:.1f} ms; ratio {numbers['query_vs_bare_encode']:.1f}x")
    click.echo(f"memory:    peak RSS {numbers['peak_rss_mb']:.0f} MB")


@main.command()
@serve_options
@_llm_options
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Start the web app (chat, sources, documents, the /ask API) over the index.

    An empty index is filled from the bundled corpus first. Set SENDBOT_ADMIN_PASSWORD to let administrators
    add and remove documents from the Documents tab.
    """
    import app

    app.serve(_settings(ctx), host, port)


@main.group(name="feedback")
def feedback_group() -> None:
    """The Helpful / Not helpful votes people gave the web app's answers."""


@feedback_group.command(name="export")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def export_feedback(ctx: click.Context, out: Path) -> None:
    """Write every vote to OUT as a CSV spreadsheet.

    One row per vote: when, the rating, the question, the answer and its sources (session ids are left out).
    """
    from sendbot.feedback import FeedbackStore

    database = _settings(ctx).feedback_db
    if not database.is_file():
        raise click.ClickException(f"No feedback yet: {database} does not exist.")
    count = FeedbackStore(database).export_csv(out)
    click.echo(f"Wrote {count} feedback rows to {out}")
