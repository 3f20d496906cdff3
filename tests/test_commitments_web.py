"""The Commitments tab (issue 11) in the real app: its API call returns the filtered register and a CSV of it, and
in Debian's headless Chromium the tab shows the table with each paper linking to the document at its page."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from gradio_client import Client
from playwright.sync_api import expect

from app_server import CHROMIUM

pytest_plugins = ["app_server"]  # the session-scoped real app over the bundled corpus, and `browser`


def test_the_commitments_call_filters_the_register_and_offers_it_as_csv(app_server) -> None:
    client = Client(app_server.url, verbose=False)
    table, download = client.predict(["decision"], ["overdue", "no later mention", "in progress", "done"], "",
                                     api_name="/commitments")
    rows = table["data"]
    assert rows and {row[1] for row in rows} == {"decision"}
    assert all("](documents/" in row[6] for row in rows)  # the paper links to the app's document route
    with Path(download).open(encoding="utf-8") as handle:
        spreadsheet = list(csv.DictReader(handle))
    assert [r["quote"] for r in spreadsheet] and all(r["kind"] == "decision" for r in spreadsheet)
    assert len(spreadsheet) == len(rows)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_the_commitments_tab_shows_the_register_with_links_to_each_page(browser, app_server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(app_server.url)
        page.get_by_role("tab", name="Commitments").click()
        table = page.locator("#sb-commitments")
        expect(table.get_by_text("Words")).to_be_visible(timeout=60_000)
        links = table.locator("a[href*='cfosp-agenda-pack-2023-05-24.pdf#page=']")
        expect(links.first).to_be_attached(timeout=60_000)  # each paper links to the PDF at its page
        expect(table).to_contain_text("Young Solutions")  # an early row of the agenda pack, before filtering
        page.get_by_label("Who (a name, role or body)").fill("Board")
        page.get_by_role("button", name="Show").click()
        expect(table).not_to_contain_text("Young Solutions", timeout=60_000)
        expect(table).to_contain_text("Partnership Board")
    finally:
        context.close()
