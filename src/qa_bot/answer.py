"""The extractive answerer: the best-supported sentences of the retrieved passages, each cited.

It never writes a word that is not in the documents. Features (term coverage, rank, type match,
MiniLM similarity, the trained interaction head's score, `interaction.py`) rank the units. Then
either (`QA_BOT_ANSWERER=features`, the default) a small logistic model over the features gives the
probability that they answer the question at all, with weights fitted by `bench/calibrate.py`
(`calibration.json`), or qa-bot's reader (a trained cross-encoder, `reader.py`) orders the
shortlist and gives that probability, or (`gated`) the features decide and the reader's calibrated
gate must pass too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .calibration import Calibration
from .features import RankFeatures, RefusalFeatures, weigh
from .interaction import InteractionHead
from .lexical import LexicalIndex, coverage, sentence_evidence
from .question_kind import expected_type, type_match
from .reader import Reader
from .schema import Answer, Citation, Passage, Unit
from .text import contradicts, numbered_mentions, terms
from .units import MAX_UNIT_CHARS, display, leans_back

REFUSAL_TEXT = "I could not find the answer to that in the documents."
# A question that names something rare (a tool, a product, a term of art: Zipf frequency in
# general English under about 2.3) that the documents never mention, not even misspelt, or a file
# they never name ("environment.yml"), is declined whatever the scores say: docs that never name
# PyCharm do not answer "does uv support PyCharm?". The cut-off is chosen on bench/calibrate.py's
# fitting sets, which it prints: at 0.7 it refuses 1 of 503 answerable SQuAD questions and none of
# 279 generated docs and natural ones. (At 0.6 it caught no more docs-set unanswerables the
# features answer, and cost a right answer on the SQuAD eval articles in each version.) File names
# are flagged in no SQuAD or NQ question.
UNKNOWN_WORD_SPECIFICITY = 0.7
UNIT_EMBED_CHARS = 240  # about 60 word-pieces: most sentences whole, a long unit's opening
# Only the lexically most promising units are worth an embedding each: the top 5 keep the
# first-sentence share of the top 8 (SQuAD, within 0.003) at two thirds of the cost.
DENSE_CANDIDATES = 5

@dataclass(frozen=True, slots=True)
class Candidate:
    passage_rank: int
    passage: Passage
    start: int  # offsets into passage.chunk.text
    end: int
    features: RankFeatures
    score: float
    unit: Unit | None = None  # None for a chunk not made by the document model
    reader: float | None = None  # the reader's P(this sentence answers the question)

    @property
    def text(self) -> str:
        return self.passage.chunk.text[self.start : self.end]

    def shown(self) -> str:
        """The answer as a reader should see it: prose on one line, lists as lists, code fenced."""
        u = self.unit
        return display(self.text, u.kind, u.body) if u else " ".join(self.text.split())


class ExtractiveAnswerer:
    """Picks the sentences that best answer the question; decides whether to answer at all."""

    def __init__(self, lexical: LexicalIndex, encoder, calibration: Calibration, max_sentences: int = 2,
                 threshold: float | None = None, dense_candidates: int = DENSE_CANDIDATES, reader: Reader | None = None,
                 reader_candidates: int = 8, head: InteractionHead | None = None, reader_orders: bool = True):
        self.lexical = lexical
        self.encoder = encoder
        self.cal = calibration
        self.max_sentences = max_sentences
        self.reader = reader
        # False: the features order the units and decide as before, and the reader's own gate
        # (its P(answered) against its threshold) must pass too.
        self.reader_orders = reader_orders
        self.reader_candidates = reader_candidates
        self.head = head  # None: the interaction feature is 0 (as when training a new head)
        default = reader.config.threshold if reader is not None and reader_orders else calibration.threshold
        self.threshold = default if threshold is None else threshold
        # Every sentence that may be shown must be scored in full (unscored ones rank too low).
        self.dense_candidates = max(dense_candidates, max_sentences)

    # -- scoring -----------------------------------------------------------------------
    def candidates(self, question: str, passages: list[Passage]) -> list[Candidate]:
        """Every answer unit (sentence, introduced list or code, entry) of the passages with its
        features, best first."""
        weights = self.lexical.term_weights(question)
        kind = expected_type(question)
        w = self.cal.rank_weights
        rows: list[Candidate] = []
        for rank, p in enumerate(passages):
            units = p.chunk.units
            spans = None if units is None else [(u.start, u.end) for u in units]
            topic = self.lexical.topic_terms(p.chunk, weights)
            for k, ev in enumerate(sentence_evidence(p.chunk.text, weights, spans, topic)):
                f = RankFeatures(
                    coverage=ev.coverage, context_coverage=ev.context_coverage, passage_rr=1.0 / (rank + 1),
                    type_match=type_match(kind, p.chunk.text[ev.start : ev.end], question), novelty=ev.novelty,
                    sentence_dense=0.0, passage_dense=p.dense, interaction=0.0,
                )
                rows.append(Candidate(rank, p, ev.start, ev.end, f, weigh(w, f), None if units is None else units[k]))
        # A unit that numbers the thing asked about otherwise ("Sprint 3" for "what got done in
        # sprint 2") answers another question: it ranks after every unit that does not.
        asked = numbered_mentions(question)
        other = {(c.passage_rank, c.start) for c in rows if contradicts(asked, c.text)}

        def order(c: Candidate) -> tuple[bool, float]:
            return (c.passage_rank, c.start) in other, -c.score

        rows.sort(key=order)
        if not rows:
            return rows
        # Embedded in separate calls: the int8 model quantizes by the batch's range, and the
        # shortlist's scores should not move with how many passages came back.
        shortlist, extra = embedding_picks([c.passage_rank for c in rows], self.dense_candidates)
        query = self.encoder.query_vector(question)
        query_states = self.encoder.query_states(question) if self.head is not None else None
        for picked in (shortlist, extra):
            if not picked:
                continue
            # A unit's opening says what it is about; embedding a whole list or code block (up to
            # the model's 256-token window) made answering 3x slower for no gain in the feature.
            vecs, states = self.encoder.encode_with_states(
                [rows[i].passage.chunk.text[rows[i].start : min(rows[i].end, rows[i].start + UNIT_EMBED_CHARS)]
                 for i in picked])
            inter = self.head.score(query_states, states) if self.head is not None else np.zeros(len(picked))
            for i, sim, x in zip(picked, vecs @ query, inter):
                f = rows[i].features._replace(sentence_dense=float(sim), interaction=float(x))
                rows[i] = replace(rows[i], features=f, score=weigh(w, f))
        rows.sort(key=order)
        return rows

    def refusal_features(self, question: str, passages: list[Passage], best: Candidate) -> RefusalFeatures:
        """Evidence for answerability. Near-miss questions usually name something (a high-idf
        term) that the best passage lacks, hence passage coverage and the rarest missing term."""
        weights = self.lexical.term_weights(question)
        in_passage = set(terms(best.passage.chunk.indexed_text))
        f = best.features
        return RefusalFeatures(
            best_score=best.score,
            coverage=f.coverage,
            context_coverage=f.context_coverage,
            sentence_dense=f.sentence_dense,
            top_dense=max((p.dense for p in passages), default=0.0),
            type_match=f.type_match,
            passage_coverage=coverage(weights, in_passage),
            missing_idf=max((w for t, w in weights.items() if t not in in_passage), default=0.0),
            interaction=f.interaction,
        )

    def answerable(self, question: str, passages: list[Passage], best: Candidate | None) -> float:
        """Probability that the documents answer the question."""
        if best is None:
            return 0.0
        feats = self.refusal_features(question, passages, best)
        z = self.cal.refusal_bias + weigh(self.cal.refusal_weights, feats)
        return 1.0 / (1.0 + math.exp(-z))

    def read(self, question: str, ranked: list[Candidate]) -> tuple[list[Candidate], float]:
        """The reader's order of the feature-ranked shortlist, and P(the shortlist answers it)."""
        top = ranked[: self.reader_candidates]
        scores = self.reader.score(question, [c.text for c in top], [c.passage.chunk.text for c in top])
        read = [replace(c, reader=p) for c, p in zip(top, scores.probabilities)]
        read.sort(key=lambda c: c.reader, reverse=True)
        return read, scores.answered

    # -- answering ---------------------------------------------------------------------
    def answer(self, question: str, passages: list[Passage]) -> Answer:
        ranked = self.candidates(question, passages)
        gate_passed = True
        if self.reader is not None and ranked and self.reader_orders:
            ranked, confidence = self.read(question, ranked)
        else:
            confidence = self.answerable(question, passages, ranked[0] if ranked else None)
            if self.reader is not None and ranked and confidence >= self.threshold:
                gate_passed = self.read(question, ranked)[1] >= self.reader.config.threshold
        best = ranked[0] if ranked else None
        if best is None or confidence < self.threshold or not gate_passed:
            return Answer(question, REFUSAL_TEXT, [], True, passages, confidence)
        if self.lexical.unknown_words(question, UNKNOWN_WORD_SPECIFICITY):
            return Answer(question, REFUSAL_TEXT, [], True, passages, 0.0)

        def strength(c: Candidate) -> float:
            return c.score if c.reader is None else c.reader

        chosen = [_with_antecedent(best)]
        for cand in ranked[1:]:
            if len(chosen) >= self.max_sentences or strength(cand) < 0.85 * strength(best):
                break
            cand = _with_antecedent(cand)
            if not any(_overlaps(cand, c) or cand.text == c.text for c in chosen):
                chosen.append(cand)
        citations, parts = [], []
        for n, cand in enumerate(chosen, 1):
            citations.append(Citation.from_span(n, cand.passage, cand.start, cand.end, score=cand.score,
                                                unit=cand.unit, reader=cand.reader))
            shown = cand.shown()
            # A list or code block ends on its own line; its marker follows on the next.
            parts.append(f"{shown}\n[{n}]" if "\n" in shown else f"{shown} [{n}]")
        joiner = "\n\n" if any("\n" in part for part in parts) else " "
        return Answer(question, joiner.join(parts), citations, False, passages, confidence)


