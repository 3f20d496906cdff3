"""The commitments eval: the register built from the index against the hand-labelled `evals/commitments.yaml`.

Extraction is scored by span overlap on the same page (intersection over union of character spans >= 0.5, each
label matched once); who, due date and kind are scored on the matched pairs; follow-up links are scored by the same
span overlap on the follow-up's page. Pure functions over the labels, the register and the documents' page texts.

Scores are reported per split, as the golden set does (evals/golden.py `split_of`): a label is in "dev" or "test" by a
fixed hash of its id, a link goes with its commitment, and a register row goes with the label it matches (an
unmatched row by the hash of its source, page and quote). Cut-offs are tuned on "dev"; the CI gate holds "test".
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import yaml

from commitments.models import KINDS, Commitment
from commitments.register import update_register
from evals.golden import SPLITS, split_of
from index.store import open_store
from ingest.loaders import load_document
from sendbot.core.config import Settings

COMMITMENTS_PATH = Path(__file__).resolve().parent / "commitments.yaml"
GATE_PATH = Path(__file__).resolve().parent / "commitments_gate.toml"
OVERLAP = 0.5

PageTexts = dict[tuple[str, int], str]  # (source, page number) -> the page's text as the loader extracts it


@dataclass(frozen=True)
class Label:
    """One hand-labelled commitment."""

    id: str
    source: str
    page: int
    quote: str
    who: str
    due: str  # YYYY-MM-DD or ""
    kind: str

    @property
    def split(self) -> str:
        """"dev" (tune on it) or "test" (the gate holds it), by a fixed hash of the id."""
        return split_of(self.id)


@dataclass(frozen=True)
class LinkLabel:
    """A later passage that reports on a labelled commitment."""

    commitment: str
    source: str
    page: int
    quote: str


def load_labels(path: Path = COMMITMENTS_PATH) -> tuple[list[Label], list[LinkLabel]]:
    """The labelled commitments and links; ValueError naming the entry when one is malformed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    labels, links = [], []
    for raw in data.get("commitments", []):
        if raw.get("kind") not in KINDS or not raw.get("quote"):
            raise ValueError(f"{path}: commitment {raw.get('id')!r} needs a quote and a kind from {', '.join(KINDS)}")
        labels.append(Label(str(raw["id"]), raw["source"], int(raw["page"]), raw["quote"], raw.get("who") or "unknown",
                            str(raw["due"]) if raw.get("due") else "", raw["kind"]))
    ids = {label.id for label in labels}
    for raw in data.get("links", []):
        if raw.get("commitment") not in ids:
            raise ValueError(f"{path}: link to unknown commitment {raw.get('commitment')!r}")
        links.append(LinkLabel(raw["commitment"], raw["source"], int(raw["page"]), raw["quote"]))
    return labels, links


def _spans(page: str, quote: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(re.escape(quote), page)] if quote else []


def _overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> float:
    best = 0.0
    for s1, e1 in a:
        for s2, e2 in b:
            inter = min(e1, e2) - max(s1, s2)
            if inter > 0:
                best = max(best, inter / (max(e1, e2) - min(s1, s2)))
    return best


