"""Syncing the council's own sites from the app: an administrator runs `sendbot sync`'s run_sync over the configured
sources (Settings.sources / SENDBOT_SOURCES) and sees its summary.

Kept apart from handlers.py so that module stays about events: this one loads the sources file, runs the sync with a
progress callback, and turns its report into HTML. The sync ingests through the ordinary pipeline; the caller then
reloads the bot so questions see what changed.
"""

from __future__ import annotations

from typing import Callable

from ingest.sync.run import SyncReport, describe, run_sync
from ingest.sync.sources import SourcesError, load_sources
from sendbot.core.config import Settings
from sendbot.web.render import esc

COUNTED = ("fetched", "new", "changed", "unchanged", "removed", "blocked", "failed")  # the summary's counts, in order
PROBLEMS = ("blocked", "failed")  # entries listed one by one, with why


def sync_configured(settings: Settings, progress: Callable[[str], None] | None = None) -> str:
    """Sync every configured source and return its summary as HTML; a sources file that cannot be used, or a
    damaged sync state, comes back as a message saying what to do (nothing is changed then)."""
    try:
        config = load_sources(settings.sources.expanduser().resolve())
        report = run_sync(config, settings, progress=progress)
    except (SourcesError, ValueError) as error:  # ValueError: a damaged sync state file, its message says what to do
        return f'<p class="sb-error">Nothing was synced: {esc(error)}</p>'
    warnings = "".join(f"<li>{esc(w)}</li>" for w in config.warnings)
    return render_sync_summary(report) + (f'<p>Warnings about the sources file:</p><ul>{warnings}</ul>' if warnings else "")


def summary_counts(report: SyncReport) -> dict[str, int]:
    """fetched, new, changed, unchanged, removed, blocked and failed, as the summary shows them."""
    return {"fetched": report.fetched, **{status: report.count(status) for status in COUNTED[1:]}}


def render_sync_summary(report: SyncReport) -> str:
    """A sync's outcome for an administrator: the counts in one line (as a list, so each is read on its own), whether
    anything went wrong, and each blocked or failed document with why."""
    counts = "".join(f"<li><strong>{n}</strong> {name}</li>" for name, n in summary_counts(report).items())
    failed = report.failed  # a document or a whole source not synced, or a fetched file not indexed
    outcome = ("Some documents could not be synced; see below." if failed
               else f"Synced in {report.seconds:.1f} seconds ({report.requests} requests).")
    problems = "".join(f"<li>{esc(describe(e).strip())}</li>" for e in report.entries if e.status in PROBLEMS)
    unreachable = "".join(f"<li>Nothing could be fetched from {esc(name)}.</li>" for name in report.unreachable)
    details = f'<ul class="sb-sync-problems">{unreachable}{problems}</ul>' if problems or unreachable else ""
    return (f'<div class="sb-sync-summary"><p class="{"sb-error" if failed else "sb-ok"}">{esc(outcome)}</p>'
            f'<ul class="sb-sync-counts">{counts}</ul>{details}</div>')
