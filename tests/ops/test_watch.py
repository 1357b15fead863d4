"""Live sync through the real watcher (watchfiles): edits, renames, deletes and new files."""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from qa_bot.indexer import Index
from qa_bot.service import QAService
from qa_bot.storage import Storage
from tests.conftest import ROOT, make_settings
from tests.fuzzfiles import crashing_pdf
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
    thread, stop = Index(settings, encoder).watch_in_thread([docs], syncs.put)
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

    thread, stop = Index(settings, encoder).watch_in_thread([docs], on_sync)
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
    # -X faulthandler: if it ever ignores Ctrl-C, SIGABRT makes it print every thread's stack. SIGINT
    # at its default, as in a terminal: a suite started in the background (`cmd &` in a script)
    # hands its children SIGINT ignored, and the watcher then outlived it (its main thread in
    # watchfiles' Rust wait, in two of three fresh-clone suite runs started so).
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "qa_bot.cli", "watch", str(docs)], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        eventually(lambda: Storage(index_dir).manifest.load().last_sync is not None)
        (docs / "ferry.txt").write_text("The ferry to Skellig leaves at nine every morning.\n")
        eventually(lambda: str((docs / "ferry.txt").resolve()) in Storage(index_dir).manifest.load().files)
        time.sleep(0.5)  # let the watcher return to waiting for changes before Ctrl-C
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            out, err = proc.communicate(timeout=60)
            pytest.fail(f"watch still running 60 s after Ctrl-C; its threads at SIGABRT:\n{err}\n{out}")
    assert proc.returncode == 0, err
    assert "synced: 1 added" in out and f"watching {docs}" in err


def test_a_watcher_with_a_symlink_loop_and_a_crashing_pdf_syncs_the_rest(docs, tmp_path, encoder):
    (docs / "a.txt").symlink_to(docs / "b.txt")
    (docs / "b.txt").symlink_to(docs / "a.txt")
    (docs / "crash.pdf").write_bytes(crashing_pdf())
    settings = make_settings(tmp_path / "ix", watch_debounce_ms=200)
    reports: queue.Queue = queue.Queue()
    thread, stop = Index(settings, encoder).watch_in_thread([docs], reports.put)
    try:
        first = reports.get(timeout=120)
        assert len(first.added) == 3
        assert {os.path.basename(s.path) for s in first.skipped} == {"a.txt", "b.txt", "crash.pdf"}
        (docs / "ferry.txt").write_text("The ferry to Skellig leaves at nine every morning.\n")
        assert [os.path.basename(p) for p in reports.get(timeout=30).added] == ["ferry.txt"]
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_watcher_that_fails_is_logged_with_its_traceback_and_restarted(docs, tmp_path, encoder, caplog):
    settings = make_settings(tmp_path / "ix", watch_debounce_ms=200)
    reports: queue.Queue = queue.Queue()
    calls = []

    def on_sync(report):  # the bot's own reporting fails once (a closed stdout, say)
        reports.put(report)
        calls.append(report)
        if len(calls) == 1:
            raise BrokenPipeError("stdout is gone")

    thread, stop = Index(settings, encoder).watch_in_thread([docs], on_sync)
    try:
        assert len(reports.get(timeout=120).added) == 3
        assert len(reports.get(timeout=30).unchanged) == 3  # restarted: it synced again
        (docs / "ferry.txt").write_text("The ferry to Skellig leaves at nine every morning.\n")
        assert [os.path.basename(p) for p in reports.get(timeout=30).added] == ["ferry.txt"]
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=30)
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "qa_bot.watch"]
    assert len(failures) == 1 and "restarting it in 1 s" in failures[0].getMessage()
    assert "stdout is gone" in caplog.text  # the traceback is in the log
