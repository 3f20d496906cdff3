"""The web app in a real headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser): ask, read the
answer and its source cards, follow a citation marker, give feedback, use it at phone width and by keyboard, and
sign in as an administrator. Screenshots go to a temporary folder; the desktop one is also copied to
docs/screenshot.png for the README."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app_server import AGENDA, AGENDA_FACT_PAGE, CHROMIUM, admin_client
from sendbot.feedback import FeedbackStore
from sendbot.web.admin import COOKIE

pytest_plugins = ["app_server"]  # the session-scoped `app_server` fixture (one real server) and `browser`

PROJECT = Path(__file__).resolve().parent.parent
QUESTION = "How many Mental Health Leaders have been trained?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(apt-get install chromium; `make test` installs it)"),
]


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def open_page(browser, app_server):
    """Open the app in a fresh browser context (a fresh session) at a given window size; fails the test if the
    page asks for anything beyond the app's own loopback address."""
    contexts, outside = [], []

    def opener(width=1280, height=900):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(app_server.url) else None)
        page.goto(app_server.url)
        page.get_by_label("Your question").wait_for()
        return page

    yield opener
    for context in contexts:
        context.close()
    assert outside == [], f"the page tried to reach other hosts: {outside}"


def ask(page, question: str):
    """Type a question and press Enter; returns the latest answer's element once its content has arrived."""
    before = page.locator("#sb-chat .sb-answer").count()
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#sb-chat .sb-answer').length > {before}", timeout=60_000)
    return page.locator("#sb-chat .sb-answer").last


# The element that scrolls the conversation: the nearest ancestor with its own vertical scrollbar.
SCROLL_PANE = """((el) => { for (let e = el.parentElement; e; e = e.parentElement) {
    if (/auto|scroll/.test(getComputedStyle(e).overflowY) && e.scrollHeight > e.clientHeight) return e; } })"""


def test_ask_see_the_answer_and_follow_a_marker_to_its_source_card(open_page, app_server, shots):
    page = open_page()
    answer = ask(page, QUESTION)
    assert "159 Mental Health Leaders trained" in answer.locator(".sb-sentence").first.inner_text()
    card = answer.locator(".sb-card").first
    assert card.locator("mark").first.inner_text().strip() == "• 159 Mental Health Leaders trained (59%)"
    meta = card.locator(".sb-meta").inner_text()
    assert "24 May 2023" in meta and "agenda and reports" in meta and "section:" in meta
    assert f"page {AGENDA_FACT_PAGE}" in meta
    link = card.locator("a.sb-doc-link")
    assert link.get_attribute("href") == f"documents/{AGENDA}#page={AGENDA_FACT_PAGE}"
    assert link.get_attribute("target") == "_blank"
    document = page.request.get(app_server.url + f"documents/{AGENDA}")
    assert document.ok and document.headers["content-type"] == "application/pdf"
    page.wait_for_timeout(300)  # let the chat settle on the new answer before the picture
    page.screenshot(path=str(shots / "desktop-answer.png"))
    (PROJECT / "docs").mkdir(exist_ok=True)
    shutil.copyfile(shots / "desktop-answer.png", PROJECT / "docs" / "screenshot.png")

    # Scroll the conversation away from the card, then follow the [1] marker from the keyboard.
    card_id = card.get_attribute("id")
    page.evaluate(f"{SCROLL_PANE}(document.getElementById('{card_id}')).scrollTop = 0")
    marker = answer.locator("a.sb-marker").first
    assert marker.get_attribute("href") == f"#{card_id}"
    marker.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"location.hash === '#{card_id}'")
    page.wait_for_timeout(300)
    assert page.evaluate(f"document.querySelector('#{card_id}').matches(':target')")
    shown = page.evaluate(f"""() => {{
        const card = document.getElementById('{card_id}').getBoundingClientRect();
        const chat = {SCROLL_PANE}(document.getElementById('{card_id}')).getBoundingClientRect();
        return card.top >= chat.top - 1 && card.top < chat.bottom;
    }}""")
    assert shown, "the source card is not scrolled into view"
    page.screenshot(path=str(shots / "desktop-followed-marker.png"))


