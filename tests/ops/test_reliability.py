"""Real faults: disk full, a file where the index folder should be, concurrent asks during a
sync, and garbage questions and files (hypothesis). Kill -9 mid-index: tests/test_index.py."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from qa_bot.chunking import chunk_document, make_splitter
from qa_bot.cli import cli
from qa_bot.errors import InputError
from qa_bot.indexer import Index, Step, read_chunks
from qa_bot.ingest import SUPPORTED, IngestError, load
from qa_bot.sanitize import strip_hidden
from qa_bot.service import QAService
from qa_bot.storage import Storage
from tests.conftest import ROOT, make_settings
from tests.fuzzfiles import cases, crashing_pdf
from tests.ops.conftest import KEEPER_Q, build, cited, unreadable


def _no_bigger_files_than(limit: int):
    def apply() -> None:  # runs in the child: writes past `limit` fail with EFBIG, like a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.slow
def test_disk_full_gives_one_line_and_keeps_the_previous_index(docs, tmp_path, encoder):
    index_dir = tmp_path / "ix"
    build(docs, index_dir, encoder)
    before = (index_dir / "state.json").read_text()
    (docs / "extra.txt").write_text("The ferry to Skellig leaves at nine every morning.\n")
    env = {**os.environ, "QA_BOT_INDEX_DIR": str(index_dir)}
    full = subprocess.run([sys.executable, "-m", "qa_bot.cli", "index", str(docs)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, preexec_fn=_no_bigger_files_than(0))
    assert full.returncode == 2
    error = full.stderr.strip()  # the progress bar may leave a blank line before it
    assert error.startswith(f"qa-bot: error: {index_dir}") and len(error.splitlines()) == 1
    assert (index_dir / "state.json").read_text() == before
    assert "Marguerite Olsen" in QAService(make_settings(index_dir), encoder=encoder).answer(KEEPER_Q).text

    done = subprocess.run([sys.executable, "-m", "qa_bot.cli", "index", str(docs)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 added" in done.stdout


def test_a_file_where_the_index_folder_should_be_is_one_clear_line(docs, tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, ["--index-dir", str(blocker / "ix"), "index", str(docs)])
    assert result.exit_code == 2
    error = result.output.strip()  # the progress bar may leave a blank line before it
    assert error.startswith(f"qa-bot: error: {blocker / 'ix'}: Not a directory") and len(error.splitlines()) == 1


@pytest.mark.slow
def test_eight_threads_asking_during_a_sync_never_fail_nor_cite_an_uncommitted_file(docs, tmp_path, encoder):
    index_dir = tmp_path / "ix"
    service = build(docs, index_dir, encoder)
    # Big enough for two commit batches (batch = 64 chunks at embed_batch_size 2).
    manual = docs / "manual.txt"
    manual.write_text("\n\n".join(
        f"Valve {i} of the Zephyr pump is tightened to {i * 3 + 7} newton metres, then checked by "
        f"inspector number {i % 17} before the pump may run again." for i in range(450))
        + "\n\nThe Zephyr pump's warranty ends in March 2031.\n")
    (docs / "keeper.txt").write_text("The lighthouse keeper is called Bartholomew Finch.\n")
    settings_ = make_settings(index_dir, embed_batch_size=2)
    storage = Storage(index_dir)
    questions = ["What torque is valve 3 of the Zephyr pump tightened to?", KEEPER_Q,
                 "Which inspector checks valve 5 of the Zephyr pump?"]
    done, errors, seen = threading.Event(), [], []

    def asker(n: int) -> None:
        while not done.is_set():
            try:
                answer = service.answer(questions[n % len(questions)])
                committed = storage.manifest.load().files  # read after answering: commits only add
                seen.append((answer, set(committed)))
            except Exception:  # noqa: BLE001 - the assertion is that there are none
                errors.append(traceback.format_exc())
            n += 1

    threads = [threading.Thread(target=asker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    try:
        report = Index(settings_, encoder).sync([docs])
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    assert report.chunks_embedded > 64 and len(seen) >= 16  # two commit batches at least
    for answer, committed in seen:
        for c in answer.citations:
            assert any(Path(p).name == Path(c.source).name for p in committed), f"cited uncommitted {c.source}"
    # 450 near-identical valve lines make "valve 3" a lottery for any retriever: ask what one line alone says.
    final = service.answer("When does the warranty of the Zephyr pump end?")
    assert "manual.txt" in cited(final) and "March 2031" in final.text


@pytest.fixture(scope="module")
def splitter(encoder):
    return make_splitter(encoder.count_tokens, 64)


# 1,000 garbage questions and 1,000 garbage files; an answer costs ~30 ms on idle cores.
@pytest.mark.slow
@settings(max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_garbage_questions_get_an_answer_or_a_clear_error(seed_service, question):
    try:
        answer = seed_service.answer(question)
    except InputError as exc:
        assert str(exc) == "the question is empty" and not strip_hidden(question).split()
        return
    assert answer.text and answer.refused == (not answer.citations)
    texts = {p.chunk.id: " ".join(p.chunk.text.split()) for p in answer.passages}
    assert all(c.quote in texts[c.chunk_id] for c in answer.citations)


@settings(max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    suffix=st.sampled_from(sorted(SUPPORTED)),
    data=st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=2000).map(str.encode),
        st.binary(max_size=600).map(lambda b: b"%PDF-1.4\n" + b),  # passes the PDF magic check
    ),
)
def test_garbage_files_index_or_fail_with_one_line(tmp_path, splitter, suffix, data):
    path = tmp_path / f"generated{suffix}"
    try:
        doc = load(path, data)
    except IngestError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for chunk in chunk_document(doc, splitter):
        assert doc.text[chunk.start : chunk.end] == chunk.text and chunk.text.strip()


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_answering_on_a_full_disk_writes_nothing_under_the_index(docs, tmp_path, encoder):
    index_dir = tmp_path / "ix"
    build(docs, index_dir, encoder)
    before = _tree(index_dir)
    service = QAService(make_settings(index_dir), encoder=encoder)  # as the Discord bot answers
    assert "Marguerite Olsen" in service.answer(KEEPER_Q).text
    env = {**os.environ, "QA_BOT_INDEX_DIR": str(index_dir)}
    full = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ask", KEEPER_Q], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, preexec_fn=_no_bigger_files_than(0))
    assert full.returncode == 0 and "Marguerite Olsen" in full.stdout, full.stderr
    assert _tree(index_dir) == before  # no file changed, none appeared


# -- hostile files, links and folders (issue 11) ------------------------------------------------


def test_no_mutated_pdf_html_markdown_or_text_file_escapes_as_an_error(tmp_path, splitter):
    # What `sync` does with each file's bytes; bench/fuzz.py runs thousands more.
    outcomes = {"indexed": 0, "skipped": 0}
    for i, (suffix, data) in enumerate(cases(400)):
        try:
            chunks = read_chunks(tmp_path / f"case{i}{suffix}", data, splitter)
        except IngestError as exc:
            assert str(exc) and "\n" not in str(exc)
            outcomes["skipped"] += 1
            continue
        assert all(c.text.strip() for c in chunks)
        outcomes["indexed"] += 1
    assert min(outcomes.values()) > 50, outcomes  # the mutations neither all break nor all spare files


def test_a_file_that_crashes_the_parser_is_one_skip_line_and_the_run_goes_on(docs, tmp_path):
    (docs / "crash.pdf").write_bytes(crashing_pdf())
    result = CliRunner().invoke(cli, ["--index-dir", str(tmp_path / "ix"), "index", str(docs)])
    assert result.exit_code == 0, result.output
    assert f"skipped {(docs / 'crash.pdf').resolve()}: cannot extract text (AssertionError)\n" in result.stderr
    assert "3 added" in result.stdout and "1 skipped" in result.stdout


def test_a_symlink_loop_is_a_skip_for_index_and_status(docs, tmp_path):
    (docs / "a.txt").symlink_to(docs / "b.txt")
    (docs / "b.txt").symlink_to(docs / "a.txt")
    index_dir = str(tmp_path / "ix")
    result = CliRunner().invoke(cli, ["--index-dir", index_dir, "index", str(docs)])
    assert result.exit_code == 0, result.output
    assert f"skipped {docs / 'a.txt'}: symlink loop (or too many levels of links)" in result.stderr
    assert "3 added" in result.stdout and "2 skipped" in result.stdout
    status = CliRunner().invoke(cli, ["--index-dir", index_dir, "status"])
    assert status.exit_code == 0, status.output
    assert "symlink loop" in status.stdout and "drift:      none" in status.stdout


def test_an_unreadable_folder_is_a_skip_line_and_its_documents_keep_their_version(docs, tmp_path, encoder):
    sub = docs / "sub"
    sub.mkdir()
    (sub / "ferry.txt").write_text("The ferry to Skellig leaves at nine every morning.\n")
    index_dir = tmp_path / "ix"
    build(docs, index_dir, encoder)
    with unreadable(sub):
        result = CliRunner().invoke(cli, ["--index-dir", str(index_dir), "index", str(docs)])
        status = CliRunner().invoke(cli, ["--index-dir", str(index_dir), "status"])
    assert result.exit_code == 0, result.output
    assert f"skipped {sub}: cannot read folder (Permission denied); documents indexed from it" in result.stderr
    assert "0 removed" in result.stdout
    assert str((sub / "ferry.txt").resolve()) in Storage(index_dir).manifest.load().files
    service = QAService(make_settings(index_dir), encoder=encoder)
    assert "ferry.txt" in cited(service.answer("When does the ferry to Skellig leave?"))
    assert status.exit_code == 0, status.output  # a skip, not drift: nothing is gone
    assert f"{sub}: cannot read folder" in status.stdout


def test_an_interrupted_first_index_says_it_is_incomplete_and_how_to_finish(tmp_path, encoder):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(70):
        (docs / f"note{i:02}.txt").write_text(f"Locker {i} holds the spare key for cabin {i + 100}.\n")
    index_dir = tmp_path / "ix"

    class Killed(Exception):
        pass

    def kill_after_first_commit(step: Step) -> None:  # as kill -9 would, once 64 chunks are committed
        if step.stage == "embedding" and step.done > 64:
            raise Killed

    with pytest.raises(Killed):
        Index(make_settings(index_dir, embed_batch_size=2), encoder).sync([docs], kill_after_first_commit)
    committed = len(Storage(index_dir).manifest.load().files)
    assert 0 < committed < 70

    def run(*args):
        return CliRunner().invoke(cli, ["--index-dir", str(index_dir), *args])

    status = run("status")
    assert status.exit_code == 1
    assert (f"incomplete: {committed} of {committed} documents are not searchable yet: an index run stopped "
            "(or is still running) before its end; run `qa-bot index` to finish it") in status.stdout
    ask = json.loads(run("ask", "--json", "Which locker holds the key for cabin 105?").stdout)
    assert "index is incomplete" in ask["notice"] and "run `qa-bot index` to finish it" in ask["notice"]

    assert run("index").exit_code == 0  # the recorded folder
    assert run("status").exit_code == 0
    ask = json.loads(run("ask", "--json", "Which locker holds the key for cabin 105?").stdout)
    assert ask["notice"] is None and "Locker 5" in ask["text"]
