"""An optional language model phrases the answer; a guard lets through only sentences a cited passage supports.

`LLMAnswerer` wraps the extractive answerer. It asks the extractive answerer first, and a refusal decided by the
evidence threshold stands: the model is not called. Otherwise the model gets the reranked passages as numbered,
quoted, untrusted data (prompts/llm_system.txt and prompts/llm_question.txt) and writes a short answer citing them
as [n]. Every generated sentence must then pass the guard:

- it cites at least one of the passages it was given, and does not read like an instruction to an AI assistant;
- the lexical support test the eval judges with (`answer.support.supports`) passes against the words quoted from
  the cited passages: its numbers (dates, money) and names all appear there, and most of its words;
- each cited passage's quote is its best-matching sentence (or two nearby ones), verbatim, never a sentence
  planted to steer an AI assistant.

Unsupported sentences are dropped. If nothing survives, or under half of what the model wrote, the reader gets the
extractive answer instead; so do timeouts, HTTP errors and malformed replies. The logger "sendbot.llm" says why.

The model libraries (llama-index-llms-openai-like, llama-index-llms-ollama: `pip install "sendbot[llm]"`) are
imported only when a model is configured.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import date as Date
from typing import Any, Sequence

from answer.extractive import mark_earlier
from answer.support import MIN_OVERLAP_PRECISION, split_cited, supports
from sendbot.core.config import Settings
from sendbot.core.dates import last_day
from sendbot.core.models import Answer, AnswerSentence, Citation, Passage, Query, Reranked, ScoredSentence
from sendbot.core.prompts import prompts
from sendbot.core.stages import Answerer
from sendbot.core.text import content_words, fold, looks_like_instruction, numbers_in, split_sentences

logger = logging.getLogger("sendbot.llm")

# The guard's overlap level: the share of a generated sentence's content words, and of each of its clauses of three
# or more content words, that its quote must contain. Calibrated on CALIBRATION in tests/test_llm.py: 40 faithful
# paraphrases of corpus sentences, each also cited to the other retrieved passages (161 pairs), with an invented
# clause added (40) and beside an invented sentence (40), judged against the real retrieved passages. At 0.60 the
# guard keeps 39/40 paraphrases, drops 157/161 wrong citations (the 4 kept are passages that state the same fact),
# 40/40 invented clauses and 39/40 invented sentences. Levels 0.30-0.50 keep 40/40 but let 4-7 more wrong citations
# through; 0.55 does as well as 0.60; 0.65 keeps 37/40, 0.70 35/40. Whole-sentence overlap alone cannot do it: an
# invented clause leaves a paraphrase's overlap at 0.38-0.85 (median 0.67), so at 0.60 only 10/40 were dropped
# (36/40 needed 0.80, which kept only 35/40 faithful ones); hence the clause check. 0.60 is also the eval's level,
# so every sentence the guard keeps passes the eval's support test against its quote.
MIN_GUARD_OVERLAP = MIN_OVERLAP_PRECISION
MIN_KEPT_SHARE = 0.5  # under this share of the generated sentences supported, the extractive answer is given
MAX_REPLY_CHARS = 2500  # a longer reply has ignored "one to three short sentences"
MAX_QUOTE_GAP = 2  # a quote may join the best sentence with another this many sentences away
NOT_IN_DOCUMENTS = "not in the documents"
_LIST_MARK = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+|^#+\s*")
_GROUPED_MARKERS = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)+)\]")
_MARKERS_BEFORE_STOP = re.compile(r"((?:\s*\[\d+\])+)\s*([.!?])")
# Where a sentence's clauses meet: an invented claim is most often a clause added to a faithful one.
_CLAUSE_BREAK = re.compile(
    r",\s+(?=(?:and|but|which|while|so|although|though|as|because|with|where|when|who|after|before)\b)|;\s*|\s[-\u2013\u2014]\s")
MIN_CLAUSE_WORDS = 3  # shorter clauses are too few words to judge on their own


class LLMUnavailable(RuntimeError):
    """A language model is configured but its client library is not installed."""


def make_llm(settings: Settings) -> Any:
    """The llama-index LLM client the settings describe (imports the client library only now)."""
    try:
        if settings.llm_kind == "ollama":
            from llama_index.llms.ollama import Ollama

            return Ollama(model=settings.llm_model, base_url=settings.llm_url, request_timeout=settings.llm_timeout,
                          temperature=0.0, context_window=8192)
        from llama_index.llms.openai_like import OpenAILike
    except ImportError as error:
        raise LLMUnavailable(f"SENDBOT_LLM_URL is set but the language model client is not installed ({error.name}): "
                             'pip install "sendbot[llm]", or unset SENDBOT_LLM_URL') from None
    return OpenAILike(model=settings.llm_model, api_base=settings.llm_url, api_key=settings.llm_api_key or "none",
                      is_chat_model=True, timeout=settings.llm_timeout, max_retries=0, temperature=0.0,
                      max_tokens=400, context_window=8192)


@dataclass(frozen=True)
class Quote:
    """The words of one passage a generated sentence rests on: a verbatim slice of the passage text."""

    passage: int  # index into the reranked passages
    start: int
    end: int


@dataclass(frozen=True)
class Verdict:
    """The guard's decision on one generated sentence: the quotes that support it, or why it was dropped."""

    text: str
    quotes: tuple[Quote, ...] = ()
    reason: str = ""


