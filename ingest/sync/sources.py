"""Read sources.toml: which council sites `sendbot sync` fetches, and how politely.

Every problem is a `SourcesError` naming the file, the table and the key, and saying what to write instead. Keys this
version does not know are reported as warnings, not errors, so one file works across sendbot versions.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_SINCE_DAYS = 730  # two years back
TOP_KEYS = {"contact", "council", "rate_limit_seconds", "timeout_seconds", "retries", "max_retry_after_seconds",
            "moderngov", "local_offer"}
MODERNGOV_KEYS = {"name", "council", "base_url", "committees", "since", "ahead_days", "recheck_days"}
LOCAL_OFFER_KEYS = {"name", "council", "start_urls", "allow_prefixes", "sitemaps", "max_pages", "max_depth"}


class SourcesError(ValueError):
    """sources.toml cannot be used; the message names the place and the fix."""


@dataclass(frozen=True)
class ModernGovSource:
    """One ModernGov site and the committees whose papers to fetch."""

    name: str
    council: str
    base_url: str  # e.g. https://worcestershire.moderngov.co.uk (no trailing slash)
    committees: tuple[str, ...]  # committee titles or ids, as written
    since: date
    ahead_days: int = 56  # meetings up to 8 weeks ahead (agendas are published a week or so before)
    recheck_days: int = 90  # meetings this recent are fetched again on every sync (minutes come weeks later)


@dataclass(frozen=True)
class LocalOfferSource:
    """One Local Offer website: where the crawl starts and which addresses it may visit."""

    name: str
    council: str
    start_urls: tuple[str, ...]
    allow_prefixes: tuple[str, ...]  # a page is crawled only if its address starts with one of these
    sitemaps: tuple[str, ...] = ()  # besides those robots.txt lists
    max_pages: int = 500
    max_depth: int = 5


@dataclass(frozen=True)
class SyncConfig:
    """The whole sources.toml."""

    path: Path
    contact: str  # an e-mail address or web page, sent in the User-Agent so a council can reach whoever runs this
    rate_limit_seconds: float
    timeout_seconds: float
    retries: int
    max_retry_after_seconds: float  # a Retry-After longer than this fails the URL instead of waiting
    moderngov: tuple[ModernGovSource, ...]
    local_offer: tuple[LocalOfferSource, ...]
    warnings: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every source's name, in file order (ModernGov first)."""
        return tuple(s.name for s in (*self.moderngov, *self.local_offer))


def load_sources(path: Path, today: date | None = None) -> SyncConfig:
    """Read and check sources.toml; SourcesError says what is wrong and where."""
    if not path.is_file():
        raise SourcesError(f"{path} does not exist: copy sources.example.toml there and point it at your council's "
                           "sites, or give another file with --config or SENDBOT_SOURCES")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SourcesError(f"{path} is not valid TOML ({error})") from None
    where = _Where(path, "top level")
    warnings = where.unknown(raw, TOP_KEYS)
    contact = where.text(raw, "contact")
    if "@" not in contact and not contact.startswith(("http://", "https://")):
        raise where.error("contact", f"{contact!r} is neither an e-mail address nor a web address; give one a "
                          "council's web team can reach you at")
    council = str(raw.get("council", ""))
    moderngov, local_offer = _tables(raw, path, council, today or date.today(), warnings)
    if not moderngov and not local_offer:
        raise SourcesError(f"{path} lists no sources: add a [[moderngov]] or [[local_offer]] table")
    config = SyncConfig(
        path=path, contact=contact, rate_limit_seconds=where.number(raw, "rate_limit_seconds", 2.0),
        timeout_seconds=where.number(raw, "timeout_seconds", 90.0, low=0.01), retries=int(where.number(raw, "retries", 3)),
        max_retry_after_seconds=where.number(raw, "max_retry_after_seconds", 300.0),
        moderngov=moderngov, local_offer=local_offer, warnings=tuple(warnings),
    )
    duplicates = {n for n in config.names if config.names.count(n) > 1}
    if duplicates:
        raise SourcesError(f"{path}: two sources are named {sorted(duplicates)[0]!r}; give each a different name")
    return config


