"""What kind of thing a question asks for (a number, a time, a name, a place), and whether a
sentence holds one: a ranking feature of the extractive answerer and a check on an LLM's answer."""

from __future__ import annotations

import re
from functools import lru_cache

_YEARISH = re.compile(
    r"\b(1\d{3}|20\d{2}|\d{1,2}(st|nd|rd|th)?|january|february|march|april|may|june|july|august|"
    r"september|october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"today|yesterday|tomorrow|century|centuries|decade|bc|ad)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|thousand|million|billion|dozen|half|several)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w’'-]+")
# Documentation answers "how do I ..." with a command and "where ..." often with a path.
_HOWTO = re.compile(r"\bhow (do|can|should|would|could) (i|we|you)\b|\bhow to\b|^(can|could) (i|we|you)\b")
_CODE = re.compile(r"```|~~~|^ {4,}\S|`[^`\n]+`", re.MULTILINE)
_PATH = re.compile(r"`[^`\n]*[/\\%$~][^`\n]*`")
# The kinds an answer must hold (an LLM answer without one is wrong); "command" only ranks.
REQUIRED = frozenset({"number", "time", "name", "place"})
_TIME_NOUNS = r"year|date|day|month|century|decade|time"
_NUMBER_NOUNS = r"percentage|number|amount"
# "In what year did", "what percentage of": the noun only names the answer's kind; in "which date
# format" or "what time zone" it is part of what is asked about.
_TYPE_NOUN = re.compile(
    rf"\b(?:what|which) ((?:{_TIME_NOUNS}|{_NUMBER_NOUNS})s?)"
    r"(?=\s+(?:did|does|do|was|is|were|are|will|would|can|could|should|has|have|had|of|in|on|at|for|the|a|an)\b"
    r"|\s*[?.!]|\s*$)",
    re.IGNORECASE,
)


def expected_type(question: str) -> str | None:
    """"number", "time", "name", "place", "command" or "definition", as the question's wording
    asks; None for other questions."""
    q = question.lower()
    if re.search(rf"\bhow (many|much|long|old|far|big|large|tall|high|often)\b|\b(what|which) ({_NUMBER_NOUNS})s?\b", q):
        return "number"
    if re.search(rf"\bwhen\b|\b(what|which) ({_TIME_NOUNS})s?\b", q):
        return "time"
    if re.search(r"\bwho(m|se)?\b", q):
        return "name"
    if re.search(r"\bwhere\b", q):
        return "place"
    if _HOWTO.search(q):
        return "command"
    if definition_subject(question):
        return "definition"
    return None


# "what is a workspace", "whats a profile in oscal": the answer says what the thing is. The
# subject is a few words, no "of" (then "what is the capital of Australia" asks for a name), no
# final verb or preposition ("what is terra preta called", "what is the book about"), and not a
# default or an amount, which a value answers.
_DEFINITION_Q = re.compile(
    r"^\s*what(?:\s+(?:is|are)|s|'s|’s)\s+(?:(?:a|an|the)\s+)?"
    r"(?P<x>[\w`.-]+(?:\s+(?!(?:of|in)\b)[\w`.-]+){0,2}?)(?:\s+in\s+[\w.-]+(?:\s+[\w.-]+)?)?\s*\??\s*$",
    re.IGNORECASE,
)
_NOT_SUBJECT = {"called", "named", "used", "made", "known", "about", "like", "for", "meant", "there", "this",
                "that", "it", "they", "happening", "wrong", "new", "next", "up", "default", "average", "total",
                "number", "name", "difference", "best", "easiest", "point", "with", "to", "from", "by", "at"}


def definition_subject(question: str) -> str | None:
    """What a "what is X?" question asks to define, or None."""
    m = _DEFINITION_Q.match(question)
    if not m:
        return None
    x = m.group("x").strip("`").lower()
    return None if set(x.split()) & _NOT_SUBJECT else x


@lru_cache(maxsize=256)
def _definition_pattern(question: str) -> re.Pattern[str]:
    """What a sentence that says what the question's subject is looks like ("a workspace is ...",
    "Workspaces are ..."); built once per question, matched against each of its units."""
    name = r"\s+".join(re.escape(w) for w in (definition_subject(question) or "").split())
    return re.compile(rf"(?<![\w-])`?{name}`?s?\s+(?:is|are|means|refers to)\b", re.IGNORECASE)


# "the easiest way to install uv": a how-to question's framing, which the steps that answer it
# rarely repeat; rare in documentation, "easiest" outweighed "install" and "mac" together.
_MANNER = re.compile(
    r"\b(easiest|best|simplest|quickest|fastest|recommended|right|proper|correct|preferred|cleanest|usual)"
    r"\s+(way|ways|method|approach)\s+(?=(?:to|of|for)\b)",
    re.IGNORECASE,
)


def type_nouns(question: str) -> frozenset[str]:
    """The words that only name the kind of answer asked for ("on what date", "which year", "the
    easiest way to"): the answer holds a date or the steps, not the words, so they are not terms a
    sentence must hold."""
    nouns = {m.group(1).lower() for m in _TYPE_NOUN.finditer(question)}
    nouns.update(w.lower() for m in _MANNER.finditer(question) for w in m.groups())
    return frozenset(nouns)


def type_match(kind: str | None, sentence: str, question: str) -> float:
    """1 if `sentence` holds the kind of thing asked for (a number, a time, a name the question
    lacks), 0 if it does not, 0.5 when the question asks for no particular kind."""
    if kind is None:
        return 0.5
    if kind == "definition":
        return 1.0 if _definition_pattern(question).search(sentence) else 0.0
    if kind == "number":
        return 1.0 if _NUMBER.search(sentence) else 0.0
    if kind == "time":
        return 1.0 if _YEARISH.search(sentence) else 0.0
    if kind == "command":
        return 1.0 if _CODE.search(sentence) else 0.0
    if kind == "place" and _PATH.search(sentence):
        return 1.0
    q_words = {w.lower() for w in re.findall(r"[\w’'-]+", question)}
    names = [m.group() for m in _NAME.finditer(sentence) if m.group().lower() not in q_words]
    return 1.0 if names else 0.0
