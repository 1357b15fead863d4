"""The embedded manifest (state.json): a commit replaces it whole or not at all."""

from __future__ import annotations

import errno
import os

import pytest

from qa_bot.manifest import FileEntry, FileManifest, SkipEntry, State
from qa_bot.store import StoreError


def _state(generation: int) -> State:
    return State(fingerprint={"model": "m/onnx"}, files={"/docs/a.txt": FileEntry("h1", ["a#0", "a#1"])},
                 generation=generation, lexical_generation=generation, last_sync="2025-05-01T10:12:03+00:00",
                 roots=["/docs"], skipped={"/docs/b.png": SkipEntry(None, "cannot read (Permission denied)")})


def test_a_saved_state_loads_back_equal_and_changes_the_version(tmp_path):
    manifest = FileManifest(tmp_path / "ix")
    assert not manifest.exists() and manifest.load() == State()
    manifest.save(_state(1))
    first = manifest.version()
    assert manifest.exists() and manifest.load() == _state(1)
    manifest.save(_state(2))
    assert manifest.load() == _state(2) and manifest.version() != first


def test_a_failed_write_keeps_the_committed_state_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    manifest = FileManifest(tmp_path / "ix")
    manifest.save(_state(1))
    seen = manifest.version()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("qa_bot.manifest.os.fsync", disk_full)
    with pytest.raises(StoreError) as failure:
        manifest.save(_state(2))
    assert str(failure.value) == f"{tmp_path / 'ix'}: No space left on device"
    assert manifest.load() == _state(1) and manifest.version() == seen
    assert [p.name for p in (tmp_path / "ix").iterdir()] == ["state.json"]


def test_an_unreadable_state_file_is_one_line_naming_the_index(tmp_path):
    manifest = FileManifest(tmp_path / "ix")
    manifest.save(_state(1))
    manifest.path.write_text('{"files": {"/docs/a.txt": {}}}')  # an entry without its hash
    with pytest.raises(StoreError, match=r"ix: unreadable index state \('hash'\)$"):
        manifest.load()
