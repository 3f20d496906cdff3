"""The web app in a real headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser), as a parent on a
phone and an officer at a desk use it: ask, read the answer and its source cards, follow a citation, ask a follow-up,
tap a suggested question, copy and share an answer, reload, open a text document at the passage, filter by dates
as people write them, give feedback, use it by keyboard, pass an axe-core audit, and administer the documents.

One app serves the whole session (app_server.py); each test opens its own browser context. Screenshots go to a
temporary folder; the desktop and phone answers are also copied to docs/ for the README."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from app_server import AGENDA, AGENDA_FACT_PAGE, CHROMIUM, admin_client
from sendbot.feedback import FeedbackStore
from sendbot.web.admin import COOKIE

pytest_plugins = ["app_server"]  # the session-scoped `app_server` fixture (one real server) and `browser`

PROJECT = Path(__file__).resolve().parent.parent
QUESTION = "How many Mental Health Leaders have been trained?"
REFUSED = "What is the capital of France?"
DESKTOP, PHONE = (1280, 800), (390, 844)

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
    """Open the app in a fresh browser context (a fresh session, an empty browser storage) at a given window size;
    fails the test if the page asks for anything beyond the app's own loopback address."""
    contexts, outside = [], []

    def opener(size=DESKTOP, path="", clipboard=False):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="en-GB")
        if clipboard:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_server.url.rstrip("/"))
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(app_server.url) else None)
        page.goto(app_server.url + path)
        page.get_by_label("Your question").wait_for()
        return page

    yield opener
    for context in contexts:
        context.close()
    assert outside == [], f"the page tried to reach other hosts: {outside}"


def answers(page):
    return page.locator("#sb-chat .sb-answer")


def wait_for_answer(page, before: int):
    """The latest answer's element, once there are more than `before` answers."""
    page.wait_for_function(f"document.querySelectorAll('#sb-chat .sb-answer').length > {before}", timeout=60_000)
    return answers(page).last


def ask(page, question: str):
    """Type a question and press Enter; returns the latest answer's element once its content has arrived."""
    before = answers(page).count()
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    return wait_for_answer(page, before)


def tap(page, button):
    """Tap a question button in the conversation; returns the answer it brings."""
    before = answers(page).count()
    button.click()
    return wait_for_answer(page, before)


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and -1 <= box["y"] and box["y"] + min(box["height"], 40) <= page.viewport_size["height"]


# ---------------------------------------------------------------------------------------------------------------
# Asking, reading, following a citation
# ---------------------------------------------------------------------------------------------------------------

def test_ask_see_the_answer_and_follow_a_marker_to_its_source_card(open_page, app_server, shots):
    page = open_page()
    answer = ask(page, QUESTION)
    assert page.locator("#sb-chat h2.sb-asked").last.inner_text().endswith(QUESTION)  # the question, a heading
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
    page.wait_for_timeout(300)  # let the page settle on the new answer before the picture
    page.screenshot(path=str(shots / "desktop-answer.png"))
    shutil.copyfile(shots / "desktop-answer.png", PROJECT / "docs" / "screenshot.png")

    # Hover the [1] marker: a preview of the quoted words. Then scroll away and follow it from the keyboard.
    marker = answer.locator("a.sb-marker").first
    marker.hover()
    preview = answer.locator(".sb-preview").first
    expect(preview).to_be_visible()
    assert preview.inner_text().startswith("• 159 Mental Health Leaders trained (59%)")  # the quoted words
    card_id = card.get_attribute("id")
    assert marker.get_attribute("href") == f"#{card_id}"
    page.evaluate("window.scrollTo(0, 0)")
    marker.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"location.hash === '#{card_id}'")
    page.wait_for_timeout(300)
    assert page.evaluate(f"document.querySelector('#{card_id}').matches(':target')")
    assert in_view(page, card), "the source card is not scrolled into view"

    # Source cards fold away and open again.
    summary = card.locator("summary")
    summary.click()
    expect(card.locator(".sb-passage")).to_be_hidden()
    summary.click()
    expect(card.locator(".sb-passage")).to_be_visible()


