"""sendbot as parts for other frameworks. Each module imports its framework only when it is imported itself.

- `sendbot.integrations.llamaindex`: a llama-index retriever and query engine over a SendBot or a Pipeline.
"""
