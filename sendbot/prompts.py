"""Text shown to people (refusals, notes) lives in files under prompts/, so it can be edited without code."""

from __future__ import annotations

import functools

from sendbot.config import PROMPTS_DIR


@functools.cache
def load_prompt(name: str) -> str:
    """The text of prompts/<name>, without its trailing newline."""
    return (PROMPTS_DIR / name).read_text(encoding="utf-8").strip()
