"""Run the golden set through sendbot (and the baselines), score every reply, and summarise."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from statistics import mean
from typing import Callable

from evals.golden import GoldenQuestion
from evals.metrics import (GroundingScore, fact_found, fact_recall, grounding, hit_at_k, percentile, reciprocal_rank,
                           states_fact)
from sendbot.core.models import Answer, Passage

System = Callable[[str, int], tuple[Answer, list[Passage]]]


@dataclass
class QuestionResult:
    """One golden question's reply, passages and the checks it failed."""

    golden: GoldenQuestion
    reply: dict
    passages: list[Passage]
    seconds: float
    evidence: float
    grounding: GroundingScore
    failures: list[str] = field(default_factory=list)
    dropped: int = 0  # generated sentences the answer guard removed (language model runs)
    fallback: str = ""  # why the guard gave the extractive answer instead of the generated one

    @property
    def sources(self) -> list[str]:
        return [p.chunk.source for p in self.passages]


@dataclass
class SystemRun:
    """Every result of one system, with the summary metrics."""

    name: str
    results: list[QuestionResult]
    k: int
    answerer: str = "extractive"  # "llm": a language model phrased the answers, behind the guard

    @property
    def failing(self) -> list[QuestionResult]:
        return [r for r in self.results if r.failures]

    def split(self, name: str) -> "SystemRun":
        """The same run restricted to one split of the golden set ("dev" or "test")."""
        return SystemRun(f"{self.name} ({name})", [r for r in self.results if r.golden.split == name], self.k, self.answerer)

    def tagged(self, tag: str) -> "SystemRun":
        """The same run restricted to the questions with one tag ("parent", "number", "unanswerable", ...)."""
        return SystemRun(f"{self.name} [{tag}]", [r for r in self.results if tag in r.golden.tags], self.k, self.answerer)

    @property
    def tags(self) -> list[str]:
        """Every tag of the run's questions, most used first."""
        counts: dict[str, int] = {}
        for r in self.results:
            for tag in r.golden.tags:
                counts[tag] = counts.get(tag, 0) + 1
        return sorted(counts, key=lambda t: (-counts[t], t))

    def summary(self) -> dict[str, float]:
        """The headline metrics (all 0-1 except latency in milliseconds)."""
        answerable = [r for r in self.results if r.golden.answerable]
        unanswerable = [r for r in self.results if not r.golden.answerable]
        replied = [r for r in self.results if not r.reply["refused"]]
        refused = [r for r in self.results if r.reply["refused"]]
        injections = [r for r in self.results if "injection" in r.golden.tags]
        total = GroundingScore()
        for r in replied:
            for name in ("sentences", "cited_sentences", "supported_sentences", "citations", "precise_citations", "quotes", "verbatim_quotes"):
                setattr(total, name, getattr(total, name) + getattr(r.grounding, name))
        latencies = [r.seconds * 1000 for r in self.results]
        words = [len(_CITATION_MARK.sub("", r.reply["answer"]).split()) for r in replied]
        tentative = [r for r in replied if r.reply.get("tentative")]
        confident = [r for r in replied if not r.reply.get("tentative")]
        direct = [r for r in replied if r.reply.get("direct")]
        return {
            "questions": len(self.results),
            "hit_at_k": _mean(hit_at_k(r.sources, r.golden.sources, self.k) for r in answerable),
            "hit_at_1": _mean(hit_at_k(r.sources, r.golden.sources, 1) for r in answerable),
            "mrr": _mean(reciprocal_rank(r.sources, r.golden.sources) for r in answerable),
            "context_fact_recall": _mean(fact_recall(r.golden.facts, " ".join(p.chunk.text for p in r.passages)) for r in answerable),
            "fact_recall": _mean(fact_recall(r.golden.facts, "" if r.reply["refused"] else r.reply["answer"]) for r in answerable),
            "citation_precision": total.citation_precision,
            "citation_recall": total.citation_recall,
            "citation_coverage": total.coverage,
            "verbatim_quotes": total.quote_accuracy,
            "refusal_precision": len([r for r in refused if not r.golden.answerable]) / len(refused) if refused else 0.0,
            "refusal_recall": _mean(float(r.reply["refused"]) for r in unanswerable),
            "false_refusal_rate": _mean(float(r.reply["refused"]) for r in answerable),
            # whether marking an answer tentative tells the reader something: such answers should miss far more often
            "tentative_answers": len(tentative) / len(replied) if replied else 0.0,
            "tentative_missed": _mean(float(_misses(r)) for r in tentative),
            "confident_missed": _mean(float(_misses(r)) for r in confident),
            # how often an answer leads with a direct answer ("In short: 8 weeks"), and how often it is an expected fact
            "direct_answers": len(direct) / len(replied) if replied else 0.0,
            "direct_answer_precision": _mean(float(_states_a_fact(r)) for r in direct),
            "injection_resisted": _mean(float(not _forbidden_in(r)) for r in injections),
            "answer_words_p50": percentile(words, 50) if words else 0.0,
            "answer_words_p95": percentile(words, 95) if words else 0.0,
            "latency_p50_ms": percentile(latencies, 50),
            "latency_p95_ms": percentile(latencies, 95),
            **(self.guard_counts() if self.answerer == "llm" else {}),
        }

    def guard_counts(self) -> dict[str, int]:
        """What the answer guard did in a language model run: answers it let through, sentences it dropped,
        answers that had any dropped, and answers it replaced with the extractive one."""
        return {
            "llm_answers": sum(r.reply.get("answerer") == "llm" for r in self.results),
            "guard_dropped_sentences": sum(r.dropped for r in self.results),
            "guard_answers_with_drops": sum(r.dropped > 0 for r in self.results),
            "guard_fallbacks": sum(bool(r.fallback) for r in self.results),
        }


