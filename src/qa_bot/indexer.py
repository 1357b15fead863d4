"""The write side of an index (`Index`, as simonw/llm's `Collection`): sync it with files on disk
(embed what changed, drop what is gone, skip the rest), forget folders, watch them, say how it drifted."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from . import watch as watcher
from .chunking import LAYOUT, Splitter, chunk_document, make_splitter
from .embeddings import Encoder, make_encoder
from .errors import InputError
from .ingest import IngestError, Skipped, discover, file_hash, load, under
from .lock import writer
from .manifest import FileEntry, SkipEntry, State
from .schema import Chunk
from .settings import Settings
from .status import Status, inspect
from .storage import Storage

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_total: int = 0
    rebuilt: bool = False  # settings changed, so every file was embedded again

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True, slots=True)
class Step:
    """How far a sync is: files read (extracted and chunked), then chunks embedded."""

    stage: str  # "reading" (unit: files) or "embedding" (unit: chunks)
    done: int
    total: int
    current: str = ""  # the file being read


Progress = Callable[[Step], None]


def read_chunks(path: Path, data: bytes, splitter: Splitter) -> list[Chunk]:
    """The chunks of one file's bytes; any failure is an IngestError of one line.

    Parsers fail on malformed files in ways no list of exception types foresees (pypdf raises
    AssertionError, AttributeError, NotImplementedError...): one bad file must never stop a sync.
    """
    try:
        return chunk_document(load(path, data), splitter)
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001 - see above; the reason names the error
        detail = " ".join(str(exc).split())[:200]
        raise IngestError(f"cannot extract text ({type(exc).__name__}{': ' + detail if detail else ''})") from None


class Index:
    """One index's write side: its settings, storage and encoder, held once. `sync` and `forget`
    change it, one writer at a time (lock.py); `watch` keeps it in step with folders; `status`
    says how it drifted from them; `roots` is what they all look at when given no paths."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None):
        self.settings = settings
        self.storage = Storage.open(settings)
        if encoder is not None:  # one model in memory, shared with answer services or other indexes
            self.encoder = encoder

    @cached_property
    def encoder(self) -> Encoder:
        """Made on first use (`forget` needs none); its model loads on its first text."""
        return make_encoder(self.settings)

    @property
    def fingerprint(self) -> dict:
        """What must match for old vectors and chunks to be reused."""
        return {
            "model": self.encoder.name,
            "chunk_tokens": self.settings.chunk_tokens,
            "layout": LAYOUT,
        }

    @property
    def roots(self) -> list[Path]:
        """What `index`, `watch` and `status` look at when given no paths: the folders this index was
        built from that are still on disk; seeds/ when there is no index yet."""
        if not self.storage.manifest.exists():
            return [Path("seeds")]
        return [Path(r) for r in self.storage.manifest.load().roots if Path(r).exists()]

    def targets(self, paths: Sequence[Path] = ()) -> list[Path]:
        """`paths`, else `roots`, for a sync or a watch; one clear line instead when every folder
        the index was built from is gone."""
        if paths:
            return list(paths)
        roots = self.roots
        if not roots:
            recorded = self.storage.manifest.load().roots
            raise InputError(f"none of the folders indexed in {self.storage.location} exists any more "
                             f"({', '.join(recorded) or 'none recorded'}): give PATHS, or `qa-bot forget` the old ones")
        return roots

    def sync(self, paths: Sequence[Path], on_progress: Progress | None = None,
             on_wait: Callable[[str], None] = log.warning) -> SyncReport:
        """Make the index reflect `paths`. Files indexed from elsewhere stay unless they are gone.

        One sync writes an index at a time: this one waits up to `settings.index_lock_wait` for
        another to finish (saying so once through `on_wait`), then fails with IndexBusy."""
        paths = list(paths)
        found = self._discover(paths)  # before the lock: a refused path writes nothing
        with writer(self.storage, self.settings.index_lock_wait, on_wait) as waited:
            if waited:  # the folders may have changed meanwhile
                found = self._discover(paths)
            files, skipped = found
            report = SyncReport(skipped=skipped)
            roots = [p.resolve() for p in paths]
            state = self._start(roots, report)
            changed = self._read_changed(files, roots, state, report, on_progress)
            report.chunks_embedded = self._embed_and_commit(changed, state, report, on_progress)
            self._drop_gone(files, roots, state, report)
            report.chunks_total = self._publish(state)
            return report

    def _discover(self, paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
        return discover(paths, allow_outside=self.settings.allow_outside_paths, ignore=self.storage.dir)

    def _start(self, roots: list[Path], report: SyncReport) -> State:
        """The manifest, `roots` added to the folders it records (see `Index.roots`); emptied, and the
        vectors dropped, when they were made with other settings (`fingerprint`)."""
        state = self.storage.manifest.load()
        state.roots = sorted(set(state.roots) | {str(r) for r in roots})
        fp = self.fingerprint
        if state.fingerprint != fp:
            if state.files or self.storage.store.count():
                self.storage.store.reset()
                report.rebuilt = True
            state.files, state.fingerprint = {}, fp
            state.generation += 1
        return state

    def _read_changed(self, files: list[Path], roots: list[Path], state: State, report: SyncReport,
                      on_progress: Progress | None) -> list[_Changed]:
        """Read (extract and chunk) the files whose bytes changed since indexed; remember why files
        were skipped, so `status` tells skips from drift."""
        changed: list[_Changed] = []
        splitter = make_splitter(self.encoder.count_tokens, self.settings.chunk_tokens)
        state.skipped = {k: e for k, e in state.skipped.items() if not under(k, roots)}
        for n, path in enumerate(files):
            if on_progress:
                on_progress(Step("reading", n, len(files), path.name))
            key = str(path)
            old = state.files.get(key)
            try:
                data = path.read_bytes()
                digest = file_hash(data)
                if old is not None and old.hash == digest:
                    report.unchanged.append(key)
                    continue
                changed.append(_Changed(key, digest, read_chunks(path, data, splitter), old is None))
            except (OSError, IngestError) as exc:
                reason = f"cannot read ({exc.strerror or exc})" if isinstance(exc, OSError) else str(exc)
                state.skipped[key] = SkipEntry(None if isinstance(exc, OSError) else digest, reason)
                kept = "; previous version kept in the index" if old else ""
                report.skipped.append(Skipped(key, f"{reason}{kept}"))
        if on_progress:
            on_progress(Step("reading", len(files), len(files)))
        return changed

    def _embed_and_commit(self, changed: list[_Changed], state: State, report: SyncReport,
                          on_progress: Progress | None) -> int:
        """Embed and store the chunks read, committing each file once all its chunks are in.
        Returns how many chunks were stored."""
        if not changed:
            return 0
        pending = [c for file in changed for c in file.chunks]
        advance = _EmbedProgress(on_progress, len(pending)) if on_progress else None
        if advance and pending:
            advance(0)
        # Big commit batches let the encoder sort more texts by length (less padding);
        # each commit is a point a killed run resumes from.
        batch = max(self.settings.embed_batch_size * 32, 64)
        parts = [pending[i : i + batch] for i in range(0, len(pending), batch)] or [[]]
        commits = _Commits(self.storage, state, report, changed)
        # Batch i is written on one writer thread (in order) while batch i+1 is embedded: onnxruntime
        # releases the GIL, so the store's work overlaps the model's instead of following it.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-bot-store") as pool:
            writing = None
            for part in parts:
                vectors = self.encoder.encode([c.indexed_text for c in part], on_batch=advance)
                if writing is not None:
                    writing.result()  # the writer's error stops the run; one batch in flight at most
                writing = pool.submit(commits.write, part, vectors)
            writing.result()
        return commits.stored

    def _drop_gone(self, files: list[Path], roots: list[Path], state: State, report: SyncReport) -> None:
        """Forget files that are gone from disk or from the folders given; a file that could not
        be read, or lies in a folder that could not be listed, keeps its previous version."""
        present = {str(p) for p in files}
        kept = [Path(s.path) for s in report.skipped]
        for key in list(state.files):
            if under(key, kept):
                continue
            if (under(key, roots) and key not in present) or not os.path.exists(key):
                self.storage.store.delete(state.files.pop(key).chunks)
                report.removed.append(key)
                state.generation += 1

    def forget(self, paths: Sequence[Path], on_wait: Callable[[str], None] = log.warning) -> SyncReport:
        """Drop folders (or files) given to `sync` from the index: their documents, and the folders
        from `roots`. Takes the writer lock as `sync` does."""
        with writer(self.storage, self.settings.index_lock_wait, on_wait):
            report = SyncReport()
            state = self.storage.manifest.load()
            targets = [p.absolute().resolve() for p in paths]
            for target in targets:
                inside = [r for r in state.roots if target != Path(r) and target.is_relative_to(r)]
                if inside:
                    raise InputError(f"{target} lies inside the indexed folder {inside[0]}, whose next sync would "
                                     "add it back; forget that folder, or hide this one (a name starting with '.')")
                if not any(under(k, [target]) for k in [*state.roots, *state.files]):
                    raise InputError(f"{target}: not in the index (its folders: {', '.join(state.roots) or 'none'})")
            for key in [k for k in state.files if under(k, targets)]:
                self.storage.store.delete(state.files.pop(key).chunks)
                report.removed.append(key)
            state.roots = [r for r in state.roots if not under(r, targets)]
            state.skipped = {k: e for k, e in state.skipped.items() if not under(k, targets)}
            state.generation += 1
            report.chunks_total = self._publish(state)
            return report

    def _publish(self, state: State) -> int:
        """End a change: drop chunks no file owns (left by a killed run), rebuild BM25 to follow the
        vectors, save the state: readers answer from it now. Returns the number of chunks in the index."""
        owned = {i for e in state.files.values() for i in e.chunks}
        orphans = sorted(self.storage.store.all_ids() - owned)
        if orphans:
            self.storage.store.delete(orphans)
            state.generation += 1
        if self.storage.snapshots.needs_snapshot(state):
            self.storage.snapshots.publish(state.generation)
            state.lexical_generation = state.generation
        state.last_sync = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.storage.manifest.save(state)
        self.storage.snapshots.prune(state.lexical_generation)
        return len(owned)

    def watch(self, paths: list[Path], on_sync: Callable[[SyncReport], None],
              stop: threading.Event | None = None) -> None:
        """Sync `paths` now, then after every burst of relevant changes, until `stop` is set (or Ctrl-C);
        see watch.py."""
        watcher.watch(self, paths, on_sync, stop)

    def watch_in_thread(self, paths: list[Path],
                        on_sync: Callable[[SyncReport], None]) -> tuple[threading.Thread, threading.Event]:
        """`watch` beside another loop (the Discord bot); set the event to stop it."""
        return watcher.start_in_thread(self, paths, on_sync)

    def status(self, paths: Sequence[Path] = ()) -> Status:
        """What the index holds and how it drifted from `paths` (default: `roots`); see status.py."""
        return inspect(self, list(paths) or self.roots)


@dataclass(frozen=True, slots=True)
class _Changed:
    """A file read because its bytes are not the indexed ones."""

    key: str  # its path, as the manifest keys it
    digest: str  # of the bytes read
    chunks: list[Chunk]
    new: bool  # not in the index before


@dataclass(slots=True)
class _EmbedProgress:
    """Tells `on_progress` how many chunks are embedded; the encoder calls it after each model call."""

    on_progress: Progress
    total: int
    done: int = 0

    def __call__(self, n: int) -> None:
        self.done += n
        self.on_progress(Step("embedding", self.done, self.total))


class _Commits:
    """Stores embedded batches in order, and commits each file (its manifest entry, saved) once all
    its chunks are stored: each commit is a point a killed run resumes from."""

    def __init__(self, storage: Storage, state: State, report: SyncReport, files: list[_Changed]):
        self.storage, self.state, self.report = storage, state, report
        self.waiting = deque(files)  # not yet committed, in the order of their chunks
        self.stored = 0  # chunks stored
        self.committed = 0  # chunks of the files committed

    def write(self, part: list[Chunk], vectors: np.ndarray) -> None:
        """Store one batch, then commit the files whose chunks are now all stored."""
        if part:
            self.storage.store.upsert(part, vectors)
            self.stored += len(part)
        while self.waiting and self.committed + len(self.waiting[0].chunks) <= self.stored:
            file = self.waiting.popleft()
            new_ids = [c.id for c in file.chunks]
            old = self.state.files.get(file.key)
            self.state.files[file.key] = FileEntry(file.digest, new_ids)
            if old:
                self.storage.store.delete(sorted(set(old.chunks) - set(new_ids)))
            (self.report.added if file.new else self.report.updated).append(file.key)
            self.committed += len(file.chunks)
        self.state.generation += 1
        self.storage.manifest.save(self.state)
