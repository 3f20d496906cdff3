"""Index stage: the bundled MiniLM embedder, the Chroma vector store and the BM25 keyword index."""
