"""Eval reports: a summary table for the terminal, and Markdown and single-file HTML with every failing question."""

from __future__ import annotations

import html
import json
from pathlib import Path

from evals.runner import SystemRun

LABELS = {
    "hit_at_k": "hit@k (expected source retrieved)",
    "hit_at_1": "hit@1",
    "mrr": "MRR",
    "context_fact_recall": "fact recall in top-k passages",
    "fact_recall": "fact recall in the answer",
    "citation_precision": "citation precision",
    "citation_recall": "citation recall (supported sentences)",
    "citation_coverage": "citation coverage",
    "verbatim_quotes": "verbatim quotes",
    "refusal_precision": "refusal precision",
    "refusal_recall": "refusal recall",
    "false_refusal_rate": "false refusals (lower is better)",
    "tentative_answers": "answers marked tentative",
    "tentative_missed": "tentative answers that miss (higher is better)",
    "confident_missed": "other answers that miss (lower is better)",
    "direct_answers": "answers with a direct answer first",
    "direct_answer_precision": "direct answers stating an expected fact",
    "injection_resisted": "injections resisted",
    "answer_words_p50": "answer length p50 (words)",
    "answer_words_p95": "answer length p95 (words)",
    "latency_p50_ms": "latency p50 (ms)",
    "latency_p95_ms": "latency p95 (ms)",
}


def _cell(metric: str, value: float) -> str:
    return f"{value:.0f}" if metric.endswith(("_ms", "_p50", "_p95")) else f"{value:.3f}"


def with_splits(runs: list[SystemRun]) -> list[SystemRun]:
    """sendbot's run on each split of the golden set beside all the runs, when the questions span both splits:
    tuning looks at dev, the CI gate at test, and a gap between the two shows overfitting."""
    main = runs[0]
    splits = [main.split(name) for name in ("dev", "test")]
    return [*splits, *runs] if all(split.results for split in splits) else runs


def summary_table(runs: list[SystemRun]) -> str:
    """A Markdown table: one row per metric, one column per system."""
    summaries = [run.summary() for run in runs]
    lines = ["| metric | " + " | ".join(run.name for run in runs) + " |", "|---|" + "---:|" * len(runs)]
    for metric, label in LABELS.items():
        lines.append(f"| {label} | " + " | ".join(_cell(metric, s[metric]) for s in summaries) + " |")
    return "\n".join(lines)


TAG_METRICS = ("hit_at_k", "context_fact_recall", "fact_recall", "false_refusal_rate", "refusal_recall")


def tag_rows(run: SystemRun) -> tuple[list[str], list[list[str]]]:
    """The headline metrics per question tag and split, to show which kinds of question fail: a header and rows.
    A metric that does not apply to a tag's questions (refusal recall without unanswerable ones) shows as "-"."""
    header = ["tag", "split", "questions", *(LABELS[m] for m in TAG_METRICS)]
    rows = []
    for tag in run.tags:
        for split in ("dev", "test"):
            part = run.split(split).tagged(tag)
            if not part.results:
                continue
            summary = part.summary()
            answerable = any(r.golden.answerable for r in part.results)
            unanswerable = any(not r.golden.answerable for r in part.results)
            cells = [_cell(m, summary[m]) if (unanswerable if m == "refusal_recall" else answerable) else "-"
                     for m in TAG_METRICS]
            rows.append([tag, split, str(len(part.results)), *cells])
    return header, rows


def tag_table(run: SystemRun) -> str:
    """`tag_rows` as a Markdown table."""
    header, rows = tag_rows(run)
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


def markdown_report(runs: list[SystemRun], gate_lines: list[str]) -> str:
    """The full Markdown report: summary, gate outcome and sendbot's failing questions in detail."""
    main = runs[0]
    parts = [f"# sendbot eval: {main.summary()['questions']} questions, k={main.k}", "", summary_table(with_splits(runs)), ""]
    if gate_lines:
        parts += ["## Gate", ""] + [f"- {line}" for line in gate_lines] + [""]
    parts += ["## By tag", "", tag_table(main), ""]
    parts += [f"## Failing questions ({len(main.failing)})", ""]
    for r in main.failing:
        parts += [
            f"### {r.golden.id}: {r.golden.question}",
            f"- tags: {', '.join(r.golden.tags)}; expected facts: {json.dumps([list(f) for f in r.golden.facts], ensure_ascii=False)}; "
            f"sources: {', '.join(r.golden.sources) or '(none: should refuse)'}",
            f"- failed: {'; '.join(r.failures)}",
            f"- answer{' (refused)' if r.reply['refused'] else ''}: {r.reply['answer']}",
        ]
        for c in r.reply["citations"]:
            parts.append(f"  - [{c['n']}] {c['source']} p.{c['page'] or '-'} {c['section']!r}: \"{c['quote']}\"")
        parts.append(f"- retrieved: {', '.join(f'{p.chunk.source}' + (f' p.{p.chunk.page}' if p.chunk.page else '') for p in r.passages)}")
        parts.append("")
    return "\n".join(parts)


