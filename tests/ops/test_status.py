"""`qa-bot status`: documents, chunks, model, location, last sync, drift; `--fix` reconciles."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from qa_bot.cli import cli
from qa_bot.indexer import Index
from qa_bot.schema import Chunk
from qa_bot.storage import Storage
from tests.conftest import make_settings
from tests.ops.conftest import build


def _status(index_dir, *args):
    result = CliRunner().invoke(cli, ["--index-dir", str(index_dir), "status", *args])
    return result.exit_code, result.output


def test_status_reports_the_index_and_no_drift(docs, tmp_path, encoder):
    service = build(docs, tmp_path / "ix", encoder)
    code, out = _status(tmp_path / "ix", "--json")
    status = json.loads(out)
    assert code == 0 and not status["drift"]
    assert status["documents"] == 3 and status["chunks"] == service.storage.store.count()
    assert status["model"] == "all-MiniLM-L6-v2/onnx-int8" and status["chunk_tokens"] == 200
    assert status["location"] == str(tmp_path / "ix") and status["last_sync"]
    assert status["roots"] == [str(docs.resolve())]
    assert status["chunks_per_file"][str((docs / "keeper.txt").resolve())] == 1
    assert sum(status["chunks_per_file"].values()) == status["chunks"]


def test_status_finds_each_kind_of_drift_and_fix_reconciles_it(docs, tmp_path, encoder):
    index_dir = tmp_path / "ix"
    service = build(docs, index_dir, encoder)
    (docs / "new.txt").write_text("The ferry to Skellig leaves at nine every morning.\n")
    (docs / "keeper.txt").write_text("The lighthouse keeper is called Bartholomew Finch.\n")
    (docs / "heron.md").unlink()
    # What a sync killed between storing vectors and committing leaves behind: an unowned chunk.
    stray = Chunk("stray-1", str(docs / "ghost.txt"), "boo", 0, 3, 1, 1, None, None)
    service.storage.store.upsert([stray], np.ones((1, 384), dtype=np.float32) / np.sqrt(384))

    code, out = _status(index_dir)
    assert code == 1
    assert f"not indexed (1): {(docs / 'new.txt').resolve()}" in out
    assert f"changed since indexed (1): {(docs / 'keeper.txt').resolve()}" in out
    assert f"gone from disk (1): {(docs / 'heron.md').resolve()}" in out
    assert "chunks no indexed file owns: 1" in out and "chunks whose file is gone: 2" in out

    code, out = _status(index_dir, "--fix")
    assert code == 0 and "drift:      none" in out, out
    assert "Bartholomew Finch" in service.answer("What is the name of the lighthouse keeper?").text
    assert "stray-1" not in Storage(index_dir).store.all_ids()


def test_status_flags_a_settings_change_that_will_rebuild(docs, tmp_path, encoder):
    build(docs, tmp_path / "ix", encoder)
    status = Index(make_settings(tmp_path / "ix", chunk_tokens=64), encoder).status()
    assert status.drift and status.settings_change == "chunk_tokens 200 -> 64"


def test_status_without_an_index_is_one_line(tmp_path):
    code, out = _status(tmp_path / "none")
    assert code == 2 and out.strip() == f"qa-bot: error: no index at {tmp_path / 'none'} (run `qa-bot index` first)"


def test_files_that_cannot_be_indexed_are_skips_with_their_reason_not_drift(docs, tmp_path, encoder):
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02")
    (docs / "photo.png").write_bytes(b"\x89PNG")
    index_dir = tmp_path / "ix"
    build(docs, index_dir, encoder)
    (docs / "keeper.txt").write_bytes(b"\xff\xfe not UTF-8 any more")  # indexed before: the old text stays
    binary, photo, keeper = ((docs / n).resolve() for n in ("binary.txt", "photo.png", "keeper.txt"))

    code, out = _status(index_dir, "--fix")  # says why each file is skipped
    assert code == 0 and "drift:      none" in out, out
    assert f"skipped {binary}: binary file (contains NUL bytes)\n" in out
    assert f"skipped {keeper}: not UTF-8 text (invalid byte at offset 0); previous version kept in the index\n" in out
    code, out = _status(index_dir)
    assert code == 0 and "drift:      none" in out, out
    assert ("skipped:    3 files that cannot be indexed, not drift "
            "(1 binary file, 1 not UTF-8 text, 1 unsupported file type '.png')") in out
    assert f"  {photo}: unsupported file type '.png'" in out
    assert json.loads(_status(index_dir, "--json")[1])["skipped"][str(binary)] == "binary file (contains NUL bytes)"

    (docs / "binary.txt").write_text("The binary file became text.\n")  # indexable now: that is drift
    code, out = _status(index_dir)
    assert code == 1 and f"not indexed (1): {binary}" in out


def test_status_summarises_long_lists_and_json_has_them_all(docs, tmp_path, encoder):
    index_dir = tmp_path / "ix"
    build(docs, index_dir, encoder)
    for i in range(30):
        (docs / f"new{i:02}.txt").write_text(f"Note {i}.\n")
    code, out = _status(index_dir)
    assert code == 1
    shown = ", ".join(str((docs / f"new{i:02}.txt").resolve()) for i in range(5))
    assert f"not indexed (30): {shown}, ... and 25 more (`qa-bot status --json` lists all)" in out
    assert len(out.splitlines()) < 20
    assert len(json.loads(_status(index_dir, "--json")[1])["not_indexed"]) == 30
