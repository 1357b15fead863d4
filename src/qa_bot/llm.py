"""Which language model answers: parse `QA_BOT_LLM` and build the LangChain chat model.

Each backend's integration is an optional extra, imported only when that backend is chosen,
so the extractive default needs none of them.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from .settings import Settings

class BackendUnavailable(Exception):
    """The configured model cannot answer in this process; qa-bot answers extractively instead."""


Kind = Literal["extractive", "openai", "ollama", "llamacpp"]
EXTRAS: dict[str, str] = {"openai": "openai", "ollama": "ollama", "llamacpp": "llamacpp"}


@dataclass(frozen=True, slots=True)
class BackendSpec:
    kind: Kind
    target: str = ""  # model name, or the .gguf path for llamacpp

    @classmethod
    def parse(cls, spec: str) -> BackendSpec:
        """`extractive`, `openai:<model>`, `ollama:<model>` or `llamacpp:<path.gguf>`; else ConfigError."""
        kind, _, target = spec.strip().partition(":")
        if kind == "extractive" and not target:
            return cls("extractive")
        if kind in EXTRAS and target.strip():
            return cls(kind, target.strip())  # type: ignore[arg-type]
        raise ConfigError(
            f"QA_BOT_LLM={spec!r}: expected extractive, openai:<model>, ollama:<model> or llamacpp:<path.gguf>"
        )

    def __str__(self) -> str:
        if self.kind == "llamacpp":
            return f"llamacpp:{Path(self.target).name}"
        return f"{self.kind}:{self.target}" if self.target else self.kind


@dataclass(slots=True)
class Backend:
    """A chat model and how it may be called."""

    spec: BackendSpec
    model: BaseChatModel
    # One in-process llama.cpp model must not generate from two threads at once.
    lock: AbstractContextManager = field(default_factory=nullcontext)


def make_backend(settings: Settings) -> Backend | None:
    """The configured chat model, or None for the extractive default.

    Raises ConfigError (one line for the CLI) for a missing extra or GGUF file, and
    BackendUnavailable when an in-process model fails its start-up check; a server that is
    down is not an error here but a fallback at answer time.
    """
    spec = BackendSpec.parse(settings.llm)
    if spec.kind == "extractive":
        return None
    try:
        if spec.kind == "openai":
            return Backend(spec, _openai(spec.target, settings))
        if spec.kind == "ollama":
            return Backend(spec, _ollama(spec.target, settings))
        return Backend(spec, _llamacpp(spec.target, settings), threading.Lock())
    except ImportError as exc:
        raise ConfigError(
            f"QA_BOT_LLM={spec} needs the '{EXTRAS[spec.kind]}' extra ({exc.name or exc} is missing): "
            f"pip install 'qa-bot[{EXTRAS[spec.kind]}]'"
        ) from None


def _openai(model: str, s: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    # Local OpenAI-compatible servers need no key, but the client insists on one.
    key = s.llm_api_key.get_secret_value() if s.llm_api_key else "not-needed"
    return ChatOpenAI(
        model=model, base_url=s.llm_base_url, api_key=key, timeout=s.llm_timeout, max_retries=0,
        max_tokens=s.llm_max_tokens, temperature=s.llm_temperature,
    )


def _ollama(model: str, s: Settings) -> BaseChatModel:
    from langchain_ollama import ChatOllama

    return ChatOllama(
        model=model, base_url=s.llm_base_url, temperature=s.llm_temperature, num_predict=s.llm_max_tokens,
        num_ctx=s.llm_context_tokens, client_kwargs={"timeout": s.llm_timeout},
    )


def _llamacpp(path: str, s: Settings) -> BaseChatModel:
    gguf = Path(path).expanduser()
    if not gguf.is_file():
        raise ConfigError(f"QA_BOT_LLM=llamacpp:{path}: no such GGUF file")
    import llama_cpp  # noqa: F401  (the ImportError names the missing extra)

    from .llamacpp import LlamaCppChat, probe

    # A crash in native code cannot be caught in this process: try the model in a child first.
    failure = probe(str(gguf), s.llm_context_tokens, s.llm_threads, timeout=max(60.0, s.llm_timeout))
    if failure:
        raise BackendUnavailable(f"the llama.cpp model {gguf.name} {failure} in its start-up check")
    return LlamaCppChat(
        model_path=str(gguf), n_ctx=s.llm_context_tokens, max_tokens=s.llm_max_tokens,
        temperature=s.llm_temperature, n_threads=s.llm_threads,
    )
