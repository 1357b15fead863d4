"""Chroma server mode: index, sync, ask, eval and status against a real `chroma run`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qa_bot.cli import cli
from qa_bot.indexer import Index
from qa_bot.service import QAService
from qa_bot.storage import Storage
from qa_bot.store import StoreError
from tests.conftest import ROOT, SEEDS, make_settings
from tests.ops.conftest import KEEPER_Q, build, cited, index_name


def test_index_sync_and_ask_through_a_server_shared_by_two_services(docs, tmp_path, encoder, chroma_server):
    index_dir = index_name(tmp_path)
    settings = make_settings(index_dir, chroma_url=chroma_server.url)
    writer = build(docs, index_dir, encoder, chroma_url=chroma_server.url)
    reader = QAService(settings, encoder=encoder)  # another bot process sharing the server
    assert "Marguerite Olsen" in reader.answer(KEEPER_Q).text
    assert not index_dir.exists(), "server mode must write nothing locally"

    (docs / "keeper.txt").write_text("The lighthouse keeper is called Bartholomew Finch.\n")
    report = Index(settings, encoder).sync([docs])
    assert report.updated == [str((docs / "keeper.txt").resolve())]
    for service in (writer, reader):  # both rebuild BM25 from the server's chunks on the new generation
        answer = service.answer(KEEPER_Q)
        assert "Bartholomew Finch" in answer.text and "Olsen" not in answer.text
        assert service.generation == Storage.open(settings).manifest.load().lexical_generation

    (docs / "keeper.txt").unlink()
    Index(settings, encoder).sync([docs])
    assert "keeper.txt" not in cited(reader.answer(KEEPER_Q))
    storage = Storage.open(settings)
    owned = {i for e in storage.manifest.load().files.values() for i in e.chunks}
    assert storage.store.all_ids() == owned and owned


def test_cli_index_ask_eval_status_work_unchanged_in_server_mode(tmp_path, seed_index, chroma_server, monkeypatch):
    cases = str(ROOT / "tests" / "cases" / "seeds.yaml")
    runner = CliRunner()
    embedded = runner.invoke(cli, ["--index-dir", str(seed_index), "eval", "--json", cases])
    monkeypatch.setenv("QA_BOT_CHROMA_URL", chroma_server.url)
    monkeypatch.setenv("QA_BOT_INDEX_DIR", str(index_name(tmp_path)))
    indexed = runner.invoke(cli, ["index", str(SEEDS)])
    assert indexed.exit_code == 0, indexed.output
    assert f"indexed into {chroma_server.url}" in indexed.output
    ask = runner.invoke(cli, ["ask", "--json", "How many countries co-sponsored the document?"])
    assert ask.exit_code == 0 and "107" in json.loads(ask.output)["text"]
    served = runner.invoke(cli, ["eval", "--json", cases])
    assert served.exit_code == embedded.exit_code
    assert _verdicts(served.output) == _verdicts(embedded.output)  # same answers, case by case
    status = runner.invoke(cli, ["status"])
    assert status.exit_code == 0 and "drift:      none" in status.output
    assert chroma_server.url in status.output


def _verdicts(eval_json: str) -> list[tuple]:
    """Pass/fail, refusal and the first citation per case. Not the whole text: a local index answers
    from exact snapshot vectors, a server through Chroma, and similarities that differ in the 7th
    digit may tip a near-tie over whether a second sentence is shown."""
    cases = json.loads(eval_json)["cases"]
    return [(c["passed"], c["answer"]["refused"], [(x["source"], x["start_line"], x["quote"])
                                                  for x in c["answer"]["citations"][:1]]) for c in cases]


def test_stopped_server_gives_one_clear_line_then_the_next_question_retries(docs, tmp_path, encoder,
                                                                           own_chroma_server, monkeypatch):
    index_dir = index_name(tmp_path)
    service = build(docs, index_dir, encoder, chroma_url=own_chroma_server.url)
    own_chroma_server.stop()
    with pytest.raises(StoreError) as failure:
        service.answer(KEEPER_Q)
    message = str(failure.value)
    assert "cannot reach the Chroma server at " + own_chroma_server.url in message and "\n" not in message

    monkeypatch.setenv("QA_BOT_CHROMA_URL", own_chroma_server.url)
    monkeypatch.setenv("QA_BOT_INDEX_DIR", str(index_dir))
    down = CliRunner().invoke(cli, ["ask", KEEPER_Q])
    assert down.exit_code == 2 and down.output.startswith("qa-bot: error: cannot reach the Chroma server")
    assert len(down.output.strip().splitlines()) == 1

    own_chroma_server.start()  # same port, same data: the same service object recovers
    assert "Marguerite Olsen" in service.answer(KEEPER_Q).text
