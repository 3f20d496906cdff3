"""`sendbot sync`: fetch a council's published papers (ModernGov) and Local Offer pages, politely and incrementally,
and hand what changed to the ordinary ingest pipeline with the metadata citations show (committee, meeting, URL).

`sources.py` reads sources.toml, `fetch.py` is the one polite HTTP client, `moderngov.py` and `local_offer.py` find
the documents, `state.py` remembers what was fetched last time, and `run.py` puts it together.
"""
