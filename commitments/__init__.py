"""The commitments register: what the papers promised, decided, asked for or targeted, and what later papers say."""
