"""Word and sentence handling shared by lexical search and the extractive answerer."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# A number written with thousands separators is one word ("10,000" meets "10000" as a term).
_WORD = re.compile(r"(?<!\d)\d{1,3}(?:,\d{3})+(?!\d)|[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves s t d ll m o re ve y
    according said says tell know""".split()
)
# Contractions, matched without their apostrophe since chat drops it ("whats", "dont"): as common
# as the words they shorten, but rare in documentation, so corpus idf made them a question's
# heaviest term. Forms that are also words of their own (id, ill, well, shed) are left out.
CONTRACTIONS = frozenset(
    """whats hows wheres whos whens whys thats theres heres im ive youre youve youll youd hes shes
    theyre theyve theyll weve dont doesnt didnt cant cannot couldnt shouldnt wouldnt wont isnt arent
    wasnt werent hasnt havent hadnt lets""".split()
)

# Short forms people type in chat for words documentation spells out ("env var" for "environment
# variable", "repo", "mac"): each is read as its full word, in the documents and in questions alike,
# so the two meet. Only forms with no other common meaning; "dev" and "conf" stay as typed (flags
# and file names: `--dev`, pip.conf).
ALIASES = {
    "env": "environment", "envs": "environments", "var": "variable", "vars": "variables",
    "dir": "directory", "dirs": "directories", "repo": "repository", "repos": "repositories",
    "config": "configuration", "configs": "configurations", "dep": "dependency", "deps": "dependencies",
    "pkg": "package", "pkgs": "packages", "mac": "macos", "auth": "authentication",
}

_stemmer = Stemmer.Stemmer("english")


def _unaccented(word: str) -> str:
    """`word` without the accents on its Latin letters: people type "Schrodinger" and "Theoden"
    for the documents' "Schrödinger" and "Théoden". Marks on other scripts' letters stay."""
    if word.isascii():
        return word
    kept: list[str] = []
    for ch in unicodedata.normalize("NFKD", word):
        if not (unicodedata.combining(ch) and kept and kept[-1].isascii()):
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    word = _unaccented(word)
    word = ALIASES.get(word, word)
    stem = _stemmer.stemWord(word)
    # Snowball turns a final y into i ("copy" -> "copi", to meet "copies"), which made "pypy" and
    # "pypi" one term; a word that itself ends in i ("pypi", "apis", "cli") keeps a mark of it.
    own_i = word.removesuffix("'s").removesuffix("s").endswith("i")
    return stem + "i" if own_i and stem.endswith("i") else stem


def words(text: str, lower: bool = True) -> list[str]:
    return _WORD.findall(text.lower() if lower else text)


# "US" and "U.S." lowercased are the stop word "us": written out, they meet "United States".
_US = re.compile(r"\bU\.S\.(?:A\.)?|\bUSA?\b")


# A file or package name as people type it ("environment.yml", "poetry.lock", "node.js"): parts of
# two or more characters, each starting with a letter, joined by dots. Initials ("U.S.", "e.g.")
# and versions ("3.12") are none.
_DOTTED = re.compile(r"(?<![\w.])[^\W\d_]\w+(?:\.[^\W\d_]\w+)+(?!\w)")


def dotted_names(text: str, lower: bool = True) -> list[str]:
    """The file and package names in `text`."""
    return _DOTTED.findall(text.lower() if lower else text)


# A thing and its number ("sprint 2", "Python 3.12", "step 4"): the word right before a number.
_NUMBERED = re.compile(r"([^\W\d_][\w'’-]*)\s+(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)*)(?!\w)")


def numbered_mentions(text: str) -> set[tuple[str, str]]:
    """(term, number) for each numbered thing `text` names; stop words before a number ("in
    2010") name nothing."""
    out = set()
    for word, number in _NUMBERED.findall(text):
        term = terms(word)
        if term:
            out.add((term[-1], number.replace(",", "")))
    return out


def contradicts(asked: set[tuple[str, str]], text: str) -> bool:
    """Whether `text` names a thing the question numbers only with other numbers ("Sprint 3"
    for "sprint 2")."""
    if not asked:
        return False
    said = numbered_mentions(text)
    return any((t, n) not in said and any(s == t for s, _ in said) for t, n in asked)


def term_pairs(text: str) -> list[tuple[str, str]]:
    """(word, stemmed term) for each content word."""
    text = _US.sub("United States", text)
    return [(w, _stem(w.replace("’", "'").replace(",", ""))) for w in words(text)
            if w not in STOPWORDS and w.replace("'", "").replace("’", "") not in CONTRACTIONS]


def terms(text: str) -> list[str]:
    """Stemmed content words: what lexical matching compares."""
    return [t for _, t in term_pairs(text)]


@lru_cache(maxsize=65536)
def specificity(word: str) -> float:
    """0..1, how rare `word` is in general English (wordfreq's Zipf scale: 'the' ~7.7)."""
    from wordfreq import zipf_frequency

    return min(max((7.5 - zipf_frequency(word, "en")) / 7.5, 0.05), 1.0)


# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a likely
# sentence start, or at a line break. Common abbreviations do not end sentences.
_END = re.compile(r"""(?<=[.!?])(["'”’)\]]*)\s+(?=["'“‘(\[]?[A-Z0-9])|\n+""")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|Gen|Gov|Sen|Rep|Col|Lt|Capt|Inc|Ltd|Co|Corp|vs|etc|"
    r"No|Vol|Fig|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|e\.g|i\.e|approx|ca)\.|"
    r"\b[A-Z]\.|\b(?:[A-Z]\.){2,})$"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, whitespace trimmed, verbatim slices."""
    spans, start = [], 0
    for m in _END.finditer(text):
        end = m.start() + len(m.group(1) or "")
        if m.group(1) is not None and "\n" not in m.group() and _ABBREV.search(text[start:end]):
            continue
        spans.append((start, end))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out
