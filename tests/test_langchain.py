"""qa-bot's LangChain face, checked by LangChain's own standard test suites."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from qa_bot.langchain import QABotEmbeddings, QABotRetriever


class QABotEmbeddingsParams:
    @property
    def embeddings_class(self) -> type[QABotEmbeddings]:
        return QABotEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {}


class TestQABotEmbeddingsUnit(QABotEmbeddingsParams, EmbeddingsUnitTests):
    pass


class TestQABotEmbeddingsIntegration(QABotEmbeddingsParams, EmbeddingsIntegrationTests):
    pass


class TestQABotRetrieverIntegration(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _index(self, seed_index: Path) -> None:
        self.index_dir = seed_index

    @property
    def retriever_constructor(self) -> type[QABotRetriever]:
        return QABotRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"index_dir": self.index_dir}

    @property
    def retriever_query_example(self) -> str:
        return "How many countries co-sponsored the draft resolution?"


def test_retrieved_documents_carry_their_citation(seed_index):
    docs = QABotRetriever(index_dir=seed_index, k=2).invoke("How many countries co-sponsored the draft resolution?")

    assert len(docs) == 2 and "107 countries" in docs[0].page_content
    meta = docs[0].metadata
    assert meta["source"].endswith(".txt") and meta["start_line"] <= meta["end_line"]
    assert meta["chunk_id"] == docs[0].id and meta["score"] >= docs[1].metadata["score"]
    lines = Path(meta["source"]).read_text(encoding="utf-8").splitlines()
    assert docs[0].page_content.split("\n")[0] in "\n".join(lines[meta["start_line"] - 1 : meta["end_line"]])


def test_embeddings_match_what_qa_bot_indexes_with(encoder):
    vec = QABotEmbeddings().embed_query("draft resolution on information security")
    assert len(vec) == 384
    assert sum(a * b for a, b in zip(vec, encoder.query_vector("draft resolution on information security"))) > 0.999
