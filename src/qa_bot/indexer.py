"""Sync the index with files on disk: embed what changed, drop what is gone, skip the rest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .chunking import LAYOUT, chunk_document, make_splitter
from .embeddings import Encoder
from .ingest import IngestError, Skipped, discover, file_hash, load
from .lexical import LexicalIndex
from .schema import Chunk
from .settings import Settings
from .store import FileEntry, Store


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


# on_progress(event, amount): ("total", chunks to embed) once, then ("advance", n) per batch.
Progress = Callable[[str, int], None]


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
    store: Store,
    on_progress: Progress | None = None,
) -> SyncReport:
    """Make the index reflect `paths`. Files indexed from elsewhere stay unless they are gone."""
    report = SyncReport()
    files, report.skipped = discover(paths, allow_outside=settings.allow_outside_paths)
    roots = [p.resolve() for p in paths]
    state = store.load_state()
    state.roots = sorted(set(state.roots) | {str(r) for r in roots})  # what watch/status default to

    fp = fingerprint(settings, encoder)
    if state.fingerprint != fp:
        if state.files or store.count():
            store.reset_vectors()
            report.rebuilt = True
        state.files, state.fingerprint = {}, fp
        state.generation += 1

    # 1. Read what changed.
    todo: list[tuple[str, str, list[Chunk], bool]] = []  # (path, hash, chunks, is_new)
    splitter = make_splitter(encoder.count_tokens, settings.chunk_tokens)
    for path in files:
        key = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            report.skipped.append(Skipped(key, f"cannot read ({exc.strerror or exc})"))
            continue
        old = state.files.get(key)
        if old is not None and old.hash == file_hash(data):
            report.unchanged.append(key)
            continue
        try:
            doc = load(path, data)
        except IngestError as exc:
            kept = "; previous version kept in the index" if old else ""
            report.skipped.append(Skipped(key, f"{exc}{kept}"))
            continue
        todo.append((key, doc.file_hash, chunk_document(doc, splitter), old is None))

    # 2. Embed and store, committing each file once all its chunks are in.
    pending = [c for _, _, chunks, _ in todo for c in chunks]
    if on_progress:
        on_progress("total", len(pending))
    advance = (lambda n: on_progress("advance", n)) if on_progress else None
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
            store.upsert(part, vectors)
            stored += len(part)
        while next_file is not None and done_upto + len(next_file[2]) <= stored:
            key, digest, chunks, is_new = next_file
            new_ids = [c.id for c in chunks]
            old = state.files.get(key)
            state.files[key] = FileEntry(digest, new_ids)
            if old:
                store.delete(sorted(set(old.chunks) - set(new_ids)))
            (report.added if is_new else report.updated).append(key)
            done_upto += len(chunks)
            next_file = next(file_iter, None)
        state.generation += 1
        store.save_state(state)

    # Batch i is written on one writer thread (in order) while batch i+1 is embedded: onnxruntime
    # releases the GIL, so the store's work overlaps the model's instead of following it.
    if todo:
        parts = [pending[i : i + batch] for i in range(0, len(pending), batch)] or [[]]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-bot-store") as writer:
            writing = None
            for part in parts:
                vectors = encoder.encode([c.indexed_text for c in part], on_batch=advance)
                if writing is not None:
                    writing.result()  # the writer's error stops the run; one batch in flight at most
                writing = writer.submit(write, part, vectors)
            writing.result()
    report.chunks_embedded = stored

    # 3. Forget files that are gone from disk or from the folders given.
    present = {str(p) for p in files}
    for key in list(state.files):
        under_root = any(Path(key).is_relative_to(r) for r in roots)
        if (under_root and key not in present and not _kept_skip(key, report)) or not Path(key).exists():
            store.delete(state.files.pop(key).chunks)
            report.removed.append(key)
            state.generation += 1

    # 4. Chunks no file owns (left by a killed run) go; BM25 follows the vectors.
    owned = {i for e in state.files.values() for i in e.chunks}
    orphans = sorted(store.all_ids() - owned)
    if orphans:
        store.delete(orphans)
        state.generation += 1
    if state.lexical_generation != state.generation:
        if store.keeps_lexical:  # a server's readers build their BM25 from the committed chunks
            store.save_lexical(LexicalIndex.build(store.chunks()), state.generation)
        state.lexical_generation = state.generation
    state.last_sync = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    store.save_state(state)
    store.prune_lexical(state.lexical_generation)
    report.chunks_total = len(owned)
    return report


def _kept_skip(key: str, report: SyncReport) -> bool:
    return any(s.path == key for s in report.skipped)
