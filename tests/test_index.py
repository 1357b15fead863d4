"""Indexing: incremental sync, no duplicates, removal, rebuild on new settings, kill -9 safety."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from qa_bot.indexer import Index, Step
from qa_bot.progress import SyncProgress
from qa_bot.retrieve import VectorSnapshot
from qa_bot.service import QAService
from qa_bot.storage import Storage
from tests.conftest import ROOT, make_settings

QA_BOT = [sys.executable, "-m", "qa_bot.cli"]


def _sync(folder: Path, index_dir: Path, encoder, **overrides):
    return Index(make_settings(index_dir, **overrides), encoder).sync([folder])


def test_second_run_skips_unchanged_files_and_adds_no_duplicates(corpus, tmp_path, encoder):
    (corpus / "notes.md").write_text("# Notes\n\nThe blue heron nests near the old mill pond.\n")
    first = _sync(corpus, tmp_path / "ix", encoder)
    second = _sync(corpus, tmp_path / "ix", encoder)
    assert len(first.added) == 2 and first.chunks_embedded == first.chunks_total > 0
    assert sorted(second.unchanged) == sorted(first.added)
    assert second.chunks_embedded == 0 and not second.changed
    storage = Storage(tmp_path / "ix")
    assert storage.store.count() == first.chunks_total == second.chunks_total


def test_changed_file_replaces_its_chunks(corpus, tmp_path, encoder):
    note = corpus / "notes.txt"
    note.write_text("The lighthouse keeper is called Marguerite Olsen.\n")
    _sync(corpus, tmp_path / "ix", encoder)
    note.write_text("The lighthouse keeper is called Bartholomew Finch.\n")
    report = _sync(corpus, tmp_path / "ix", encoder)
    assert report.updated == [str(note.resolve())] and report.chunks_embedded == 1
    svc = QAService(make_settings(tmp_path / "ix"), encoder=encoder)
    answer = svc.answer("Who keeps the lighthouse?")
    assert "Bartholomew Finch" in answer.text
    assert all("Olsen" not in c.text for c in Storage(tmp_path / "ix").store.chunks())


def test_removed_file_loses_its_chunks(corpus, tmp_path, encoder):
    note = corpus / "notes.txt"
    note.write_text("The lighthouse keeper is called Marguerite Olsen.\n")
    first = _sync(corpus, tmp_path / "ix", encoder)
    note.unlink()
    report = _sync(corpus, tmp_path / "ix", encoder)
    assert report.removed == [str(note.resolve())]
    chunks = Storage(tmp_path / "ix").store.chunks()
    assert len(chunks) == first.chunks_total - 1
    assert all(c.path != str(note.resolve()) for c in chunks)
    svc = QAService(make_settings(tmp_path / "ix"), encoder=encoder)
    assert all(c.source != "notes.txt" for c in svc.answer("Who keeps the lighthouse?").citations)


def test_bad_files_are_skipped_counted_and_never_indexed(corpus, tmp_path, encoder):
    (corpus / "empty.txt").write_text("")
    (corpus / "blob.txt").write_bytes(b"\x00\xff\x00binary")
    (corpus / "legacy.txt").write_bytes("naïve".encode("latin-1"))
    (corpus / "gone.txt").symlink_to(corpus / "missing-target.txt")
    report = _sync(corpus, tmp_path / "ix", encoder)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "blob.txt", "legacy.txt", "missing-target.txt"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["blob.txt"]
    assert "UTF-8" in reasons["legacy.txt"] and "cannot read" in reasons["missing-target.txt"]
    assert [Path(p).name for p in report.added] == ["000_a9a644aeed6d5ccb.txt"]
    indexed = {c.path for c in Storage(tmp_path / "ix").store.chunks()}
    assert indexed == {report.added[0]}


def test_settings_change_rebuilds_instead_of_mixing_vectors(corpus, tmp_path, encoder):
    first = _sync(corpus, tmp_path / "ix", encoder)
    report = _sync(corpus, tmp_path / "ix", encoder, chunk_tokens=64)
    assert report.rebuilt and report.chunks_embedded == report.chunks_total > first.chunks_total
    assert Storage(tmp_path / "ix").store.count() == report.chunks_total


def test_a_new_way_of_splitting_files_rebuilds_old_indexes(corpus, tmp_path, encoder, monkeypatch):
    first = _sync(corpus, tmp_path / "ix", encoder)
    assert not _sync(corpus, tmp_path / "ix", encoder).rebuilt
    monkeypatch.setattr("qa_bot.indexer.LAYOUT", "blocks-next")
    report = _sync(corpus, tmp_path / "ix", encoder)
    assert report.rebuilt and report.chunks_embedded == report.chunks_total == first.chunks_total


def test_chroma_default_embedding_function_never_runs(seed_index, encoder, monkeypatch):
    from chromadb.utils import embedding_functions

    def forbidden(*args, **kwargs):
        raise AssertionError("Chroma's downloading default embedding function was called")

    monkeypatch.setattr(embedding_functions.DefaultEmbeddingFunction, "__call__", forbidden)
    monkeypatch.setattr(embedding_functions.ONNXMiniLM_L6_V2, "__call__", forbidden)
    svc = QAService(make_settings(seed_index), encoder=encoder)
    passages = svc.answer("Who led the Group of Governmental Experts?").passages
    assert "led by Washington" in passages[0].chunk.text


def _env(index_dir: Path) -> dict:
    return {**os.environ, "QA_BOT_INDEX_DIR": str(index_dir), "QA_BOT_EMBED_BATCH_SIZE": "2"}


@pytest.mark.slow
def test_kill_9_mid_index_leaves_a_usable_index(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    seed = (ROOT / "seeds" / "000_a9a644aeed6d5ccb.txt").read_text()
    for i in range(40):
        (docs / f"copy{i:02}.txt").write_text(f"Copy number {i}.\n\n{seed}")
    index_dir = tmp_path / "ix"
    # A first, complete index of one file: the "previous state".
    subprocess.run([*QA_BOT, "index", str(docs / "copy00.txt")], env=_env(index_dir), check=True,
                   capture_output=True, cwd=ROOT)
    before = Storage(index_dir).manifest.load().generation

    proc = subprocess.Popen([*QA_BOT, "index", str(docs)], env=_env(index_dir), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while Storage(index_dir).manifest.load().generation == before and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = Storage(index_dir).manifest.load()
    assert state.generation > before, "the run was killed before committing any batch"
    assert len(state.files) < 40, "the run finished before it was killed; nothing was tested"

    ask = subprocess.run([*QA_BOT, "ask", "--json", "How many countries co-sponsored the document?"],
                         env=_env(index_dir), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ask.returncode == 0, ask.stderr
    assert "107" in ask.stdout
    assert "run `qa-bot index` to finish it" in json.loads(ask.stdout)["notice"]  # says it is incomplete

    done = subprocess.run([*QA_BOT, "index", str(docs)], env=_env(index_dir), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    storage = Storage(index_dir)
    state = storage.manifest.load()
    assert len(state.files) == 40
    owned = {i for e in state.files.values() for i in e.chunks}
    assert storage.store.all_ids() == owned  # no orphans, no duplicates


def test_an_index_without_snapshot_vectors_still_answers_and_the_next_sync_adds_them(corpus, tmp_path, encoder):
    (corpus / "notes.txt").write_text("The lighthouse keeper is called Marguerite Olsen.\n")
    _sync(corpus, tmp_path / "ix", encoder)
    [vectors] = (tmp_path / "ix").glob("lexical-*/vectors.npy")
    vectors.unlink()  # as an index written before snapshots held vectors
    question = "What is the name of the lighthouse keeper?"
    assert "Olsen" in QAService(make_settings(tmp_path / "ix"), encoder=encoder).answer(question).text  # via Chroma
    assert not _sync(corpus, tmp_path / "ix", encoder).changed
    assert vectors.exists()
    service = QAService(make_settings(tmp_path / "ix"), encoder=encoder)
    assert isinstance(service.retriever.store, VectorSnapshot) and "Olsen" in service.answer(question).text


def test_sync_reports_progress_from_the_first_file_read(corpus, tmp_path, encoder):
    (corpus / "keeper.txt").write_text("The lighthouse keeper is called Marguerite Olsen.\n")
    steps: list[Step] = []
    Index(make_settings(tmp_path / "ix"), encoder).sync([corpus], steps.append)
    reading = [s for s in steps if s.stage == "reading"]
    embedding = [s for s in steps if s.stage == "embedding"]
    assert steps[0] == Step("reading", 0, 2, "000_a9a644aeed6d5ccb.txt")  # before the first file is read
    assert reading == [steps[0], Step("reading", 1, 2, "keeper.txt"), Step("reading", 2, 2)]
    assert steps.index(embedding[0]) > steps.index(reading[-1])
    stored = Storage(tmp_path / "ix").store.all_ids()
    assert embedding[0].done == 0 and embedding[-1].done == embedding[-1].total == len(stored)


def test_progress_is_a_plain_periodic_line_when_not_a_terminal():
    out = io.StringIO()  # not a terminal
    with SyncProgress(Console(file=out), every=0.05) as progress:
        progress(Step("reading", 0, 1, "big.txt"))
        time.sleep(0.3)  # one file read for a long time: still a line every `every` seconds
        progress(Step("embedding", 10, 64))
        time.sleep(0.15)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 4 and lines[0] == "reading files: 0/1 (big.txt), 0 s"
    assert lines[-1] == "embedding chunks: 10/64, 0 s"

