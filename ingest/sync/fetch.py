"""The one polite HTTP client `sendbot sync` uses for every request.

It says who it is (a User-Agent with the contact from sources.toml), asks each host at most once per
`rate_limit_seconds` (longer if robots.txt sets a Crawl-delay), obeys robots.txt (read with protego, which handles
`*` and `$` as the standard says), gives up on an answer after `timeout_seconds`, retries 429s and server errors with
backoff (waiting as long as Retry-After asks, up to a limit), sends If-None-Match / If-Modified-Since where the last
answer had validators, and follows redirects keeping the final address. A 401/403, a firewall challenge page or a
robots.txt disallow comes back as "blocked" with its reason: it is recorded, never worked around.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Literal
from urllib.parse import urlsplit

import httpx
from protego import Protego

from ingest.sync.sources import SyncConfig

Outcome = Literal["ok", "not_modified", "gone", "blocked", "failed"]
ROBOTS_AGENT = "sendbot"
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Bot-check and firewall pages (Cloudflare, Imperva/Incapsula, F5, DataDome). Only their own marks: an ordinary page
# may carry a reCAPTCHA feedback form or Cloudflare's bot-detection script and is still the page.
CHALLENGE_MARKERS = (b"<title>just a moment", b"<title>attention required! | cloudflare", b"_cf_chl_opt",
                     b"_incapsula_resource", b"<title>request rejected", b"captcha-delivery")


@dataclass(frozen=True)
class Fetched:
    """One URL's answer after redirects and retries."""

    url: str  # as asked for
    final_url: str  # after redirects
    outcome: Outcome
    status: int = 0  # the last HTTP status (0 if none came)
    body: bytes = b""
    content_type: str = ""  # media type only, lower case, e.g. "application/pdf"
    etag: str = ""
    last_modified: str = ""
    reason: str = ""  # why it is not "ok", in words
    fetched_at: str = ""  # ISO UTC


