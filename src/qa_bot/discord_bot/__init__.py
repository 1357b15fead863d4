"""The Discord transport: ask the documents with /ask, a mention, or a follow-up in a thread."""

from .bot import QABot, run
from .cog import QACog, Services

__all__ = ["QABot", "QACog", "Services", "run"]
