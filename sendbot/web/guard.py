"""Limits that keep the administrators' door shut: per-client sign-in lockout, session tokens, an upload rate.

Plain objects with a clock you can pass in (seconds, like `time.monotonic`), so tests check hours of lockout
without sleeping. Each is safe to share between threads; nothing here ever sleeps, so a client that is refused
makes no one else wait. A "client" is whatever key the caller chooses: the web app uses the client's IP address.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict, deque
from typing import Callable, Literal, NamedTuple

Clock = Callable[[], float]
MAX_CLIENTS = 10_000  # clients remembered at once; the longest-quiet ones are forgotten first


class Attempt(NamedTuple):
    """What became of one sign-in attempt, and how many seconds this client must now wait (0: none)."""

    outcome: Literal["signed_in", "wrong", "locked"]  # locked: refused without looking at the password
    wait: float


class _Failures(NamedTuple):
    count: int
    last: float  # clock time of the latest wrong password


class SignInGuard:
    """Wrong passwords counted per client: after `max_failures` the client is locked out for `lockout` seconds,
    and each wrong password after a lockout doubles the next one (up to `longest`). A client's count is forgotten
    `forget_after` seconds after its last wrong password, or when it signs in."""

    def __init__(self, max_failures: int = 10, lockout: float = 300.0, longest: float = 3600.0,
                 forget_after: float = 86400.0, clock: Clock = time.monotonic) -> None:
        self.max_failures = max_failures
        self.lockout = lockout
        self.longest = longest
        self.forget_after = forget_after
        self.clock = clock
        self._failures: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def attempt(self, client: str, password_is_right: Callable[[], bool]) -> Attempt:
        """Check a password for `client` unless it is locked out; the check and the count are one step, so
        parallel guesses from one client cannot slip past the limit."""
        with self._lock:
            wait = self._wait(client)
            if wait > 0:
                return Attempt("locked", wait)
            if password_is_right():
                self._failures.pop(client, None)
                return Attempt("signed_in", 0.0)
            count = self._failures[client].count + 1 if client in self._failures else 1
            self._failures[client] = _Failures(count, self.clock())
            self._failures.move_to_end(client)
            if len(self._failures) > MAX_CLIENTS:
                self._failures.popitem(last=False)
            return Attempt("wrong", self._wait(client))

    def wait(self, client: str) -> float:
        """Seconds before `client` may try a password again (0: now)."""
        with self._lock:
            return self._wait(client)

    def _wait(self, client: str) -> float:
        failures = self._failures.get(client)
        if failures is None:
            return 0.0
        since = self.clock() - failures.last
        if since >= self.forget_after:
            del self._failures[client]
            return 0.0
        if failures.count < self.max_failures:
            return 0.0
        locked_for = min(self.lockout * 2 ** (failures.count - self.max_failures), self.longest)
        return max(0.0, locked_for - since)


class AdminSessions:
    """Signed-in administrators' session tokens, in memory only: random, and valid for `lifetime` seconds."""

    def __init__(self, lifetime: float = 8 * 3600.0, clock: Clock = time.monotonic) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def open(self) -> str:
        """A new session's token (also forgets the sessions that have expired)."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            self._expiry = {t: end for t, end in self._expiry.items() if end > now}
            self._expiry[token] = now + self.lifetime
        return token

    def is_live(self, token: str | None) -> bool:
        """Whether `token` names a session that has not expired or been closed."""
        with self._lock:
            return bool(token) and self._expiry.get(token, 0.0) > self.clock()

    def close(self, token: str | None) -> None:
        """End a session (signing out); an unknown token is ignored."""
        with self._lock:
            self._expiry.pop(token or "", None)


class RateLimit:
    """At most `limit` events per client in any `period` seconds."""

    def __init__(self, limit: int, period: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.period = period
        self.clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Count one event for `client`, or refuse it (uncounted) when the client has reached the limit."""
        with self._lock:
            now = self.clock()
            recent = self._events.setdefault(client, deque())
            while recent and recent[0] <= now - self.period:
                recent.popleft()
            self._events.move_to_end(client)
            if len(self._events) > MAX_CLIENTS:
                self._events.popitem(last=False)
            if len(recent) >= self.limit:
                return False
            recent.append(now)
            return True
