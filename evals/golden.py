"""The golden set: hand-written questions with expected facts and sources (format in evals/README.md)."""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

GOLDEN_PATH = Path(__file__).with_name("golden.yaml")
TAGS = {"parent", "officer", "typo", "paraphrase", "acronym", "number", "date", "money", "multi-passage",
        "multi-document", "unanswerable", "near-miss", "injection", "definition", "yes-no", "table", "list", "name"}
SPLITS = ("dev", "test")


def split_of(question_id: str) -> str:
    """The split a question belongs to, fixed by its id alone: tune on "dev", report the gate on "test".

    SHA-256 of the id, read as a number, modulo 10: 0-4 dev, 5-9 test. It never depends on the order of the
    file, on the other questions or on the Python process, so adding a question never moves another one.
    """
    return "dev" if int(hashlib.sha256(question_id.encode("utf-8")).hexdigest(), 16) % 10 < 5 else "test"


@dataclass(frozen=True)
class GoldenQuestion:
    """One question and what a correct reply must contain."""

    id: str
    question: str
    tags: tuple[str, ...]
    answerable: bool
    facts: tuple[tuple[str, ...], ...]  # every fact must appear; any phrasing of a fact counts
    sources: tuple[str, ...]
    pages: tuple[int, ...] = ()
    forbidden: tuple[str, ...] = ()

    @property
    def split(self) -> str:
        """"dev" (tune on it) or "test" (the CI gate is set on it), by a fixed hash of the id."""
        return split_of(self.id)


class GoldenSetError(ValueError):
    """The golden file breaks the documented format."""


def load_golden(path: Path = GOLDEN_PATH) -> list[GoldenQuestion]:
    """Read and check the golden set; errors name the entry and the field."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    questions, seen = [], set()
    for number, entry in enumerate(raw, start=1):
        where = f"{path.name} entry {number} ({entry.get('id', 'no id')})"
        missing = {"id", "question", "tags", "answerable", "facts", "sources"} - set(entry)
        if missing:
            raise GoldenSetError(f"{where}: missing {', '.join(sorted(missing))}")
        if entry["id"] in seen:
            raise GoldenSetError(f"{where}: duplicate id")
        if entry["id"] in SPLITS or entry["id"] in TAGS:
            raise GoldenSetError(f"{where}: an id may not be a split or tag name, --subset would be ambiguous")
        seen.add(entry["id"])
        unknown = set(entry["tags"]) - TAGS
        if unknown:
            raise GoldenSetError(f"{where}: unknown tags {sorted(unknown)} (allowed: {sorted(TAGS)})")
        if entry["answerable"] and not (entry["facts"] and entry["sources"]):
            raise GoldenSetError(f"{where}: an answerable question needs facts and sources")
        questions.append(GoldenQuestion(
            id=entry["id"], question=entry["question"], tags=tuple(entry["tags"]), answerable=bool(entry["answerable"]),
            facts=tuple(tuple(str(p) for p in fact) for fact in entry["facts"]), sources=tuple(entry["sources"]),
            pages=tuple(entry.get("pages") or ()), forbidden=tuple(entry.get("forbidden") or ()),
        ))
    return questions


def select(questions: list[GoldenQuestion], subset: str | None) -> list[GoldenQuestion]:
    """Questions in a split ("dev", "test"), carrying a tag, or whose id matches a glob; comma-separated alternatives."""
    if not subset:
        return questions
    patterns = [p.strip() for p in subset.split(",") if p.strip()]
    return [q for q in questions if any(p == q.split or p in q.tags or fnmatch.fnmatch(q.id, p) for p in patterns)]
