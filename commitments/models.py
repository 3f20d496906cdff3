"""The register's records: a commitment quoted from one passage, and the later passages that report on it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

KINDS = ("commitment", "decision", "request", "target")
STATUSES = ("done", "in progress", "overdue", "no later mention")


@dataclass(frozen=True)
class FollowUp:
    """A passage in a later-dated document that reports on a commitment, with its own citation."""

    quote: str  # an exact slice of the page text
    source: str
    title: str
    date: str  # YYYY-MM-DD, or "" when the document states none
    period: str
    page: int | None
    section: str
    state: str  # "done" when it reports completion, else "in progress"
    score: float  # how closely it matches the commitment's subject


@dataclass(frozen=True)
class Commitment:
    """One statement that commits someone to something, quoted verbatim from the page it is on."""

    quote: str  # an exact slice of the page text: what the register shows and cites
    what: str  # a short label
    who: str  # person, role or body the text names; "unknown" otherwise
    due: str  # YYYY-MM-DD, or "" when no date is stated
    kind: str  # one of KINDS
    source: str
    title: str
    date: str
    period: str
    doc_kind: str
    meeting: str
    page: int | None
    section: str
    reported: str = ""  # "done" or "in progress" when the statement's own row says so (action plans)
    follow_ups: tuple[FollowUp, ...] = field(default=())

    def to_json(self) -> dict:
        """The record as plain JSON values (follow-ups as a list of objects)."""
        data = asdict(self)
        data["follow_ups"] = [asdict(f) for f in self.follow_ups]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Commitment":
        """The record back from `to_json` (fields it does not know are ignored)."""
        names = {f.name for f in fields(cls)} - {"follow_ups"}
        follow_names = {f.name for f in fields(FollowUp)}
        follow_ups = tuple(FollowUp(**{k: v for k, v in f.items() if k in follow_names}) for f in data.get("follow_ups", ()))
        return cls(**{k: v for k, v in data.items() if k in names}, follow_ups=follow_ups)
