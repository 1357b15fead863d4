"""The evidence features the rankers and the refusal model weigh, by name.

calibration.json pairs each fitted weight with one of these field names, and `Calibration.load`
refuses a file whose names differ: a reordered or renamed feature must not meet another's weight.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class RerankFeatures(NamedTuple):
    """Why a fused candidate passage may deserve a higher place (retrieve.py)."""

    fused_rank: float  # reciprocal-rank fusion score, scaled by rrf_k
    best_sentence: float  # the strongest sentence evidence in the passage
    passage_coverage: float  # share of the question's term weight the passage holds
    dense: float  # cosine similarity of the passage to the question


class RankFeatures(NamedTuple):
    """Why an answer unit may answer the question (answer.py)."""

    coverage: float  # share of the question's term weight the unit holds
    context_coverage: float  # the same, by it and its neighbours (the answer may sit beside the match)
    passage_rr: float  # 1 / its passage's rank (1-based)
    type_match: float  # question_kind.type_match
    novelty: float  # 1 if it says anything the question does not already say
    sentence_dense: float  # cosine similarity to the question; 0 for units not embedded
    passage_dense: float  # its passage's cosine similarity to the question
    interaction: float  # the interaction head's score (interaction.py); 0 for units not embedded


class RefusalFeatures(NamedTuple):
    """Evidence that the documents answer the question at all, from its best unit (answer.py)."""

    best_score: float  # the best unit's ranking score
    coverage: float  # it, context_coverage, sentence_dense, type_match: the best unit's RankFeatures
    context_coverage: float
    sentence_dense: float
    top_dense: float  # the highest passage similarity
    type_match: float
    passage_coverage: float  # share of the question's term weight the best unit's passage holds
    missing_idf: float  # the highest weight among the question terms that passage lacks
    interaction: float  # the best unit's interaction head score: a trained match, not term overlap


def weigh(weights: Iterable[float], features: Iterable[float]) -> float:
    """The weighted sum that every ranker and the refusal model score by."""
    return sum(w * f for w, f in zip(weights, features))
