"""Rule-based follow-up resolution: make "when did it happen?" retrievable on its own.

Retrieval sees one question at a time, so a follow-up whose subject is a pronoun finds
nothing. When the question leans on a reference word and there is an earlier turn, the
content of the previous question (its proper-noun phrases, then its other content words)
is appended, which is enough for lexical and dense retrieval to find the same passages.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .text import STOPWORDS

if TYPE_CHECKING:
    from .schema import Answer

MAX_TURNS = 6  # earlier turns a conversation (REPL or Discord thread) keeps to resolve follow-ups

REFERENCES = frozenset(
    "it they them its their this that he she his her those these".split()
)

_TOKEN = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*", re.UNICODE)
# Words that start questions or carry no topic even when capitalised.
_NOISE = STOPWORDS | frozenset("many much please ok okay thanks".split())


def remember(history: list[tuple[str, str]], answer: Answer) -> list[tuple[str, str]]:
    """The conversation with `answer`'s turn added (its standalone question), the oldest turns
    dropped beyond MAX_TURNS."""
    return (history + [(answer.question, answer.text)])[-MAX_TURNS:]


def condense(question: str, history: list[tuple[str, str]]) -> str:
    """A standalone version of `question` given earlier (question, answer) turns, oldest first."""
    if not history or not _has_reference(question):
        return question
    already = {w.lower() for w in _TOKEN.findall(question)}
    context = [p for p in salient(history[-1][0]) if not set(p.lower().split()) <= already]
    if not context:
        return question
    return f"{question.strip()} ({', '.join(context)})"


def _has_reference(question: str) -> bool:
    return any(w.lower() in REFERENCES for w in _TOKEN.findall(question))


def salient(question: str) -> list[str]:
    """Proper-noun phrases ("Joe Biden", "UN General Assembly") and content words, in order."""
    phrases: list[str] = []
    name: list[str] = []  # the capitalised run being read
    for word in _TOKEN.findall(question) + [""]:  # "" flushes the last run
        if word and word[0].isupper() and word.lower() not in _NOISE:
            name.append(word)
            continue
        if name:
            phrases.append(" ".join(name))
            name = []
        low = word.lower()
        if low not in _NOISE and low not in REFERENCES and (len(low) > 2 or low.isdigit()):
            phrases.append(low)
    seen: set[str] = set()
    return [p for p in phrases if not (p.lower() in seen or seen.add(p.lower()))]
