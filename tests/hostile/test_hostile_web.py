"""What a hostile client can try against the web app: every case here once worked (see the hardening issue).

Anonymous uploads and server files copied into Gradio's cache, password guessing, links swapped in after ingest,
sources with a "/", and a question whose answering fails. All inputs are generated here (nothing binary is
committed). The gate, the lockout and the uploads are checked against the real app (`app_server`: `python app.py`
in a subprocess, its Gradio cache in a folder of its own), from several loopback addresses (all of 127.0.0.0/8
reaches it, so each address is a different client); the document route and failing answers against the app over
a stand-in bot served in a thread (`serve_app`); the guard's timing rules as units with a fake clock.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import gradio as gr
import httpx
import pytest

from app_server import ADMIN_PASSWORD, CHROMIUM, FakeBot, file_record, serve_app, sign_in
from sendbot.core.config import Settings
from sendbot.feedback import FeedbackStore
from sendbot.web.admin import COOKIE, NOT_SIGNED_IN, UPLOADS_PER_MINUTE, Administration
from sendbot.web.guard import AdminSessions, RateLimit, SignInGuard
from sendbot.web.handlers import ANSWER_FAILED, WebHandlers
from sendbot.web.render import document_url

pytest_plugins = ["app_server"]  # the session's real server (`app_server`), and `browser`
# Gradio's queue, running in this process for the stand-in app, trips over pandas 3's deprecations: not ours.
pytestmark = pytest.mark.filterwarnings("ignore:::gradio.queueing")

SECRET = "root:x:0:0:root:/root:/bin/bash"  # what a link swapped in would leak, were it followed

# The loopback addresses each test signs in from, so no test's lockout or upload count touches another's.
ATTACKER, ADMIN, UPLOADER, GUESSER = "127.0.0.3", "127.0.0.2", "127.0.0.4", "127.0.0.5"


class FakeClock:
    """A clock the tests move by hand: hours of lockout checked without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wrong() -> bool:
    return False


def right() -> bool:
    return True


def client_from(address: str, **kwargs) -> httpx.Client:
    """An HTTP client whose connections come from the loopback `address`."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60, **kwargs)


def cache_files(server) -> set[Path]:
    """Every file in the server's Gradio cache (GRADIO_TEMP_DIR), where uploads are stored."""
    return {p for p in server.gradio_temp_dir.rglob("*") if p.is_file()}


# ---------------------------------------------------------------------------------------------------------------
# The guard, with a fake clock
# ---------------------------------------------------------------------------------------------------------------

def test_ten_wrong_passwords_lock_that_client_out_for_five_minutes_and_no_one_else():
    clock = FakeClock()
    guard = SignInGuard(clock=clock)
    for _ in range(9):
        assert guard.attempt("203.0.113.9", wrong) == ("wrong", 0.0)
    assert guard.attempt("203.0.113.9", wrong) == ("wrong", 300.0)  # the tenth
    assert guard.attempt("203.0.113.9", right) == ("locked", 300.0)  # the right password is not even looked at
    assert guard.attempt("198.51.100.7", right) == ("signed_in", 0.0)  # the real administrator, elsewhere
    clock.advance(299)
    assert guard.attempt("203.0.113.9", right).outcome == "locked" and guard.wait("203.0.113.9") == 1.0
    clock.advance(1)
    assert guard.attempt("203.0.113.9", wrong) == ("wrong", 600.0)  # back-off: each wrong one after a lock doubles it
    for _ in range(10):
        clock.advance(guard.wait("203.0.113.9"))
        assert guard.attempt("203.0.113.9", wrong).wait <= 3600.0  # never longer than an hour
    clock.advance(86400)  # a day without guesses: forgotten
    assert guard.wait("203.0.113.9") == 0.0
    assert guard.attempt("203.0.113.9", right) == ("signed_in", 0.0)


def test_parallel_guesses_from_one_client_cannot_slip_past_the_limit():
    guard = SignInGuard()
    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(lambda _: guard.attempt("203.0.113.9", wrong).outcome, range(200)))
    assert outcomes.count("wrong") == 10 and outcomes.count("locked") == 190


def test_the_locked_message_says_when_to_try_again():
    admin = Administration("s3cret", guard=SignInGuard(clock=FakeClock()))
    replies = [admin.sign_in(f"guess {n}", "203.0.113.9") for n in range(11)]
    assert [r.status for r in replies] == [403] * 10 + [429] and all(r.token is None for r in replies)
    assert replies[0].message == "That password is not right. Please try again."
    assert replies[9].message.startswith("That password is not right. There have been too many wrong passwords")
    assert "signing in is locked. Please try again in 5 minutes." in replies[10].message
    assert admin.sign_in("s3cret", "198.51.100.7").token  # another address signs in at once
    assert admin.sign_in("\ud800 not even valid text", "192.0.2.1").status == 403  # odd input is just wrong


