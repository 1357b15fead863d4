"""Find documents and extract their text, keeping what a citation needs.

Supported: .txt, .md/.markdown, .html/.htm, .pdf. Anything that cannot give text is
skipped with one line saying which file and why; nothing here raises for a bad file.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .sanitize import strip_hidden

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES

_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


class IngestError(Exception):
    """A file that cannot be indexed; the message says why in a few words."""


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(slots=True)
class Document:
    """The extracted text of one file plus the maps from offsets to citation locations."""

    path: str  # absolute
    text: str
    file_hash: str
    has_lines: bool = True  # line numbers are meaningful (text formats)
    page_starts: list[int] = field(default_factory=list)  # offset where page i+1 begins
    headings: list[tuple[int, str]] = field(default_factory=list)  # (offset, title), sorted
    sections: list[tuple[int, int]] = field(default_factory=list)  # spans never split across
    _newlines: list[int] | None = field(default=None, init=False, repr=False, compare=False)

    def line_at(self, offset: int) -> int | None:
        if not self.has_lines:
            return None
        if self._newlines is None:  # once: counting from the start for every chunk is quadratic
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_left(self._newlines, offset) + 1

    def page_at(self, offset: int) -> int | None:
        return bisect.bisect_right(self.page_starts, offset) if self.page_starts else None

    def heading_at(self, offset: int) -> str | None:
        i = bisect.bisect_right(self.headings, (offset, "\uffff"))
        return self.headings[i - 1][1] if i else None


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def discover(paths: list[Path], allow_outside: bool = False,
             ignore: Path | None = None) -> tuple[list[Path], list[Skipped]]:
    """Expand files and folders (recursively) into the supported files below them.

    Hidden files and folders, and the folder `ignore` (the index's own), are ignored; an
    unsupported file, a symlink loop and a folder that cannot be listed are reported as skipped.
    A path that does not exist raises FileNotFoundError (a user mistake, not a bad file).
    Unless `allow_outside`, a path with '..' raises ValueError and a file whose real path
    lies outside every path given (a symlink pointing out) is skipped.
    """
    found: dict[Path, None] = {}
    skipped: list[Skipped] = []
    for given in paths:
        if not allow_outside and ".." in given.parts:
            raise InputError(f"{given}: '..' in a path to index is refused; give the folder itself "
                             "(or set QA_BOT_ALLOW_OUTSIDE_PATHS=true)")
        if not given.exists():
            raise FileNotFoundError(f"no such file or folder: {given}")
    roots = [p.resolve() for p in paths]
    ignore = ignore.resolve() if ignore is not None else None

    def unlisted(exc: OSError) -> None:
        skipped.append(Skipped(str(Path(exc.filename).resolve()), f"cannot read folder ({exc.strerror or exc}); "
                               "documents indexed from it keep their previous version"))

    for given in paths:
        if given.is_file():
            candidates = [given]
        else:
            candidates = []
            for root, dirs, files in os.walk(given, onerror=unlisted):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and Path(root, d).resolve() != ignore)
                candidates += [Path(root, f) for f in sorted(files) if not f.startswith(".")]
        for path in candidates:
            try:
                resolved = path.resolve()
            except (RuntimeError, OSError):  # Python < 3.13 raises RuntimeError for a loop
                skipped.append(Skipped(str(path.absolute()), "symlink loop (or too many levels of links)"))
                continue
            if not allow_outside and not any(resolved.is_relative_to(r) for r in roots):
                skipped.append(Skipped(str(path.absolute()), f"links outside the folders given (to {resolved}); "
                                       "not followed unless QA_BOT_ALLOW_OUTSIDE_PATHS=true"))
            elif resolved.suffix.lower() in SUPPORTED:
                found[resolved] = None
            else:
                skipped.append(Skipped(str(resolved), f"unsupported file type '{path.suffix or path.name}'"))
    return list(found), skipped


def load(path: Path, data: bytes | None = None) -> Document:
    """Read one file (or its bytes, already read) into a Document.

    Raises IngestError saying why when the file has no usable text.
    """
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IngestError(f"cannot read ({exc.strerror or exc})") from None
    digest = file_hash(data)
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        doc = _load_pdf(path, data, digest)
    else:
        text = _decode(data)
        if suffix in HTML_SUFFIXES:
            doc = _load_html(path, text, digest)
        else:
            doc = Document(str(path), text, digest)
            if suffix in MARKDOWN_SUFFIXES:
                doc.headings = [(m.start(), m.group(2)) for m in _MD_HEADING.finditer(text)]
    if not doc.text.strip():
        raise IngestError("empty: no text to index")
    if not doc.sections:
        # Split at headings so that every chunk lies under exactly one heading.
        cuts = sorted({0, *(at for at, _ in doc.headings), len(doc.text)})
        doc.sections = [(a, b) for a, b in zip(cuts, cuts[1:]) if doc.text[a:b].strip()]
    return doc


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise IngestError("binary file (contains NUL bytes)")
    try:
        return strip_hidden(data.decode("utf-8-sig"))  # before any offset is taken
    except UnicodeDecodeError as exc:
        raise IngestError(f"not UTF-8 text (invalid byte at offset {exc.start})") from None


def _load_html(path: Path, html: str, digest: str) -> Document:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    raw = soup.get_text("\n")
    text = re.sub(r"\n[ \t]*(?:\n[ \t]*)+", "\n\n", re.sub(r"[ \t]+\n", "\n", raw)).strip()
    headings, pos = [], 0
    for h in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        title = " ".join(h.get_text(" ").split())
        at = text.find(title.split(" ")[0], pos) if title else -1
        if at >= 0:
            headings.append((at, title))
            pos = at
    return Document(str(path), text, digest, headings=headings)


def _load_pdf(path: Path, data: bytes, digest: str) -> Document:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable PDFs are common
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError("encrypted PDF")
        pages = [strip_hidden(page.extract_text() or "").strip() for page in reader.pages]
    except IngestError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(f"unreadable PDF ({type(exc).__name__}: {exc})") from None
    if not any(pages):
        raise IngestError("PDF has no text layer (scanned or image-only?)")
    text, starts, sections = "", [], []
    for page in pages:
        if text:
            text += "\n\n"
        starts.append(len(text))
        sections.append((len(text), len(text) + len(page)))
        text += page
    return Document(str(path), text, digest, has_lines=False, page_starts=starts, sections=sections)
