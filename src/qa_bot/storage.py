"""The persisted index, opened once in one mode: its manifest, vector store and snapshots.

Layout under the index folder (embedded, the default):
- ``chroma/``: Chroma's embedded store (one collection, cosine space, our vectors only; store.py).
- ``lexical-<generation>/``: BM25, the chunk table and its vectors (``vectors.npy``), rebuilt
  after every change (snapshots.py). Questions read only this snapshot and ``state.json``:
  answering never opens Chroma (whose client costs a second to import and start, and opens its
  database for writing).
- ``state.json``: the manifest (file -> hash and chunk ids), settings fingerprint, and which
  lexical folder is current (manifest.py). It is replaced atomically and is the commit point of a
  sync: whatever a kill leaves in Chroma beyond it is reconciled on the next sync.

Server mode (``chroma_url`` set): the chunks live in the collection ``<name>-chunks`` on the
Chroma server and the manifest in the one record of ``<name>-state`` (``<name>`` is the index
folder's name), so every bot process sharing the server sees the same commits. Nothing is
written locally: each process builds its BM25 in memory from the server's committed chunks
when the generation changes (see docs/operations.md).
"""

from __future__ import annotations

import re
from pathlib import Path

from .manifest import ChromaManifest, FileManifest, Manifest
from .snapshots import SavedSnapshots, ServerSnapshots, Snapshots
from .store import COLLECTION, ChromaServer, EmbeddedChroma, Store


class Storage:
    """One index, embedded under `index_dir` or on the Chroma server at `chroma_url`; knows
    nothing of files or questions."""

    manifest: Manifest
    store: Store
    snapshots: Snapshots
    location: str  # where the index is, as messages name it

    def __init__(self, index_dir: Path, chroma_url: str | None = None):
        self.dir = Path(index_dir)
        if chroma_url is None:
            self.location = str(self.dir)
            self.manifest = FileManifest(self.dir)
            self.store = Store(EmbeddedChroma(self.dir), COLLECTION)
            self.snapshots = SavedSnapshots(self.dir, self.store)
        else:
            server = ChromaServer(chroma_url)
            name = _server_name(self.dir)
            self.location = f"{server.server} (collections {name}-chunks, {name}-state)"
            self.manifest = ChromaManifest(server, f"{name}-state", self.location)
            self.store = Store(server, f"{name}-chunks")
            self.snapshots = ServerSnapshots(self.store)

    @classmethod
    def open(cls, settings, index_dir: Path | None = None) -> Storage:
        return cls(index_dir or settings.index_dir, settings.chroma_url)


def _server_name(index_dir: Path) -> str:
    """The index's name on a server: the folder's name as a valid collection name."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", index_dir.resolve().name).strip("._-") or "index"