def test_sessions_expire_and_end_when_signed_out():
    clock = FakeClock()
    sessions = AdminSessions(lifetime=3600, clock=clock)
    token = sessions.open()
    assert sessions.is_live(token) and not sessions.is_live("a-forged-token") and not sessions.is_live(None)
    other = sessions.open()
    sessions.close(other)
    assert not sessions.is_live(other) and sessions.is_live(token)
    clock.advance(3600)
    assert not sessions.is_live(token)


def test_uploads_are_limited_per_client():
    clock = FakeClock()
    limit = RateLimit(UPLOADS_PER_MINUTE, 60, clock=clock)
    assert all(limit.allow("10.0.0.1") for _ in range(UPLOADS_PER_MINUTE))
    assert not limit.allow("10.0.0.1") and limit.allow("10.0.0.2")
    clock.advance(60)
    assert limit.allow("10.0.0.1")


def test_without_an_administrator_password_no_one_is_an_administrator():
    admin = Administration("")
    assert admin.sign_in("", "10.0.0.1").token is None
    live = admin.sessions.open()
    assert not admin.is_admin(gr.Request(cookies={COOKIE: live}))


# ---------------------------------------------------------------------------------------------------------------
# The real app: uploads, server files and sign-in
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_an_anonymous_client_cannot_store_a_file(app_server, tmp_path):
    from gradio_client import Client, handle_file

    before = cache_files(app_server)
    payload = os.urandom(900 * 1024)  # under the test server's 1 MB limit, so only the sign-in check can refuse it
    started = time.monotonic()
    with client_from(ATTACKER) as anonymous:
        for n in range(10):
            response = anonymous.post(app_server.url + "gradio_api/upload", files={"files": (f"p{n}.txt", payload)})
            assert response.status_code == 403 and response.text == NOT_SIGNED_IN
        forged = anonymous.post(app_server.url + "gradio_api/upload", files={"files": ("p.txt", payload)},
                                headers={"Cookie": f"{COOKIE}=a-forged-token"})
        assert forged.status_code == 403
        recording = anonymous.post(app_server.url + "gradio_api/process_recording", files={"video": ("v.mp4", payload)})
        assert recording.status_code == 403  # Gradio's other route that takes a file
    assert time.monotonic() - started < 10
    note = tmp_path / "note.txt"
    note.write_text("Planted text that should never be stored.")
    with pytest.raises(httpx.HTTPStatusError, match="403"):
        Client(app_server.url, verbose=False).predict([handle_file(str(note))], api_name="/add_documents")
    assert cache_files(app_server) == before  # nothing was stored, not even for a moment


def admin_event_calls(server) -> list[tuple[str, dict]]:
    """Every way to call the add_documents event naming a file on the server (pyproject.toml), by API name or by
    function id: Gradio copies a named file into its cache while preparing the event's inputs."""
    dependencies = httpx.get(server.url + "config").json()["dependencies"]
    add = next(d["id"] for d in dependencies if d.get("api_name") == "add_documents")
    server_file = [[{"path": str(Path(__file__).parents[2] / "pyproject.toml"), "meta": {"_type": "gradio.FileData"}}]]
    return [
        ("gradio_api/call/add_documents", {"data": server_file}),
        ("gradio_api/call/v2/add_documents", {"files": server_file[0]}),
        ("gradio_api/run/add_documents", {"data": server_file}),
        ("gradio_api/api/add_documents", {"data": server_file}),
        ("gradio_api/run/ask", {"data": server_file, "fn_index": add}),  # a public name, the admin event's id
        ("gradio_api/queue/join", {"data": server_file, "fn_index": add, "session_hash": uuid.uuid4().hex}),
        ("gradio_api/queue/join", {"data": server_file, "fn_index": str(add), "session_hash": uuid.uuid4().hex}),
    ]


@pytest.mark.slow
def test_an_anonymous_client_cannot_get_a_server_file_copied(app_server):
    before = cache_files(app_server)
    with client_from(ATTACKER) as anonymous:
        for route, body in admin_event_calls(app_server):
            response = anonymous.post(app_server.url + route, json=body)
            assert response.status_code == 403 and response.text == NOT_SIGNED_IN, route
        response = anonymous.post(app_server.url + "gradio_api/queue/join", content=b"[" * 100_000)
        assert response.status_code == 403  # unreadable: refused, not guessed at
    assert cache_files(app_server) == before
    assert not any(p.name == "pyproject.toml" for p in cache_files(app_server))


