"""The prompt registry: text shown to people lives in files under prompts/, declared here with its placeholders.

Each file is read once and checked when the registry loads: a missing file, or a `{placeholder}` that is not the
declared set, fails at start-up with the file's name rather than at the first question that needs it.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field, fields
from pathlib import Path

from sendbot.core.config import PROMPTS_DIR


class PromptError(ValueError):
    """A prompt file is missing or its placeholders are not the ones the code fills in."""


@dataclass(frozen=True)
class Prompt:
    """One prompt file's text and the placeholders it must contain."""

    file: str
    text: str
    placeholders: frozenset[str]

    def format(self, **values: object) -> str:
        """The text with its placeholders filled; every declared placeholder must be given, and nothing else."""
        if set(values) != self.placeholders:
            raise PromptError(f"prompts/{self.file} takes {sorted(self.placeholders)}, was given {sorted(values)}")
        return self.text.format(**values)


def _spec(file: str, *placeholders: str):
    """Declare a registry field: its file under prompts/ and the placeholders the code fills in."""
    return field(metadata={"file": file, "placeholders": frozenset(placeholders)})


@dataclass(frozen=True)
class Prompts:
    """Every prompt sendbot uses, loaded and checked together."""

    refusal: Prompt = _spec("refusal.txt")
    nearest_topics: Prompt = _spec("nearest_topics.txt", "topics")
    no_question: Prompt = _spec("no_question.txt")
    no_search_words: Prompt = _spec("no_search_words.txt")
    too_long: Prompt = _spec("too_long.txt", "length", "limit")
    said_earlier: Prompt = _spec("said_earlier.txt", "when")  # labels a sentence a later document follows on from
    commitment_status: Prompt = _spec("commitment_status.txt", "label", "status")  # a quoted commitment's status
    direct_answer: Prompt = _spec("direct_answer.txt", "answer")  # the few words that answer it, before the sentences
    tentative: Prompt = _spec("tentative.txt")  # before a tentative answer: the documents may not answer it exactly
    about: Prompt = _spec("about.md")
    app_intro: Prompt = _spec("app_intro.md")
    app_examples: Prompt = _spec("app_examples.md")
    app_filters_help: Prompt = _spec("app_filters_help.md")
    app_admin_help: Prompt = _spec("app_admin_help.md", "max_mb")
    app_nearest_topics: Prompt = _spec("app_nearest_topics.txt")
    app_refusal_tips: Prompt = _spec("app_refusal_tips.txt")
    app_signpost: Prompt = _spec("app_signpost.txt")  # where to get help, under every refusal in the web app
    app_missing_words: Prompt = _spec("app_missing_words.txt", "words")  # the question's words no document uses
    llm_system: Prompt = _spec("llm_system.txt")  # the optional language model's instructions (answer/generated.py)
    llm_question: Prompt = _spec("llm_question.txt", "passages", "question")  # passages as numbered, quoted data

    @classmethod
    def load(cls, folder: Path = PROMPTS_DIR) -> "Prompts":
        """Read and check every declared prompt file in `folder`."""
        return cls(**{f.name: _load_one(folder, f.metadata["file"], f.metadata["placeholders"]) for f in fields(cls)})


def _load_one(folder: Path, file: str, placeholders: frozenset[str]) -> Prompt:
    path = folder / file
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise PromptError(f"{path} cannot be read ({error.strerror or error}); it ships with sendbot") from None
    try:
        found = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        raise PromptError(f"{path}: {error} (write a literal brace as {{{{ or }}}})") from None
    if found != placeholders:
        raise PromptError(f"{path} has placeholders {sorted(found)}, the code fills in {sorted(placeholders)}")
    return Prompt(file, text, placeholders)


@functools.cache
def prompts() -> Prompts:
    """The process-wide prompt registry, loaded on first use."""
    return Prompts.load()
