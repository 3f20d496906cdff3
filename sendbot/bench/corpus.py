"""Scaled corpora for `sendbot bench --scale`: the bundled documents plus variants that are not duplicates.

Copy 0 is the corpus itself, under its own names (so the golden questions' expected sources exist). Copy i > 0 is
every document again as a made-up council's papers: in folder `copy-NNN/`, renamed, its place names replaced by
made-up ones, every number shifted by i and every year moved on by i, its title led by the council's name. The same
kind of text, so each variant is a plausible distractor, but no passage's embedded text (title and section before
the passage) is a duplicate of another's; the passage alone repeats where it has no number or name in it (about a
fifth: signatures, headings, boilerplate), as boilerplate does between councils. PDFs stay PDFs (written with
reportlab from their extracted pages), so a scaled ingest parses every copy's pages; but a plain reportlab page is
quicker for pypdf than a council's typeset one (the agenda pack's copy: 0.29 processor seconds against 2.24), so a
scaled corpus costs less reading per page than the bundled one, and its ingest ratio flatters ingest.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from ingest.loaders import load_document
from ingest.pipeline import discover

PLACES = ("Worcestershire", "Worcester", "Malvern", "Redditch", "Bromsgrove", "Kidderminster", "Pershore", "Evesham",
          "Wyre Forest", "Droitwich", "Stourport", "Tenbury", "Upton")
SYLLABLES = ("ash", "brook", "cal", "dun", "el", "fen", "gar", "hol", "ink", "jor", "kel", "lum", "mor", "nel",
             "ot", "pen", "quar", "ros", "sel", "tam", "ul", "ver", "wen", "yar")
_NUMBER = re.compile(r"\d+")
_COPY = re.compile(r"^copy-(\d{3})/(.+)-\1(\.[^./]+)$")  # copy-007/name-007.pdf is a copy of name.pdf
_PLACE = re.compile("|".join(re.escape(p) for p in sorted(PLACES, key=len, reverse=True)))


def made_up_name(copy: int, place: str) -> str:
    """A pronounceable place name for this copy, the same for every mention of `place` in it."""
    seed = copy * 31 + PLACES.index(place) * 7
    name = SYLLABLES[seed % len(SYLLABLES)] + SYLLABLES[(seed // len(SYLLABLES) + copy) % len(SYLLABLES)]
    suffix = "shire" if place.endswith("shire") else ""
    return name.capitalize() + suffix


def vary_text(text: str, copy: int) -> str:
    """The text with its place names, numbers and years changed for copy `copy` (copy 0 is left as it is)."""
    if copy == 0:
        return text
    text = _PLACE.sub(lambda m: made_up_name(copy, m.group()), text)
    return _NUMBER.sub(lambda m: str(int(m.group()) + copy), text)  # years move on by `copy` like every number


def original_source(source: str) -> str:
    """The bundled document a scaled corpus's document is a copy of (`copy-007/name-007.pdf` -> `name.pdf`); an
    original's own name for an original, so the "family" hit@k counts another council's version as a hit."""
    copy = _COPY.match(source)
    return copy.group(2) + copy.group(3) if copy else source


def is_original(source: str) -> bool:
    """True for copy 0: the bundled documents themselves, the council the golden questions were written for."""
    return _COPY.match(source) is None


def build_scaled_corpus(corpus: Path, scale: int, out: Path) -> Path:
    """Write `scale` copies of `corpus` into `out` (copy 0 unchanged, the others varied); returns `out`."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    files, _ = discover([corpus])
    manifest = _read_manifest(corpus)
    for found in files:
        shutil.copy2(found.path, out / found.source)
    if manifest:
        (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    for copy in range(1, scale):
        _write_copy(files, manifest, copy, out / f"copy-{copy:03d}")
    return out


def _read_manifest(corpus: Path) -> dict:
    path = corpus / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _write_copy(files, manifest: dict, copy: int, folder: Path) -> None:
    folder.mkdir(parents=True)
    varied_manifest = {}
    for found in files:
        name = f"{found.path.stem}-{copy:03d}{found.path.suffix}"
        target = folder / name
        if found.path.suffix.lower() == ".pdf":
            write_pdf([vary_text(p.text, copy) for p in load_document(found.path).pages], target)
        else:
            target.write_text(vary_text(found.path.read_text(encoding="utf-8"), copy), encoding="utf-8")
        entry = manifest.get(found.source, {})
        varied_manifest[name] = {key: _vary_entry(key, value, copy) for key, value in entry.items()}
    (folder / "manifest.json").write_text(json.dumps(varied_manifest, indent=1), encoding="utf-8")


def _vary_entry(key: str, value, copy: int):
    """A manifest value for copy `copy`: a date keeps its day and month (so it stays a date) and moves on `copy` years;
    a title starts with the copy's made-up council, so every passage's embedded text (title first) is its own."""
    if key == "date" and value:
        return f"{int(value[:4]) + copy}{value[4:]}"
    if key == "title" and value:
        return f"{made_up_name(copy, PLACES[0])}: {vary_text(value, copy)}"
    return vary_text(value, copy) if isinstance(value, str) else value


def write_pdf(pages: list[str], path: Path) -> None:
    """A PDF with one page per text, line for line (reportlab's Helvetica; pypdf reads the text back)."""
    try:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen import canvas
    except ImportError:
        raise RuntimeError("building scaled PDFs needs reportlab: run `pip install -e '.[test]'`") from None
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for text in pages:
        lines = pdf.beginText(36, A4[1] - 36)
        lines.setFont("Helvetica", 7)
        for line in text.splitlines() or [""]:
            lines.textLine(line.replace("\u2022", "-").encode("latin-1", "replace").decode("latin-1"))
        pdf.drawText(lines)
        pdf.showPage()
    pdf.save()
