"""A filtered search: each filter's admitted chunks are worked out once (a mask that both the dense and the keyword
ranking apply), not per chunk on every question, and a remembered mask is never used for a different filter."""

from __future__ import annotations

from datetime import date

from sendbot.core.models import Filters

MINUTES = "cfosp-minutes-ofsted-cqc-send-revisit.txt"
ROUNDUP = "wpcf-2024-roundup.txt"
QUESTION = "parent carers and SEND services"


def test_each_filter_keeps_exactly_the_keyword_hits_it_admits_even_when_asked_again(corpus):
    retriever = corpus.bot.pipeline.retriever
    remembered = set(retriever._masks)  # the session's index is shared: other tests' filters may be there already
    def keyword_ranking(flt: Filters) -> list[str]:
        return list(retriever._keyword_scores(QUESTION, retriever._admitted(flt)))

    everything = keyword_ranking(Filters())
    filters = [Filters(sources=(MINUTES,)), Filters(sources=(ROUNDUP,)), Filters(kinds=("minutes",)),
               Filters(date_from=date(2024, 1, 1), date_to=date(2024, 12, 31)), Filters(sources=(MINUTES,))]
    for flt in filters + filters:  # the second round answers from remembered masks
        ranked = keyword_ranking(flt)
        assert ranked, flt
        assert all(flt.admits(retriever.chunk(cid)) for cid in ranked), flt
        # the same order as the unfiltered ranking with the refused chunks left out (up to the candidate limit)
        admitted = [cid for cid in everything if flt.admits(retriever.chunk(cid))]
        assert ranked[: len(admitted)] == admitted[: len(ranked)], flt
    assert {retriever.chunk(c).source for c in keyword_ranking(Filters(sources=(ROUNDUP,)))} == {ROUNDUP}
    added = set(retriever._masks) - remembered
    assert added <= {Filters(), *filters} and len(set(filters)) == 4  # one per distinct filter (equal ones share)
