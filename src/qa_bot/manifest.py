"""The manifest: what the index holds (file -> hash and chunk ids), the settings fingerprint, and
which snapshot is current. Saving it is the commit point of a sync (see storage.py).

It lives in ``state.json`` in the index folder (`FileManifest`), or in server mode in one record
of the Chroma collection ``<name>-state`` (`ChromaManifest`), beside the writer's lease.
"""

from __future__ import annotations

import json
import os
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import StoreError
from .store import Chroma, on_disk, reported

if TYPE_CHECKING:
    from .lexical import LexicalIndex

STATE_VERSION = 1
STATE_ID = "state"  # the one record of the server-side state collection
LEASE_ID = "writer"  # the other: which sync may write (lock.py)
# Why documents are not searchable yet and what to do, as `status` and every answer say it.
INCOMPLETE = "an index run stopped (or is still running) before its end; run `qa-bot index` to finish it"


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


class Manifest(ABC):
    """Where the committed State lives; `save` replaces it whole, in one step."""

    location: str  # as the user reads it in messages

    @abstractmethod
    def version(self) -> Any:
        """Changes with every committed state (None before the first); cheap enough to check
        before every question."""

    @abstractmethod
    def read(self) -> str | None:
        """The committed state as JSON; None before the first commit."""

    @abstractmethod
    def save(self, state: State) -> None:
        """Commit `state`: readers see the old one or this one, never a mix."""

    def exists(self) -> bool:
        return self.version() is not None

    def load(self) -> State:
        text = self.read()
        if text is None:
            return State()
        try:
            return State.from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{self.location}: unreadable index state ({exc})") from None


class FileManifest(Manifest):
    """``state.json`` in the index folder, replaced atomically; the writer's lock file beside it."""

    def __init__(self, folder: Path):
        self.dir = folder
        self.location = str(folder)

    @property
    def path(self) -> Path:
        return self.dir / "state.json"

    def explain(self, exc: BaseException) -> str:
        return on_disk(self.dir, exc)

    @reported
    def version(self) -> Any:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    @reported
    def read(self) -> str | None:
        return self.path.read_text() if self.path.exists() else None

    @reported
    def save(self, state: State) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        # Not mkstemp: its 0600 would hide the index from a bot running as another user.
        tmp = str(self.dir / f".state-{uuid.uuid4().hex}.json")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # less the umask
        try:
            with os.fdopen(fd, "w") as f:
                f.write(state.to_json())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):  # a failed write (disk full) leaves the old state as it was
                os.unlink(tmp)

    @reported
    def lock_file(self) -> Path:
        """The embedded writer's lock (lock.py)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        return self.dir / ".writer.lock"


class ChromaManifest(Manifest):
    """Server mode: the record `state` of the collection `name` on the Chroma server, so every
    process sharing the server sees the same commits; its record `writer` is the writer's lease."""

    def __init__(self, chroma: Chroma, name: str, location: str):
        self.chroma = chroma
        self.name = name
        self.location = location

    @property
    def _records(self):
        return self.chroma.collection(self.name)

    def explain(self, exc: BaseException) -> str:
        return self.chroma.failed(exc)

    @reported
    def version(self) -> Any:
        got = self._records.get(ids=[STATE_ID], include=["metadatas"])
        return tuple(sorted(got["metadatas"][0].items())) if got["ids"] else None

    @reported
    def read(self) -> str | None:
        got = self._records.get(ids=[STATE_ID], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    @reported
    def save(self, state: State) -> None:
        # One record holds the whole manifest, so a commit is one atomic upsert.
        marker = {"generation": state.generation, "lexical_generation": state.lexical_generation,
                  "last_sync": state.last_sync or ""}
        self._records.upsert(ids=[STATE_ID], embeddings=[[0.0]], documents=[state.to_json()], metadatas=[marker])

    # -- the writer's lease; see lock.py -----------------------------------------------
    @reported
    def lease(self) -> dict | None:
        got = self._records.get(ids=[LEASE_ID], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    @reported
    def claim_lease(self, lease: dict) -> None:
        """Store `lease` unless one is stored already (Chroma ignores `add` of an existing id)."""
        self._records.add(ids=[LEASE_ID], embeddings=[[0.0]], metadatas=[lease])

    @reported
    def renew_lease(self, lease: dict) -> None:
        if (self.lease() or {}).get("owner") == lease["owner"]:
            self._records.upsert(ids=[LEASE_ID], embeddings=[[0.0]], metadatas=[lease])

    @reported
    def drop_lease(self, owner: str) -> None:
        self._records.delete(ids=[LEASE_ID], where={"owner": owner})
