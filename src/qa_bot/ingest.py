"""Find documents and extract their text, keeping what a citation needs.

Supported: .txt, .md/.markdown, .html/.htm, .pdf. Anything that cannot give text is
skipped with one line saying which file and why; nothing here raises for a bad file.
"""

from __future__ import annotations

import bisect
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from .blocks import Block, LineMap, markdown_blocks, text_blocks
from .errors import InputError
from .sanitize import strip_hidden

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES

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
    """The extracted text of one file, its blocks, and the maps from offsets to citation locations."""

    path: str  # absolute
    text: str
    file_hash: str
    blocks: list[Block]  # in reading order
    has_lines: bool = True  # text is the file itself, so its line numbers are the file's (Markdown, text)
    page_starts: list[int] = field(default_factory=list)  # offset where page i+1 begins
    _lines: LineMap | None = field(default=None, init=False, repr=False, compare=False)

    def line_at(self, offset: int) -> int | None:
        if not self.has_lines:
            return None
        if self._lines is None:  # once: counting from the start for every chunk is quadratic
            self._lines = LineMap(self.text)
        return self._lines.line_at(offset)

    def page_at(self, offset: int) -> int | None:
        return bisect.bisect_right(self.page_starts, offset) if self.page_starts else None

    def heading_at(self, offset: int) -> str | None:
        """The heading path ("Guide > Install") of the block at or before `offset`."""
        i = bisect.bisect_right([b.start for b in self.blocks], offset)
        return self.blocks[i - 1].heading_path or None if i else None


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def under(key: str, folders: list[Path]) -> bool:
    """Whether the path `key` is one of `folders` or lies below one."""
    return any(Path(key).is_relative_to(f) for f in folders)


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
            from .html_blocks import html_blocks

            page, blocks = html_blocks(text)
            doc = Document(str(path), page, digest, blocks, has_lines=False)
        else:
            parse = markdown_blocks if suffix in MARKDOWN_SUFFIXES else text_blocks
            doc = Document(str(path), text, digest, parse(text))
    if not doc.text.strip():
        raise IngestError("empty: no text to index")
    return doc


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise IngestError("binary file (contains NUL bytes)")
    try:
        text = strip_hidden(data.decode("utf-8-sig"))  # before any offset is taken
    except UnicodeDecodeError as exc:
        raise IngestError(f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    # One kind of line end: markdown-it counts a lone CR as a line break, and line numbers must
    # agree between its map and ours (as they do with an editor's).
    return text.replace("\r\n", "\n").replace("\r", "\n")


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
    from .pdf_blocks import pdf_blocks

    text, starts, blocks = pdf_blocks(pages)
    return Document(str(path), text, digest, blocks, has_lines=False, page_starts=starts)
