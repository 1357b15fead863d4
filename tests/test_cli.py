"""The `qa-bot` command as users and scripts run it (real subprocesses)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from prompt_toolkit import PromptSession
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from qa_bot.chat import run_chat
from qa_bot.cli import cli
from tests.conftest import ROOT, SEED_CASES



def qa_bot(*args: str, index_dir: Path | None = None, env: dict | None = None, stdin: str | None = None):
    full_env = {**os.environ, **(env or {})}
    full_env.pop("QA_BOT_INDEX_DIR", None)
    cmd = [sys.executable, "-m", "qa_bot.cli"]
    if index_dir is not None:
        cmd += ["--index-dir", str(index_dir)]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=full_env, cwd=ROOT,
                          input=stdin, timeout=300)


def test_ask_prints_answer_and_sources(seed_index):
    r = qa_bot("ask", "How many countries co-sponsored the document?", index_dir=seed_index)
    assert r.returncode == 0, r.stderr
    assert "107" in r.stdout and "Sources:" in r.stdout
    assert "seeds/000_a9a644aeed6d5ccb.txt, line 3" in r.stdout


def test_ask_json_has_the_documented_shape(seed_index):
    r = qa_bot("ask", "--json", "Who is Sergey Ryabkov?", index_dir=seed_index)
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert set(obj) >= {"question", "text", "refused", "citations", "passages"}
    assert obj["question"] == "Who is Sergey Ryabkov?" and obj["refused"] is False
    for c in obj["citations"]:
        assert set(c) == {"n", "source", "start_line", "end_line", "page", "quote", "chunk_id", "score", "heading"}
    scores = [p["score"] for p in obj["passages"]]
    assert scores == sorted(scores, reverse=True) and 0 < len(scores) <= 5  # top_k
    assert set(obj["passages"][0]) == {"source", "start_line", "end_line", "page", "text", "chunk_id", "score"}


def test_ask_questions_file_gives_one_line_each_in_order(seed_index, tmp_path):
    questions = ["When will the General Assembly vote?", "What is the capital of Australia?",
                 "Who leads the GGE?"]
    qfile = tmp_path / "q.txt"
    qfile.write_text("\n".join(questions) + "\n\n")
    r = qa_bot("ask", "--json", "--questions", str(qfile), index_dir=seed_index)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["question"] for row in rows] == questions
    assert rows[1]["refused"] is True


def test_index_env_var_and_summary(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Otters hold hands while they sleep.\n")
    (docs / "b.bin").write_bytes(b"\x00\x01")
    env = {"QA_BOT_INDEX_DIR": str(tmp_path / "ix")}
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "index", str(docs)], capture_output=True,
                       text=True, env={**os.environ, **env}, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "1 added, 0 updated, 0 unchanged, 0 removed, 1 skipped" in r.stdout
    assert "b.bin: unsupported file type" in r.stderr
    assert (tmp_path / "ix" / "state.json").exists()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["ask", "anything"], {}, "no index at"),
        (["index", "/definitely/not/here"], {}, "no such file or folder: /definitely/not/here"),
        (["ask", "x"], {"QA_BOT_TOP_K": "many"}, "bad setting QA_BOT_TOP_K"),
        (["ask"], {}, "give one QUESTION or --questions FILE"),
    ],
)
def test_user_mistakes_are_one_line_not_a_traceback(tmp_path, args, env, message):
    r = qa_bot(*args, index_dir=tmp_path / "empty-index", env=env)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_eval_passes_on_the_canned_cases(seed_index):
    r = qa_bot("eval", "--json", str(SEED_CASES), index_dir=seed_index)
    result = json.loads(r.stdout)
    failed = [(c["question"], c["problems"]) for c in result["cases"] if not c["passed"]]
    assert failed == [] and r.returncode == 0
    assert result["total"] >= 25
    assert sum(c["refuse"] for c in result["cases"]) >= 4


def test_eval_fails_with_a_table_when_a_case_fails(seed_index, tmp_path):
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"cases": [
        {"question": "How many countries co-sponsored the document?", "expect_any": ["107"]},
        {"question": "How many countries co-sponsored the document?", "expect_any": ["108"]},
        {"question": "How many countries co-sponsored the document?", "refuse": True},
    ]}))
    r = qa_bot("eval", str(cases), index_dir=seed_index)
    assert r.returncode == 1
    assert "1/3 passed" in r.stdout and "FAIL" in r.stdout


def test_eval_rejects_a_malformed_cases_file(seed_index, tmp_path):
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"cases": [{"question": "ok?", "expect_any": "107"}]}))
    r = qa_bot("eval", str(cases), index_dir=seed_index)
    assert r.returncode == 2 and "cases.0.expect_any" in r.stderr


def test_chat_answers_until_eof(seed_service):
    out: list[str] = []
    with create_pipe_input() as pipe:
        pipe.send_text("How many countries co-sponsored the document?\n\n/quit\nnot reached\n")
        session = PromptSession(input=pipe, output=DummyOutput())
        run_chat(seed_service, session=session, echo=out.append)
    answers = out[1:]
    assert len(answers) == 1 and "107" in answers[0] and "Sources:" in answers[0]


def test_index_watch_and_status_default_to_the_indexed_folders_and_forget_drops_one(tmp_path, monkeypatch):
    docs, other = tmp_path / "docs", tmp_path / "other"
    for folder, name, text in ((docs, "keeper.txt", "The lighthouse keeper is called Marguerite Olsen.\n"),
                               (other, "ferry.txt", "The ferry to Skellig leaves at nine every morning.\n")):
        folder.mkdir()
        (folder / name).write_text(text)
    index_dir = tmp_path / "ix"

    def run(*args):
        return CliRunner().invoke(cli, ["--index-dir", str(index_dir), *args])

    assert run("index", str(docs), str(other)).exit_code == 0
    monkeypatch.chdir(tmp_path)  # no seeds/ here: only a new index starts from seeds/
    again = run("index")
    assert again.exit_code == 0, again.output
    assert "0 added, 0 updated, 2 unchanged, 0 removed" in again.stdout
    assert json.loads(run("status", "--json").stdout)["roots"] == [str(docs), str(other)]

    gone = run("forget", str(other))
    assert gone.exit_code == 0, gone.output
    assert gone.stdout == f"forgot {other}: 1 documents removed, 1 chunks left in {index_dir}\n"
    status = json.loads(run("status", "--json").stdout)
    assert status["roots"] == [str(docs)] and not status["drift"] and status["documents"] == 1
    assert "0 added, 0 updated, 1 unchanged, 0 removed" in run("index").stdout
    answer = json.loads(run("ask", "--json", "When does the ferry to Skellig leave?").stdout)
    assert all("ferry.txt" not in c["source"] for c in answer["citations"])

    again = run("forget", str(other))
    assert again.exit_code == 2 and again.output == f"qa-bot: error: {other}: not in the index (its folders: {docs})\n"


def test_an_index_folder_inside_the_indexed_folder_is_ignored_and_readable_by_others(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "keeper.txt").write_text("The lighthouse keeper is called Marguerite Olsen.\n")
    index_dir = docs / "index"
    old = os.umask(0o022)
    try:
        first = CliRunner().invoke(cli, ["--index-dir", str(index_dir), "index", str(docs)])
    finally:
        os.umask(old)
    again = CliRunner().invoke(cli, ["--index-dir", str(index_dir), "index", str(docs)])
    assert first.exit_code == 0 and again.exit_code == 0
    assert "skipped" not in again.stderr and "0 added, 0 updated, 1 unchanged, 0 removed, 0 skipped" in again.stdout
    for path in [index_dir, *index_dir.rglob("*")]:  # a bot running as another user can read it all
        mode = path.stat().st_mode
        assert mode & stat.S_IROTH and (not path.is_dir() or mode & stat.S_IXOTH), (path, oct(mode))


def test_user_errors_are_one_line_but_a_bug_keeps_its_traceback(seed_index, monkeypatch):
    from qa_bot.answer import ExtractiveAnswerer

    runner = CliRunner()
    empty = runner.invoke(cli, ["--index-dir", str(seed_index), "ask", "   "])
    assert empty.exit_code == 2 and empty.stderr == "qa-bot: error: the question is empty\n"

    def bug(self, question, passages):
        raise ValueError("a bug, not the user's doing")

    monkeypatch.setattr(ExtractiveAnswerer, "answer", bug)
    crashed = runner.invoke(cli, ["--index-dir", str(seed_index), "ask", "How many countries co-sponsored it?"])
    assert crashed.exit_code == 1 and isinstance(crashed.exception, ValueError)  # not turned into "error: ..."
    assert "qa-bot: error" not in crashed.output
