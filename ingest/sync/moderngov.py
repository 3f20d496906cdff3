"""Committee papers from a ModernGov site's web service: committees -> meetings in a window -> each meeting's papers.

`{base}/mgWebService.asmx/GetCommittees`, `GetMeetings?lCommitteeId=&sFromDate=&sToDate=` (dates dd/mm/yyyy: ISO
dates are silently ignored and return everything) and `GetMeeting?lMeetingId=` (agenda items with their linked
documents and each item's minutes as escaped HTML). A meeting read before that is older than `recheck_days` and had
its minutes then is not asked for again: its documents are kept as they are.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterator
from urllib.parse import urljoin

from lxml import etree

from ingest.sync.content import clean_title, minutes_text, plain, sniff_suffix
from ingest.sync.fetch import Fetched, Fetcher, utc_now
from ingest.sync.sources import ModernGovSource
from ingest.sync.state import Candidate, Meta, MeetingSeen, Origin, SyncState, meeting_key
from sendbot.core.dates import format_date

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)


class ServiceError(Exception):
    """A web service call that did not give usable XML; the message names the call and why."""

    def __init__(self, message: str, outcome: str = "failed") -> None:
        super().__init__(message)
        self.outcome = outcome  # "blocked" when the site refused (403, challenge, robots.txt), else "failed"


@dataclass(frozen=True)
class Meeting:
    """A meeting as GetMeetings lists it."""

    id: str
    date: str  # YYYY-MM-DD
    committee_id: str
    committee: str


def collect(source: ModernGovSource, fetcher: Fetcher, state: SyncState, today: date,
            seen: dict[str, MeetingSeen]) -> Iterator[Candidate]:
    """Every paper of the source's committees in its window; meetings read are recorded in `seen`."""
    try:
        committees = _committees(source, fetcher)
    except ServiceError as error:
        yield Candidate(f"{source.base_url}/mgWebService.asmx/GetCommittees", source.name, error.outcome, reason=str(error))
        return
    for wanted in source.committees:
        match = _match_committee(wanted, committees)
        if isinstance(match, str):
            yield Candidate(f"{source.base_url}#committee={wanted}", source.name, "failed", reason=match)
            continue
        try:
            meetings = _meetings(source, fetcher, match, today)
        except ServiceError as error:
            yield Candidate(f"{source.base_url}#committee={wanted}", source.name, error.outcome, reason=str(error))
            continue
        for meeting in meetings:
            yield from _meeting_papers(source, fetcher, state, meeting, today, seen)


def _service(source: ModernGovSource, fetcher: Fetcher, operation: str, **params: str) -> etree._Element:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    url = f"{source.base_url}/mgWebService.asmx/{operation}" + (f"?{query}" if query else "")
    got = fetcher.get(url)
    if got.outcome != "ok":
        raise ServiceError(f"{operation} at {url}: {got.outcome} ({got.reason})",
                           "blocked" if got.outcome == "blocked" else "failed")
    try:
        return etree.fromstring(got.body, _PARSER)
    except etree.XMLSyntaxError as error:
        raise ServiceError(f"{operation} at {url} did not answer with XML ({error}); is base_url a ModernGov site?") from None


