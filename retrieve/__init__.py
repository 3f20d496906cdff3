"""Retrieve stage: query preparation, hybrid dense + BM25 search, fusion and de-duplication."""
