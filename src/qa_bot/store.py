"""The persisted index: a Chroma collection of vectors, a BM25 index, and a state file.

Layout under the index folder:
- ``chroma/``: Chroma's embedded store (one collection, cosine space, our vectors only).
- ``lexical-<generation>/``: BM25 and the chunk table, rebuilt after every change.
- ``state.json``: the manifest (file -> hash and chunk ids), settings fingerprint, and which
  lexical folder is current. It is replaced atomically and is the commit point of a sync:
  whatever a kill leaves in Chroma beyond it is reconciled on the next sync.
"""

from __future__ import annotations

import os

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import json  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from .lexical import LexicalIndex  # noqa: E402
from .schema import Chunk  # noqa: E402

COLLECTION = "chunks"
STATE_VERSION = 1


class StoreError(Exception):
    """The index folder is missing, unreadable or from incompatible settings."""


@dataclass
class FileEntry:
    hash: str
    chunks: list[str]


@dataclass
class State:
    fingerprint: dict[str, Any] = field(default_factory=dict)
    files: dict[str, FileEntry] = field(default_factory=dict)
    generation: int = 0
    lexical_generation: int = -1
    last_sync: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": STATE_VERSION,
                "fingerprint": self.fingerprint,
                "generation": self.generation,
                "lexical_generation": self.lexical_generation,
                "last_sync": self.last_sync,
                "files": {p: {"hash": e.hash, "chunks": e.chunks} for p, e in self.files.items()},
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> State:
        d = json.loads(text)
        return cls(
            fingerprint=d.get("fingerprint", {}),
            files={p: FileEntry(e["hash"], list(e["chunks"])) for p, e in d.get("files", {}).items()},
            generation=d.get("generation", 0),
            lexical_generation=d.get("lexical_generation", -1),
            last_sync=d.get("last_sync"),
        )


class Store:
    """Everything on disk under one index folder; knows nothing of files or questions."""

    def __init__(self, index_dir: Path):
        self.dir = Path(index_dir)

    # -- state -------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    def exists(self) -> bool:
        return self.state_path.exists()

    def load_state(self) -> State:
        if not self.exists():
            return State()
        try:
            return State.from_json(self.state_path.read_text())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{self.state_path}: unreadable index state ({exc})") from None

    def save_state(self, state: State) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".state-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            f.write(state.to_json())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_path)

    # -- vectors -----------------------------------------------------------------------
    @property
    def collection(self):
        if getattr(self, "_collection", None) is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            self.dir.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(
                path=str(self.dir / "chroma"),
                settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True),
            )
            self._client = client
            # embedding_function=None: we always pass vectors; Chroma's default one downloads a model.
            self._collection = client.get_or_create_collection(
                COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        return self._collection

    def reset_vectors(self) -> None:
        self.collection  # noqa: B018 - opens the client
        self._client.delete_collection(COLLECTION)
        self._collection = None

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        step = self.collection._client.get_max_batch_size()
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[i : i + step],
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
            )

    def delete(self, ids: list[str]) -> None:
        step = 5000
        for i in range(0, len(ids), step):
            self.collection.delete(ids=ids[i : i + step])

    def all_ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def count(self) -> int:
        return self.collection.count()

    def chunks(self, ids: list[str] | None = None) -> list[Chunk]:
        got = self.collection.get(ids=ids, include=["documents", "metadatas"])
        return [Chunk.from_metadata(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def dense_search(self, vector: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        total = self.count()
        if total == 0:
            return []
        res = self.collection.query(
            query_embeddings=[vector], n_results=min(n, total), include=["documents", "metadatas", "distances"]
        )
        return [
            (Chunk.from_metadata(i, d, m), 1.0 - float(dist))
            for i, d, m, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])
        ]

    # -- lexical -----------------------------------------------------------------------
    def lexical_dir(self, generation: int) -> Path:
        return self.dir / f"lexical-{generation}"

    def save_lexical(self, lexical: LexicalIndex, generation: int) -> None:
        target = self.lexical_dir(generation)
        if target.exists():
            shutil.rmtree(target)
        tmp = Path(tempfile.mkdtemp(dir=self.dir, prefix=".lexical-"))
        shutil.rmtree(tmp)
        lexical.save(tmp)
        os.replace(tmp, target)

    def load_lexical(self, state: State) -> LexicalIndex:
        folder = self.lexical_dir(state.lexical_generation)
        if state.lexical_generation < 0 or not folder.exists():
            return LexicalIndex.build([])
        return LexicalIndex.load(folder)

    def prune_lexical(self, keep: int) -> None:
        for p in self.dir.glob("lexical-*"):
            if p.name != f"lexical-{keep}":
                shutil.rmtree(p, ignore_errors=True)
        for p in self.dir.glob(".lexical-*"):
            shutil.rmtree(p, ignore_errors=True)