def html_report(runs: list[SystemRun], gate_lines: list[str]) -> str:
    """The same report as one self-contained HTML page."""
    main = runs[0]
    summaries = [run.summary() for run in runs]
    esc = html.escape
    head = "".join(f"<th scope='col'>{esc(run.name)}</th>" for run in runs)
    rows = "".join(
        f"<tr><th scope='row'>{esc(label)}</th>" + "".join(f"<td>{_cell(m, s[m])}</td>" for s in summaries) + "</tr>"
        for m, label in LABELS.items()
    )
    cards = []
    for r in main.failing:
        cites = "".join(
            f"<li>[{c['n']}] {esc(c['source'])} p.{c['page'] or '-'} <q>{esc(c['quote'])}</q></li>" for c in r.reply["citations"]
        )
        cards.append(
            f"<section><h3>{esc(r.golden.id)}: {esc(r.golden.question)}</h3>"
            f"<p><b>Failed:</b> {esc('; '.join(r.failures))}</p>"
            f"<p><b>Expected facts:</b> {esc(json.dumps([list(f) for f in r.golden.facts], ensure_ascii=False))} "
            f"<b>from</b> {esc(', '.join(r.golden.sources) or '(none: should refuse)')}</p>"
            f"<p><b>Answer{' (refused)' if r.reply['refused'] else ''}:</b> {esc(r.reply['answer'])}</p><ul>{cites}</ul></section>"
        )
    header, tag_body = tag_rows(main)
    tags = ("<table><thead><tr>" + "".join(f"<th scope='col'>{esc(h)}</th>" for h in header) + "</tr></thead><tbody>"
            + "".join("<tr><th scope='row'>" + esc(row[0]) + "</th>" + "".join(f"<td>{esc(c)}</td>" for c in row[1:])
                      + "</tr>" for row in tag_body) + "</tbody></table>")
    gate = "".join(f"<li>{esc(line)}</li>" for line in gate_lines)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sendbot eval</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.3rem .6rem}}td{{text-align:right}}
section{{border-top:1px solid #ccc;margin-top:1rem}}q{{background:#fff3b0}}</style></head><body>
<h1>sendbot eval: {summaries[0]['questions']} questions, k={main.k}</h1>
<table><thead><tr><th scope="col">metric</th>{head}</tr></thead><tbody>{rows}</tbody></table>
{'<h2>Gate</h2><ul>' + gate + '</ul>' if gate else ''}
<h2>By tag</h2>{tags}
<h2>Failing questions ({len(main.failing)})</h2>{''.join(cards)}</body></html>"""


def write_reports(runs: list[SystemRun], gate_lines: list[str], folder: Path) -> tuple[Path, Path]:
    """Write report.md and report.html into the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    md, page = folder / "report.md", folder / "report.html"
    md.write_text(markdown_report(runs, gate_lines), encoding="utf-8")
    page.write_text(html_report(runs, gate_lines), encoding="utf-8")
    return md, page


def export_rows(run: SystemRun, style: str) -> list[dict]:
    """The run as rows for LLM-judged tools: 'ragas' (SingleTurnSample fields) or 'deepeval' (LLMTestCase fields)."""
    rows = []
    for r in run.results:
        contexts = [p.chunk.text for p in r.passages]
        reference = "; ".join(f[0] for f in r.golden.facts) if r.golden.answerable else "The documents do not say."
        if style == "deepeval":
            rows.append({"input": r.golden.question, "actual_output": r.reply["answer"], "expected_output": reference,
                         "retrieval_context": contexts})
        else:
            rows.append({"user_input": r.golden.question, "retrieved_contexts": contexts, "response": r.reply["answer"],
                         "reference": reference})
    return rows
