"""Weights fitted by bench/calibrate.py on benchmark data, shipped as calibration.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from .errors import ConfigError
from .features import RankFeatures, RefusalFeatures, RerankFeatures

# calibration.json stores each weight vector "<kind>_weights" beside its names "<kind>_features".
FEATURES = {"rerank": RerankFeatures._fields, "rank": RankFeatures._fields, "refusal": RefusalFeatures._fields}


@dataclass
class Calibration:
    """Passage reranking, sentence ranking, and the answerability model with its threshold.

    The defaults are sane hand-set values, used only when calibration.json is missing.
    """

    rerank_weights: tuple[float, ...] = (1.0, 0.5, 0.5, 0.5)
    rank_weights: tuple[float, ...] = (1.0, 0.35, 0.25, 0.15, 0.1, 1.0, 0.3, 1.5)
    refusal_weights: tuple[float, ...] = (0.0, 3.0, 1.0, 6.0, 2.0, 1.0, 1.0, -1.0, 0.0)
    refusal_bias: float = -5.0
    threshold: float = 0.5

    @classmethod
    def load(cls, path: Path | None = None) -> Calibration:
        """The shipped calibration.json, or the file at `path`; the defaults if the shipped one is missing."""
        source = path or resources.files("qa_bot").joinpath("calibration.json")
        try:
            data = json.loads(source.read_text())
        except FileNotFoundError:
            if path is not None:
                raise
            return cls()
        for kind, names in FEATURES.items():
            if f"{kind}_weights" in data:
                _check_names(source, kind, names, data)
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _check_names(source: object, kind: str, expected: tuple[str, ...], data: dict) -> None:
    """A weight means something only for the feature it was fitted on, so names must match the code's."""
    names, weights = data.get(f"{kind}_features"), data[f"{kind}_weights"]
    if names != list(expected):
        raise ConfigError(f"{source}: {kind}_features {names} differ from the features qa-bot computes "
                          f"{list(expected)}; rerun bench/calibrate.py")
    if len(weights) != len(expected):
        raise ConfigError(f"{source}: {len(weights)} {kind}_weights for {len(expected)} {kind}_features")
