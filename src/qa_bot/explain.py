"""Why qa-bot declined: what it looked at, and which of the question's words none of that holds.

A bare "I could not find it" leaves the user guessing whether the documents miss the topic or
the question was worded past them; naming the closest passages and the missing words tells which.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .lexical import LexicalIndex
from .schema import Answer, Passage, location
from .text import dotted_names, term_pairs, terms, words

# Below this a word is too common to be what the documents lack: at 0.2 a refusal named "need"
# ("none of them mentions “need”") as the reason; "capital" and "Australia" weigh 0.33.
MIN_WEIGHT = 0.25
SHOWN = 2  # closest passages named
TOPIC_WORDS = 8


def unmatched(question: str, passages: Sequence[Passage], lexical: LexicalIndex, limit: int = 2) -> tuple[str, ...]:
    """The file names the question asks about and its most specific words that none of `passages`
    contains, names first, then the words most specific first."""
    held = [p.chunk.indexed_text.lower() for p in passages]
    names = tuple(n for n in dict.fromkeys(dotted_names(question, lower=False))  # as the user wrote them
                  if not any(n.lower() in text for text in held))
    present = set().union(*(terms(p.chunk.indexed_text) for p in passages))
    weights = lexical.term_weights(question)
    spelled = {w.lower(): w for w in words(question, lower=False)}  # shown as the user wrote it
    found: dict[str, float] = {}
    for word, term in term_pairs(question):
        if term not in present and weights.get(term, 0.0) >= MIN_WEIGHT:
            found.setdefault(spelled.get(word, word), weights[term])
    return (names + tuple(sorted(found, key=found.get, reverse=True)))[:limit]


def why_refused(answer: Answer, name: Callable[[str], str] = str) -> str | None:
    """One sentence for a refusal: "The closest passages were about X (file, lines) and Y (...);
    none of them mentions “Z”." `name` shows a source path (the Discord bot hides server paths)."""
    if not answer.refused or not answer.passages:
        return None
    places = []
    for p in answer.passages[:SHOWN]:
        c = p.chunk
        where = ", ".join(filter(None, (name(p.source), location(c.start_line, c.end_line, c.page))))
        places.append(f"{_topic(p)} ({where})")
    about = " and ".join(places)
    if answer.unmatched:
        missing = " or ".join(f"“{w}”" for w in answer.unmatched)
        return f"The closest passages were about {about}; none of them mentions {missing}."
    return f"The closest passages were about {about}, but none of them answers the question."


def _topic(p: Passage) -> str:
    """What a passage is about: its heading path, else its opening words."""
    if p.chunk.heading:
        return p.chunk.heading
    opening = p.chunk.text.split()
    head = " ".join(opening[:TOPIC_WORDS])
    return f"“{head}…”" if len(opening) > TOPIC_WORDS else f"“{head}”"
