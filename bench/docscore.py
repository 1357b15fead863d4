"""Scoring rules of bench/docs.py: the question file, each file's reference text, answer matching
and the quote-start rule. Kept apart from the runner so tests can check the rules on their own.

Reference text (what quotes are located in, whatever qa-bot version made them):
- Markdown / plain text: the raw file.
- HTML: the text of the parsed page (scripts and styles dropped) with a blank line at every
  block-level element boundary (p, li, dt, dd, pre, headings, table cells, div, ...), so an element
  start reads as a block start.
- PDF: pypdf's text of each page; pages are joined by a blank line (a page starts a block).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import lxml.html
import yaml
from common import strip_markers
from pypdf import PdfReader

BLOCK_TAGS = frozenset(
    "address article aside blockquote body dd details div dl dt figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot th thead tr ul br".split()
)
KINDS = ("howto", "default", "yesno", "comparison", "troubleshooting", "vague")


@dataclass(frozen=True, slots=True)
class DocQuestion:
    id: str
    q: str
    kind: str
    files: tuple[str, ...]  # paths under the corpus folder that answer it (empty: unanswerable)
    expect_any: tuple[str, ...]
    refuse: bool
    absent: tuple[str, ...]  # strings verified absent from the corpus (unanswerable only)
    scope: str | None  # the file `absent` was checked in, when not the whole corpus

    @property
    def source_kind(self) -> str:
        """Where the answer lives: md, html, pdf (first listed file), or none."""
        return Path(self.files[0]).suffix.lstrip(".") if self.files else "none"


def _strings(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def load_doc_questions(path: Path) -> list[DocQuestion]:
    """The question file; a malformed entry raises naming its id and field."""
    out = []
    for row in yaml.safe_load(path.read_text(encoding="utf-8")):
        qid = row.get("id", "?")
        q = DocQuestion(
            id=qid, q=row["q"], kind=row["kind"], files=_strings(row.get("file")),
            expect_any=_strings(row.get("expect_any")), refuse=bool(row.get("refuse", False)),
            absent=_strings(row.get("absent")), scope=row.get("scope"),
        )
        if q.kind not in KINDS:
            raise ValueError(f"{path}: question {qid}: kind {q.kind!r} is not one of {KINDS}")
        if q.refuse == bool(q.files and q.expect_any) or (q.refuse and not q.absent):
            raise ValueError(f"{path}: question {qid}: needs file + expect_any, or refuse + absent")
        out.append(q)
    return out


# -- reference text --------------------------------------------------------------------------
def _html_text(raw: str) -> str:
    root = lxml.html.fromstring(raw)
    for el in root.xpath("//script|//style|//template"):
        el.drop_tree()
    parts: list[str] = []

    def walk(el) -> None:
        block = isinstance(el.tag, str) and el.tag in BLOCK_TAGS
        if block:
            parts.append("\n\n")
        if isinstance(el.tag, str) and el.text:  # comments and processing instructions are skipped
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n\n")

    walk(root)
    return "".join(parts)


@cache
def reference_pages(path: Path) -> tuple[str, ...]:
    """The file's reference text, one entry per PDF page (a single entry for other formats)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return tuple(page.extract_text() or "" for page in PdfReader(path).pages)
    raw = path.read_text(encoding="utf-8", errors="replace")
    return (_html_text(raw),) if suffix in (".html", ".htm") else (raw,)


def reference_text(path: Path) -> str:
    return "\n\n".join(reference_pages(path))


# -- answer matching ---------------------------------------------------------------------------
_MARKUP = str.maketrans("", "", "`*")


def normalize_loose(text: str) -> str:
    """Lower case, [n] markers, backticks and asterisks dropped, whitespace collapsed; the rest
    (punctuation in commands, paths, `--flags`, env var names) is kept."""
    return " ".join(strip_markers(text).translate(_MARKUP).lower().split())


def holds_gold(text: str, golds: tuple[str, ...]) -> bool:
    """Whether `text` holds one of `golds` (both normalize_loose'd), not inside a longer word:
    where a gold starts or ends with a letter or digit, no letter or digit may touch it there."""
    hay = normalize_loose(text)
    for gold in filter(None, map(normalize_loose, golds)):
        before = r"(?<![a-z0-9])" if gold[0].isalnum() else ""
        after = r"(?![a-z0-9])" if gold[-1].isalnum() else ""
        if re.search(before + re.escape(gold) + after, hay):
            return True
    return False


# -- the quote-start and quote-end rules ---------------------------------------------------------
_ELLIPSIS = re.compile(r"^\s*(?:…|\.\.\.)?\s*|\s*(?:…|\.\.\.)?\s*$")
# Markup that opens a Markdown block when it starts a line: list item, heading, quote, table row,
# fence, admonition / content tab.
_BLOCK_MARKUP = re.compile(r"(?:[-*+]\s|\d+[.)]\s|#{1,6}\s|>|\||```|~~~|!!!|\?\?\?|===)")
_OPENERS = set("`#*-+>|[(\"'$!<_~{“‘")
_CLOSERS = "\"')]”’`*"
_FENCE_OR_HEADING = re.compile(r"\s*(?:```|~~~|#{1,6}\s)")
_SENTENCE_END = (".", "!", "?", ":")
_PAGE_NUMBER_LINE = re.compile(r"\n\s*\d{1,4}\s*$")


