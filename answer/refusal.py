"""The refusal: what sendbot says when the documents do not answer, built here and nowhere else."""

from __future__ import annotations

from sendbot.core.models import Answer, Passage
from sendbot.core.prompts import prompts
from sendbot.core.topics import passage_topics


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
    """Topics of the closest passages, the same the web app offers: their clean section titles, or, when no
    section reads as a topic (a PDF's headings are often cut-off sentences or capitals), their documents' titles."""
    return passage_topics(passages, limit=limit) or list(dict.fromkeys(p.chunk.title for p in passages))[:limit]
