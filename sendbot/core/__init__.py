"""The floor every stage stands on: the data model, text and date helpers, settings and the prompt registry.

Nothing here imports any other part of sendbot, so any stage may import it.
"""
