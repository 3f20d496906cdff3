"""sendbot's retrieval and cited answers as llama-index parts, for apps built on llama-index.

`SendbotRetriever` is a llama-index `BaseRetriever`: it runs sendbot's own retrieval (question clean-up, hybrid
search, sentence reranking, several-part questions) and returns the passages as `NodeWithScore`, each node's text
the passage and its metadata `source`, `title`, `date`, `page`, `section` (plus `url` when the index knows one, and `period`
for an undated document);
the score is the passage's best sentence score, the scale sendbot's refusal threshold uses.

`SendbotQueryEngine` is a llama-index `BaseQueryEngine`: `query()` returns a llama-index `Response` whose text is
sendbot's answer, whose source nodes are its citations (metadata adds `n` and the verbatim `quote`), and whose
metadata holds sendbot's `Answer` under "answer". `engine.answer(question)` returns the `Answer` itself.

    from sendbot.bot import SendBot
    from sendbot.core.config import load_settings
    from sendbot.integrations.llamaindex import SendbotQueryEngine, SendbotRetriever

    bot = SendBot.open(load_settings())
    for hit in SendbotRetriever(bot, k=3).retrieve("what happens if my EP assessment is late?"):
        print(round(hit.score, 2), hit.node.metadata["source"], hit.node.metadata["page"])
    response = SendbotQueryEngine(bot).query("How many Mental Health Leaders have been trained?")
    print(response, [n.node.metadata["quote"] for n in response.source_nodes])

Both take a `SendBot` (they follow its reloads) or a `Pipeline`. Answers keep sendbot's guarantees: every
sentence cited, refusals when the documents do not say, and a configured language model behind the same guard.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any, Sequence

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from sendbot.bot import Pipeline, SendBot
from sendbot.core.models import Answer, Chunk, Citation, Filters, Query, Reranked, ScoredSentence


def _pipeline(source: SendBot | Pipeline) -> Pipeline:
    """The pipeline to run now: a SendBot's current one (it is swapped on reload), or the one given."""
    return source.pipeline if isinstance(source, SendBot) else source


def _metadata(chunk: Chunk | Citation) -> dict[str, Any]:
    """The node metadata of a passage or citation; `url` only when one is known."""
    data: dict[str, Any] = {"source": chunk.source, "title": chunk.title, "date": chunk.date, "page": chunk.page,
                            "section": chunk.section}
    if chunk.period and not chunk.date:
        data["period"] = chunk.period  # a document's free-text date ("Spring 2024") when it has no exact one
    url = getattr(chunk, "url", "")
    if url:
        data["url"] = url
    return data


@dataclass
class _KeepRanked:
    """An answerer that answers nothing: it keeps the reranked passages the pipeline hands it."""

    ranked: Reranked | None = None

    def answer(self, query: Query, ranked: Reranked, part_answers: Sequence[ScoredSentence] = ()) -> Answer:
        self.ranked = ranked
        return Answer(query.question, (), (), refused=True)


class SendbotRetriever(BaseRetriever):
    """sendbot's passages for a question, best first, as llama-index nodes (see the module docstring)."""

    def __init__(self, bot: SendBot | Pipeline, k: int | None = None, filters: Filters = Filters(),
                 callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self._bot, self._k, self._filters = bot, k, filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        keep = _KeepRanked()
        replace(_pipeline(self._bot), answerer=keep).ask(query_bundle.query_str, self._filters, self._k)
        if keep.ranked is None:  # refused before any search: nothing asked, too long, or no searchable words
            return []
        best: dict[int, float] = {}
        for sentence in keep.ranked.sentences:
            best.setdefault(sentence.passage, sentence.score)
        return [
            NodeWithScore(node=TextNode(id_=p.chunk.id, text=p.chunk.text, metadata=_metadata(p.chunk)),
                          score=round(best.get(i, 0.0), 4))
            for i, p in enumerate(keep.ranked.passages)
        ]


def to_response(answer: Answer) -> Response:
    """sendbot's answer as a llama-index Response: the text, the citations as source nodes, the Answer in metadata."""
    nodes = [
        NodeWithScore(node=TextNode(text=c.text, metadata={"n": c.n, **_metadata(c), "quote": c.quote}), score=c.score)
        for c in answer.citations
    ]
    return Response(response=answer.text, source_nodes=nodes,
                    metadata={"answer": answer, "refused": answer.refused, "answerer": answer.answerer})


class SendbotQueryEngine(BaseQueryEngine):
    """sendbot's cited answer (or refusal) to a question, as a llama-index query engine (see the module docstring)."""

    def __init__(self, bot: SendBot | Pipeline, k: int | None = None, filters: Filters = Filters(),
                 callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self._bot, self._k, self._filters = bot, k, filters

    def answer(self, question: str) -> Answer:
        """sendbot's Answer itself."""
        return _pipeline(self._bot).ask(question, self._filters, self._k)[0]

    def _query(self, query_bundle: QueryBundle) -> Response:
        return to_response(self.answer(query_bundle.query_str))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}
