"""The interaction head: a small trained model that scores how well a unit answers a question
from the embedding model's word-piece states, which the answerer computes anyway.

For each question word-piece it takes the best cosine match among the unit's word-pieces, in a
learned 128-dimensional projection, and averages those with learned per-word-piece weights (a
question's "when", "default" or "Brenda" matter more than its "the"). It is the late-interaction
idea of ColBERT trained as an answer-sentence ranker: the states come for free with the vectors
the answerer already embeds, so scoring costs two small matrix products per unit.

Trained by `train/train_interaction.py` (SQuAD dev `train` articles and generated docs questions),
shipped as `models/interaction/head.npz`; `models/interaction/README.md` is its card with the file's
sha256.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import QABotError

HEAD_PATH = Path(str(resources.files("qa_bot").joinpath("models", "interaction", "head.npz")))


class InteractionError(QABotError):
    """The shipped interaction head is missing or unreadable."""


class InteractionHead:
    """`proj` (dim x 384) maps word-piece states into the matching space; `gate` (384) and
    `gate_bias` give each question word-piece its weight (softmax over the question)."""

    def __init__(self, proj: np.ndarray, gate: np.ndarray, gate_bias: float):
        self.proj = proj.astype(np.float32)
        self.gate = gate.astype(np.float32)
        self.gate_bias = float(gate_bias)

    @classmethod
    def load(cls, path: Path = HEAD_PATH) -> InteractionHead:
        try:
            with np.load(path) as data:
                head = cls(data["proj"], data["gate"], float(data["gate_bias"]))
            if head.proj.ndim != 2 or head.proj.shape[1] != 384 or head.gate.shape != (384,):
                raise ValueError(f"shapes {head.proj.shape} and {head.gate.shape}, expected (d, 384) and (384,)")
        except Exception as e:  # noqa: BLE001 - any failure here means one thing to the user
            reason = " ".join(str(e).split())[:160]
            raise InteractionError(f"interaction head at {path} is missing or corrupt ({reason}); reinstall qa-bot") from None
        return head

    def _embed(self, states: np.ndarray) -> np.ndarray:
        x = states @ self.proj.T
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)

    def score(self, question: np.ndarray, units: list[np.ndarray]) -> np.ndarray:
        """One score per unit, in [-1, 1]: the weighted mean over question word-pieces of their
        best match in the unit. `question` and each unit are word-piece states (pieces, 384)."""
        if not units or len(question) == 0:
            return np.zeros(len(units), dtype=np.float32)
        q = self._embed(question)
        z = question @ self.gate + self.gate_bias
        weights = np.exp(z - z.max())
        weights /= weights.sum()
        return np.array([float(weights @ (q @ self._embed(u).T).max(axis=1)) if len(u) else 0.0 for u in units],
                        dtype=np.float32)


@cache
def shared_head() -> InteractionHead:
    """The shipped head, loaded once per process."""
    return InteractionHead.load()