def user_agent(contact: str) -> str:
    """The User-Agent: who is asking and how to reach them."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("sendbot")
    except PackageNotFoundError:
        release = "dev"
    return f"sendbot/{release} (SEND Local Offer assistant; +{contact})"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (a number of seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def looks_like_challenge(response: httpx.Response, body: bytes) -> bool:
    """True for a bot-check or firewall page (Cloudflare, Incapsula, captchas) rather than the content asked for."""
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    if "html" not in response.headers.get("content-type", "html"):
        return False
    head = body[:8192].lower()
    return any(marker in head for marker in CHALLENGE_MARKERS)


class Fetcher:
    """Rate-limited, robots-aware GETs with retries; one per sync run (it remembers each host's robots.txt)."""

    def __init__(self, config: SyncConfig, max_bytes: int, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.max_bytes = max_bytes
        self.sleep = sleep
        self.client = httpx.Client(headers={"User-Agent": user_agent(config.contact)}, follow_redirects=True,
                                   max_redirects=8, timeout=config.timeout_seconds)
        self._last: dict[str, float] = {}
        self._robots: dict[str, Protego | str] = {}  # by origin: the parsed rules, or why robots.txt was unreadable
        self.requests = 0

    def close(self) -> None:
        """Close the connections."""
        self.client.close()

    def get(self, url: str, etag: str = "", last_modified: str = "") -> Fetched:
        """GET a URL politely: robots first, then up to 1 + retries attempts."""
        refusal = self._robots_refusal(url)
        if refusal:
            return Fetched(url, url, "blocked", reason=refusal, fetched_at=utc_now())
        headers = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
        return self._attempts(url, headers)

    def sitemaps(self, url: str) -> list[str]:
        """The sitemaps the host's robots.txt lists."""
        rules = self._rules(url)
        return list(rules.sitemaps) if isinstance(rules, Protego) else []

    def _attempts(self, url: str, headers: dict[str, str]) -> Fetched:
        last = Fetched(url, url, "failed", reason="not tried", fetched_at=utc_now())
        for attempt in range(self.config.retries + 1):
            result, wait = self._once(url, headers)
            if wait is None:
                return result
            last = result
            if attempt == self.config.retries:
                break
            if wait > self.config.max_retry_after_seconds:
                return Fetched(url, result.final_url, "failed", result.status, reason=(
                    f"{result.reason}; the server asked to wait {wait:.0f}s, over max_retry_after_seconds"), fetched_at=utc_now())
            self.sleep(wait)
        return Fetched(url, last.final_url, "failed", last.status,
                       reason=f"{last.reason} ({self.config.retries + 1} attempts)", fetched_at=utc_now())

    def _once(self, url: str, headers: dict[str, str]) -> tuple[Fetched, float | None]:
        """One request; the wait before trying again, or None when the answer is final."""
        self._pace(url)
        self.requests += 1
        backoff = max(self.config.rate_limit_seconds, 0.05) * 2
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                body = self._read(response)
        except httpx.TimeoutException:
            return self._result(url, "failed", reason=f"no answer within {self.config.timeout_seconds:g}s"), backoff
        except httpx.TooManyRedirects:
            return self._result(url, "failed", reason="too many redirects"), None
        except _TooBig as error:
            return self._result(url, "failed", reason=str(error)), None
        except httpx.HTTPError as error:
            return self._result(url, "failed", reason=f"could not connect ({type(error).__name__}: {error})"), backoff
        finally:
            self._last[_host(url)] = time.monotonic()
        return self._judge(url, response, body, backoff)

    def _judge(self, url: str, response: httpx.Response, body: bytes, backoff: float) -> tuple[Fetched, float | None]:
        status = response.status_code
        if looks_like_challenge(response, body):
            return self._result(url, "blocked", response, reason=f"HTTP {status}: a bot-check or firewall page"), None
        if status in RETRY_STATUSES:
            wait = retry_after_seconds(response.headers.get("retry-after"))
            return self._result(url, "failed", response, reason=f"HTTP {status}"), backoff if wait is None else wait
        if status == 304:
            return self._result(url, "not_modified", response), None
        if status in (401, 403):
            return self._result(url, "blocked", response, reason=f"HTTP {status}: the server refuses sendbot"), None
        if status in (404, 410):
            return self._result(url, "gone", response, reason=f"HTTP {status}"), None
        if status >= 300:
            return self._result(url, "failed", response, reason=f"HTTP {status}"), None
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        return self._result(url, "ok", response, body=body, content_type=media,
                            etag=response.headers.get("etag", ""), last_modified=response.headers.get("last-modified", "")), None

    def _read(self, response: httpx.Response) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooBig(f"larger than {self.max_bytes / 1e6:g} MB (raise SENDBOT_MAX_FILE_MB to take it)")
            chunks.append(chunk)
        return b"".join(chunks)

    def _result(self, url: str, outcome: Outcome, response: httpx.Response | None = None, **fields) -> Fetched:
        final = str(response.url) if response is not None else url
        status = response.status_code if response is not None else 0
        return Fetched(url, final, outcome, status, fetched_at=utc_now(), **fields)

    def _pace(self, url: str) -> None:
        """Sleep until this host may be asked again."""
        interval = self.config.rate_limit_seconds
        rules = self._robots.get(_origin(url))
        if isinstance(rules, Protego):
            interval = max(interval, rules.crawl_delay(ROBOTS_AGENT) or 0.0)
        last = self._last.get(_host(url))
        if last is not None:
            wait = last + interval - time.monotonic()
            if wait > 0:
                self.sleep(wait)

    def _robots_refusal(self, url: str) -> str:
        """Why robots.txt forbids this URL ("" if it allows it)."""
        rules = self._rules(url)
        if isinstance(rules, str):
            return rules
        if rules is not None and not rules.can_fetch(url, ROBOTS_AGENT):
            return "robots.txt disallows it for sendbot"
        return ""

    def _rules(self, url: str) -> Protego | str | None:
        """The host's robots.txt rules (fetched once per run); None when it has none; a reason when unreadable."""
        origin = _origin(url)
        if origin not in self._robots:
            answer = self._attempts(f"{origin}/robots.txt", {})
            if answer.outcome == "ok":
                self._robots[origin] = Protego.parse(answer.body.decode("utf-8", errors="replace"))
            elif answer.outcome == "failed" and (answer.status >= 500 or answer.status == 0):
                # RFC 9309: a robots.txt that cannot be reached means the whole site is off limits for now
                self._robots[origin] = f"robots.txt could not be read ({answer.reason}), so the site is left alone"
            else:
                self._robots[origin] = None  # 4xx: no rules
        return self._robots[origin]


class _TooBig(Exception):
    """A body over the size limit; the message says which limit."""


def utc_now() -> str:
    """Now in UTC, ISO 8601 to the second (what the sync records as fetched-at)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"
