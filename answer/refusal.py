"""The refusal: what sendbot says when the documents do not answer, built here and nowhere else."""

from __future__ import annotations

from sendbot.core.models import Answer, Passage
from sendbot.core.prompts import prompts


def no_question(question: str) -> Answer:
    """The reply to text with nothing to search for (empty, or only instructions aimed at the bot)."""
    return Answer(question, (), (), refused=True, message=prompts().no_question.text, reason="no_question")


def no_search_words(question: str) -> Answer:
    """The reply to a question made only of words too common to search on ("who does it?") or of symbols."""
    return Answer(question, (), (), refused=True, message=prompts().no_search_words.text, reason="no_search_words")


def too_long(question: str, limit: int) -> Answer:
    """The reply to a question over the length limit: refused before any search, so it costs nothing."""
    message = prompts().too_long.format(length=f"{len(question):,}", limit=f"{limit:,}")
    return Answer(question[:limit], (), (), refused=True, message=message, reason="too_long")


def not_found(question: str, passages: list[Passage], evidence: float) -> Answer:
    """The plain "not in these documents" reply, offering the topics of the closest passages."""
    return Answer(question, (), (), refused=True, message=prompts().refusal.text,
                  nearest_topics=tuple(nearest_topics(passages)), evidence=round(evidence, 4), reason="not_found")


def nearest_topics(passages: list[Passage], limit: int = 3) -> list[str]:
    """Short labels for the closest passages: their section, or their document's title."""
    topics: list[str] = []
    for passage in passages:
        chunk = passage.chunk
        label = chunk.section if chunk.section and chunk.section != chunk.title else chunk.title
        label = " ".join(label.split()[:12])
        if label not in topics:
            topics.append(label)
        if len(topics) == limit:
            break
    return topics