def _tables(raw: dict, path: Path, council: str, today: date, warnings: list[str]):
    moderngov, local_offer = [], []
    for i, table in enumerate(_list_of_tables(raw, "moderngov", path), 1):
        where = _Where(path, f"[[moderngov]] number {i}")
        warnings.extend(where.unknown(table, MODERNGOV_KEYS))
        moderngov.append(ModernGovSource(
            name=where.text(table, "name"), council=str(table.get("council", council)),
            base_url=where.url(table, "base_url").rstrip("/"), committees=where.strings(table, "committees"),
            since=where.day(table, "since", today - timedelta(days=DEFAULT_SINCE_DAYS)),
            ahead_days=int(where.number(table, "ahead_days", 56)), recheck_days=int(where.number(table, "recheck_days", 90)),
        ))
    for i, table in enumerate(_list_of_tables(raw, "local_offer", path), 1):
        where = _Where(path, f"[[local_offer]] number {i}")
        warnings.extend(where.unknown(table, LOCAL_OFFER_KEYS))
        starts = where.urls(table, "start_urls")
        prefixes = where.urls(table, "allow_prefixes") if "allow_prefixes" in table else starts
        outside = [u for u in starts if not u.startswith(prefixes)]
        if outside:
            raise where.error("start_urls", f"{outside[0]} is not under any of allow_prefixes; add its prefix")
        local_offer.append(LocalOfferSource(
            name=where.text(table, "name"), council=str(table.get("council", council)), start_urls=starts,
            allow_prefixes=prefixes, sitemaps=where.urls(table, "sitemaps") if "sitemaps" in table else (),
            max_pages=int(where.number(table, "max_pages", 500, low=1)), max_depth=int(where.number(table, "max_depth", 5)),
        ))
    return tuple(moderngov), tuple(local_offer)


def _list_of_tables(raw: dict, key: str, path: Path) -> list[dict]:
    tables = raw.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise SourcesError(f"{path}: {key} must be written as [[{key}]] tables")
    return tables


@dataclass(frozen=True)
class _Where:
    """A place in the file, to name in error messages, with readers for each kind of value."""

    path: Path
    table: str

    def error(self, key: str, problem: str) -> SourcesError:
        return SourcesError(f"{self.path}, {self.table}, {key}: {problem}")

    def unknown(self, table: dict, known: set[str]) -> list[str]:
        return [f"{self.path}, {self.table}: unknown key {key!r} ignored (known: {', '.join(sorted(known))})"
                for key in table if key not in known]

    def text(self, table: dict, key: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "missing: it must be a non-empty string" if value is None else f"{value!r} is not a non-empty string")
        return value.strip()

    def url(self, table: dict, key: str) -> str:
        return self._check_url(key, self.text(table, key))

    def _check_url(self, key: str, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.error(key, f"{value!r} is not an http(s) address such as https://www.example.gov.uk/path")
        return value

    def strings(self, table: dict, key: str) -> tuple[str, ...]:
        value = table.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
            raise self.error(key, "must be a non-empty list such as [\"Cabinet\", 123] (names or ids)")
        return tuple(str(v).strip() for v in value)

    def urls(self, table: dict, key: str) -> tuple[str, ...]:
        return tuple(self._check_url(key, v) for v in self.strings(table, key))

    def number(self, table: dict, key: str, default: float, low: float = 0.0) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
            raise self.error(key, f"{value!r} is not a number of at least {low:g}")
        return float(value)

    def day(self, table: dict, key: str, default: date) -> date:
        value = table.get(key, default)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.error(key, f"{value!r} is not a date written YYYY-MM-DD") from None
