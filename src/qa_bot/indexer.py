"""Sync the index with files on disk: embed what changed, drop what is gone, skip the rest."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .chunking import LAYOUT, Splitter, chunk_document, make_splitter
from .embeddings import Encoder
from .errors import InputError
from .ingest import IngestError, Skipped, discover, file_hash, load
from .lock import writer
from .manifest import FileEntry, SkipEntry, State
from .schema import Chunk
from .settings import Settings
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


def fingerprint(settings: Settings, encoder: Encoder) -> dict:
    """What must match for old vectors and chunks to be reused."""
    return {
        "model": encoder.name,
        "chunk_tokens": settings.chunk_tokens,
        "layout": LAYOUT,
    }


def sync(
    paths: list[Path],
    settings: Settings,
    encoder: Encoder,
    storage: Storage,
    on_progress: Progress | None = None,
    on_wait: Callable[[str], None] = log.warning,
) -> SyncReport:
    """Make the index reflect `paths`. Files indexed from elsewhere stay unless they are gone.

    One sync writes an index at a time: this one waits up to `settings.index_lock_wait` for
    another to finish (saying so once through `on_wait`), then fails with IndexBusy."""
    def find() -> tuple[list[Path], list[Skipped]]:
        return discover(paths, allow_outside=settings.allow_outside_paths, ignore=storage.dir)

    found = find()  # before the lock: a refused path writes nothing
    with writer(storage, settings.index_lock_wait, on_wait) as waited:
        if waited:  # the folders may have changed meanwhile
            found = find()
        return _sync(paths, found, settings, encoder, storage, on_progress)


def _sync(paths: list[Path], found: tuple[list[Path], list[Skipped]], settings: Settings, encoder: Encoder,
          storage: Storage, on_progress: Progress | None) -> SyncReport:
    report = SyncReport()
    files, report.skipped = found
    roots = [p.resolve() for p in paths]
    state = storage.manifest.load()
    state.roots = sorted(set(state.roots) | {str(r) for r in roots})  # what watch/status default to

    fp = fingerprint(settings, encoder)
    if state.fingerprint != fp:
        if state.files or storage.store.count():
            storage.store.reset()
            report.rebuilt = True
        state.files, state.fingerprint = {}, fp
        state.generation += 1

    # 1. Read what changed; remember why files were skipped, so `status` tells skips from drift.
    todo: list[tuple[str, str, list[Chunk], bool]] = []  # (path, hash, chunks, is_new)
    splitter = make_splitter(encoder.count_tokens, settings.chunk_tokens)
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
            todo.append((key, digest, read_chunks(path, data, splitter), old is None))
        except (OSError, IngestError) as exc:
            reason = f"cannot read ({exc.strerror or exc})" if isinstance(exc, OSError) else str(exc)
            state.skipped[key] = SkipEntry(None if isinstance(exc, OSError) else digest, reason)
            kept = "; previous version kept in the index" if old else ""
            report.skipped.append(Skipped(key, f"{reason}{kept}"))
    if on_progress:
        on_progress(Step("reading", len(files), len(files)))

    # 2. Embed and store, committing each file once all its chunks are in.
    pending = [c for _, _, chunks, _ in todo for c in chunks]
    embedded = 0

    def advance(n: int) -> None:
        nonlocal embedded
        embedded += n
        on_progress(Step("embedding", embedded, len(pending)))

    if on_progress and pending:
        on_progress(Step("embedding", 0, len(pending)))
    # Big commit batches let the encoder sort more texts by length (less padding);
    # each commit is a point a killed run resumes from.
    batch = max(settings.embed_batch_size * 32, 64)
    file_iter = iter(todo)
    next_file = next(file_iter, None)
    stored = done_upto = 0

    def write(part: list[Chunk], vectors) -> None:
        """Store one batch, then commit the files whose chunks are now all stored."""
        nonlocal stored, done_upto, next_file
        if part:
            storage.store.upsert(part, vectors)
            stored += len(part)
        while next_file is not None and done_upto + len(next_file[2]) <= stored:
            key, digest, chunks, is_new = next_file
            new_ids = [c.id for c in chunks]
            old = state.files.get(key)
            state.files[key] = FileEntry(digest, new_ids)
            if old:
                storage.store.delete(sorted(set(old.chunks) - set(new_ids)))
            (report.added if is_new else report.updated).append(key)
            done_upto += len(chunks)
            next_file = next(file_iter, None)
        state.generation += 1
        storage.manifest.save(state)

    # Batch i is written on one writer thread (in order) while batch i+1 is embedded: onnxruntime
    # releases the GIL, so the store's work overlaps the model's instead of following it.
    if todo:
        parts = [pending[i : i + batch] for i in range(0, len(pending), batch)] or [[]]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-bot-store") as writer:
            writing = None
            for part in parts:
                vectors = encoder.encode([c.indexed_text for c in part], on_batch=advance if on_progress else None)
                if writing is not None:
                    writing.result()  # the writer's error stops the run; one batch in flight at most
                writing = writer.submit(write, part, vectors)
            writing.result()
    report.chunks_embedded = stored

    # 3. Forget files that are gone from disk or from the folders given; a file that could not
    # be read, or lies in a folder that could not be listed, keeps its previous version.
    present = {str(p) for p in files}
    kept = [Path(s.path) for s in report.skipped]
    for key in list(state.files):
        if under(key, kept):
            continue
        if (under(key, roots) and key not in present) or not os.path.exists(key):
            storage.store.delete(state.files.pop(key).chunks)
            report.removed.append(key)
            state.generation += 1
    report.chunks_total = _commit(state, storage)
    return report


def forget(paths: list[Path], settings: Settings, storage: Storage,
           on_wait: Callable[[str], None] = log.warning) -> SyncReport:
    """Drop folders (or files) given to `sync` from the index: their documents, and the folders
    from the list that `index`, `watch` and `status` default to. Takes the writer lock as `sync` does."""
    with writer(storage, settings.index_lock_wait, on_wait):
        return _forget(paths, storage)


def _forget(paths: list[Path], storage: Storage) -> SyncReport:
    report = SyncReport()
    state = storage.manifest.load()
    targets = [p.absolute().resolve() for p in paths]
    for target in targets:
        inside = [r for r in state.roots if target != Path(r) and target.is_relative_to(r)]
        if inside:
            raise InputError(f"{target} lies inside the indexed folder {inside[0]}, whose next sync would add it "
                             "back; forget that folder, or hide this one (a name starting with '.')")
        if not any(under(k, [target]) for k in [*state.roots, *state.files]):
            raise InputError(f"{target}: not in the index (its folders: {', '.join(state.roots) or 'none'})")
    for key in [k for k in state.files if under(k, targets)]:
        storage.store.delete(state.files.pop(key).chunks)
        report.removed.append(key)
    state.roots = [r for r in state.roots if not under(r, targets)]
    state.skipped = {k: e for k, e in state.skipped.items() if not under(k, targets)}
    state.generation += 1
    report.chunks_total = _commit(state, storage)
    return report


def _commit(state: State, storage: Storage) -> int:
    """End a change: drop chunks no file owns (left by a killed run), rebuild BM25 to follow the
    vectors, save the state. Returns the number of chunks in the index."""
    owned = {i for e in state.files.values() for i in e.chunks}
    orphans = sorted(storage.store.all_ids() - owned)
    if orphans:
        storage.store.delete(orphans)
        state.generation += 1
    if storage.snapshots.needs_snapshot(state):
        storage.snapshots.publish(state.generation)
        state.lexical_generation = state.generation
    state.last_sync = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    storage.manifest.save(state)
    storage.snapshots.prune(state.lexical_generation)
    return len(owned)


def under(key: str, folders: list[Path]) -> bool:
    """Whether the path `key` is one of `folders` or lies below one."""
    return any(Path(key).is_relative_to(f) for f in folders)
