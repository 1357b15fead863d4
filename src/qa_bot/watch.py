"""Live sync: keep the index in step with folders as files are created, edited, renamed, deleted.

Each burst of file events (gathered for up to `watch_debounce_ms`) triggers one ordinary
incremental `sync` of the watched roots: unchanged files are only hashed, changed ones
re-embedded, deleted or renamed-away ones dropped. Answer services in any process pick
the new commit up before their next question (QAService checks the manifest's version).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import QABotError
from .ingest import SUPPORTED

if TYPE_CHECKING:  # indexer.py builds `Index.watch` on this module
    from .indexer import Index, SyncReport

log = logging.getLogger(__name__)


def relevant(path: Path, roots: list[Path], index_dir: Path) -> bool:
    """Whether a change at `path` can matter to the index (what `discover` would look at)."""
    if path.is_relative_to(index_dir):  # our own writes must not trigger syncs
        return False
    for root in roots:
        if path == root or path.is_relative_to(root):
            inside = path.relative_to(root).parts if path != root else ()
            if any(part.startswith(".") for part in inside):
                return False
            # No suffix: most likely a folder (renamed or deleted folders report only themselves).
            return path.suffix.lower() in SUPPORTED or not path.suffix
    return False


def watch(
    index: Index,
    paths: list[Path],
    on_sync: Callable[[SyncReport], None],
    stop: threading.Event | None = None,
) -> None:
    """Sync `paths` into `index` now, then after every burst of relevant changes, until `stop` is set (or Ctrl-C).

    A failed sync (a file vanishing mid-read, the Chroma server down) is logged and retried at
    the next change. If anything else fails (the notifier, or `on_sync` reporting a sync), the
    error and its traceback are logged and the watcher starts again after a pause (1 s, doubling up to a minute): it never stops
    silently while the bot that runs it goes on answering from an index no longer updated.
    """
    stop = stop or threading.Event()
    pause = 1.0
    while not stop.is_set():
        try:
            _watch_once(index, paths, on_sync, stop)
            return
        except Exception:  # noqa: BLE001 - whatever it was, say so loudly and watch again
            log.exception("the folder watcher failed; restarting it in %.0f s", pause)
            stop.wait(pause)
            pause = min(pause * 2, 60.0)


def _watch_once(index: Index, paths: list[Path], on_sync: Callable[[SyncReport], None],
                stop: threading.Event) -> None:
    import watchfiles

    roots = [p.resolve() for p in paths]
    index_dir = index.storage.dir.resolve()
    debounce_ms = index.settings.watch_debounce_ms

    def run() -> None:
        try:
            report = index.sync(paths)
        except (QABotError, OSError) as exc:
            log.error("sync failed, retrying at the next change: %s", exc)
        except Exception:  # noqa: BLE001 - an unforeseen bug: its traceback, and the next change retries
            log.exception("sync failed, retrying at the next change")
        else:
            on_sync(report)

    # The notifier must be armed before the first sync, or a file written while that sync runs
    # (minutes, on a large folder) would go unseen until some later change. watchfiles arms it
    # on the first next() and keeps events that arrive between calls; with yield_on_timeout
    # that first next() returns within rust_timeout even when nothing changes.
    changes = watchfiles.watch(
        *roots,
        watch_filter=lambda _change, path: relevant(Path(path), roots, index_dir),
        debounce=debounce_ms,
        step=min(300, debounce_ms),  # yield once the folder has been quiet this long
        rust_timeout=1000,
        yield_on_timeout=True,
        stop_event=stop,
        raise_interrupt=False,
    )
    synced = False
    for batch in changes:
        if batch or not synced:
            run()
            synced = True


def start_in_thread(index: Index, paths: list[Path],
                    on_sync: Callable[[SyncReport], None]) -> tuple[threading.Thread, threading.Event]:
    """The watcher beside another loop (the Discord bot); set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(index, paths, on_sync, stop),
                              name="qa-bot-watch", daemon=True)
    thread.start()
    return thread, stop