class LLMAnswerer:
    """Answers through a language model, keeping only sentences that their cited passages support.

    `extractive` decides refusals and is the fallback; `llm` is a llama-index LLM (anything with `chat(messages)`).
    """

    def __init__(self, extractive: Answerer, llm: Any, min_overlap: float = MIN_GUARD_OVERLAP) -> None:
        self.extractive = extractive
        self.llm = llm
        self.min_overlap = min_overlap

    def answer(self, query: Query, ranked: Reranked, part_answers: Sequence[ScoredSentence] = ()) -> Answer:
        """A generated, cited answer; the extractive answer if it refuses, or if the model fails or is not supported."""
        fallback = self.extractive.answer(query, ranked, part_answers)
        if fallback.refused:
            return fallback  # the evidence threshold decided: the model is not asked to override it
        try:
            reply = self._generate(query, ranked.passages)
        except Exception as error:  # timeouts, HTTP errors, a client that breaks: the reader still gets an answer
            return _fall_back(fallback, f"the model call failed: {type(error).__name__}: {_short(str(error))}")
        if not reply.strip():
            return _fall_back(fallback, "the model's reply was empty")
        if len(reply) > MAX_REPLY_CHARS:
            return _fall_back(fallback, f"the model's reply was {len(reply):,} characters, not a short answer")
        if fold(reply).strip(" .!\"'") == NOT_IN_DOCUMENTS:
            return _fall_back(fallback, "the model said the passages do not answer the question")
        verdicts = [self.judge(sentence, citations, ranked.passages) for sentence, citations in generated_sentences(reply)]
        return self._compose(query, ranked, verdicts, fallback)

    def _generate(self, query: Query, passages: list[Passage]) -> str:
        from llama_index.core.llms import ChatMessage

        messages = [
            ChatMessage(role="system", content=prompts().llm_system.text),
            ChatMessage(role="user", content=prompts().llm_question.format(
                passages=format_passages(passages), question=query.cleaned or query.question)),
        ]
        response = self.llm.chat(messages)
        content = response.message.content or ""  # llama-index gives None for an empty reply
        if not isinstance(content, str):
            raise ValueError(f"the reply has no text ({type(content).__name__})")
        return content

    def judge(self, sentence: str, citations: tuple[int, ...], passages: list[Passage]) -> Verdict:
        """Keep a generated sentence with the quotes that support it, or say why it must be dropped."""
        if not content_words(sentence):
            return Verdict(sentence, reason="it says nothing")
        if not citations:
            return Verdict(sentence, reason="it cites no passage")
        unknown = [n for n in citations if not 1 <= n <= len(passages)]
        if unknown:
            return Verdict(sentence, reason=f"it cites [{unknown[0]}], which is not one of the {len(passages)} passages")
        if looks_like_instruction(sentence):
            return Verdict(sentence, reason="it reads like an instruction aimed at an AI assistant")
        quotes = [best_quote(sentence, n - 1, passages[n - 1].chunk.text, self.min_overlap) for n in dict.fromkeys(citations)]
        quotes = [q for q in quotes if q is not None]
        if not quotes:
            return Verdict(sentence, reason="the cited passage has no sentence it could rest on")
        together = supports(sentence, _quoted(quotes, passages), self.min_overlap)
        if not together.supported:
            return Verdict(sentence, reason="; ".join(together.reasons))
        for clause in clauses(sentence):
            part = supports(clause, _quoted(quotes, passages), self.min_overlap)
            if not part.supported:
                return Verdict(sentence, reason=f"the part {_short(clause, 60)!r}: {'; '.join(part.reasons)}")
        for quote in list(quotes):  # a citation the others do without, and that does not support alone, goes
            others = [q for q in quotes if q is not quote]
            if others and supports(sentence, _quoted(others, passages), self.min_overlap).supported:
                quotes = others
        return Verdict(sentence, tuple(quotes))

    def _compose(self, query: Query, ranked: Reranked, verdicts: list[Verdict], fallback: Answer) -> Answer:
        kept = [v for v in verdicts if not v.reason]
        dropped = tuple(f"{_short(v.text)} ({v.reason})" for v in verdicts if v.reason)
        for line in dropped:
            logger.info("guard dropped a generated sentence: %s", line)
        if not kept:
            return _fall_back(fallback, f"no generated sentence was supported by its cited passage ({len(dropped)} dropped)", dropped)
        if len(kept) < MIN_KEPT_SHARE * len(verdicts):
            return _fall_back(fallback, f"only {len(kept)} of {len(verdicts)} generated sentences were supported", dropped)
        groups = _citation_groups([q for v in kept for q in v.quotes], ranked.passages)
        numbers = {quote: n for n, group in enumerate(groups, start=1) for quote in group}
        citations = tuple(_citation(n, group, ranked) for n, group in enumerate(groups, start=1))
        sentences = mark_earlier(tuple(_dated(v.text, tuple(sorted({numbers[q] for q in v.quotes})), citations) for v in kept))
        return Answer(query.question, sentences, citations, refused=False, evidence=fallback.evidence,
                      tentative=fallback.tentative, answerer="llm", dropped=dropped)


