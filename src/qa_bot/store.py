"""The persisted index: a Chroma collection of vectors, a BM25 index, and a state file.

Layout under the index folder:
- ``chroma/``: Chroma's embedded store (one collection, cosine space, our vectors only).
- ``lexical-<generation>/``: BM25, the chunk table and its vectors (``vectors.npy``), rebuilt
  after every change. Questions read only this snapshot and ``state.json``: answering never opens
  Chroma (whose client costs a second to import and start, and opens its database for writing).
- ``state.json``: the manifest (file -> hash and chunk ids), settings fingerprint, and which
  lexical folder is current. It is replaced atomically and is the commit point of a sync:
  whatever a kill leaves in Chroma beyond it is reconciled on the next sync.

Server mode (``chroma_url`` set): the chunks live in the collection ``<name>-chunks`` on the
Chroma server and the manifest in the one record of ``<name>-state`` (``<name>`` is the index
folder's name), so every bot process sharing the server sees the same commits. Nothing is
written locally: each process builds its BM25 in memory from the server's committed chunks
when the generation changes (see docs/operations.md).
"""

from __future__ import annotations

import os

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import functools  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from .errors import StoreError  # noqa: E402,F401  (raised here; callers import it from here too)
from urllib.parse import urlsplit  # noqa: E402

import numpy as np  # noqa: E402

from .lexical import LexicalIndex  # noqa: E402
from .schema import Chunk  # noqa: E402

COLLECTION = "chunks"
STATE_VERSION = 1
STATE_ID = "state"  # the one record of the server-side state collection
LEASE_ID = "writer"  # the other: which sync may write (lock.py)
# Why documents are not searchable yet and what to do, as `status` and every answer say it.
INCOMPLETE = "an index run stopped (or is still running) before its end; run `qa-bot index` to finish it"
PAGE = 5000  # rows per Chroma get, so big collections are read in bounded pieces
VECTORS = "vectors.npy"  # in a lexical snapshot: row i is the vector of its chunk table's chunk i


@dataclass
class FileEntry:
    hash: str
    chunks: list[str]


@dataclass
class SkipEntry:
    """A file the last sync could not index: why, and the hash of the bytes it tried (None:
    unreadable), so `status` reports it as skipped until the file changes."""

    hash: str | None
    reason: str


@dataclass
class State:
    fingerprint: dict[str, Any] = field(default_factory=dict)
    files: dict[str, FileEntry] = field(default_factory=dict)
    generation: int = 0
    lexical_generation: int = -1
    last_sync: str | None = None
    roots: list[str] = field(default_factory=list)  # folders and files given to sync, resolved
    skipped: dict[str, SkipEntry] = field(default_factory=dict)

    def unsearchable(self, lexical: LexicalIndex) -> list[str]:
        """Files committed after `lexical` was built: a sync stopped (or is still running) before its end."""
        if self.lexical_generation == self.generation:
            return []
        return sorted(p for p, e in self.files.items() if any(i not in lexical.by_id for i in e.chunks))

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": STATE_VERSION,
                "fingerprint": self.fingerprint,
                "generation": self.generation,
                "lexical_generation": self.lexical_generation,
                "last_sync": self.last_sync,
                "roots": self.roots,
                "files": {p: {"hash": e.hash, "chunks": e.chunks} for p, e in self.files.items()},
                "skipped": {p: {"hash": e.hash, "reason": e.reason} for p, e in self.skipped.items()},
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
            roots=list(d.get("roots", [])),
            skipped={p: SkipEntry(e["hash"], e["reason"]) for p, e in d.get("skipped", {}).items()},
        )


@functools.cache
def _failures() -> tuple[type[BaseException], ...]:
    import httpx
    from chromadb.errors import ChromaError

    return (OSError, httpx.HTTPError, ChromaError)


