"""Weights fitted by bench/calibrate.py on benchmark data, shipped as calibration.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from importlib import resources

RERANK_FEATURES = ("fused_rank", "best_sentence", "passage_coverage", "dense")
RANK_FEATURES = (
    "coverage", "context_coverage", "passage_rr", "type_match", "novelty", "sentence_dense", "passage_dense",
)
REFUSAL_FEATURES = (
    "best_score", "coverage", "context_coverage", "sentence_dense", "top_dense", "type_match",
    "passage_coverage", "missing_idf",
)


@dataclass
class Calibration:
    """Passage reranking, sentence ranking, and the answerability model with its threshold.

    The defaults are sane hand-set values, used only when calibration.json is missing.
    """

    rerank_weights: tuple[float, ...] = (1.0, 0.5, 0.5, 0.5)
    rank_weights: tuple[float, ...] = (1.0, 0.35, 0.25, 0.15, 0.1, 1.0, 0.3)
    refusal_weights: tuple[float, ...] = (0.0, 3.0, 1.0, 6.0, 2.0, 1.0, 1.0, -1.0)
    refusal_bias: float = -5.0
    threshold: float = 0.5

    @classmethod
    def load(cls) -> Calibration:
        try:
            data = json.loads(resources.files("qa_bot").joinpath("calibration.json").read_text())
        except FileNotFoundError:
            return cls()
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
