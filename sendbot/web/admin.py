"""Who is an administrator, and the door in front of Gradio's own routes.

Signing in happens on the app's route POST /admin/sign-in, not through Gradio: the password is compared in constant
time, wrong guesses are limited per client address (SignInGuard), and a right one sets an HttpOnly, SameSite=Strict
cookie holding a random session token kept in memory (AdminSessions). `AdminGate`, ASGI middleware in front of
Gradio, answers 403 to its upload route and to any call of an administrators' event unless that cookie holds a live
token: before Gradio reads a byte of an upload, or copies a file that a request names into its cache. The feedback
download, GET /admin/feedback.csv, is made in memory for a signed-in administrator, so no copy is left on disk.
"""

from __future__ import annotations

import hmac
import json
import math
from datetime import date
from typing import Any, Callable, Mapping, NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from sendbot.feedback import FeedbackStore
from sendbot.web.guard import AdminSessions, RateLimit, SignInGuard

COOKIE = "sendbot_admin"
NOT_SIGNED_IN = "Please sign in as an administrator first."
SIGNED_IN = "You are signed in as an administrator."
SIGNED_OUT = "You have signed out."
UPLOADS_PER_MINUTE = 20  # upload requests per client address (each may carry several files)
GRADIO_API = "/gradio_api/"
EVENT_ROUTES = ("queue", "run", "api", "call")  # queue/join, run/{name}, api/{name}, call/{name}, call/v2/{name}
OPEN_ROUTES = ("cancel", "reset")  # the page's own housekeeping calls; every other Gradio POST is for administrators
MAX_EVENT_BODY = 8 * 1024 * 1024  # an event's JSON (the conversation travels with each question)
MAX_SIGN_IN_BODY = 4096


def admin_only(method: Callable) -> Callable:
    """Mark an event handler as administrators only: AdminGate refuses its events without a live session cookie."""
    method.admin_only = True
    return method


def client_address(request: Any) -> str:
    """The client's IP address, from a Starlette or Gradio request ('unknown' when the server can't tell)."""
    return getattr(getattr(request, "client", None), "host", None) or "unknown"


def session_token(request: Any) -> str | None:
    """The session token in a request's cookie, from a Starlette or Gradio request (whose cookies are not a dict)."""
    return dict(getattr(request, "cookies", None) or {}).get(COOKIE)


def describe_wait(seconds: float) -> str:
    """A wait in words, rounded up: '40 seconds', '1 minute', '5 minutes'."""
    if seconds < 60:
        whole = max(1, math.ceil(seconds))
        return f"{whole} second{'' if whole == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


class SignIn(NamedTuple):
    """A sign-in's outcome: the new session's token (None when refused), what to tell the person, an HTTP status."""

    token: str | None
    message: str
    status: int


class Administration:
    """The administrator password, the per-client sign-in guard, the sessions and the upload rate, in one place."""

    def __init__(self, password: str, guard: SignInGuard | None = None, sessions: AdminSessions | None = None,
                 uploads: RateLimit | None = None) -> None:
        self.enabled = bool(password)
        self._password = password.encode("utf-8", "surrogatepass")
        self.guard = guard or SignInGuard()
        self.sessions = sessions or AdminSessions()
        self.uploads = uploads or RateLimit(UPLOADS_PER_MINUTE, 60.0)

    def sign_in(self, password: str, client: str) -> SignIn:
        """Check a password sent from `client`: a new session token (None when refused), and what to tell them."""
        if not self.enabled:
            return SignIn(None, "Administration is switched off on this server.", 403)
        given = password.encode("utf-8", "surrogatepass")
        attempt = self.guard.attempt(client, lambda: hmac.compare_digest(given, self._password))
        if attempt.outcome == "signed_in":
            return SignIn(self.sessions.open(), SIGNED_IN, 200)
        locked = (f"There have been too many wrong passwords from your address, so signing in is locked. "
                  f"Please try again in {describe_wait(attempt.wait)}.")
        if attempt.outcome == "locked":
            return SignIn(None, locked, 429)
        return SignIn(None, "That password is not right. " + (locked if attempt.wait else "Please try again."), 403)

    def is_admin(self, request: Any) -> bool:
        """Whether a request (Starlette's or Gradio's) carries a live administrator session cookie."""
        return self.enabled and self.sessions.is_live(session_token(request))

    def sign_out(self, request: Any) -> None:
        """End the session the request's cookie names."""
        self.sessions.close(session_token(request))