def _trim(quote: str) -> str:
    """The quote without surrounding whitespace or a leading/trailing ellipsis."""
    return _ELLIPSIS.sub("", quote)


def _quote_pattern(quote: str, dehyphenate: bool) -> re.Pattern[str]:
    """Quote words separated by any whitespace; with `dehyphenate`, a word may also be broken
    by an end-of-line hyphen in the file (a PDF reflow joins "infor-\\nmation")."""
    words = quote.split()
    if dehyphenate:
        return re.compile(r"\s+".join(r"(?:-\s+)?".join(map(re.escape, w)) for w in words))
    return re.compile(r"\s+".join(map(re.escape, words)))


def locate_quote(quote: str, text: str) -> list[tuple[int, int]]:
    """(start, end) spans of `text` where `quote` occurs, whitespace-insensitively (and, failing
    that, across end-of-line hyphenation). A leading/trailing ellipsis is ignored."""
    quote = _trim(quote)
    if not quote:
        return []
    for dehyphenate in (False, True):
        spans = [m.span() for m in _quote_pattern(quote, dehyphenate).finditer(text)]
        if spans:
            return spans
    return []


def starts_block(quote: str, text: str, at: int) -> bool:
    """Whether `quote`, found at offset `at` of reference text `text`, starts a sentence or block.

    Block start: nothing but whitespace before it in the text; or a blank line right before it;
    or it begins a line and either starts with block markup (list bullet, "1.", "#", ">", "|",
    a fence, "!!!", "===") or follows a fence or heading line.
    Sentence start: its first character is an upper-case letter, a digit or a markup/code opener
    (` # * - + > | [ ( " ' $ ! < _ ~ {), and the last non-space character before it is one of
    . ! ? : (a closing quote or bracket after that character is allowed).
    """
    quote = _trim(quote)
    before = text[:at]
    stripped = before.rstrip(" \t")
    if not stripped.strip() or re.search(r"\n[ \t]*\n\s*$", before):
        return True
    if stripped.endswith("\n"):
        previous_line = stripped[:-1].rsplit("\n", 1)[-1]
        if _BLOCK_MARKUP.match(quote) or _FENCE_OR_HEADING.match(previous_line):
            return True
    first_ok = quote[:1].isupper() or quote[:1].isdigit() or quote[:1] in _OPENERS
    return first_ok and before.rstrip().rstrip(_CLOSERS)[-1:] in _SENTENCE_END


def ends_block(quote: str, text: str, end: int) -> bool:
    """Whether `quote`, ending at offset `end` of `text`, ends a sentence or block: its last
    character (closing quotes, brackets and markup aside) is . ! ? or :, or what follows it
    in the text is only whitespace, a blank line, or a new line that opens a block (list item,
    heading, fence, table row, ... as above)."""
    after = text[end:]
    if _trim(quote).rstrip(_CLOSERS)[-1:] in _SENTENCE_END or not after.strip():
        return True
    head = re.match(r"[ \t]*\n([ \t]*\n)?[ \t]*", after)
    return bool(head) and (head.group(1) is not None or bool(_BLOCK_MARKUP.match(after[head.end():])))


@dataclass(frozen=True, slots=True)
class QuoteStatus:
    located: bool
    starts: bool  # starts a sentence or block
    ends: bool  # ends a sentence or block


def quote_status(quote: str, path: Path, line: int | None, page: int | None) -> QuoteStatus:
    """Where a citation's quote in file `path` stands.

    Where it is looked for: on the cited page for a PDF; for other files, in the whole reference
    text, and the occurrence nearest the cited line (Markdown / text, whose reference text is the
    file itself) is judged; for HTML, whose reference text has no line numbers, and on a PDF page,
    each rule passes when any occurrence passes it.
    """
    pages = reference_pages(path)
    if page is not None and 1 <= page <= len(pages):
        # A quote may run on to the next pages (a paragraph the page break cut), past their
        # slide numbers; it must start on the cited page.
        first, *rest = (_PAGE_NUMBER_LINE.sub("", p) for p in pages[page - 1 :])
        text = "\n".join([first, *rest])
        spans = [sp for sp in locate_quote(quote, text) if sp[0] < len(first)]
    else:
        text = "\n\n".join(pages)
        spans = locate_quote(quote, text)
    if not spans:
        return QuoteStatus(False, False, False)
    if path.suffix.lower() not in (".html", ".htm") and line is not None and page is None:
        spans = [min(spans, key=lambda sp: abs(text.count("\n", 0, sp[0]) + 1 - line))]
    return QuoteStatus(
        True, any(starts_block(quote, text, s) for s, _ in spans), any(ends_block(quote, text, e) for _, e in spans)
    )
