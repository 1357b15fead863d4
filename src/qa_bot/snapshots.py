"""What questions are answered from: a snapshot of the committed chunks (BM25 and the chunk table)
and a dense search over exactly those chunks.

Embedded (`SavedSnapshots`): each commit that changed the chunks saves ``lexical-<generation>/``
beside the store, with the chunks' vectors (``vectors.npy``), so answering reads only files and
never opens Chroma (whose client costs a second to import and start, and opens its database for
writing). Server mode (`ServerSnapshots`): nothing is saved; each reader builds its BM25 in memory
from the server's committed chunks when the generation changes, and searches the server's vectors.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from .lexical import LexicalIndex
from .manifest import State
from .retrieve import CommittedView, VectorSnapshot
from .store import Store, on_disk, reported

VECTORS = "vectors.npy"  # in a saved snapshot: row i is the vector of its chunk table's chunk i


class Snapshots(ABC):
    """The snapshot of each commit's chunks that questions are answered from."""

    def needs_snapshot(self, state: State) -> bool:
        """Whether questions would not see the latest commit."""
        return state.lexical_generation != state.generation

    @abstractmethod
    def publish(self, generation: int) -> None:
        """Make the stored chunks, as of commit `generation`, what questions are answered from."""

    @abstractmethod
    def load(self, state: State) -> LexicalIndex:
        """BM25 and the chunk table of `state`'s snapshot."""

    @abstractmethod
    def dense_view(self, state: State, lexical: LexicalIndex) -> VectorSnapshot | CommittedView:
        """Dense search over exactly the chunks of `lexical`."""

    @abstractmethod
    def prune(self, keep: int) -> None:
        """Drop every snapshot but generation `keep`'s."""


class SavedSnapshots(Snapshots):
    """Snapshots saved in the index folder, one ``lexical-<generation>/`` each."""

    def __init__(self, folder: Path, store: Store):
        self.dir = folder
        self.store = store

    def explain(self, exc: BaseException) -> str:
        return on_disk(self.dir, exc)

    def folder(self, generation: int) -> Path:
        return self.dir / f"lexical-{generation}"

    def needs_snapshot(self, state: State) -> bool:
        """Also when its snapshot lacks vectors (an index saved before snapshots held them)."""
        return super().needs_snapshot(state) or not (self.folder(state.generation) / VECTORS).exists()

    @reported
    def publish(self, generation: int) -> None:
        """Snapshot every stored chunk for questions: BM25, the chunk table, and their vectors."""
        chunks, vectors = self.store.vectors()
        target = self.folder(generation)
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

    def load(self, state: State) -> LexicalIndex:
        folder = self.folder(state.lexical_generation)
        if state.lexical_generation < 0 or not folder.exists():
            return LexicalIndex.build([])
        return LexicalIndex.load(folder)

    def dense_view(self, state: State, lexical: LexicalIndex) -> VectorSnapshot | CommittedView:
        """The snapshot's saved vectors (read-only, no Chroma), else Chroma's (an index saved
        before snapshots had them)."""
        path = self.folder(state.lexical_generation) / VECTORS
        if not path.exists():
            self.store.collection  # noqa: B018 - opened now, not by the first questions at once
            return CommittedView(self.store, lexical)
        return VectorSnapshot(lexical.chunks, np.load(path, mmap_mode="r"))

    def prune(self, keep: int) -> None:
        for p in self.dir.glob("lexical-*"):
            if p.name != f"lexical-{keep}":
                shutil.rmtree(p, ignore_errors=True)
        for p in self.dir.glob(".lexical-*"):
            shutil.rmtree(p, ignore_errors=True)


class ServerSnapshots(Snapshots):
    """Snapshots a server's readers build for themselves from its committed chunks."""

    def __init__(self, store: Store):
        self.store = store

    def publish(self, generation: int) -> None:
        pass  # committing the manifest is enough: readers build BM25 from the chunks it names

    def load(self, state: State) -> LexicalIndex:
        # Only chunks of committed files: a sync in progress elsewhere may have stored more.
        owned = sorted(i for e in state.files.values() for i in e.chunks)
        return LexicalIndex.build(sorted(self.store.chunks(owned), key=lambda c: (c.path, c.start)))

    def dense_view(self, state: State, lexical: LexicalIndex) -> CommittedView:
        self.store.collection  # noqa: B018 - opened now, not by the first questions at once
        return CommittedView(self.store, lexical)

    def prune(self, keep: int) -> None:
        pass  # nothing is saved