def test_a_text_source_opens_as_a_page_at_the_highlighted_passage(open_page, app_server):
    page = open_page()
    answer = ask(page, "What happens if my EP assessment is late?")
    link = answer.locator("a.sb-doc-link[href*='local-offer-news-updates.txt?quote=']").first
    quote = parse_qs(urlparse(link.get_attribute("href")).query)["quote"][0]
    with page.expect_popup() as opened:
        link.click()
    document = opened.value
    document.wait_for_load_state()
    passage = document.locator("mark#sb-passage")
    assert passage.inner_text() == quote and "Educational Psychology" in quote
    assert document.url.endswith("#sb-passage") and in_view(document, passage)  # scrolled to, not the top
    assert document.locator("h1").inner_text() == "News, updates and feedback (SEND Local Offer)"
    assert document.evaluate("getComputedStyle(document.body).fontFamily").find("monospace") < 0  # a page, not raw text
    assert document.get_by_role("link", name="The file itself").get_attribute("href") == "local-offer-news-updates.txt"
    document.close()


# ---------------------------------------------------------------------------------------------------------------
# A conversation: follow-ups, suggestions, refusals that help
# ---------------------------------------------------------------------------------------------------------------

def test_a_follow_up_is_answered_about_the_earlier_question_and_can_be_asked_on_its_own(open_page):
    page = open_page()
    first = ask(page, "my son's EP assessment is late")
    assert first.locator(".sb-about").count() == 0
    follow_up = ask(page, "can I complain about the delay?")
    assert follow_up.locator(".sb-about").inner_text().startswith("Answering about: EP assessment")
    assert "Educational Psycholog" in follow_up.inner_text()  # the delay meant is the EP assessment's
    share = parse_qs(urlparse(follow_up.locator("a.sb-share").get_attribute("href")).query)["q"][0]
    assert share == "can I complain about the EP assessment delay?"  # a shared follow-up stands on its own
    alone = tap(page, follow_up.get_by_role("button", name="Ask it on its own instead"))
    assert alone.locator(".sb-about").count() == 0
    assert page.locator("#sb-chat h2.sb-asked").last.inner_text().endswith("can I complain about the delay?")


def test_each_answer_offers_questions_to_ask_next_that_the_documents_answer(open_page):
    page = open_page()
    answer = ask(page, "What happens if my EP assessment is late?")
    chips = answer.locator(".sb-follow-ups button")
    assert 1 <= chips.count() <= 3
    offered = chips.first.inner_text()
    cited = answer.locator(".sb-meta").all_inner_texts()
    assert not any(offered in meta for meta in cited)  # not the section it already quoted
    nxt = tap(page, chips.first)
    assert page.locator("#sb-chat h2.sb-asked").last.inner_text().endswith(offered)
    assert "sb-refusal" not in (nxt.get_attribute("class") or "") and nxt.locator(".sb-card").count() >= 1


def test_a_refusal_says_what_was_not_found_offers_topics_to_tap_and_where_to_get_help(open_page):
    page = open_page()
    refusal = ask(page, REFUSED)
    text = refusal.inner_text()
    assert "I couldn't find that in these documents" in text and refusal.locator(".sb-card").count() == 0
    assert refusal.locator(".sb-missing strong").all_inner_texts() == ["france"]
    assert "SENDIASS" in refusal.locator(".sb-signpost").inner_text()
    assert refusal.get_by_role("heading", name="Where to get help").count() == 1
    topics = refusal.locator(".sb-topics button")
    assert topics.count() >= 1
    for topic in topics.all_inner_texts():  # clean section titles, never a cut-off sentence
        assert 2 <= len(topic.split()) <= 12 and not topic.endswith((" the", " to", " and", ",")) and "•" not in topic
    topic = topics.first.inner_text()
    answer = tap(page, topics.first)
    assert page.locator("#sb-chat h2.sb-asked").last.inner_text().endswith(topic)
    assert answer.locator(".sb-card").count() >= 1  # a topic offered is one the documents answer


# ---------------------------------------------------------------------------------------------------------------
# Copy, share, and the conversation kept across a reload
# ---------------------------------------------------------------------------------------------------------------

