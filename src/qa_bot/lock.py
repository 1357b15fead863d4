"""One writer per index: two syncs into one index at once would each commit a manifest without
the other's files. Embedded: an OS file lock (`filelock`) beside the store, released by the OS
if its holder dies. Server mode: a lease record on the Chroma server, renewed while held and
taken over once it expires (a holder killed mid-sync). Readers never take either.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from .errors import StoreError
from .manifest import FileManifest
from .storage import Storage

LEASE_TTL = 60.0  # seconds a lease outlives its last renewal
SETTLE = 0.5  # seconds between claiming a lease and checking the claim held (see _lease)
POLL = 0.5  # seconds between looks at a busy lease


class IndexBusy(StoreError):
    """Another sync held the index for longer than we were allowed to wait."""


def _me() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname()}


def _who(owner: dict | None) -> str:
    if not owner:
        return "owner unknown"
    return f"pid {owner.get('pid')}" + (f" on {owner.get('host')}" if owner.get("host") != socket.gethostname() else "")


@contextmanager
def writer(storage: Storage, wait_s: float, notify: Callable[[str], None]) -> Iterator[bool]:
    """Hold the index's writer lock for the `with` body; wait up to `wait_s` for it, telling
    `notify` once that we wait, then fail with IndexBusy. Yields whether we waited."""
    waited = []

    def tell(line: str) -> None:
        waited.append(line)
        notify(line)

    hold = _file_lock if isinstance(storage.manifest, FileManifest) else _lease
    with hold(storage, wait_s, tell):
        yield bool(waited)


def _waiting(storage: Storage, owner: dict | None) -> str:
    return f"waiting for another qa-bot index run on {storage.location} ({_who(owner)})..."


def _busy(storage: Storage, owner: dict | None, wait_s: float) -> IndexBusy:
    return IndexBusy(f"{storage.location}: another qa-bot index run ({_who(owner)}) is writing it; "
                     f"gave up after {wait_s:g} s (QA_BOT_INDEX_LOCK_WAIT)")


@contextmanager
def _file_lock(storage: Storage, wait_s: float, notify: Callable[[str], None]) -> Iterator[None]:
    from filelock import FileLock, Timeout

    path = storage.manifest.lock_file()
    lock = FileLock(path)
    note = path.with_suffix(".json")  # who holds it, for the waiting message only
    try:
        lock.acquire(timeout=0)
    except Timeout:
        owner = _holder_note(note)
        if wait_s <= 0:
            raise _busy(storage, owner, wait_s) from None
        notify(_waiting(storage, owner))
        try:
            lock.acquire(timeout=wait_s)
        except Timeout:
            raise _busy(storage, _read_note(note) or owner, wait_s) from None
    except OSError as exc:  # after Timeout, its subclass: e.g. a read-only folder, which no sync could write
        raise StoreError(f"{path}: {exc.strerror or exc}") from None
    try:
        with suppress(OSError):  # a full disk: the sync itself will say so
            note.write_text(json.dumps(_me()))
        yield
    finally:
        with suppress(OSError):  # while the lock is held, so no later holder's note goes
            note.unlink()
        lock.release()


def _read_note(note) -> dict | None:
    try:
        return json.loads(note.read_text())
    except (OSError, ValueError):
        return None


def _holder_note(note, patience: float = 1.0) -> dict | None:
    """The holder's note; it writes it just after taking the lock, so allow it a moment."""
    deadline = time.monotonic() + patience
    while (owner := _read_note(note)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return owner


@contextmanager
def _lease(storage: Storage, wait_s: float, notify: Callable[[str], None]) -> Iterator[None]:
    """Chroma has no compare-and-swap, but `add` of an existing id is ignored, so of racing
    claims the first stored wins; re-reading after SETTLE lets every other claimant see it lost
    (and catches a racing takeover that deleted our fresh claim)."""
    records = storage.manifest  # the lease is a record beside the manifest's
    me = {**_me(), "owner": uuid.uuid4().hex}
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        held = records.lease()
        if held is not None and held["expires"] < time.time():  # its holder stopped renewing
            records.drop_lease(held["owner"])
            held = None
        if held is None:
            records.claim_lease({**me, "expires": time.time() + LEASE_TTL})
            time.sleep(SETTLE)
            held = records.lease()
            if held is not None and held["owner"] == me["owner"]:
                break
        if time.monotonic() >= deadline:
            raise _busy(storage, held, wait_s)
        if not told:
            notify(_waiting(storage, held))
            told = True
        time.sleep(min(POLL, max(deadline - time.monotonic(), 0.0)))

    done = threading.Event()

    def renew() -> None:
        while not done.wait(LEASE_TTL / 3):
            try:
                records.renew_lease({**me, "expires": time.time() + LEASE_TTL})
            except StoreError:  # the server is away: the sync's own requests will say so
                pass

    renewer = threading.Thread(target=renew, name="qa-bot-lease", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()
        try:
            records.drop_lease(me["owner"])
        except StoreError:  # the server is away: the lease expires by itself
            pass
