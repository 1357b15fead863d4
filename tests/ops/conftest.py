"""Ops fixtures: a real Chroma server (`chroma run`, shipped with chromadb) and small corpora."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from qa_bot.indexer import sync
from qa_bot.service import QAService
from qa_bot.storage import Storage
from tests.conftest import SEEDS, make_settings

CHROMA = Path(sys.executable).parent / "chroma"
KEEPER = "The lighthouse keeper is called Marguerite Olsen.\n"
KEEPER_Q = "What is the name of the lighthouse keeper?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ChromaServer:
    """One `chroma run` process on 127.0.0.1; stop() kills it by PID, start() brings it back."""

    path: Path
    port: int
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        self.proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("chroma run did not start within 30 s")

    def stop(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None


def _server(folder: Path):
    server = ChromaServer(folder, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """Shared by tests that leave it running; each test uses its own collections (index name)."""
    yield from _server(tmp_path_factory.mktemp("chroma-server"))


@pytest.fixture
def own_chroma_server(tmp_path):
    """For tests that stop the server."""
    yield from _server(tmp_path / "chroma-own")


@pytest.fixture
def docs(tmp_path) -> Path:
    """A tiny corpus: the seed article (a few chunks) and two one-chunk notes."""
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    (folder / "keeper.txt").write_text(KEEPER)
    (folder / "heron.md").write_text("# Birds\n\nThe blue heron nests near the old mill pond every April.\n")
    return folder


def index_name(tmp_path: Path) -> Path:
    """An index folder whose name is unique, so collections on a shared server never collide."""
    return tmp_path / f"ix-{tmp_path.name}"


def build(folder: Path, index_dir: Path, encoder, **overrides) -> QAService:
    settings = make_settings(index_dir, **overrides)
    sync([folder], settings, encoder, Storage.open(settings))
    return QAService(settings, encoder=encoder)


def cited(answer) -> set[str]:
    return {Path(c.source).name for c in answer.citations}


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


@contextmanager
def unreadable(folder: Path):
    """`folder` cannot be listed nor entered, even by root, in this thread (and threads it starts).

    chmod 000 alone does not stop root: root also loses CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
    from this thread's effective capabilities (Linux capabilities are per thread) until the end.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # version 3, this thread
    folder.chmod(0)
    saved = None
    try:
        if os.geteuid() == 0:
            assert libc.capget(ctypes.byref(header), data) == 0, os.strerror(ctypes.get_errno())
            saved = data[0].effective
            data[0].effective &= ~((1 << 1) | (1 << 2))  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            assert libc.capset(ctypes.byref(header), data) == 0, os.strerror(ctypes.get_errno())
        try:
            os.listdir(folder)
        except PermissionError:
            yield
        else:
            raise AssertionError(f"{folder} is still readable")
    finally:
        if saved is not None:
            data[0].effective = saved
            libc.capset(ctypes.byref(header), data)
        folder.chmod(0o755)