def test_copy_gives_plain_text_with_numbered_sources(open_page, app_server):
    page = open_page(clipboard=True)
    answer = ask(page, QUESTION)
    answer.get_by_role("button", name="Copy answer").click()
    expect(answer.locator(".sb-tool-status")).to_have_text("Answer copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "<" not in copied.replace("<24", "") and "class=" not in copied  # no HTML
    lines = copied.splitlines()
    assert lines[0] == QUESTION and lines[2] == "In short: 159 [1]"  # the direct answer first
    assert lines[3].startswith("• 159 Mental Health Leaders trained (59%) [1]")
    assert "Sources" in lines
    source = lines[lines.index("Sources") + 1]
    assert source.startswith("[1] Children and Families Overview and Scrutiny Panel agenda pack") and "24 May 2023" in source
    assert f"page {AGENDA_FACT_PAGE}" in source
    assert f"    {app_server.url}documents/{AGENDA}#page={AGENDA_FACT_PAGE}" in lines  # a link that works anywhere
    answer.get_by_role("button", name="Copy link").click()
    expect(answer.locator(".sb-tool-status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == app_server.url + "?q=How+many+Mental+Health+Leaders+have+been+trained%3F"


def test_an_answer_from_documents_of_different_dates_says_when_each_was_said_on_the_page_and_in_the_copy(open_page):
    page = open_page(clipboard=True)
    answer = ask(page, "How are complaints about SEND handled?")
    sentences = answer.locator(".sb-sentence").all_inner_texts()
    assert sentences[0].startswith("24 May 2023: "), sentences
    assert any(s.startswith("Earlier, early 2022: ") for s in sentences), sentences
    assert answer.locator("strong.sb-said.sb-earlier").count() >= 1
    answer.get_by_role("button", name="Copy answer").click()
    expect(answer.locator(".sb-tool-status")).to_have_text("Answer copied.")
    copied = page.evaluate("navigator.clipboard.readText()").splitlines()
    first = 2 + answer.locator(".sb-tentative").count()  # after the question, a blank line and a tentative answer's note
    assert copied[first].startswith("24 May 2023: ") and any(line.startswith("Earlier, early 2022: ") for line in copied)
    assert serious_violations(page) == []


def test_a_share_link_reopens_the_answer_and_a_reload_keeps_the_conversation(open_page, app_server):
    page = open_page()
    answer = ask(page, QUESTION)
    first_sentence = answer.locator(".sb-sentence").first.inner_text()
    link = answer.locator("a.sb-share").get_attribute("href")
    ask(page, REFUSED)

    shared = open_page(path=link)  # someone else opens the link: a fresh browser
    reopened = answers(shared).first
    reopened.wait_for(timeout=60_000)
    assert reopened.locator(".sb-sentence").first.inner_text() == first_sentence
    assert shared.locator("#sb-chat h2.sb-asked").first.inner_text().endswith(QUESTION)
    shared.wait_for_function("!location.search.includes('q=')")  # a reload will not ask it again

    page.reload()
    page.get_by_label("Your question").wait_for()
    page.wait_for_function("document.querySelectorAll('#sb-chat .sb-answer').length === 2")
    headings = page.locator("#sb-chat h2.sb-asked").all_inner_texts()
    assert [h.split("\n")[-1].removeprefix("You asked: ") for h in headings] == [QUESTION, REFUSED]
    page.get_by_role("button", name="Start again").click()
    expect(answers(page)).to_have_count(0)
    page.reload()
    page.get_by_label("Your question").wait_for()
    page.wait_for_timeout(500)
    assert answers(page).count() == 0 and "Your answers will appear here" in page.locator("#sb-chat").inner_text()


# ---------------------------------------------------------------------------------------------------------------
# On a phone
# ---------------------------------------------------------------------------------------------------------------

# Elements that scroll on their own inside the page (a box scrolling inside the scrolling page).
INNER_SCROLLERS = """() => [...document.querySelectorAll('body *')].filter((e) => {
    const s = getComputedStyle(e);
    return /auto|scroll/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1 && e.tagName !== 'TEXTAREA'
        && e.getBoundingClientRect().height > 0;
  }).map((e) => `${e.tagName}#${e.id}.${e.className}`.slice(0, 120))"""

# Records each state the conversation passes through, so the short "finding the passages" moment can be checked.
WATCH_PENDING = """() => { window.sbSeen = [];
  new MutationObserver(() => { const p = document.querySelector('#sb-chat .sb-pending');
    if (p) window.sbSeen.push([document.querySelector('#sb-chat .sb-waiting h2').innerText, p.innerText]); })
  .observe(document.getElementById('sb-chat'), {childList: true, subtree: true}); }"""


def test_on_a_phone_the_question_box_shows_on_load_and_the_page_scrolls_as_one(open_page, shots):
    page = open_page(PHONE)
    box = page.get_by_label("Your question")
    assert in_view(page, box) and in_view(page, page.get_by_role("button", name="Ask", exact=True))
    page.screenshot(path=str(shots / "phone-start.png"))
    page.evaluate(WATCH_PENDING)
    answer = ask(page, "my son's EP assessment is late")
    seen = page.evaluate("window.sbSeen")
    assert seen and seen[0][0].endswith("my son's EP assessment is late")  # the question stayed in view...
    assert seen[0][1] == "Finding the passages…"  # ...with a status while it was answered
    assert answer.locator(".sb-card").count() >= 1
    ask(page, "can I complain about the delay?")
    page.wait_for_function("""() => { const asked = document.querySelectorAll('#sb-chat h2.sb-asked');
        const top = asked[asked.length - 1].getBoundingClientRect().top;
        return top >= -1 && top < window.innerHeight / 2; }""")  # the latest question is brought into view
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]  # no sideways scrolling
    assert page.evaluate(INNER_SCROLLERS) == []  # no scroll inside scroll
    page.screenshot(path=str(shots / "phone-answer.png"))
    shutil.copyfile(shots / "phone-answer.png", PROJECT / "docs" / "screenshot-phone.png")
    page.screenshot(path=str(shots / "phone-full.png"), full_page=True)


# ---------------------------------------------------------------------------------------------------------------
# Filters and dates as people write them
# ---------------------------------------------------------------------------------------------------------------

def test_example_question_buttons_and_date_filters(open_page):
    page = open_page()
    page.get_by_role("button", name="What does CARM stand for?").click()
    page.wait_for_selector("#sb-chat .sb-card")
    assert "Complex Adult Risk Management" in answers(page).last.inner_text()

    page.get_by_role("button", name="Narrow the search (optional)").click()
    page.get_by_label("From date").fill("2030")
    answer = ask(page, QUESTION)
    assert "dated from 1 January 2030" in answer.inner_text() and answer.locator(".sb-card").count() == 0
    page.get_by_label("From date").fill("24/05/2023")
    page.get_by_label("To date").fill("24/05/2023")
    answer = ask(page, QUESTION)
    assert "dated 24 May 2023 to 24 May 2023" in answer.inner_text() and answer.locator(".sb-card").count() >= 1
    page.get_by_role("button", name="Clear the filters").click()
    expect(page.get_by_label("From date")).to_have_value("")

    # The minutes have no date, only a period ("early 2022"): a 2022 filter still finds them, and the card says so.
    page.get_by_role("checkbox", name="minutes", exact=True).check()
    page.get_by_label("From date").fill("2022")
    page.get_by_label("To date").fill("2022")
    answer = ask(page, "What did Ofsted and the CQC find at the revisit?")
    files = answer.locator(".sb-card .sb-file").all_inner_texts()
    assert files and all("cfosp-minutes-ofsted-cqc-send-revisit.txt" in f for f in files)
    assert "early 2022" in answer.locator(".sb-meta").first.inner_text()
    assert "date filters use January to April 2022" in answer.locator(".sb-meta").first.inner_text()
    page.get_by_label("From date").fill("2023")
    page.get_by_label("To date").fill("")
    assert ask(page, "What did Ofsted and the CQC find at the revisit?").locator(".sb-card").count() == 0


def test_helpful_and_not_helpful_are_saved_with_the_question_answer_and_citations(open_page, app_server):
    page = open_page()
    question = "How many schools have signed up to the relaunched SENCo network?"
    answer = ask(page, question)
    store = FeedbackStore(app_server.data_dir / "feedback.sqlite3")

    def votes():
        return [r for r in store.rows() if r["question"] == question]

    def wait_until(check):
        deadline = time.monotonic() + 10
        while not check() and time.monotonic() < deadline:
            time.sleep(0.2)

    helpful = answer.get_by_role("button", name="Helpful", exact=True)
    helpful.click()
    expect(helpful).to_have_attribute("aria-pressed", "true")
    wait_until(votes)
    [vote] = votes()
    assert vote["helpful"] == 1 and "130" in vote["answer"] and "cfosp-agenda-pack-2023-05-24.pdf" in vote["citations"]
    answer.get_by_role("button", name="Not helpful", exact=True).click()
    expect(helpful).to_have_attribute("aria-pressed", "false")
    wait_until(lambda: votes()[0]["helpful"] == 0)
    assert [v["helpful"] for v in votes()] == [0]  # the changed vote replaced the first one


# ---------------------------------------------------------------------------------------------------------------
# Accessibility
# ---------------------------------------------------------------------------------------------------------------

def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each with where they are."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_serious_or_critical_violations_after_an_answer_and_after_a_refusal(open_page, size):
    page = open_page(size)
    assert serious_violations(page) == []
    ask(page, QUESTION)
    page.locator("#sb-chat .sb-card").first.wait_for()
    assert serious_violations(page) == []
    ask(page, REFUSED)
    assert serious_violations(page) == []
    names = page.evaluate("[...document.querySelectorAll('[aria-label]')].map((e) => e.getAttribute('aria-label'))")
    assert not [n for n in names if "<" in n or "class=" in n]  # no raw HTML in an accessible name


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


COLOURS = """
  const parse = (c) => { const m = (c.match(/[\\d.]+/g) || [0, 0, 0]).map(Number); return m.length > 3 ? m : [...m, 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (x, y) => { const [a, b] = [lum(x), lum(y)].sort((p, q) => q - p); return (a + 0.05) / (b + 0.05); };
  const behind = (el) => { let node = el, bg = [255, 255, 255, 0];
    while (node && node.nodeType === 1) { bg = parse(getComputedStyle(node).backgroundColor); if (bg[3] > 0.5) break; node = node.parentElement; }
    return bg[3] > 0.5 ? bg : [255, 255, 255, 1]; };
"""
CONTRAST = f"""(selector) => {{ {COLOURS}
  const el = document.querySelector(selector);
  return el ? ratio(parse(getComputedStyle(el).color), behind(el)) : null;
}}"""
# The focused element's focus ring: its outline's width and its contrast with what is behind it.
FOCUS_RING = f"""() => {{ {COLOURS}
  const e = document.activeElement, s = getComputedStyle(e);
  const name = (e.getAttribute('aria-label') || e.labels?.[0]?.innerText || e.innerText || e.tagName).trim().slice(0, 60);
  const width = s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth);
  return {{name, tag: e.tagName, width, ratio: width ? ratio(parse(s.outlineColor), behind(e.parentElement)) : 0}};
}}"""


def test_every_control_is_labelled_reachable_by_keyboard_with_visible_focus_and_readable(open_page):
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

    # Keyboard only, from the top of the page: Tab reaches every control, and each shows a focus ring of at least
    # 2px with 3:1 contrast against what is behind it (WCAG 2.2 focus appearance).
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.click(5, 5)
    reached, faint = set(), []
    for _ in range(90):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["tag"] == "BODY":
            continue
        reached.add(ring["name"])
        if ring["width"] < 2 or ring["ratio"] < 3:
            faint.append(ring)
    assert {"Your question", "Ask", "Start again", "What does CARM stand for?", "Copy answer", "Helpful"} <= reached, reached
    assert faint == []

    for selector in ("#sb-chat .sb-sentence", "#sb-chat a.sb-marker", "#sb-chat .sb-meta", "#sb-chat a.sb-doc-link",
                     "#sb-chat mark", "#sb-chat button.sb-chip", "#sb-chat button.sb-tool", "#sb-ask",
                     "button.sb-example", "#sb-intro p", "#sb-question label span", "button[role=tab][aria-selected=true]"):
        ratio = page.evaluate(CONTRAST, selector)
        assert ratio is not None and ratio >= 4.5, f"{selector}: contrast {ratio}"
    headings = page.locator("#sb-chat h3").all_inner_texts()
    assert "Where this comes from" in headings  # the answer's sections are real headings


# ---------------------------------------------------------------------------------------------------------------
# The documents tab and administration
# ---------------------------------------------------------------------------------------------------------------

def test_documents_tab_lists_documents_and_an_administrator_can_sign_in_add_and_remove_one(open_page, app_server,
                                                                                         tmp_path):
    page = open_page()
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#sb-documents table")
    assert table.locator("tbody tr").count() >= 5
    assert "Children and Families Overview and Scrutiny Panel agenda pack" in table.inner_text()
    assert table.locator("th").all_inner_texts() == ["Title", "Date", "Kind", "Where it comes from", "Passages indexed"]
    assert "Not synced from the council's sites" in table.locator("tbody tr").first.inner_text()
    assert "early 2022" in table.inner_text() and "date filters use January to April 2022" in table.inner_text()
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
        page.get_by_text("short-breaks-note.txt").first.wait_for(timeout=90_000)  # an upload is slow on a busy machine
        page.get_by_role("button", name=re.compile("Title, date and kind")).click()
        page.get_by_label("Title", exact=True).fill("Bramblewick short breaks")
        page.get_by_label("Date", exact=True).fill("24/05/2023")
        page.wait_for_timeout(500)  # the typed details reach the session
        page.get_by_role("button", name="Add these documents").click()
        result = page.locator("#sb-upload-result .sb-ok")
        result.wait_for(timeout=60_000)
        assert "short-breaks-note.txt: 1 passage can now be searched." in result.inner_text()  # not "1 passages"
        row = page.locator("#sb-documents tr", has_text="short-breaks-note.txt")
        row.wait_for()
        assert "Bramblewick short breaks" in row.inner_text() and "24 May 2023" in row.inner_text()

        with page.expect_download() as download:
            page.get_by_role("link", name="Download the feedback as a spreadsheet (CSV)").click()
        assert download.value.suggested_filename.startswith("sendbot-feedback-")
        csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert csv_text.startswith("created_at,rating,question,answer")

        # Removing asks first: cancelled, nothing goes; confirmed, the document goes.
        choice = page.get_by_label("Document to remove")
        choice.click()
        page.get_by_role("option", name=re.compile("short-breaks-note.txt")).click()
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.get_by_role("button", name="Remove this document").click()
        page.get_by_text("Nothing was removed").wait_for()
        assert page.locator("#sb-documents").get_by_text("short-breaks-note.txt").count() == 1
        choice.click()
        page.get_by_role("option", name=re.compile("short-breaks-note.txt")).click()
        messages = []
        page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
        page.get_by_role("button", name="Remove this document").click()
        page.get_by_text("Removed short-breaks-note.txt.").wait_for()
        assert messages and "short-breaks-note.txt" in messages[0]
        expect(page.locator("#sb-documents").get_by_text("short-breaks-note.txt")).to_have_count(0)

        # The sync button runs the sync of the sources file (this app has none: it says so, and what to do)
        page.get_by_role("button", name="Sync the council's sites now").click()
        expect(page.locator("#sb-sync-result")).to_contain_text("Nothing was synced", timeout=30_000)
        assert "copy sources.example.toml" in page.locator("#sb-sync-result").inner_text()

        page.get_by_role("button", name="Sign out").click()
        page.get_by_text("You have signed out").wait_for()
        assert not page.locator("#sb-admin-tools").is_visible()
        assert page.request.get(app_server.url + "admin/feedback.csv").status == 403
    finally:
        admin_client(app_server.url).predict(note.name, api_name="/remove_document")