def test_a_refusal_is_friendly_and_offers_nearby_topics(open_page):
    page = open_page()
    answer = ask(page, "What is the capital of France?")
    text = answer.inner_text()
    assert "I couldn't find that in these documents" in text
    assert answer.locator(".sb-topics li").count() >= 1
    assert answer.locator(".sb-card").count() == 0


def test_example_question_buttons_and_date_filters(open_page):
    page = open_page()
    page.get_by_role("button", name="What does CARM stand for?").click()
    page.wait_for_selector("#sb-chat .sb-card")
    assert "Complex Adult Risk Management" in page.locator("#sb-chat .sb-answer").last.inner_text()

    page.get_by_role("button", name="Narrow the search (optional)").click()
    page.get_by_label("From date").fill("2030")
    answer = ask(page, QUESTION)
    assert "dated from 1 January 2030" in answer.inner_text() and answer.locator(".sb-card").count() == 0
    page.get_by_role("button", name="Clear the filters").click()
    expect(page.get_by_label("From date")).to_have_value("")
    page.get_by_role("checkbox", name="minutes", exact=True).check()
    answer = ask(page, "What did Ofsted and the CQC find at the revisit?")
    files = answer.locator(".sb-card .sb-file").all_inner_texts()
    assert files and all("cfosp-minutes-ofsted-cqc-send-revisit.txt" in f for f in files)


def test_helpful_and_not_helpful_are_saved_with_the_question_answer_and_citations(open_page, app_server):
    page = open_page()
    ask(page, "How many schools have signed up to the relaunched SENCo network?")
    store = FeedbackStore(app_server.data_dir / "feedback.sqlite3")

    def votes():
        return [r for r in store.rows() if r["question"] == "How many schools have signed up to the relaunched SENCo network?"]

    page.locator("#sb-chat").get_by_role("button", name="Helpful", exact=True).last.click()
    deadline = time.monotonic() + 10
    while not votes() and time.monotonic() < deadline:
        time.sleep(0.2)
    [vote] = votes()
    assert vote["helpful"] == 1 and "130" in vote["answer"] and "cfosp-agenda-pack-2023-05-24.pdf" in vote["citations"]
    page.locator("#sb-chat").get_by_role("button", name="Not helpful", exact=True).last.click()
    deadline = time.monotonic() + 10
    while votes()[0]["helpful"] != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [v["helpful"] for v in votes()] == [0]  # the changed vote replaced the first one


def test_phone_width_has_no_sideways_scrolling(open_page, shots):
    page = open_page(width=390, height=844)
    answer = ask(page, QUESTION)
    assert answer.locator(".sb-card").count() >= 1
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.get_by_role("button", name="Ask", exact=True).is_visible()
    page.screenshot(path=str(shots / "phone-answer.png"))
    page.screenshot(path=str(shots / "phone-full.png"), full_page=True)


INTERACTIVE = {"button", "textbox", "searchbox", "checkbox", "radio", "combobox", "listbox", "link", "tab", "slider",
               "spinbutton", "switch", "menuitem", "option"}