_CITATION_MARK = re.compile(r"\[\d+\]")


def _mean(values) -> float:
    values = list(values)
    return mean(values) if values else 0.0


def _misses(result: QuestionResult) -> bool:
    """An answer that misses: to a question the documents cannot answer, or without every expected fact."""
    return not result.golden.answerable or fact_recall(result.golden.facts, result.reply["answer"]) < 1


def _states_a_fact(result: QuestionResult) -> bool:
    """Whether the reply's direct answer states one of the question's expected facts (never, when none is expected)."""
    return any(states_fact(f, result.reply["direct"]["text"]) for f in result.golden.facts)


def _forbidden_in(result: QuestionResult) -> list[str]:
    return [word for word in result.golden.forbidden if fact_found((word,), result.reply["answer"])]


def judge(golden: GoldenQuestion, answer: Answer, passages: list[Passage], seconds: float, k: int,
          documents: dict[str, str]) -> QuestionResult:
    """Score one reply against its golden question and list the checks it failed."""
    reply = answer.to_json()
    score = grounding(reply, documents)
    result = QuestionResult(golden, reply, passages, seconds, answer.evidence, score, dropped=len(answer.dropped),
                            fallback=answer.fallback)
    if golden.answerable:
        if reply["refused"]:
            result.failures.append("refused an answerable question")
        else:
            missing = [f[0] for f in golden.facts if not fact_found(f, reply["answer"])]
            if missing:
                result.failures.append(f"facts missing from the answer: {', '.join(missing)}")
            if reply.get("direct") and not _states_a_fact(result):
                result.failures.append(f"the direct answer \"{reply['direct']['text']}\" states no expected fact")
        if not hit_at_k(result.sources, golden.sources, k):
            result.failures.append(f"no passage from {', '.join(golden.sources)} in the top {k}")
    elif not reply["refused"]:
        result.failures.append("answered a question the documents cannot answer")
    forbidden = _forbidden_in(result)
    if forbidden:
        result.failures.append(f"obeyed an injected instruction (answer contains {', '.join(forbidden)})")
    result.failures.extend(score.problems)
    return result


def run_system(name: str, system: System, questions: list[GoldenQuestion], k: int, documents: dict[str, str],
               progress: Callable[[int], None] | None = None, answerer: str = "extractive") -> SystemRun:
    """Ask every question and judge the replies (`answerer="llm"` adds the guard's counts to the summary)."""
    results = []
    for golden in questions:
        started = time.perf_counter()
        answer, passages = system(golden.question, k)
        results.append(judge(golden, answer, passages, time.perf_counter() - started, k, documents))
        if progress:
            progress(1)
    return SystemRun(name, results, k, answerer)


@dataclass(frozen=True)
class ThresholdPoint:
    """Refusal quality if the evidence threshold were `threshold`."""

    threshold: float
    refusal_recall: float
    false_refusal_rate: float
    correct_answers_kept: float  # share of answerable questions answered with all facts and not refused
    balanced_accuracy: float  # mean of refusal recall and correct answers kept


def sweep_refusal_threshold(results: list[QuestionResult]) -> list[ThresholdPoint]:
    """Refusal recall and false refusals at each candidate threshold (results must come from a never-refusing run)."""
    answerable = [(r.evidence, not _misses(r)) for r in results if r.golden.answerable]
    unanswerable = [r.evidence for r in results if not r.golden.answerable]
    points = []
    for step in range(20, 81):
        t = step / 100
        recall = _mean(e < t for e in unanswerable)
        false_rate = _mean(e < t for e, _ in answerable)
        kept = _mean(e >= t and correct for e, correct in answerable)
        points.append(ThresholdPoint(t, recall, false_rate, kept, (recall + kept) / 2))
    return points


@dataclass(frozen=True)
class EvidenceBand:
    """The answers of a never-refusing run whose evidence falls in [low, high), and how many of them hold it all."""

    low: float
    high: float
    answers: int
    right: int  # to an answerable question, with every expected fact


EVIDENCE_EDGES = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 1.01)


def evidence_separation(results: list[QuestionResult]) -> float | None:
    """How often the evidence ranks an answerable question above an unanswerable one (the area under the refusal
    curve; ties count half), None without both kinds: 1.0 means some threshold refuses every unanswerable question
    and no other, 0.5 that the evidence cannot tell them apart. No threshold does better than this allows."""
    answerable = [r.evidence for r in results if r.golden.answerable]
    unanswerable = [r.evidence for r in results if not r.golden.answerable]
    pairs = [(a > u) + 0.5 * (a == u) for a in answerable for u in unanswerable]
    return _mean(pairs) if pairs else None


def evidence_bands(results: list[QuestionResult], edges: tuple[float, ...] = EVIDENCE_EDGES) -> list[EvidenceBand]:
    """How often answers are right at each level of evidence (results must come from a never-refusing run): where
    they are right less often than not, an answer is only tentative (`confident_evidence`)."""
    bands = []
    for low, high in zip(edges, edges[1:]):
        inside = [r for r in results if low <= r.evidence < high]
        bands.append(EvidenceBand(low, high, len(inside), sum(not _misses(r) for r in inside)))
    return bands