@pytest.mark.slow
def test_a_signed_in_administrator_can_upload_but_not_name_a_server_file(app_server):
    cookies = sign_in(app_server.url, address=UPLOADER).cookies
    with client_from(UPLOADER, cookies=cookies) as admin:
        response = admin.post(app_server.url + "gradio_api/upload", files={"files": ("note.txt", b"Short breaks.")})
        assert response.status_code == 200 and Path(response.json()[0]).parent.parent == app_server.gradio_temp_dir
        route, body = admin_event_calls(app_server)[0]
        event = admin.post(app_server.url + route, json=body).json()["event_id"]
        result = admin.get(app_server.url + f"gradio_api/call/add_documents/{event}").text
        assert "event: error" in result  # Gradio refuses a file that did not come from an upload
        for n in range(UPLOADS_PER_MINUTE - 1):
            response = admin.post(app_server.url + "gradio_api/upload", files={"files": (f"{n}.txt", b"x")})
            assert response.status_code == 200
        too_many = admin.post(app_server.url + "gradio_api/upload", files={"files": ("late.txt", b"x")})
        assert too_many.status_code == 429 and "wait a minute" in too_many.text
    assert not any(p.name == "pyproject.toml" for p in cache_files(app_server))
    assert not (app_server.data_dir / "uploads" / "pyproject.toml").exists()


@pytest.mark.slow
def test_guessing_passwords_locks_the_guesser_out_and_never_slows_the_administrator(app_server):
    admin_seconds = []

    def admin_signs_in() -> None:
        time.sleep(0.2)  # mid-attack
        started = time.monotonic()
        assert sign_in(app_server.url, address=ADMIN).status_code == 200
        admin_seconds.append(time.monotonic() - started)

    def guess(n: int) -> str:
        # A spoofed X-Forwarded-For does not make each guess a new client: only 127.0.0.1 is trusted as a proxy.
        spoofed = {"X-Forwarded-For": f"198.51.100.{n % 250}"}
        return guesser.post(app_server.url + "admin/sign-in", json={"password": f"guess {n}"}, headers=spoofed).json()

    started = time.monotonic()
    admin = threading.Thread(target=admin_signs_in)
    admin.start()
    with client_from(GUESSER) as guesser, ThreadPoolExecutor(max_workers=20) as pool:
        messages = [reply["message"] for reply in pool.map(guess, range(200))]
    admin.join()
    attack_seconds = time.monotonic() - started
    assert sum("not right" in m for m in messages) == 10
    assert sum(m.startswith("There have been too many wrong passwords") for m in messages) == 190
    assert admin_seconds[0] < 2.0 and attack_seconds < 30, (admin_seconds, attack_seconds)
    locked = sign_in(app_server.url, app_server.admin_password, address=GUESSER)
    assert locked.status_code == 429 and "Please try again in 5 minutes." in locked.json()["message"]
    assert COOKIE not in locked.cookies  # even the right password, from the locked-out address


@pytest.mark.slow
def test_the_eleventh_wrong_password_from_one_client_is_refused_as_locked(app_server):
    replies = [sign_in(app_server.url, f"guess {n}", address=ATTACKER) for n in range(11)]
    assert [r.status_code for r in replies] == [403] * 10 + [429]
    assert "locked" in replies[10].json()["message"] and "try again in" in replies[10].json()["message"]
    assert sign_in(app_server.url, ADMIN_PASSWORD, address=ADMIN).status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# The app over a stand-in bot: documents on disk, and answers that fail
# ---------------------------------------------------------------------------------------------------------------

class FailingBot(FakeBot):
    """The stand-in bot, whose answering raises while `failing` is set."""

    failing = False

    def ask(self, question, *args, **kwargs):
        if self.failing:
            raise RuntimeError("the index went away")
        return super().ask(question, *args, **kwargs)


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """The app over a FailingBot whose documents live in a folder of generated files (folder/good.txt,
    folder/sub/good.txt), with a secret file beside it that a swapped-in link would point at."""
    root = tmp_path_factory.mktemp("hostile-web").resolve()
    folder = root / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "good.txt").write_text("Short breaks are for disabled children.\n")
    (folder / "sub" / "good.txt").write_text("The sub folder's own document about respite.\n")
    secret = root / "secret"
    (secret / "sub").mkdir(parents=True)
    for path in (secret / "passwd", secret / "sub" / "good.txt"):
        path.write_text(SECRET + "\n")
    bot = FailingBot()
    for source in ("good.txt", "sub/good.txt"):
        bot.records[source] = file_record(source, title=f"The {source} document", path=folder / source)
    with serve_app(bot, Settings(data_dir=root / "data")) as url:
        yield SimpleNamespace(url=url, bot=bot, folder=folder, secret=secret)


