"""`qa-bot status`: what the index holds and how it drifted from the folders it was built from."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .ingest import discover, file_hash, under
from .manifest import INCOMPLETE

if TYPE_CHECKING:  # indexer.py builds `Index.status` on this module
    from .indexer import Index

SHOWN = 5  # paths shown per list in the text report; --json has them all


@dataclass
class Status:
    location: str
    model: str | None  # as the index was built: "<model>/<backend>"
    chunk_tokens: int | None
    documents: int
    chunks: int
    last_sync: str | None
    roots: list[str]
    chunks_per_file: dict[str, int]  # as stored in Chroma, not as the manifest claims
    not_indexed: list[str] = field(default_factory=list)  # under the roots, never indexed
    changed: list[str] = field(default_factory=list)  # indexed, edited on disk since
    gone: list[str] = field(default_factory=list)  # indexed, no longer on disk
    orphan_chunks: int = 0  # chunks no indexed file owns (a killed sync)
    stale_chunks: int = 0  # chunks whose file is gone from disk
    settings_change: str | None = None  # why the next sync rebuilds everything
    unsearchable: list[str] = field(default_factory=list)  # committed, not yet searchable (a stopped sync)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> why it cannot be indexed (not drift)

    @property
    def drift(self) -> bool:
        return bool(self.not_indexed or self.changed or self.gone or self.orphan_chunks
                    or self.stale_chunks or self.settings_change or self.unsearchable)

    def to_dict(self) -> dict:
        return {**asdict(self), "drift": self.drift}


def inspect(index: Index, roots: list[Path]) -> Status:
    """Compare the index with the files and folders `roots`."""
    storage = index.storage
    state = storage.manifest.load()
    stored = storage.store.chunks()
    per_file = Counter(c.path for c in stored)
    on_disk, skips = discover(roots, allow_outside=index.settings.allow_outside_paths, ignore=storage.dir)
    unlisted = [Path(s.path) for s in skips]  # a folder that cannot be listed keeps its documents

    def there(key: str) -> bool:
        return os.path.isfile(key) or under(key, unlisted)

    owned = {i for e in state.files.values() for i in e.chunks}
    status = Status(
        location=storage.location,
        model=state.fingerprint.get("model"),
        chunk_tokens=state.fingerprint.get("chunk_tokens"),
        documents=len(state.files),
        chunks=len(stored),
        last_sync=state.last_sync,
        roots=[str(r) for r in roots],
        chunks_per_file=dict(sorted(per_file.items())),
        gone=sorted(p for p in state.files if not there(p)),
        orphan_chunks=sum(1 for c in stored if c.id not in owned),
        stale_chunks=sum(n for p, n in per_file.items() if not there(p)),
        # The BM25 snapshot is read only when a sync stopped (or runs) after commits it lacks.
        unsearchable=state.unsearchable(storage.snapshots.load(state))
        if state.lexical_generation != state.generation else [],
        skipped={s.path: s.reason for s in skips},
    )
    for key in sorted({str(p) for p in on_disk} | {p for p in state.files if os.path.isfile(p)}):
        entry = state.files.get(key)
        try:
            digest = file_hash(Path(key).read_bytes())
        except OSError as exc:  # indexed or not, the next sync skips it for this reason
            status.skipped[key] = f"cannot read ({exc.strerror or exc})"
            continue
        skip = state.skipped.get(key)
        if skip is not None and skip.hash in (None, digest):  # the last sync could not index these bytes
            status.skipped[key] = skip.reason + ("; previous version kept in the index" if entry else "")
        elif entry is None:
            status.not_indexed.append(key)
        elif entry.hash != digest:
            status.changed.append(key)
    status.skipped = dict(sorted(status.skipped.items()))
    wanted = index.fingerprint
    if state.fingerprint and state.fingerprint != wanted:
        diffs = [f"{k} {state.fingerprint.get(k)} -> {v}" for k, v in wanted.items() if state.fingerprint.get(k) != v]
        status.settings_change = ", ".join(diffs)
    return status


def _some(items: list[str], shown: int = SHOWN) -> list[str]:
    """The first few of a long list, then how many more."""
    more = [f"... and {len(items) - shown} more (`qa-bot status --json` lists all)"] if len(items) > shown else []
    return items[:shown] + more


def render(status: Status) -> str:
    model, _, backend = (status.model or "none/none").partition("/")
    lines = [
        f"index:      {status.location}",
        f"model:      {model} (backend {backend}), {status.chunk_tokens}-token chunks",
        f"documents:  {status.documents} ({status.chunks} chunks)",
        f"last sync:  {status.last_sync or 'never'}",
        f"folders:    {', '.join(status.roots) or 'none recorded'}",
    ]
    if status.unsearchable:
        lines.append(f"incomplete: {len(status.unsearchable)} of {status.documents} documents are not searchable yet: "
                     f"{INCOMPLETE}")
    problems = [
        (f"not indexed ({len(status.not_indexed)})", status.not_indexed),
        (f"changed since indexed ({len(status.changed)})", status.changed),
        (f"gone from disk ({len(status.gone)})", status.gone),
    ]
    drift = [f"  {title}: {', '.join(_some(items))}" for title, items in problems if items]
    if status.orphan_chunks:
        drift.append(f"  chunks no indexed file owns: {status.orphan_chunks}")
    if status.stale_chunks:
        drift.append(f"  chunks whose file is gone: {status.stale_chunks}")
    if status.settings_change:
        drift.append(f"  settings changed ({status.settings_change}): the next sync rebuilds everything")
    if drift:
        lines += ["drift:", *drift, "run `qa-bot status --fix` to reconcile"]
    else:
        lines.append("drift:      none" + (" (but the index is incomplete)" if status.unsearchable else ""))
    if status.skipped:
        reasons = Counter(reason.split(" (")[0].split(";")[0] for reason in status.skipped.values())
        summary = ", ".join(f"{n} {why}" for why, n in reasons.most_common())
        lines.append(f"skipped:    {len(status.skipped)} files that cannot be indexed, not drift ({summary})")
        lines += [f"  {line}" for line in _some([f"{p}: {why}" for p, why in status.skipped.items()])]
    lines.append(f"chunks per file ({len(status.chunks_per_file)} files):")
    lines += [f"  {line}" for line in _some([f"{n:6d}  {p}" for p, n in status.chunks_per_file.items()])]
    return "\n".join(lines)