def admin_routes(admin: Administration, feedback: FeedbackStore) -> APIRouter:
    """POST /admin/sign-in ({"password": ...}), POST /admin/sign-out and GET /admin/feedback.csv."""
    router = APIRouter(prefix="/admin")

    @router.post("/sign-in")
    async def sign_in(request: Request) -> JSONResponse:
        try:
            password = json.loads(await _read_body(request.receive, MAX_SIGN_IN_BODY) or b"").get("password")
        except (ValueError, AttributeError, RecursionError):
            password = None
        reply = admin.sign_in(password if isinstance(password, str) else "", client_address(request))
        response = JSONResponse({"signed_in": reply.token is not None, "message": reply.message}, reply.status)
        if reply.token:
            response.set_cookie(COOKIE, reply.token, max_age=int(admin.sessions.lifetime), path="/", httponly=True,
                                samesite="strict", secure=request.url.scheme == "https")
        return response

    @router.post("/sign-out")
    def sign_out(request: Request) -> JSONResponse:
        admin.sign_out(request)
        response = JSONResponse({"signed_in": False, "message": SIGNED_OUT})
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @router.get("/feedback.csv")
    def feedback_csv(request: Request) -> Response:
        if not admin.is_admin(request):
            return PlainTextResponse(NOT_SIGNED_IN, status_code=403)
        headers = {"Content-Disposition": f'attachment; filename="sendbot-feedback-{date.today().isoformat()}.csv"',
                   "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        # The BOM lets Excel read accents correctly.
        return Response(feedback.to_csv().encode("utf-8-sig"), media_type="text/csv; charset=utf-8", headers=headers)

    return router


class AdminGate:
    """ASGI middleware: Gradio POSTs that could store a file, or run an administrators' event, need a live session.

    `admin_events` maps each administrators-only event's function id to its API name. Without the session cookie,
    the upload route (and any Gradio POST but the page's housekeeping) gets 403 before its body is read, and an
    event call is read (up to MAX_EVENT_BODY) and refused if it names one of those events, or can't be read well
    enough to tell. A signed-in administrator passes, with uploads limited per client address.
    """

    def __init__(self, app: Callable, admin: Administration, admin_events: Mapping[int, str | None]) -> None:
        self.app = app
        self.admin = admin
        self.admin_fns = frozenset(admin_events)
        self.admin_names = frozenset(name for name in admin_events.values() if name)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        if not path.startswith(GRADIO_API):
            return await self.app(scope, receive, send)
        request = Request(scope)
        route = path[len(GRADIO_API):].strip("/")
        if self.admin.is_admin(request):
            if route == "upload" and not self.admin.uploads.allow(client_address(request)):
                return await _refuse(429, "Too many uploads: please wait a minute before adding more files.",
                                     scope, receive, send)
            return await self.app(scope, receive, send)
        kind = route.split("/")[0]
        if kind in OPEN_ROUTES:
            return await self.app(scope, receive, send)
        if kind not in EVENT_ROUTES:
            return await _refuse(403, NOT_SIGNED_IN, scope, receive, send)
        body = await _read_body(receive, MAX_EVENT_BODY)
        if body is None:
            return await _refuse(413, "That request is too large.", scope, receive, send)
        if self._names_admin_event(route, body):
            return await _refuse(403, NOT_SIGNED_IN, scope, receive, send)
        return await self.app(scope, _replay(body, receive), send)

    def _names_admin_event(self, route: str, body: bytes) -> bool:
        """Whether an event call names an administrators' event by API name or function id, or is unreadable."""
        parts = route.split("/")
        if parts[0] != "queue" and parts[-1] in self.admin_names:
            return True
        try:
            fn_index = json.loads(body).get("fn_index")
        except (ValueError, AttributeError, RecursionError):
            return True  # not a JSON object: Gradio refuses it too, without our help
        return fn_index is not None and (type(fn_index) is not int or fn_index in self.admin_fns)


async def _read_body(receive: Callable, limit: int) -> bytes | None:
    """A request's whole body, or None when it is over `limit` bytes or the client went away."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Callable) -> Callable:
    """A `receive` that hands the app the body already read, then carries on with the real one."""
    pending = True

    async def replay() -> dict:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(status: int, message: str, scope: dict, receive: Callable, send: Callable) -> None:
    await PlainTextResponse(message, status_code=status)(scope, receive, send)