def _reported(method):
    """Chroma, network and disk failures become one StoreError line naming the store."""

    @functools.wraps(method)
    def wrapper(self: Store, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except _failures() as exc:
            self._collection = None  # open it again next time: the server may be back, or reset
            raise StoreError(self._explain(exc)) from exc

    return wrapper


class Store:
    """The index: embedded under one folder, or on a Chroma server; knows nothing of files or questions."""

    # Threads starting clients at once get half-made ones ("'RustBindingsAPI' object has no attribute
    # 'bindings'"); class-wide, as Chroma shares one system per path or server between clients.
    _opening = threading.RLock()

    def __init__(self, index_dir: Path, chroma_url: str | None = None):
        self.dir = Path(index_dir)
        self.url = chroma_url
        self._client = self._collection = self._state_collection = None

    @classmethod
    def open(cls, settings, index_dir: Path | None = None) -> Store:
        return cls(index_dir or settings.index_dir, settings.chroma_url)

    @property
    def name(self) -> str:
        """The index's name on a server: the folder's name as a valid collection name."""
        return re.sub(r"[^A-Za-z0-9._-]", "-", self.dir.resolve().name).strip("._-") or "index"

    @property
    def server(self) -> str | None:
        """scheme://host:port of the server, without any credentials the URL carries."""
        if self.url is None:
            return None
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 8000)}"

    @property
    def location(self) -> str:
        if self.url is None:
            return str(self.dir)
        return f"{self.server} (collections {self.name}-chunks, {self.name}-state)"

    @property
    def keeps_lexical(self) -> bool:
        """BM25 snapshots are saved beside an embedded store; server readers build their own."""
        return self.url is None

    def _explain(self, exc: BaseException) -> str:
        import httpx

        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if self.url is not None:
            if isinstance(exc, httpx.TransportError):
                return f"cannot reach the Chroma server at {self.server} ({detail}); is it running? (QA_BOT_CHROMA_URL)"
            return f"Chroma server at {self.server}: {detail}"
        if isinstance(exc, OSError) and exc.strerror:
            return f"{exc.filename or self.dir}: {exc.strerror}"
        return f"{self.dir}: the index store failed ({detail})"

    def _chroma(self):
        with self._opening:
            return self._client or self._start_client()

    def _start_client(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if self.url is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(self.dir / "chroma"), settings=settings)
        else:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise StoreError(f"QA_BOT_CHROMA_URL: expected http://host:port, got {self.server}")
            try:
                self._client = chromadb.HttpClient(
                    host=parts.hostname, port=urlsplit(self.server).port, ssl=parts.scheme == "https",
                    settings=settings,
                )
            except ValueError:  # what HttpClient raises when no server answers its heartbeat
                raise StoreError(
                    f"cannot reach the Chroma server at {self.server}; is it running? (QA_BOT_CHROMA_URL)"
                ) from None
        return self._client

    # -- state -------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    @property
    def _states(self):
        with self._opening:
            if self._state_collection is None:
                self._state_collection = self._chroma().get_or_create_collection(
                    f"{self.name}-state", embedding_function=None
                )
            return self._state_collection

    def exists(self) -> bool:
        return self.version() is not None

    @_reported
    def version(self) -> Any:
        """Changes with every committed state; cheap enough to check before every question."""
        if self.url is not None:
            got = self._states.get(ids=[STATE_ID], include=["metadatas"])
            return tuple(sorted(got["metadatas"][0].items())) if got["ids"] else None
        try:
            st = self.state_path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    @_reported
    def load_state(self) -> State:
        if self.url is not None:
            got = self._states.get(ids=[STATE_ID], include=["documents"])
            text = got["documents"][0] if got["ids"] else None
        else:
            text = self.state_path.read_text() if self.state_path.exists() else None
        if text is None:
            return State()
        try:
            return State.from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{self.location}: unreadable index state ({exc})") from None

    @_reported
    def save_state(self, state: State) -> None:
        if self.url is not None:
            # One record holds the whole manifest, so a commit is one atomic upsert.
            marker = {"generation": state.generation, "lexical_generation": state.lexical_generation,
                      "last_sync": state.last_sync or ""}
            self._states.upsert(ids=[STATE_ID], embeddings=[[0.0]], documents=[state.to_json()],
                                metadatas=[marker])
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        # Not mkstemp: its 0600 would hide the index from a bot running as another user.
        tmp = str(self.dir / f".state-{uuid.uuid4().hex}.json")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # less the umask
        try:
            with os.fdopen(fd, "w") as f:
                f.write(state.to_json())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_path)
        finally:
            if os.path.exists(tmp):  # a failed write (disk full) leaves the old state as it was
                os.unlink(tmp)

    # -- the writer's lock (embedded) and lease (server mode); see lock.py -----------------
    @_reported
    def lock_file(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        return self.dir / ".writer.lock"


    @_reported
    def lease(self) -> dict | None:
        got = self._states.get(ids=[LEASE_ID], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    @_reported
    def claim_lease(self, lease: dict) -> None:
        """Store `lease` unless one is stored already (Chroma ignores `add` of an existing id)."""
        self._states.add(ids=[LEASE_ID], embeddings=[[0.0]], metadatas=[lease])

    @_reported
    def renew_lease(self, lease: dict) -> None:
        if (self.lease() or {}).get("owner") == lease["owner"]:
            self._states.upsert(ids=[LEASE_ID], embeddings=[[0.0]], metadatas=[lease])

    @_reported
    def drop_lease(self, owner: str) -> None:
        self._states.delete(ids=[LEASE_ID], where={"owner": owner})

    # -- vectors -----------------------------------------------------------------------
    @property
    def _chunks_name(self) -> str:
        return COLLECTION if self.url is None else f"{self.name}-chunks"

    @property
    def collection(self):
        with self._opening:
            if self._collection is None:
                # embedding_function=None: we always pass vectors; Chroma's default one downloads a model.
                self._collection = self._chroma().get_or_create_collection(
                    self._chunks_name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
            return self._collection

    @_reported
    def reset_vectors(self) -> None:
        self.collection  # noqa: B018 - deleting a collection that was never made fails
        self._chroma().delete_collection(self._chunks_name)
        self._collection = None

    @_reported
    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        step = self._chroma().get_max_batch_size()
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[i : i + step],
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
            )

    @_reported
    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), PAGE):
            self.collection.delete(ids=ids[i : i + PAGE])

    @_reported
    def all_ids(self) -> set[str]:
        pages = (self.collection.get(include=[], limit=PAGE, offset=o) for o in range(0, self.count(), PAGE))
        return {i for page in pages for i in page["ids"]}

    @_reported
    def count(self) -> int:
        return self.collection.count()

    @_reported
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

    @_reported
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

    @_reported
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

    # -- lexical -----------------------------------------------------------------------
    def lexical_dir(self, generation: int) -> Path:
        return self.dir / f"lexical-{generation}"

    @_reported
    def save_lexical(self, generation: int) -> None:
        """Snapshot every stored chunk for questions: BM25, the chunk table, and their vectors."""
        chunks, vectors = self.vectors()
        target = self.lexical_dir(generation)
        if target.exists():
            shutil.rmtree(target)
        tmp = Path(tempfile.mkdtemp(dir=self.dir, prefix=".lexical-"))
        shutil.rmtree(tmp)
        try:
            LexicalIndex.build(chunks).save(tmp)
            np.save(tmp / VECTORS, vectors)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def needs_snapshot(self, state: State) -> bool:
        """Whether questions would not see the latest commit (or, embedded, lack its vectors)."""
        if state.lexical_generation != state.generation:
            return True
        return self.keeps_lexical and not (self.lexical_dir(state.generation) / VECTORS).exists()

    def load_lexical(self, state: State) -> LexicalIndex:
        if not self.keeps_lexical:
            # Only chunks of committed files: a sync in progress elsewhere may have stored more.
            owned = sorted(i for e in state.files.values() for i in e.chunks)
            return LexicalIndex.build(sorted(self.chunks(owned), key=lambda c: (c.path, c.start)))
        folder = self.lexical_dir(state.lexical_generation)
        if state.lexical_generation < 0 or not folder.exists():
            return LexicalIndex.build([])
        return LexicalIndex.load(folder)

    def dense_view(self, state: State, lexical: LexicalIndex) -> VectorSnapshot | CommittedView:
        """Dense search over exactly the chunks of `lexical`: its saved vectors where they exist
        (read-only, no Chroma), else Chroma's (server mode, and indexes saved before snapshots had them)."""
        path = self.lexical_dir(state.lexical_generation) / VECTORS
        if not self.keeps_lexical or not path.exists():
            self.collection  # noqa: B018 - opened now, not by the first questions at once
            return CommittedView(self, lexical)
        return VectorSnapshot(lexical.chunks, np.load(path, mmap_mode="r"))

    def prune_lexical(self, keep: int) -> None:
        for p in self.dir.glob("lexical-*"):
            if p.name != f"lexical-{keep}":
                shutil.rmtree(p, ignore_errors=True)
        for p in self.dir.glob(".lexical-*"):
            shutil.rmtree(p, ignore_errors=True)


class CommittedView:
    """Dense search over the chunks of one loaded snapshot only.

    Chroma holds whatever a running sync has stored so far; a hit outside the snapshot (a
    file not yet committed, or one already removed) is dropped, so answers cite committed text.
    """

    def __init__(self, store: Store, lexical: LexicalIndex):
        self.store = store
        self.lexical = lexical

    def dense_search(self, vector: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        known = self.lexical.by_id
        # Twice as many: some hits may fall outside the snapshot while a sync runs.
        hits = self.store.dense_search(vector, 2 * n)
        return [(known[c.id], score) for c, score in hits if c.id in known][:n]


class VectorSnapshot:
    """Exact cosine search over a snapshot's vectors (unit length: a dot product is the cosine).

    Memory-mapped and only read, so answering works on a read-only or full disk; at 100k chunks
    one question is a 150 MB matrix-vector product (milliseconds)."""

    def __init__(self, chunks: list[Chunk], vectors: np.ndarray):
        self.chunks = chunks
        self.vectors = vectors

    def dense_search(self, vector: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        if not self.chunks:
            return []
        scores = self.vectors @ np.asarray(vector, dtype=np.float32)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.chunks[i], float(scores[i])) for i in top]
