"""qa-bot's own reader: a small cross-encoder that scores how well a unit answers a question.

Trained by `train/train_reader.py` (SQuAD dev `train` articles only) and shipped inside the
package as an int8 ONNX file; only onnxruntime and tokenizers load it, once per process.
`models/reader/reader.json` holds the sequence length and the fitted "not answered here"
calibration; `models/reader/README.md` is the model card with the file's sha256.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import QABotError

MODEL_DIR = Path(str(resources.files("qa_bot").joinpath("models", "reader")))

# Context shown beside a unit, in characters each side: about what fits in the sequence.
_CONTEXT_CHARS = 200


class ReaderError(QABotError):
    """The shipped reader model is missing or unreadable."""


def pair_second(unit: str, context: str) -> str:
    """The reader's second segment: the unit, then the passage text around it.

    Training and run time both build pairs here, so the model sees one format.
    """
    unit = " ".join(unit.split())
    flat = " ".join(context.split())
    at = flat.find(unit)
    if at < 0:
        before, after = "", flat[:_CONTEXT_CHARS]
    else:
        before = flat[max(0, at - _CONTEXT_CHARS) : at]
        after = flat[at + len(unit) : at + len(unit) + _CONTEXT_CHARS]
        if len(before) == _CONTEXT_CHARS:  # start at a word
            before = before.split(" ", 1)[-1]
    return f"{unit} [SEP] {before.strip()} ... {after.strip()}".strip()


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    max_length: int
    # P(answered here) = sigmoid(scale * best logit + bias), fitted on held-out train articles.
    scale: float
    bias: float
    threshold: float  # refuse below this P(answered here)

    @classmethod
    def load(cls, path: Path) -> ReaderConfig:
        data = json.loads(path.read_text())
        return cls(int(data["max_length"]), float(data["scale"]), float(data["bias"]), float(data["threshold"]))


@dataclass(frozen=True, slots=True)
class ReaderScores:
    probabilities: list[float]  # per unit: P(this unit answers the question)
    answered: float  # P(some unit answers it): 1 - "not answered here"

    @property
    def no_answer(self) -> float:
        return 1.0 - self.answered


class Reader:
    """Loads the ONNX reader once; `score` is thread-safe (onnxruntime sessions are)."""

    def __init__(self, model_dir: Path = MODEL_DIR, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model = model_dir / "model.onnx"
        try:
            self.config = ReaderConfig.load(model_dir / "reader.json")
            self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
            opts = ort.SessionOptions()
            if threads:
                opts.intra_op_num_threads = threads
            # The reader runs between two encoder runs; its threads spinning for more work beside
            # the encoder's made reader answers 1.5x slower (p95 164 -> 115 ms in one run;
            # docs/benchmarks.md, "Answer latency").
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - any failure here means one thing to the user
            reason = " ".join(str(e).split())[:160]
            raise ReaderError(f"reader model at {model_dir} is missing or corrupt ({reason}); reinstall qa-bot") from None
        self._tok.enable_truncation(self.config.max_length, strategy="only_second")
        self._tok.enable_padding(pad_id=0, pad_token="[PAD]")
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()  # the tokenizer's padding/truncation state is shared

    def logits(self, question: str, units: list[str], contexts: list[str]) -> np.ndarray:
        if not units:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            enc = self._tok.encode_batch([(question, pair_second(u, c)) for u, c in zip(units, contexts)])
        feed = {
            "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
        }
        return self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0].reshape(-1)

    def score(self, question: str, units: list[str], contexts: list[str]) -> ReaderScores:
        """`contexts[i]` is the passage text holding `units[i]`."""
        z = self.logits(question, units, contexts)
        probs = [1.0 / (1.0 + math.exp(-float(v))) for v in z]
        best = float(z.max()) if len(z) else -20.0
        answered = 1.0 / (1.0 + math.exp(-(self.config.scale * best + self.config.bias)))
        return ReaderScores(probs, answered)


@cache
def shared_reader() -> Reader:
    """The shipped reader, loaded once per process: every service and channel shares it."""
    return Reader()
