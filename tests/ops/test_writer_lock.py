"""One writer per index: two syncs at once, embedded (file lock) and on a Chroma server (lease)."""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qa_bot.indexer import Index
from qa_bot.lock import LEASE_TTL, IndexBusy, writer
from qa_bot.service import QAService
from qa_bot.storage import Storage
from tests.conftest import ROOT, make_settings
from tests.ops.conftest import index_name

FACTS = {
    "a": ["The ferry to Skellig leaves at nine.", "The mill pond freezes in January.",
          "Inspector Varga audits the granary."],
    "b": ["The glacier museum opens at ten.", "Captain Holt sails the red schooner.",
          "The bakery on Quay Street sells rye bread."],
}


def folders(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, facts in FACTS.items():
        folder = tmp_path / f"docs-{name}"
        folder.mkdir()
        for i, fact in enumerate(facts):
            (folder / f"{name}{i}.txt").write_text(fact + "\n")
        out[name] = folder
    return out


def sync_both_at_once(docs: dict[str, Path], settings, encoder) -> list[str]:
    """Two syncs (folders a and b) started together into one index, as two `qa-bot index` runs."""
    start, waits, errors = threading.Barrier(2), [], []

    def run(folder: Path) -> None:
        start.wait()
        try:
            Index(settings, encoder).sync([folder], on_wait=waits.append)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(folder,)) for folder in docs.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return waits


def assert_holds_both(docs: dict[str, Path], settings, encoder) -> None:
    storage = Storage.open(settings)
    files = storage.manifest.load().files
    expected = {str(p.resolve()) for folder in docs.values() for p in folder.iterdir()}
    assert set(files) == expected, f"lost: {sorted(expected - set(files))}"
    assert storage.store.all_ids() == {i for e in files.values() for i in e.chunks}
    service = QAService(settings, encoder=encoder)
    assert "nine" in service.answer("When does the ferry to Skellig leave?").text
    assert "Holt" in service.answer("Who sails the red schooner?").text


def test_two_syncs_into_one_embedded_index_at_once_keep_both_folders(tmp_path, encoder):
    docs = folders(tmp_path)
    settings = make_settings(tmp_path / "ix")
    waits = sync_both_at_once(docs, settings, encoder)
    assert_holds_both(docs, settings, encoder)
    assert waits == [f"waiting for another qa-bot index run on {settings.index_dir} (pid {os.getpid()})..."]


def test_two_syncs_through_a_server_at_once_keep_both_folders(tmp_path, encoder, chroma_server):
    docs = folders(tmp_path)
    settings = make_settings(index_name(tmp_path), chroma_url=chroma_server.url)
    waits = sync_both_at_once(docs, settings, encoder)
    assert_holds_both(docs, settings, encoder)
    assert len(waits) == 1 and waits[0].startswith(f"waiting for another qa-bot index run on {chroma_server.url}")
    assert Storage.open(settings).manifest.lease() is None  # released


def test_a_lease_left_by_a_killed_sync_is_taken_over_once_expired(tmp_path, encoder, chroma_server):
    docs = folders(tmp_path)
    settings = make_settings(index_name(tmp_path), chroma_url=chroma_server.url, index_lock_wait=0)
    storage = Storage.open(settings)
    storage.manifest.claim_lease({"owner": "killed", "pid": 1, "host": "elsewhere", "expires": time.time() + LEASE_TTL})
    with pytest.raises(IndexBusy) as busy:
        Index(settings, encoder).sync([docs["a"]])
    assert str(busy.value) == (f"{storage.location}: another qa-bot index run (pid 1 on elsewhere) is writing it; "
                               "gave up after 0 s (QA_BOT_INDEX_LOCK_WAIT)")
    storage.manifest.drop_lease("killed")
    storage.manifest.claim_lease({"owner": "killed", "pid": 1, "host": "elsewhere", "expires": time.time() - 1})
    assert len(Index(settings, encoder).sync([docs["a"]]).added) == 3


@pytest.mark.slow
def test_a_second_index_process_waits_with_a_message_or_fails_with_one_line(tmp_path):
    docs = folders(tmp_path)
    index_dir = tmp_path / "ix"
    env = {**os.environ, "QA_BOT_INDEX_DIR": str(index_dir), "PYTHONPATH": str(ROOT / "src")}
    waiting = f"waiting for another qa-bot index run on {index_dir} (pid {os.getpid()})..."
    cmd = [sys.executable, "-m", "qa_bot.cli", "index", str(docs["b"])]
    with writer(Storage(index_dir), 0, print):  # this test process is the first writer
        err = tmp_path / "stderr"
        with err.open("w") as stderr:
            second = subprocess.Popen(cmd, env={**env, "QA_BOT_INDEX_LOCK_WAIT": "120"}, cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=stderr, text=True)
        deadline = time.monotonic() + 60
        while waiting not in err.read_text() and second.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert waiting in err.read_text() and second.poll() is None, err.read_text()

        impatient = subprocess.run(cmd, env={**env, "QA_BOT_INDEX_LOCK_WAIT": "0"}, cwd=ROOT,
                                   capture_output=True, text=True, timeout=120)
        assert impatient.returncode == 2 and impatient.stderr.strip().splitlines() == [
            f"qa-bot: error: {index_dir}: another qa-bot index run (pid {os.getpid()}) is writing it; "
            "gave up after 0 s (QA_BOT_INDEX_LOCK_WAIT)"]
    out, _ = second.communicate(timeout=120)  # the first writer is done: the second one runs
    assert second.returncode == 0 and "3 added" in out, err.read_text()


def test_the_watcher_waits_for_the_writer_lock_too(tmp_path, encoder, caplog):
    docs = folders(tmp_path)
    settings = make_settings(tmp_path / "ix", watch_debounce_ms=200)
    syncs: queue.Queue = queue.Queue()
    with caplog.at_level(logging.WARNING, logger="qa_bot.indexer"):
        with writer(Storage(settings.index_dir), 0, print):  # an `index` run holds the index
            thread, stop = Index(settings, encoder).watch_in_thread([docs["a"]], syncs.put)
            deadline = time.monotonic() + 60
            while "waiting for another qa-bot index run" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.1)
            assert syncs.empty() and caplog.messages == [
                f"waiting for another qa-bot index run on {settings.index_dir} (pid {os.getpid()})..."]
        try:
            assert len(syncs.get(timeout=120).added) == 3  # the watcher's first sync, once the lock is free
        finally:
            stop.set()
            thread.join(timeout=30)
