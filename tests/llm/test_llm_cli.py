"""The REPL and `qa-bot ask` with an LLM backend (the scripted server as the peer)."""

from __future__ import annotations

import json

from prompt_toolkit import PromptSession
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from qa_bot.chat import run_chat
from tests.test_cli import qa_bot

from .fake_openai import Reply
from .test_generative import COUNTRIES, good


class Terminal:
    """A non-tty stdout that records each write, interleaved with echoed lines in `events`."""

    def __init__(self, events: list[tuple[str, str]]):
        self.events = events

    def write(self, text: str) -> None:
        self.events.append(("token", text))

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_chat_streams_the_draft_then_prints_the_checked_answer(fake_llm, llm_service):
    fake_llm.add(Reply(good, chunk_delay=0.01))
    events: list[tuple[str, str]] = []
    with create_pipe_input() as pipe:
        pipe.send_text(f"{COUNTRIES}\n/quit\n")
        run_chat(llm_service(), session=PromptSession(input=pipe, output=DummyOutput()),
                 echo=lambda line: events.append(("echo", line)), out=Terminal(events))

    kinds = [kind for kind, _ in events]
    first_echo_after_greeting = kinds.index("echo", 1)
    tokens = [text for kind, text in events[:first_echo_after_greeting] if kind == "token"]
    assert len(tokens) >= 10 and "107 countries" in "".join(tokens)  # streamed, piece by piece
    final = events[first_echo_after_greeting][1]
    assert final.startswith("Apart from Russia and the US, 107 countries have co-sponsored the document. [1]")
    assert "Sources:\n[1] seeds/000_a9a644aeed6d5ccb.txt, line 3" in final


def test_ask_with_llm_flag_answers_through_the_server(fake_llm, seed_index):
    fake_llm.add(Reply(good))
    r = qa_bot("ask", "--json", "--llm", "openai:fake-model", COUNTRIES, index_dir=seed_index,
               env={"QA_BOT_LLM_BASE_URL": fake_llm.base_url})
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["notice"] is None and obj["text"].endswith("document. [1]") and len(obj["citations"]) == 1
    assert fake_llm.requests[0]["body"]["model"] == "fake-model"


def test_ask_shows_the_notice_when_the_server_fails(fake_llm, seed_index):
    fake_llm.add(Reply(status=500))
    r = qa_bot("ask", "--llm", "openai:fake-model", COUNTRIES, index_dir=seed_index,
               env={"QA_BOT_LLM_BASE_URL": fake_llm.base_url})
    assert r.returncode == 0, r.stderr
    assert "107" in r.stdout and "Sources:" in r.stdout
    assert r.stdout.rstrip().splitlines()[-1].startswith("note: The language model (openai:fake-model) failed")


def test_bad_llm_spec_is_one_line(seed_index):
    r = qa_bot("ask", "--llm", "gpt4", COUNTRIES, index_dir=seed_index)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "expected extractive, openai:<model>" in r.stderr
