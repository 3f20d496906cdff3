"""Baselines measured in the same eval run: what a new user gets from stock tools on the same corpus.

- llama-index's stock pipeline: default SentenceSplitter (chunk size 1024, and 256), MiniLM dense top-k;
- plain BM25 over sendbot's own chunks, with the raw question (no glossary, no dense search).
Both hand their k passages to sendbot's sentence scorer and extractive answerer, so answer metrics differ only by
retrieval; retrieval metrics use each baseline's own passage order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from index.embedder import Embedder
from index.keyword import KeywordIndex
from ingest.loaders import load_document
from ingest.pipeline import discover
from sendbot.bot import Pipeline
from sendbot.core.models import Answer, Chunk, Passage, Query

Retrieve = Callable[[str, int], list[Passage]]


def llama_index_retriever(corpus_dir: Path, embedder: Embedder, chunk_size: int) -> Retrieve:
    """A stock llama-index VectorStoreIndex (default splitter at `chunk_size`) with MiniLM embeddings."""
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.node_parser import SentenceSplitter

    class MiniLM(BaseEmbedding):
        """llama-index adapter for the bundled, hash-checked MiniLM."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.encode([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.encode([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.encode(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    files, _ = discover([corpus_dir])
    documents = []
    for found in files:
        doc = load_document(found.path, source=found.source)
        for page in doc.pages:
            documents.append(Document(text=page.text, metadata={"source": doc.source, "page": page.number if doc.paged else 0,
                                                                "title": doc.title, "date": doc.date, "kind": doc.kind}))
    index = VectorStoreIndex.from_documents(documents, embed_model=MiniLM(), transformations=[SentenceSplitter(chunk_size=chunk_size)])

    def retrieve(question: str, k: int) -> list[Passage]:
        nodes = index.as_retriever(similarity_top_k=k).retrieve(question)
        return [Passage(_as_chunk(n.node.node_id, n.node.get_content(), n.node.metadata), n.score or 0.0, n.score or 0.0) for n in nodes]

    return retrieve


def _as_chunk(chunk_id: str, text: str, meta: dict) -> Chunk:
    return Chunk(id=chunk_id, source=meta["source"], sha256="", ordinal=0, page=meta["page"] or None, section="",
                 text=text, context="", title=meta["title"], date=meta["date"], period="", kind=meta["kind"], publisher="")


def bm25_retriever(chunks: list[Chunk], vectors: np.ndarray, embedder: Embedder) -> Retrieve:
    """Plain BM25 over sendbot's chunks (rows aligned with their vectors) with the question as typed."""
    index = KeywordIndex.build([c.id for c in chunks], [c.text for c in chunks], "baseline")

    def retrieve(question: str, k: int) -> list[Passage]:
        scores = index.scores(question)
        top = [i for i in np.argsort(-scores)[:k] if scores[i] > 0]
        query_vector = embedder.encode([question])[0]
        return [Passage(chunks[i], float(scores[i]), float(vectors[i] @ query_vector)) for i in top]

    return retrieve


def answer_from(retrieve: Retrieve, pipeline: Pipeline, question: str, k: int) -> tuple[Answer, list[Passage]]:
    """Retrieve with a baseline, then compose with the pipeline's reranker and answerer (the question as typed)."""
    from index.embedder import embedder_for

    passages = retrieve(question, k)
    query = Query(question=question, cleaned=question, expanded=question, injected=False)
    ranked = pipeline.reranker.rerank(query, passages, embedder_for(pipeline.settings).encode([question])[0], k)
    return pipeline.answerer.answer(query, ranked), passages
