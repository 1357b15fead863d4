"""Fixtures for the generative tests: the scripted OpenAI-compatible peer and services on it."""

from __future__ import annotations

import re

import pytest

from qa_bot.service import QAService
from tests.conftest import make_settings

from .fake_openai import FakeOpenAI

_PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.DOTALL)


@pytest.fixture
def fake_llm():
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@pytest.fixture
def llm_service(fake_llm, seed_index, encoder):
    """llm_service(**settings) -> a QAService answering through the fake server."""
    def make(**overrides) -> QAService:
        overrides.setdefault("llm_timeout", 5.0)
        settings = make_settings(seed_index, llm="openai:fake-model", llm_base_url=fake_llm.base_url, **overrides)
        return QAService(settings, encoder=encoder)

    return make


def passages_in(body: dict) -> dict[int, str]:
    """The numbered passages of the question the model was asked (the last user message)."""
    return {int(n): text for n, text in _PASSAGE.findall(body["messages"][-1]["content"])}


def passage_with(body: dict, needle: str) -> int:
    """The number of the passage that contains `needle`, as a cited answer would write it."""
    return next(n for n, text in passages_in(body).items() if needle in text)