def _dated(text: str, cited: tuple[int, ...], citations: tuple[Citation, ...]) -> AnswerSentence:
    """A generated sentence dated by the latest document it cites, so it is told apart from earlier ones too."""
    mine = [c for c in citations if c.n in cited]
    latest = max(mine, key=lambda c: last_day(c.date, c.period) or Date.min)
    return AnswerSentence(text, cited, latest.date, latest.period)


def generated_sentences(reply: str) -> list[tuple[str, tuple[int, ...]]]:
    """A model's reply as sentences with their citation numbers, split as the eval splits answers (`split_cited`).

    "[1, 2]" counts as "[1][2]", a marker written before the full stop counts as after it, list marks are removed,
    and a sentence inside a group that ends with markers takes that group's markers.
    """
    text = " ".join(_LIST_MARK.sub("", line) for line in reply.strip().splitlines())
    text = _GROUPED_MARKERS.sub(lambda m: "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1))), text)
    text = _MARKERS_BEFORE_STOP.sub(r"\2\1", text)
    sentences = []
    for group in split_cited(text):
        body = group.text.lstrip(".,;:!? ")
        for span in split_sentences(body):
            sentences.append((body[span.start : span.end], group.citations))
    return sentences


def clauses(sentence: str) -> list[str]:
    """The clauses of a sentence long enough to be judged alone (none if it has only one)."""
    parts = [p for p in _CLAUSE_BREAK.split(sentence) if len(content_words(p)) >= MIN_CLAUSE_WORDS]
    return parts if len(parts) > 1 else []


def format_passages(passages: list[Passage]) -> str:
    """The passages as the model sees them: numbered, with where they come from, quoted, planted instructions removed."""
    blocks = []
    for n, passage in enumerate(passages, start=1):
        chunk = passage.chunk
        where = ", ".join(x for x in (chunk.date or chunk.period, f"page {chunk.page}" if chunk.page else "",
                                      f'section "{chunk.section}"' if chunk.section else "") if x)
        text = chunk.text
        for span in reversed(split_sentences(text)):
            if looks_like_instruction(text[span.start : span.end]):
                text = text[: span.start] + "[removed: text addressed to an AI assistant]" + text[span.end :]
        text = text.replace('"""', '"')
        blocks.append(f'[{n}] from "{chunk.title}"{f" ({where})" if where else ""}:\n"""\n{text}\n"""')
    return "\n\n".join(blocks)


def best_quote(sentence: str, index: int, text: str, min_overlap: float) -> Quote | None:
    """The passage's sentence that best matches a generated one, or two nearby sentences if one alone falls short.

    Sentences planted to steer an AI assistant are never quoted, nor spanned across.
    """
    spans = split_sentences(text)
    usable = [i for i, s in enumerate(spans) if not looks_like_instruction(text[s.start : s.end])]
    if not usable:
        return None
    numbers, words = numbers_in(sentence), set(content_words(sentence))

    def match(i: int) -> tuple[int, int]:
        piece = text[spans[i].start : spans[i].end]
        return len(numbers & numbers_in(piece)), len(words & set(content_words(piece)))

    ranked = sorted(usable, key=match, reverse=True)
    best = ranked[0]
    if supports(sentence, text[spans[best].start : spans[best].end], min_overlap).supported:
        return Quote(index, spans[best].start, spans[best].end)
    for other in ranked[1:3]:
        low, high = min(best, other), max(best, other)
        if high - low > MAX_QUOTE_GAP or any(i not in usable for i in range(low, high + 1)):
            continue
        if supports(sentence, text[spans[low].start : spans[high].end], min_overlap).supported:
            return Quote(index, spans[low].start, spans[high].end)
    return Quote(index, spans[best].start, spans[best].end)


def _quoted(quotes: list[Quote], passages: list[Passage]) -> str:
    return " ".join(passages[q.passage].chunk.text[q.start : q.end] for q in quotes)


def _citation_groups(quotes: list[Quote], passages: list[Passage]) -> list[list[Quote]]:
    """The quotes each citation shows, in order of first use: one citation per passage, its quote spanning every
    quote taken from it, unless that span would take in a sentence planted to steer an AI assistant."""
    by_passage: dict[int, list[Quote]] = {}
    for quote in quotes:
        by_passage.setdefault(quote.passage, []).append(quote)
    groups = []
    for index, mine in by_passage.items():
        text = passages[index].chunk.text[min(q.start for q in mine) : max(q.end for q in mine)]
        if looks_like_instruction(text):
            groups.extend([[q for q in mine if (q.start, q.end) == span] for span in dict.fromkeys((q.start, q.end) for q in mine)])
        else:
            groups.append(mine)
    return groups


def _citation(n: int, quotes: list[Quote], ranked: Reranked) -> Citation:
    """The citation of one passage: the span covering the quotes generated sentences rest on, verbatim."""
    index = quotes[0].passage
    chunk = ranked.passages[index].chunk
    start, end = min(q.start for q in quotes), max(q.end for q in quotes)
    score = max((s.score for s in ranked.sentences if s.passage == index), default=ranked.passages[index].score)
    return Citation(n=n, source=chunk.source, title=chunk.title, date=chunk.date, page=chunk.page, section=chunk.section,
                    text=chunk.text, quote=chunk.text[start:end], score=round(score, 4), kind=chunk.kind, period=chunk.period,
                    url=chunk.link, committee=chunk.committee, meeting=chunk.meeting, item=chunk.item)


def _fall_back(extractive: Answer, reason: str, dropped: tuple[str, ...] = ()) -> Answer:
    logger.warning("giving the extractive answer to %r: %s", _short(extractive.question), reason)
    return replace(extractive, dropped=dropped, fallback=reason)


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
