"""One settings object, read once from the environment and `.env`, then passed down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EmbedBackend = Literal["onnx-int8", "onnx", "torch"]
# Texts per model call. onnxruntime's arena keeps the largest batch's activations: indexing
# 1,290 chunks peaked at 890 MiB with 32 and at 475 MiB with 8, in the same time.
EMBED_BATCH_SIZE = 8
AnswererKind = Literal["reader", "features", "gated"]


class Settings(BaseSettings):
    """Every knob of qa-bot; each field is also the env var `QA_BOT_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="QA_BOT_", env_file=".env", extra="ignore")

    index_dir: Path = Field(Path("index"), description="Where the persisted store lives.")
    model_cache_dir: Path = Field(
        Path.home() / ".cache" / "qa-bot",
        description="Where the ONNX export of the embedding model is cached.",
    )
    embed_backend: EmbedBackend = Field(
        "onnx-int8", description="onnx-int8 (fastest), onnx (fp32) or torch (sentence-transformers)."
    )
    embed_batch_size: int = Field(EMBED_BATCH_SIZE, ge=1, description="Texts per encoder call.")
    chunk_tokens: int = Field(
        200, ge=16, le=254, description="Max word-pieces per chunk (the model reads 256, 2 are special)."
    )
    top_k: int = Field(5, ge=1, description="Passages handed to the answerer.")
    candidates: int = Field(40, ge=1, description="Hits taken from each retriever before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    rerank_depth: int = Field(20, ge=1, description="Fused candidates reranked by sentence evidence.")
    dense_weight: float = Field(1.0, ge=0)
    lexical_weight: float = Field(1.0, ge=0)
    max_answer_sentences: int = Field(2, ge=1)
    refusal_threshold: float | None = Field(
        None, description="Override the calibrated answerability threshold (0..1)."
    )
    answerer: AnswererKind = Field(
        "features", description="features: the hand-fitted features and logistic refusal model (measured "
        "better so far); reader: qa-bot's trained reader orders sentences and decides refusal; gated: the "
        "features order the sentences, and the reader's refusal gate must pass as well as theirs.",
    )
    reader_candidates: int = Field(8, ge=1, description="Shortlisted sentences the reader scores.")

    # -- Discord (qa-bot discord) ----------------------------------------------------------
    discord_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DISCORD_TOKEN", "QA_BOT_DISCORD_TOKEN"),
        description="Bot token; from DISCORD_TOKEN in the environment or .env. Never logged.",
    )
    discord_allow_dms: bool = Field(False, description="Answer direct messages.")
    discord_channels: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Channel allowlist: 123,456 or a JSON list [123, 456]; empty = all channels."
    )
    discord_channel_indexes: Annotated[dict[int, Path], NoDecode] = Field(
        default_factory=dict,
        description='Channel id -> index folder (JSON object), so a channel only sees its own documents.',
    )
    discord_rate_per_minute: float = Field(6.0, gt=0, description="Questions per user per minute.")
    discord_rate_burst: int = Field(3, ge=1, description="Questions a user may ask at once.")
    discord_max_question_chars: int = Field(500, ge=1)
    discord_workers: int = Field(2, ge=1, description="Threads answering questions.")
    discord_queue_size: int = Field(20, ge=1, description="Questions waiting beyond which users hear 'busy'.")
    feedback_log: Path = Field(Path("feedback.jsonl"), description="Where 👍/👎 votes are appended.")

    # -- Operations: Chroma server mode, live sync, path safety, logging (docs/operations.md) --
    chroma_url: str | None = Field(
        None, description="http://host:port of a Chroma server; unset = embedded store in index_dir.",
    )
    watch_debounce_ms: int = Field(
        1000, ge=50, description="Longest `qa-bot watch` gathers a burst of file changes into one sync.",
    )
    index_lock_wait: float = Field(
        600.0, ge=0, description="Seconds a sync waits for another one writing the same index; 0 = fail at once.",
    )
    allow_outside_paths: bool = Field(
        False, description="Let `index` follow symlinks out of the folders given and accept '..' in paths.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = Field(
        None, description="Root logging level for the CLI; unset = each command's default.",
    )

    # -- Generative answers through an LLM (docs/llm.md) ----------------------------------
    llm: str = Field(
        "extractive",
        description="extractive | openai:<model> | ollama:<model> | llamacpp:<path to .gguf>.",
    )
    llm_base_url: str | None = Field(
        None, description="Server URL for openai:/ollama: (e.g. http://127.0.0.1:8080/v1); unset = the default.",
    )
    llm_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("QA_BOT_LLM_API_KEY", "OPENAI_API_KEY"),
        description="API key for openai: (also OPENAI_API_KEY). Never logged.",
    )
    llm_timeout: float = Field(30.0, gt=0, description="Seconds a whole generation may take before the fallback.")
    llm_max_tokens: int = Field(300, ge=16, description="Most tokens an answer may have.")
    llm_temperature: float = Field(0.0, ge=0, le=2)
    llm_context_tokens: int = Field(4096, ge=512, description="Context window for llamacpp: and ollama: models.")
    @field_validator("discord_channels", mode="before")
    @classmethod
    def _channel_ids(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        try:
            ids = json.loads(text) if text.startswith("[") else [v for v in text.split(",") if v.strip()]
            return [int(v) for v in ids]
        except (ValueError, TypeError):
            raise ValueError("expected channel ids as 123,456 or as a JSON list [123, 456]") from None

    @field_validator("discord_channel_indexes", mode="before")
    @classmethod
    def _channel_folders(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError('expected a JSON object of channel id -> index folder, '
                             'e.g. {"123": "index-a", "456": "index-b"}') from None

    llm_threads: int | None = Field(None, ge=1, description="CPU threads generating for llamacpp:; unset = half the cores.")
    prompts_dir: Path | None = Field(
        None, description="A folder whose prompt files (system.txt, answer.txt, ...) replace the packaged ones, file by file.",
    )