def _text(element: etree._Element, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


def _committees(source: ModernGovSource, fetcher: Fetcher) -> dict[str, str]:
    """Committee id -> title."""
    root = _service(source, fetcher, "GetCommittees")
    return {_text(c, "committeeid"): plain(_text(c, "committeetitle")) for c in root.iter("committee") if _text(c, "committeeid")}


def _match_committee(wanted: str, committees: dict[str, str]) -> tuple[str, str] | str:
    """(id, title) of the committee named or numbered `wanted`, or why there is none."""
    if wanted in committees:
        return wanted, committees[wanted]
    by_title = {" ".join(t.lower().split()): cid for cid, t in committees.items()}
    cid = by_title.get(" ".join(wanted.lower().split()))
    if cid:
        return cid, committees[cid]
    close = difflib.get_close_matches(wanted, list(committees.values()), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else " (check the name on the site)"
    return f"no committee {wanted!r} in GetCommittees{hint}"


def _ddmmyyyy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _iso(text: str) -> str:
    """A ModernGov date (dd/mm/yyyy, sometimes with a time, or ISO) as YYYY-MM-DD; "" if unreadable."""
    text = text.strip()
    for shape, width in (("%d/%m/%Y", 10), ("%Y-%m-%d", 10)):
        try:
            return datetime.strptime(text[:width], shape).date().isoformat()
        except ValueError:
            continue
    return ""


def _meetings(source: ModernGovSource, fetcher: Fetcher, committee: tuple[str, str], today: date) -> list[Meeting]:
    cid, title = committee
    root = _service(source, fetcher, "GetMeetings", lCommitteeId=cid, sFromDate=_ddmmyyyy(source.since),
                    sToDate=_ddmmyyyy(today + timedelta(days=source.ahead_days)))
    meetings = [Meeting(_text(m, "meetingid"), _iso(_text(m, "meetingdate")), cid, title) for m in root.iter("meeting")]
    last = (today + timedelta(days=source.ahead_days)).isoformat()
    return [m for m in meetings if m.id and m.date and source.since.isoformat() <= m.date <= last]


def _needs_reading(meeting: Meeting, last: MeetingSeen | None, source: ModernGovSource, today: date) -> bool:
    """New meetings, recent or future ones, and old ones whose minutes were not out yet are read again."""
    recent = meeting.date >= (today - timedelta(days=source.recheck_days)).isoformat()
    return last is None or recent or not last.minutes_published


def _meeting_papers(source: ModernGovSource, fetcher: Fetcher, state: SyncState, meeting: Meeting, today: date,
                    seen: dict[str, MeetingSeen]) -> Iterator[Candidate]:
    key = meeting_key(source.name, meeting.id)
    mine = [k for k in state.of_source(source.name) if k.origin.get("meeting_id") == meeting.id]
    if not _needs_reading(meeting, state.meetings.get(key), source, today):
        yield from (Candidate(k.key, source.name, "kept") for k in mine)
        return
    try:
        root = _service(source, fetcher, "GetMeeting", lMeetingId=meeting.id)
    except ServiceError as error:
        yield Candidate(f"{source.base_url}#meeting={meeting.id}", source.name, error.outcome, reason=str(error))
        yield from (Candidate(k.key, source.name, "kept") for k in mine)
        return
    detail = next(root.iter("meeting"), root)
    seen[key] = MeetingSeen(meeting.date, _text(detail, "minutepublished").lower() == "true", utc_now())
    listed = []
    for candidate in _papers(source, fetcher, state, meeting, detail):
        listed.append(candidate.key)
        yield candidate
    for known in mine:  # no longer on the meeting's page: a gone strike
        if known.key not in listed:
            yield Candidate(known.key, source.name, "gone", reason="no longer listed for the meeting")


def _papers(source: ModernGovSource, fetcher: Fetcher, state: SyncState, meeting: Meeting,
            detail: etree._Element) -> Iterator[Candidate]:
    """The meeting's linked documents (its own and each agenda item's) and each item's minutes text."""
    page = f"{source.base_url}/ieListDocuments.aspx?CId={meeting.committee_id}&MId={meeting.id}"
    for doc in detail.iter("linkeddoc"):
        if not doc.xpath("ancestor::agendaitem"):  # the meeting's own papers (agenda pack, printed minutes)
            yield _document(source, fetcher, state, meeting, doc, None, page)
    for item in detail.iter("agendaitem"):
        for doc in item.iter("linkeddoc"):
            yield _document(source, fetcher, state, meeting, doc, item, page)
        minutes = _minutes(source, meeting, item, page)
        if minutes:
            yield minutes


def _item_label(item: etree._Element | None) -> str:
    if item is None:
        return ""
    number = plain(_text(item, "fulldisplaynumberformat") or _text(item, "agendaitemnumber"))
    return " ".join(x for x in (number, plain(_text(item, "agendaitemtitle"))) if x)


def _category(title: str, decision: bool) -> str:
    lowered = title.lower()
    if "minute" in lowered:
        return "minutes"
    if decision or "decision" in lowered:
        return "decision"
    return "agenda" if "agenda" in lowered else "report"


def _document(source: ModernGovSource, fetcher: Fetcher, state: SyncState, meeting: Meeting, doc: etree._Element,
              item: etree._Element | None, page: str) -> Candidate:
    url = urljoin(source.base_url + "/", _text(doc, "url"))
    if _text(doc, "isrestricted").lower() == "true" or not _text(doc, "url"):
        return Candidate(url, source.name, "skipped", reason="a restricted (exempt) paper, not published")
    known = state.documents.get(url)
    got = fetcher.get(url, known.etag if known else "", known.last_modified if known else "")
    title = clean_title(_text(doc, "title")) or "Paper"
    decision = item is not None and _text(item, "isdecision").lower() == "true"
    category = _category(title, decision)
    anchor = f"{page}#AI{_text(item, 'agendaitemid')}" if item is not None else page
    origin = Origin(source.name, source.council, meeting.committee, meeting.committee_id, meeting.id, meeting.date,
                    _item_label(item), category, anchor, url, got.final_url, _iso(_text(doc, "publicationdate")),
                    got.fetched_at, content_type=got.content_type)
    meta = Meta(f"{title} - {meeting.committee}, {format_date(meeting.date)}", meeting.date, source.council, category,
                got.final_url, meeting.committee, meeting.date, _item_label(item))
    return _as_candidate(url, source.name, got, meta, origin)


def _as_candidate(key: str, source: str, got: Fetched, meta: Meta, origin: Origin) -> Candidate:
    """A fetched paper as a candidate: a readable file, or why not."""
    if got.outcome == "not_modified":
        return Candidate(key, source, "not_modified", etag=got.etag, last_modified=got.last_modified)
    if got.outcome != "ok":
        return Candidate(key, source, got.outcome, reason=got.reason)
    suffix = sniff_suffix(got.body, got.content_type, got.final_url)
    if suffix not in (".pdf", ".docx"):
        return Candidate(key, source, "skipped", reason=f"not a PDF or Word file ({got.content_type or 'unknown type'})")
    return Candidate(key, source, "fetched", content=got.body, suffix=suffix, meta=meta, origin=origin,
                     etag=got.etag, last_modified=got.last_modified)


def _minutes(source: ModernGovSource, meeting: Meeting, item: etree._Element, page: str) -> Candidate | None:
    """An agenda item's minutes text as its own document, citing the meeting page at the item's anchor."""
    body = _text(item, "minutesnonemptyhtmlbody")
    if not body:
        return None
    label = _item_label(item)
    text = f"{label}\n\n{minutes_text(body)}\n"
    anchor = f"{page}#AI{_text(item, 'agendaitemid')}"
    kind = "decision" if _text(item, "isdecision").lower() == "true" else "minutes"
    origin = Origin(source.name, source.council, meeting.committee, meeting.committee_id, meeting.id, meeting.date,
                    label, kind, anchor, anchor, anchor, meeting.date, utc_now(), content_type="text/plain")
    meta = Meta(f"Minutes, item {label} - {meeting.committee}, {format_date(meeting.date)}", meeting.date,
                source.council, kind, anchor, meeting.committee, meeting.date, label)
    return Candidate(anchor, source.name, "fetched", content=text.encode("utf-8"), suffix=".txt", meta=meta, origin=origin)