def unnamed_controls(page) -> list[str]:
    """Interactive elements in Chromium's accessibility tree that have no accessible name (no label)."""
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    missing = []
    for node in nodes:
        role = node.get("role", {}).get("value")
        if node.get("ignored") or role not in INTERACTIVE:
            continue
        if not (node.get("name", {}).get("value") or "").strip():
            described = cdp.send("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})["node"]
            missing.append(f"{role}: <{described.get('localName')} {described.get('attributes')}>")
    return missing


CONTRAST = """(selector) => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return m.length > 3 ? m : [...m, 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const el = document.querySelector(selector);
  if (!el) return null;
  const fg = parse(getComputedStyle(el).color);
  let node = el, bg = [255, 255, 255, 0];
  while (node && node.nodeType === 1) { bg = parse(getComputedStyle(node).backgroundColor); if (bg[3] > 0.5) break; node = node.parentElement; }
  if (bg[3] <= 0.5) bg = [255, 255, 255, 1];
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def test_every_control_is_labelled_reachable_by_keyboard_and_readable(open_page):
    page = open_page()
    ask(page, QUESTION)
    page.get_by_role("button", name="Narrow the search (optional)").click()
    page.get_by_label("From date").wait_for()
    assert unnamed_controls(page) == []
    page.get_by_role("tab", name="Documents").click()
    page.get_by_role("button", name="For administrators: add or remove documents").click()
    page.get_by_label("Administrator password").wait_for()
    assert unnamed_controls(page) == []
    page.get_by_role("tab", name="Ask a question").click()

    # Keyboard only: from the top of the page, Tab reaches the question box, the Ask button and the examples.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.click(5, 5)
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("""() => { const e = document.activeElement;
            return (e.getAttribute('aria-label') || e.labels?.[0]?.innerText || e.innerText || e.tagName).trim(); }"""))
    assert {"Your question", "Ask", "Start again", "What does CARM stand for?"} <= reached, reached

    for selector in ("#sb-chat .sb-sentence", "#sb-chat a.sb-marker", "#sb-chat .sb-meta", "#sb-chat a.sb-doc-link",
                     "#sb-chat mark", "#sb-ask", "button.sb-example", "#sb-intro p", "#sb-question label span"):
        ratio = page.evaluate(CONTRAST, selector)
        assert ratio is not None and ratio >= 4.5, f"{selector}: contrast {ratio}"


def test_documents_tab_lists_documents_and_an_administrator_can_sign_in_and_add_one(open_page, app_server, tmp_path):
    page = open_page()
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#sb-documents table")
    assert table.locator("tbody tr").count() >= 5
    assert "Children and Families Overview and Scrutiny Panel agenda pack" in table.inner_text()
    assert table.locator("th").all_inner_texts() == ["Title", "Date", "Kind", "Passages indexed"]
    assert not page.get_by_label("Documents to add").is_visible()  # hidden until signed in

    page.get_by_role("button", name="For administrators: add or remove documents").click()
    password = page.get_by_label("Administrator password")
    password.fill("not the password")
    password.press("Enter")
    page.get_by_text("That password is not right").wait_for()
    assert not page.locator("#sb-admin-tools").is_visible()
    password.fill(app_server.admin_password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("You are signed in as an administrator").wait_for()
    page.locator("#sb-admin-tools").wait_for(state="visible")
    [cookie] = [c for c in page.context.cookies() if c["name"] == COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert COOKIE not in page.evaluate("document.cookie")  # out of reach of the page's scripts

    note = tmp_path / "short-breaks-note.txt"
    note.write_text("Short Breaks Note\n\nThe Bramblewick short breaks scheme offers five overnight stays a year.\n")
    try:
        page.locator("#sb-upload input[type=file]").set_input_files(str(note))
        page.get_by_text("short-breaks-note.txt").first.wait_for()
        page.get_by_role("button", name="Add these documents").click()
        result = page.locator("#sb-upload-result .sb-ok")
        result.wait_for(timeout=60_000)
        assert "short-breaks-note.txt" in result.inner_text() and "passages can now be searched" in result.inner_text()
        page.locator("#sb-documents").get_by_text("short-breaks-note.txt").wait_for()

        with page.expect_download() as download:
            page.get_by_role("link", name="Download the feedback as a spreadsheet (CSV)").click()
        assert download.value.suggested_filename.startswith("sendbot-feedback-")
        csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert csv_text.startswith("created_at,rating,question,answer")

        page.get_by_role("button", name="Sign out").click()
        page.get_by_text("You have signed out").wait_for()
        assert not page.locator("#sb-admin-tools").is_visible()
        assert page.request.get(app_server.url + "admin/feedback.csv").status == 403
    finally:
        admin_client(app_server.url).predict(note.name, api_name="/remove_document")