def test_a_source_with_a_slash_is_served_by_the_link_the_cards_use(fake):
    for url in (fake.url + document_url("sub/good.txt"), fake.url + "documents/sub/good.txt"):
        response = httpx.get(url)
        assert response.status_code == 200 and response.text.startswith("The sub folder's own document")
        assert response.headers["content-disposition"] == "inline; filename*=UTF-8''good.txt"
    assert document_url("sub/good.txt") == "documents/sub%2Fgood.txt"
    for probe in ("sub", "sub/", "sub%2F..%2F..%2Fsecret%2Fpasswd", quote("../secret/passwd", safe="")):
        assert httpx.get(fake.url + "documents/" + probe).status_code == 404, probe


def test_a_link_swapped_in_after_ingest_is_refused(fake):
    good, sub = fake.folder / "good.txt", fake.folder / "sub"
    assert httpx.get(fake.url + "documents/good.txt").status_code == 200
    good.unlink()
    good.symlink_to(fake.secret / "passwd")
    sub.rename(fake.folder / "sub-before")
    sub.symlink_to(fake.secret / "sub", target_is_directory=True)  # a folder on the way swapped for a link
    try:
        for source in ("good.txt", "sub/good.txt"):
            response = httpx.get(fake.url + document_url(source))
            assert response.status_code == 404 and "root:x" not in response.text, source
            assert response.text == "The file for this document is no longer on the server."
    finally:
        sub.unlink()
        (fake.folder / "sub-before").rename(sub)
    good.unlink()
    os.mkfifo(good)  # a pipe would hang a plain open() until someone writes to it
    try:
        assert httpx.get(fake.url + "documents/good.txt", timeout=5).status_code == 404
    finally:
        good.unlink()
        good.write_text("Short breaks are for disabled children.\n")
    assert httpx.get(fake.url + "documents/sub/good.txt").status_code == 200


def test_a_failing_answer_is_explained_in_the_chat_and_logged(tmp_path, caplog):
    bot = FailingBot()
    bot.failing = True
    handlers = WebHandlers(bot, Settings(data_dir=tmp_path), FeedbackStore(tmp_path / "feedback.sqlite3"))
    earlier = [{"role": "user", "content": "Before?"}, {"role": "assistant", "content": "An earlier answer."}]
    history, box, answers = handlers.respond("And now?", earlier, {1: "kept"}, [], [], "", "")
    assert history[:2] == earlier and history[2] == {"role": "user", "content": "And now?"}
    assert ANSWER_FAILED in history[3]["content"] and box == "And now?" and answers == {1: "kept"}
    assert "the index went away" in caplog.text and "the index went away" not in history[3]["content"]
    with pytest.raises(gr.Error, match="Something went wrong while answering"):
        handlers.ask("And now?")


@pytest.fixture
def failing(fake):
    fake.bot.failing = True
    yield fake
    fake.bot.failing = False


def test_a_failing_answer_through_the_api_is_a_plain_error(failing):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as raised:
        Client(failing.url, verbose=False).predict("How many?", api_name="/ask")
    assert str(raised.value) == ANSWER_FAILED


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_the_browser_keeps_the_conversation_when_answering_fails(fake, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(fake.url)
        box = page.get_by_label("Your question")
        box.fill("How many leaders were trained?")
        box.press("Enter")
        page.locator("#sb-chat .sb-answer").first.wait_for()
        fake.bot.failing = True
        box.fill("And what about next year?")
        box.press("Enter")
        page.get_by_text(ANSWER_FAILED).wait_for()
        assert box.is_visible() and box.input_value() == "And what about next year?"  # there to try again
        page.get_by_role("button", name="What does CARM stand for?").click()  # an example question fails the same way
        page.wait_for_function("document.querySelectorAll('#sb-chat .sb-note').length == 2")
        chat = page.locator("#sb-chat").inner_text()
        assert "How many leaders were trained?" in chat and "And what about next year?" in chat
        assert "What does CARM stand for?" in chat and page.locator("#sb-chat .sb-answer").count() == 1
        assert box.is_visible() and box.input_value() == "What does CARM stand for?"
        assert page.get_by_text("Error", exact=True).count() == 0
    finally:
        fake.bot.failing = False
        context.close()
