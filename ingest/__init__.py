"""Ingest stage: turn files on disk into documents and chunks, and keep the index in step with them."""