def _match(wanted: list[tuple[str, int, str]], got: list[tuple[str, int, str]], pages: PageTexts) -> dict[int, int]:
    """Pairs (index in wanted -> index in got) of spans on the same page overlapping enough, each used once."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for i, (source, page, quote) in enumerate(wanted):
        text = pages.get((source, page), "")
        mine = _spans(text, quote)
        best, best_j = OVERLAP, None
        for j, (g_source, g_page, g_quote) in enumerate(got):
            if j in used or g_source != source or g_page != page:
                continue
            score = _overlap(mine, _spans(text, g_quote))
            if score >= best:
                best, best_j = score, j
        if best_j is not None:
            pairs[i] = best_j
            used.add(best_j)
    return pairs


def same_who(label: str, got: str) -> bool:
    """Whether two names for who is committed agree: equal, one inside the other, or sharing most words."""
    a, b = (" ".join(re.findall(r"[a-z0-9]+", x.lower())) for x in (label, got))
    if a == "unknown" or b == "unknown":
        return a == b
    wa, wb = set(a.split()), set(b.split())
    return bool(a and b) and (a in b or b in a or len(wa & wb) / len(wa | wb) >= 0.5)


def _ratio(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def row_split(commitment: Commitment) -> str:
    """The split of a register row that matches no label: a fixed hash of where it is and what it says."""
    return split_of(f"{commitment.source}#{commitment.page or 1}:{commitment.quote}")


def score_register(register: list[Commitment], labels: list[Label], links: list[LinkLabel], pages: PageTexts,
                   split: str | None = None) -> dict:
    """Extraction precision and recall, who / due / kind accuracy, and link precision and recall, with counts;
    for one split ("dev" or "test") when `split` is given, else for the whole set. Rows are matched against every
    label first, so a row that matches a label of the other split never counts as an extra."""
    got = [(c.source, c.page or 1, c.quote) for c in register]
    pairs = _match([(lab.source, lab.page, lab.quote) for lab in labels], got, pages)
    row_splits = [row_split(c) for c in register]
    for i, j in pairs.items():
        row_splits[j] = labels[i].split
    keep_label = [split is None or lab.split == split for lab in labels]
    keep_row = [split is None or s == split for s in row_splits]
    mine = [lab for lab, keep in zip(labels, keep_label) if keep]
    rows = [c for c, keep in zip(register, keep_row) if keep]
    matched = [(labels[i], register[j]) for i, j in pairs.items() if keep_label[i]]
    dated = [(lab, c) for lab, c in matched if lab.due]
    found = {labels[i].id: j for i, j in pairs.items()}
    kept_links = [ln for ln in links if split is None or split_of(ln.commitment) == split]
    link_scores = _score_links(register, keep_row, kept_links, pages, found)
    return {
        "labelled": len(mine), "extracted": len(rows), "matched": len(matched),
        "precision": _ratio(len(matched), len(rows)), "recall": _ratio(len(matched), len(mine)),
        "who_accuracy": _ratio(sum(same_who(lab.who, c.who) for lab, c in matched), len(matched)),
        "due_accuracy": _ratio(sum(lab.due == c.due for lab, c in dated), len(dated)), "due_labelled": len(dated),
        "due_invented": sum(1 for lab, c in matched if not lab.due and c.due),
        "kind_accuracy": _ratio(sum(lab.kind == c.kind for lab, c in matched), len(matched)),
        **link_scores,
        "misses": [lab.id for i, lab in enumerate(labels) if keep_label[i] and i not in pairs],
        "extra": [c.quote for j, c in enumerate(register) if keep_row[j] and j not in set(pairs.values())],
    }


def _score_links(register: list[Commitment], keep_row: list[bool], links: list[LinkLabel], pages: PageTexts,
                 found: dict[str, int]) -> dict:
    """Links from the kept register rows to follow-ups, against the labelled links (strict: a link from a
    commitment that matches no label counts as wrong)."""
    predicted = [(j, f) for j, c in enumerate(register) if keep_row[j] for f in c.follow_ups]
    correct, recalled = 0, 0
    for j, follow in predicted:
        wanted = [ln for ln in links if found.get(ln.commitment) == j]
        if _match([(ln.source, ln.page, ln.quote) for ln in wanted], [(follow.source, follow.page or 1, follow.quote)], pages):
            correct += 1
    for link in links:
        j = found.get(link.commitment)
        follows = register[j].follow_ups if j is not None else ()
        if _match([(link.source, link.page, link.quote)], [(f.source, f.page or 1, f.quote) for f in follows], pages):
            recalled += 1
    return {"links_labelled": len(links), "links_found": len(predicted),
            "link_precision": _ratio(correct, len(predicted)), "link_recall": _ratio(recalled, len(links))}


def load_gate(path: Path = GATE_PATH) -> dict[str, float]:
    """The commitments budgets the CI gate holds (the [min] table of commitments_gate.toml)."""
    return {name: float(value) for name, value in tomllib.loads(path.read_text(encoding="utf-8")).get("min", {}).items()}


def gate_failures(scores: dict, gate: dict[str, float]) -> list[str]:
    """One line per budget the scores miss (empty when every budget is met)."""
    return [f"{name} {scores.get(name, 0.0):.3f} is under the budget {minimum:.2f}"
            for name, minimum in sorted(gate.items()) if scores.get(name, 0.0) < minimum]


def page_texts(settings: Settings, sources: Iterable[str]) -> PageTexts:
    """The page texts of the indexed documents the labels name, read from their files as ingest reads them."""
    files = open_store(settings).files
    pages: PageTexts = {}
    for source in sorted(set(sources)):
        record = files.get(source)
        if record is None:
            raise ValueError(f"the labelled document {source!r} is not in the index; run `sendbot ingest` on the corpus")
        doc = load_document(Path(record.path), settings.max_file_mb, source=source, max_word_chars=settings.max_word_chars)
        pages.update({(source, page.number): page.text for page in doc.pages})
    return pages


def run_commitments_eval(settings: Settings, path: Path = COMMITMENTS_PATH) -> dict:
    """Score the index's commitments register against the labelled set, per split: {"dev": scores, "test": scores}
    (the register is brought up to date first)."""
    labels, links = load_labels(path)
    register = list(update_register(settings).commitments)
    pages = page_texts(settings, [lab.source for lab in labels] + [ln.source for ln in links])
    return {split: score_register(register, labels, links, pages, split) for split in SPLITS}


SUMMARY_ROWS = (("precision", "extraction precision (span overlap)"), ("recall", "extraction recall"),
                ("who_accuracy", "who correct (of matched)"), ("due_accuracy", "due date correct (of labelled dates)"),
                ("kind_accuracy", "kind correct (of matched)"), ("link_precision", "follow-up link precision"),
                ("link_recall", "follow-up link recall"))


def summary_text(scores: dict) -> str:
    """The per-split scores as a small table for a terminal (dev: tuned on; test: what the gate holds)."""
    lines = [f"{'':42} {'dev':>6} {'test':>6}"]
    lines += [f"{label:42} {scores['dev'][name]:6.3f} {scores['test'][name]:6.3f}" for name, label in SUMMARY_ROWS]
    for split in SPLITS:
        part = scores[split]
        lines.append(f"{split}: {part['labelled']} labelled, {part['extracted']} extracted, {part['matched']} matched; "
                     f"{part['due_labelled']} labelled due dates; {part['links_labelled']} labelled links, "
                     f"{part['links_found']} found")
    return "\n".join(lines)
