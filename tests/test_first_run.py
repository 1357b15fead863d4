"""What a new user meets first: help, logging flags, the chat REPL, settings errors, the published
JSON schema, the eval table and the first-run model export (issue 11, first-run polish)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import jsonschema
import pytest
from click.testing import CliRunner
from prompt_toolkit import PromptSession
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from qa_bot.chat import ChatHistory, run_chat
from qa_bot.cli import cli
from qa_bot.evaluate import CONFIDENCE_NOTE
from qa_bot.format import clip
from qa_bot.schema import answer_json_schema
from qa_bot.settings import Settings
from tests.conftest import ROOT
from tests.test_cli import qa_bot

COUNTRIES = "How many countries co-sponsored the document?"


@pytest.mark.parametrize("args", [["-h"], ["ask", "-h"], ["index", "-h"]])
def test_dash_h_is_help(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0 and result.output.startswith("Usage: ")


def test_quiet_and_verbose_control_logging(seed_index):
    loud = qa_bot("-vv", "ask", COUNTRIES, index_dir=seed_index)
    assert loud.returncode == 0 and " DEBUG " in loud.stderr
    plain = qa_bot("ask", COUNTRIES, index_dir=seed_index)
    assert plain.returncode == 0 and plain.stderr == ""
    quiet = qa_bot("--quiet", "ask", COUNTRIES, index_dir=seed_index, env={"QA_BOT_LOG_LEVEL": "DEBUG"})
    assert quiet.returncode == 0 and quiet.stderr == "" and "107" in quiet.stdout  # the flag wins over the env
    both = CliRunner().invoke(cli, ["-q", "-v", "ask", "x"])
    assert both.exit_code == 2 and "give --quiet or --verbose, not both" in both.output


def test_shell_completion_documented_in_the_readme_works():
    readme = (ROOT / "README.md").read_text()
    assert 'eval "$(_QA_BOT_COMPLETE=bash_source qa-bot)"' in readme
    r = qa_bot(env={"_QA_BOT_COMPLETE": "bash_source"})
    assert r.returncode == 0 and "_qa_bot_completion()" in r.stdout


@pytest.mark.parametrize("value", ["123,456", " 123 , 456 ", "[123, 456]"])
def test_discord_channels_take_the_comma_form_or_json(monkeypatch, value):
    monkeypatch.setenv("QA_BOT_DISCORD_CHANNELS", value)
    assert Settings(_env_file=None).discord_channels == [123, 456]


@pytest.mark.parametrize(("name", "value", "form"), [
    ("QA_BOT_DISCORD_CHANNELS", "123;456", "as 123,456 or as a JSON list [123, 456]"),
    ("QA_BOT_DISCORD_CHANNEL_INDEXES", "123=index-a", 'e.g. {"123": "index-a", "456": "index-b"}'),
])
def test_a_bad_discord_setting_is_one_line_naming_the_variable_and_the_form(tmp_path, name, value, form):
    r = qa_bot("ask", "anything", index_dir=tmp_path / "ix", env={name: value})
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert f"bad setting {name}:" in r.stderr and form in r.stderr


def test_chat_names_the_index_lists_commands_and_keeps_blank_lines_out_of_history(seed_service, tmp_path):
    out: list[str] = []
    history = tmp_path / "history"
    with create_pipe_input() as pipe:
        pipe.send_text(f"/help\n   \n\t\n/nonsense\n{COUNTRIES}\n/quit\n")
        session = PromptSession(input=pipe, output=DummyOutput(), history=ChatHistory(str(history)))
        run_chat(seed_service, session=session, echo=out.append)
    banner, help_text, unknown, answer = out
    assert str(seed_service.storage.location) in banner and "/help" in banner
    assert "/help" in help_text and "/quit" in help_text and "Sources:" not in help_text
    assert unknown == "unknown command /nonsense; /help lists commands"
    assert "107" in answer and "Sources:" in answer  # the only question asked
    stored = [line[1:] for line in history.read_text().splitlines() if line.startswith("+")]
    assert stored == ["/help", "/nonsense", COUNTRIES, "/quit"]


def test_piped_chat_prints_answers_only(seed_index):
    r = qa_bot("chat", index_dir=seed_index, stdin=f"{COUNTRIES}\n\nWho leads the GGE?\n")
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("Apart from Russia and the US, 107 countries")  # the answer, nothing before it
    assert "Asking the index" not in r.stdout and "? " not in r.stdout.replace("?\n", "")
    assert r.stdout.count("Sources:") + r.stdout.count("The closest passages") == 2


def test_ask_json_validates_against_the_published_schema(seed_index, seed_service):
    published = json.loads((ROOT / "docs" / "answer.schema.json").read_text())
    assert published == answer_json_schema(), "docs/answer.schema.json is stale: qa-bot schema > it"
    r = qa_bot("schema")
    assert r.returncode == 0 and json.loads(r.stdout) == published
    validator = jsonschema.Draft202012Validator(published)
    assert "notice" in published["properties"] and published["properties"]["notice"]["description"]
    asked = qa_bot("ask", "--json", "--questions", "-", index_dir=seed_index,
                   stdin=f"{COUNTRIES}\nWhat is the capital of Australia?\n")
    rows = [json.loads(line) for line in asked.stdout.splitlines()]
    assert [row["refused"] for row in rows] == [False, True]
    noticed = replace(seed_service.answer(COUNTRIES), notice="the LLM's answer cited no source").to_dict()
    for row in [*rows, noticed]:
        validator.validate(row)
    rows[0]["surprise"] = 1  # the schema is closed: a field added to the output must be published
    assert not validator.is_valid(rows[0])


def test_clip_cuts_between_words_with_an_ellipsis():
    text = "The General Assembly adopted the resolution on information security by consensus"
    for width in range(4, len(text)):
        cut = clip(text, width)
        assert len(cut) <= width and cut.endswith("…")
        head = cut[:-1]
        assert text.startswith(head) and text[len(head)] == " ", cut  # a whole word ends the cut
    assert clip(text, len(text)) == text
    assert clip("Supercalifragilistic word", 8) == "Superca…"  # one word longer than the room


def test_eval_table_labels_its_confidence_and_cuts_answers_between_words(seed_index, seed_service, tmp_path):
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"cases": [{"question": COUNTRIES, "expect_any": ["107"]},
                                           {"question": COUNTRIES, "expect_any": ["108"]}]}))
    r = qa_bot("eval", str(cases), index_dir=seed_index, env={"COLUMNS": "250"})
    assert r.returncode == 1
    header = next(line for line in r.stdout.splitlines() if "question" in line)
    assert re.search(r"result\s*┃\s*confidence\s*┃\s*answer / problem", header)
    answer = seed_service.answer(COUNTRIES)
    assert len(re.findall(rf"│\s+{answer.confidence:.0%} │", r.stdout)) == 2
    assert clip(answer.text, 120) in r.stdout and f"— {clip(answer.text, 80)}" in r.stdout
    assert " ".join(r.stdout.split()).endswith(CONFIDENCE_NOTE)


@pytest.mark.slow
def test_first_run_says_it_is_preparing_the_model_once(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Otters hold hands while they sleep.\n")
    env = {"QA_BOT_MODEL_CACHE_DIR": str(tmp_path / "cache"), "QA_BOT_EMBED_BACKEND": "onnx"}
    first = qa_bot("index", str(docs), index_dir=tmp_path / "ix", env=env)
    assert first.returncode == 0, first.stderr
    said, *progress = first.stderr.strip().splitlines()
    assert said == f"first run: preparing the embedding model (ONNX export, about 15 s, once) in {tmp_path / 'cache'}"
    assert all(re.fullmatch(r"\w[\w ]*: \d+/\d+, \d+ s", line) for line in progress), progress  # slow: progress lines
    again = qa_bot("ask", "What do otters hold?", index_dir=tmp_path / "ix", env=env)
    assert again.returncode == 0 and again.stderr == "" and "hands" in again.stdout


def test_quiet_index_prints_no_library_debug_lines(tmp_path):
    # bm25s sets its own logger to DEBUG; --quiet must still mean errors only.
    r = qa_bot("-q", "index", str(ROOT / "seeds"), index_dir=tmp_path / "ix")
    assert r.returncode == 0 and r.stderr == "", r.stderr
