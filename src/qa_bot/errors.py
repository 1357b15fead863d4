"""The errors qa-bot's user is meant to read (after simonw/llm's `errors.py`).

Each message is one line saying what is wrong and what to do about it. The command line prints
it and exits with code 2; the Discord bot logs it at start-up and stops. Any other exception is
a bug, and keeps its traceback.
"""

from __future__ import annotations


class QABotError(Exception):
    """Something the user can fix; the message says what."""


# Also ValueErrors: what library callers caught before these types existed.
class ConfigError(QABotError, ValueError):
    """A setting or backend that cannot work as given (QA_BOT_LLM, a missing extra or model file)."""


class InputError(QABotError, ValueError):
    """A question, path or file the user gave that cannot be used as it is."""


class StoreError(QABotError):
    """The index folder is missing, unreadable or from incompatible settings."""
