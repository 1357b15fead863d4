"""calibration.json: each weight vector pairs with the feature the code computes under its name."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from qa_bot.calibration import FEATURES, Calibration
from qa_bot.errors import ConfigError
from qa_bot.features import RankFeatures

SHIPPED = json.loads(resources.files("qa_bot").joinpath("calibration.json").read_text())


def test_shipped_file_names_every_weight_and_loads():
    for kind, names in FEATURES.items():
        assert SHIPPED[f"{kind}_features"] == list(names)
    cal = Calibration.load()
    assert cal.rank_weights == tuple(SHIPPED["rank_weights"])
    assert len(cal.rank_weights) == len(RankFeatures._fields)
    assert cal.threshold == SHIPPED["threshold"]


def test_reordered_feature_names_fail_naming_file_and_field(tmp_path):
    names = list(SHIPPED["rank_features"])
    names[0], names[1] = names[1], names[0]
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({**SHIPPED, "rank_features": names}))
    with pytest.raises(ConfigError, match="rank_features") as err:
        Calibration.load(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_weights_without_names_or_of_another_length_fail(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({k: v for k, v in SHIPPED.items() if k != "refusal_features"}))
    with pytest.raises(ConfigError, match="refusal_features"):
        Calibration.load(path)
    path.write_text(json.dumps({**SHIPPED, "rerank_weights": SHIPPED["rerank_weights"][:-1]}))
    with pytest.raises(ConfigError, match="rerank_weights"):
        Calibration.load(path)
