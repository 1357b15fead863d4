"""Chunks and their vectors in one Chroma collection, through an embedded or a server client.

The client is the only thing that differs between the modes (see storage.py): `EmbeddedChroma`
keeps its database under ``<index folder>/chroma/``, `ChromaServer` talks to `chroma_url`.
"""

from __future__ import annotations

import os

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import functools  # noqa: E402
from abc import ABC, abstractmethod  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import numpy as np  # noqa: E402

from .errors import StoreError  # noqa: E402  (raised here; callers import it from here too)
from .schema import Chunk  # noqa: E402

COLLECTION = "chunks"  # the embedded store's one collection
PAGE = 5000  # rows per Chroma get, so big collections are read in bounded pieces


@functools.cache
def _failures() -> tuple[type[BaseException], ...]:
    import httpx
    from chromadb.errors import ChromaError

    return (OSError, httpx.HTTPError, ChromaError)


def reported(method):
    """Chroma, network and disk failures become one StoreError line, worded by `self.explain`."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except _failures() as exc:
            raise StoreError(self.explain(exc)) from exc

    return wrapper


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def on_disk(folder: Path, exc: BaseException) -> str:
    """A failure of an index kept in `folder`, as the user reads it."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename or folder}: {exc.strerror}"
    return f"{folder}: the index store failed ({_first_line(exc)})"


class Chroma(ABC):
    """A Chroma client, started on first use, and the collections opened through it."""

    # Threads starting clients at once get half-made ones ("'RustBindingsAPI' object has no attribute
    # 'bindings'"); class-wide, as Chroma shares one system per path or server between clients.
    _opening = threading.RLock()

    def __init__(self):
        self._client = None
        self._collections: dict[str, object] = {}

    def client(self):
        with self._opening:
            if self._client is None:
                self._client = self._start()
            return self._client

    def collection(self, name: str, **config):
        with self._opening:
            found = self._collections.get(name)
            if found is None:
                # embedding_function=None: we always pass vectors; Chroma's default one downloads a model.
                found = self._collections[name] = self.client().get_or_create_collection(
                    name, embedding_function=None, **config
                )
            return found

    def delete_collection(self, name: str) -> None:
        self.collection(name)  # deleting a collection that was never made fails
        self.client().delete_collection(name)
        self._collections.pop(name, None)

    def failed(self, exc: BaseException) -> str:
        """What to tell the user about `exc`; collections are opened again next time (the server
        may be back, or reset)."""
        with self._opening:
            self._collections.clear()
        return self.explain(exc)

    @staticmethod
    def _settings():
        from chromadb.config import Settings as ChromaSettings

        return ChromaSettings(anonymized_telemetry=False, allow_reset=True)

    @abstractmethod
    def _start(self):
        """A new client."""

    @abstractmethod
    def explain(self, exc: BaseException) -> str:
        """A failure of this client's store, as the user reads it (one line)."""


class EmbeddedChroma(Chroma):
    """Chroma's embedded store under ``<folder>/chroma/``."""

    def __init__(self, folder: Path):
        super().__init__()
        self.dir = folder

    def _start(self):
        import chromadb

        self.dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.dir / "chroma"), settings=self._settings())

    def explain(self, exc: BaseException) -> str:
        return on_disk(self.dir, exc)


class ChromaServer(Chroma):
    """A Chroma server at `url` (QA_BOT_CHROMA_URL)."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url

    @property
    def server(self) -> str:
        """scheme://host:port of the server, without any credentials the URL carries."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 8000)}"

    def _start(self):
        import chromadb

        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StoreError(f"QA_BOT_CHROMA_URL: expected http://host:port, got {self.server}")
        try:
            return chromadb.HttpClient(
                host=parts.hostname, port=urlsplit(self.server).port, ssl=parts.scheme == "https",
                settings=self._settings(),
            )
        except ValueError:  # what HttpClient raises when no server answers its heartbeat
            raise StoreError(
                f"cannot reach the Chroma server at {self.server}; is it running? (QA_BOT_CHROMA_URL)"
            ) from None

    def explain(self, exc: BaseException) -> str:
        import httpx

        if isinstance(exc, httpx.TransportError):
            return (f"cannot reach the Chroma server at {self.server} ({_first_line(exc)}); "
                    "is it running? (QA_BOT_CHROMA_URL)")
        return f"Chroma server at {self.server}: {_first_line(exc)}"


class Store:
    """The chunks and their vectors, in one collection; knows nothing of files, manifests or questions."""

    def __init__(self, chroma: Chroma, name: str = COLLECTION):
        self.chroma = chroma
        self.name = name

    def explain(self, exc: BaseException) -> str:
        return self.chroma.failed(exc)

    @property
    def collection(self):
        return self.chroma.collection(self.name, configuration={"hnsw": {"space": "cosine"}})

    @reported
    def reset(self) -> None:
        """Delete every vector (the next `upsert` makes the collection again)."""
        self.chroma.delete_collection(self.name)

    @reported
    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        step = self.chroma.client().get_max_batch_size()
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[i : i + step],
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
            )

    @reported
    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), PAGE):
            self.collection.delete(ids=ids[i : i + PAGE])

    @reported
    def all_ids(self) -> set[str]:
        pages = (self.collection.get(include=[], limit=PAGE, offset=o) for o in range(0, self.count(), PAGE))
        return {i for page in pages for i in page["ids"]}

    @reported
    def count(self) -> int:
        return self.collection.count()

    @reported
    def chunks(self, ids: list[str] | None = None) -> list[Chunk]:
        """The chunks with these ids, or all of them."""
        if ids is not None:
            queries = [{"ids": ids[i : i + PAGE]} for i in range(0, len(ids), PAGE)]
        else:
            queries = [{"limit": PAGE, "offset": o} for o in range(0, self.count(), PAGE)]
        found: dict[str, Chunk] = {}
        for query in queries:
            got = self.collection.get(include=["documents", "metadatas"], **query)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"]):
                if m is not None and d is not None:  # deleted mid-read, as in dense_search
                    found[i] = Chunk.from_metadata(i, d, m)
        return list(found.values())

    @reported
    def vectors(self) -> tuple[list[Chunk], np.ndarray]:
        """Every chunk with its vector, for the snapshot questions are answered from."""
        chunks: list[Chunk] = []
        rows: list[np.ndarray] = []
        for offset in range(0, self.count(), PAGE):
            got = self.collection.get(include=["documents", "metadatas", "embeddings"], limit=PAGE, offset=offset)
            for i, d, m, v in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]):
                if m is not None and d is not None:
                    chunks.append(Chunk.from_metadata(i, d, m))
                    rows.append(np.asarray(v, dtype=np.float32))
        return chunks, np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    @reported
    def dense_search(self, vector: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        total = self.count()
        if total == 0:
            return []
        res = self.collection.query(
            query_embeddings=[vector], n_results=min(n, total), include=["documents", "metadatas", "distances"]
        )
        # A chunk deleted by a concurrent sync between Chroma's vector search and its row fetch
        # comes back without metadata: it is gone, so skip it.
        return [
            (Chunk.from_metadata(i, d, m), 1.0 - float(dist))
            for i, d, m, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])
            if m is not None and d is not None
        ]
