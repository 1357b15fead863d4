"""Live sync through the real watcher (watchfiles): edits, renames, deletes and new files."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from qa_bot.service import QAService
from qa_bot.store import Store
from qa_bot.watch import start_in_thread
from tests.conftest import ROOT, make_settings
from tests.ops.conftest import KEEPER_Q, cited


def eventually(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the watcher did not catch up"
        time.sleep(0.2)


@pytest.mark.slow
def test_answers_follow_the_folder_through_the_watcher(docs, tmp_path, encoder):
    settings = make_settings(tmp_path / "ix", watch_debounce_ms=200)
    syncs: queue.Queue = queue.Queue()
    thread, stop = start_in_thread([docs], settings, encoder, Store.open(settings), syncs.put)
    try:
        syncs.get(timeout=120)  # the initial sync
        service = QAService(settings, encoder=encoder)
        assert "Marguerite Olsen" in service.answer(KEEPER_Q).text

        (docs / "keeper.txt").write_text("The lighthouse keeper is called Bartholomew Finch.\n")
        eventually(lambda: "Bartholomew Finch" in service.answer(KEEPER_Q).text)
        assert "Olsen" not in service.answer(KEEPER_Q).text

        (docs / "keeper.txt").rename(docs / "warden.txt")
        eventually(lambda: cited(service.answer(KEEPER_Q)) == {"warden.txt"})

        (docs / "warden.txt").unlink()
        eventually(lambda: "warden.txt" not in cited(service.answer(KEEPER_Q)))
        for question in (KEEPER_Q, "Who is Bartholomew Finch?", "lighthouse keeper"):
            answer = service.answer(question)
            assert "warden.txt" not in cited(answer) and "Finch" not in answer.text

        (docs / "sub").mkdir()
        (docs / "sub" / "ferry.txt").write_text("The ferry to Skellig leaves at nine every morning.\n")
        eventually(lambda: "ferry.txt" in cited(service.answer("When does the ferry to Skellig leave?")))
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.slow
def test_a_file_written_as_the_first_sync_ends_is_not_missed(docs, tmp_path, encoder):
    # on_sync runs in the watcher thread right after the initial sync: the moment a watcher
    # that arms itself only after that sync would be blind.
    settings = make_settings(tmp_path / "ix", watch_debounce_ms=200)
    reports: queue.Queue = queue.Queue()

    def on_sync(report):
        if reports.empty():
            (docs / "ferry.txt").write_text("The ferry to Skellig leaves at nine every morning.\n")
        reports.put(report)

    thread, stop = start_in_thread([docs], settings, encoder, Store.open(settings), on_sync)
    try:
        first = reports.get(timeout=120)
        assert "ferry.txt" not in {os.path.basename(p) for p in first.added}
        second = reports.get(timeout=30)
        assert [os.path.basename(p) for p in second.added] == ["ferry.txt"]
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.slow
def test_qa_bot_watch_command_syncs_and_stops_on_ctrl_c(docs, tmp_path):
    index_dir = tmp_path / "ix"
    env = {**os.environ, "QA_BOT_INDEX_DIR": str(index_dir), "QA_BOT_WATCH_DEBOUNCE_MS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "watch", str(docs)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        eventually(lambda: Store(index_dir).exists() and Store(index_dir).load_state().last_sync is not None)
        (docs / "ferry.txt").write_text("The ferry to Skellig leaves at nine every morning.\n")
        eventually(lambda: str((docs / "ferry.txt").resolve()) in Store(index_dir).load_state().files)
        time.sleep(0.5)  # let the watcher return to waiting for changes before Ctrl-C
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "synced: 1 added" in out and f"watching {docs}" in err
