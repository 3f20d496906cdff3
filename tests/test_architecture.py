"""The structure the code promises (docs/architecture.md): layered imports, small functions, a thin entry point."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from sendbot.core.prompts import PromptError, Prompts, prompts
from support import REPO_DIR

PACKAGES = ("sendbot", "ingest", "index", "retrieve", "answer", "evals", "commitments")
MAX_FUNCTION_LINES = 60


def _project_files() -> list[Path]:
    return [REPO_DIR / "app.py"] + [p for package in PACKAGES for p in sorted((REPO_DIR / package).rglob("*.py"))]


def test_imports_follow_the_layers():
    # In a subprocess: import-linter reconfigures logging, which would silence other tests' log checks.
    lint = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), str(REPO_DIR / "pyproject.toml")],
                          capture_output=True, text=True, cwd=REPO_DIR, timeout=300)
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-2000:]


def test_the_web_entry_point_is_thin_and_sits_below_the_cli():
    source = (REPO_DIR / "app.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 200
    imported = {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import) for alias in node.names}
    assert not {m for m in imported if m == "sendbot.cli" or m.startswith("sendbot.cli.")}


def test_no_function_is_longer_than_a_screen():
    long = []
    for path in _project_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO_DIR)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "split these into named steps:\n" + "\n".join(long)


def test_every_prompt_file_loads_with_exactly_its_declared_placeholders():
    loaded = prompts()
    assert loaded.refusal.text and loaded.nearest_topics.format(topics="A; B").endswith("A; B.")
    with pytest.raises(PromptError, match="takes"):
        loaded.nearest_topics.format()


def test_a_prompt_file_with_a_stray_placeholder_fails_at_load_time(tmp_path):
    for path in (REPO_DIR / "prompts").iterdir():
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "refusal.txt").write_text("I couldn't find {what}.", encoding="utf-8")
    with pytest.raises(PromptError, match=r"refusal.txt has placeholders \['what'\]"):
        Prompts.load(tmp_path)
    (tmp_path / "refusal.txt").unlink()
    with pytest.raises(PromptError, match="refusal.txt cannot be read"):
        Prompts.load(tmp_path)
