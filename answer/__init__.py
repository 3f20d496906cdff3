"""Answer stage: compose a cited answer from retrieved passages, or refuse when the evidence is too weak."""
