"""`qa-bot status`: documents, chunks, model, location, last sync, drift; `--fix` reconciles."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from qa_bot.cli import cli
from qa_bot.schema import Chunk
from qa_bot.status import inspect
from qa_bot.store import Store
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
    assert status["documents"] == 3 and status["chunks"] == service.store.count()
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
    stray = Chunk("stray-1", str(docs / "ghost.txt"), "boo", 0, 3, 1, 1, None, None, "x")
    service.store.upsert([stray], np.ones((1, 384), dtype=np.float32) / np.sqrt(384))

    code, out = _status(index_dir)
    assert code == 1
    assert f"not indexed (1): {(docs / 'new.txt').resolve()}" in out
    assert f"changed since indexed (1): {(docs / 'keeper.txt').resolve()}" in out
    assert f"gone from disk (1): {(docs / 'heron.md').resolve()}" in out
    assert "chunks no indexed file owns: 1" in out and "chunks whose file is gone: 2" in out

    code, out = _status(index_dir, "--fix")
    assert code == 0 and "drift:      none" in out, out
    assert "Bartholomew Finch" in service.answer("What is the name of the lighthouse keeper?").text
    assert "stray-1" not in Store(index_dir).all_ids()


def test_status_flags_a_settings_change_that_will_rebuild(docs, tmp_path, encoder):
    build(docs, tmp_path / "ix", encoder)
    status = inspect(make_settings(tmp_path / "ix", chunk_tokens=64), encoder, Store(tmp_path / "ix"))
    assert status.drift and status.settings_change == "chunk_tokens 200 -> 64"


def test_status_without_an_index_is_one_line(tmp_path):
    code, out = _status(tmp_path / "none")
    assert code == 2 and out.strip() == f"qa-bot: error: no index at {tmp_path / 'none'} (run `qa-bot index` first)"