def embedding_picks(passages: list, n: int) -> tuple[list[int], list[int]]:
    """Which candidates (best first by the features without embeddings; `passages` holds each
    one's passage) get the embedding features: the first n, then each other passage's first. In a
    file all about one topic every unit holds the question's words, and lexical ties fall to the
    top passage. `bench/calibrate.py` fits the weights through the same choice."""
    shortlist = list(range(min(n, len(passages))))
    seen = {passages[i] for i in shortlist}
    extra = []
    for i, passage in enumerate(passages):
        if passage not in seen:
            seen.add(passage)
            extra.append(i)
    return shortlist, extra


def _with_antecedent(cand: Candidate) -> Candidate:
    """A sentence that leans back is quoted with the sentence right before it in its text (no
    heading or list marker between), as a reader would need it; its score stays its own."""
    u, chunk = cand.unit, cand.passage.chunk
    if u is None or u.kind != "sentence" or not leans_back(cand.text):
        return cand
    prev = next((p for p in reversed(chunk.units) if p.end <= cand.start), None)
    if prev is None or prev.kind != "sentence" or chunk.text[prev.end : cand.start].strip() \
            or cand.end - prev.start > MAX_UNIT_CHARS:
        return cand
    return replace(cand, start=prev.start, unit=replace(u, start=prev.start, start_line=prev.start_line, page=prev.page))


def _overlaps(a: Candidate, b: Candidate) -> bool:
    ca, cb = a.passage.chunk, b.passage.chunk
    return ca.path == cb.path and ca.start + a.start < cb.start + b.end and cb.start + b.start < ca.start + a.end
