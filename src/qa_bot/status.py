"""`qa-bot status`: what the index holds and how it drifted from the folders it was built from."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .embeddings import Encoder
from .indexer import fingerprint
from .ingest import discover, file_hash
from .settings import Settings
from .store import Store


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

    @property
    def drift(self) -> bool:
        return bool(self.not_indexed or self.changed or self.gone or self.orphan_chunks
                    or self.stale_chunks or self.settings_change)

    def to_dict(self) -> dict:
        return {**asdict(self), "drift": self.drift}


def inspect(settings: Settings, encoder: Encoder, store: Store, paths: list[Path] | None = None) -> Status:
    """Compare the index with `paths` (default: the folders it was built from that still exist)."""
    state = store.load_state()
    stored = store.chunks()
    per_file = Counter(c.path for c in stored)
    roots = [Path(r) for r in state.roots if Path(r).exists()] if paths is None else paths
    on_disk, _ = discover(roots, allow_outside=settings.allow_outside_paths)
    owned = {i for e in state.files.values() for i in e.chunks}
    status = Status(
        location=store.location,
        model=state.fingerprint.get("model"),
        chunk_tokens=state.fingerprint.get("chunk_tokens"),
        documents=len(state.files),
        chunks=len(stored),
        last_sync=state.last_sync,
        roots=[str(r) for r in roots],
        chunks_per_file=dict(sorted(per_file.items())),
        not_indexed=sorted(str(p) for p in on_disk if str(p) not in state.files),
        gone=sorted(p for p in state.files if not Path(p).is_file()),
        orphan_chunks=sum(1 for c in stored if c.id not in owned),
        stale_chunks=sum(n for p, n in per_file.items() if not Path(p).is_file()),
    )
    for key, entry in sorted(state.files.items()):
        try:
            if file_hash(Path(key).read_bytes()) != entry.hash:
                status.changed.append(key)
        except OSError:  # gone (listed above) or unreadable: the next sync reports why
            pass
    wanted = fingerprint(settings, encoder)
    if state.fingerprint and state.fingerprint != wanted:
        diffs = [f"{k} {state.fingerprint.get(k)} -> {v}" for k, v in wanted.items() if state.fingerprint.get(k) != v]
        status.settings_change = ", ".join(diffs)
    return status


def render(status: Status) -> str:
    model, _, backend = (status.model or "none/none").partition("/")
    lines = [
        f"index:      {status.location}",
        f"model:      {model} (backend {backend}), {status.chunk_tokens}-token chunks",
        f"documents:  {status.documents} ({status.chunks} chunks)",
        f"last sync:  {status.last_sync or 'never'}",
        f"folders:    {', '.join(status.roots) or 'none recorded'}",
    ]
    problems = [
        (f"not indexed ({len(status.not_indexed)})", status.not_indexed),
        (f"changed since indexed ({len(status.changed)})", status.changed),
        (f"gone from disk ({len(status.gone)})", status.gone),
    ]
    drift = [f"  {title}: {', '.join(items)}" for title, items in problems if items]
    if status.orphan_chunks:
        drift.append(f"  chunks no indexed file owns: {status.orphan_chunks}")
    if status.stale_chunks:
        drift.append(f"  chunks whose file is gone: {status.stale_chunks}")
    if status.settings_change:
        drift.append(f"  settings changed ({status.settings_change}): the next sync rebuilds everything")
    if drift:
        lines += ["drift:", *drift, "run `qa-bot status --fix` to reconcile"]
    else:
        lines.append("drift:      none")
    lines.append("chunks per file:")
    lines += [f"  {n:6d}  {p}" for p, n in status.chunks_per_file.items()]
    return "\n".join(lines)
