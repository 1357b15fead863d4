"""Mutated documents for the fuzz test and `bench/fuzz.py`: valid PDF, HTML, Markdown and text
files, then damaged the way broken tools and truncated downloads damage them (flipped, inserted,
deleted and repeated bytes, truncation) and, for PDFs, with object values swapped for values of
the wrong type or references to objects that do not exist."""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

from tests.pdfgen import assemble, pdf_bytes

ROOT = Path(__file__).resolve().parents[1]

# Values a PDF dictionary entry may wrongly hold: each type pypdf may not expect at that key.
PDF_VALUES = [b"0", b"-1", b"99999999999", b"3.5", b"null", b"true", b"<<>>", b"[]", b"[1 0 R]", b"()",
              b"<00>", b"/Name", b"1 0 R", b"2 0 R", b"999 0 R", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
              b"<< /Length 5 /Filter /FlateDecode >>", b"[0 0 0 0]", b"/FlateDecode"]
# Content-stream operators, some with operands, some bare: what a page's drawing program may garble.
PDF_OPERATORS = [b" BI ", b" ID ", b" EI ", b" /F1 12 Tf ", b" Tf ", b" /X Do ", b" Do ", b" 1 0 0 1 0 0 cm ",
                 b" cm ", b" [(a) -5 (b)] TJ ", b" TJ ", b" /G gs ", b" q ", b" Q ", b" BT ", b" ET ", b" Td ",
                 b" Tm ", b" T* ", b" ' ", b' " ', b" TL ", b" Tz ", b" <41> Tj ", b" EMC ",
                 b" /Span <</ActualText (x)>> BDC ", b" BI /W 1 /H 1 /CS /G /BPC 8 ID x EI "]
PDF_KEY = re.compile(rb"/[A-Za-z]+ ")
_CLOSE = {b"<<": b">>", b"[": b"]", b"(": b")"}
_ATOM = re.compile(rb"\d+ \d+ R|/?[^\s/<>\[\]()]+")  # a reference, a name, a number, a keyword


def _value_end(data: bytes | bytearray, at: int) -> int:
    """Where the PDF value starting at `at` ends: balanced for dictionaries, arrays, strings."""
    for opener, closer in _CLOSE.items():
        if data.startswith(opener, at):
            depth, i = 0, at
            while i < len(data):
                if data.startswith(opener, i):
                    depth, i = depth + 1, i + len(opener)
                elif data.startswith(closer, i):
                    depth, i = depth - 1, i + len(closer)
                    if depth == 0:
                        return i
                else:
                    i += 1
            return len(data)
    m = _ATOM.match(data, at)
    return m.end() if m else at


def _rich_pdf() -> bytes:
    """A page that uses what text extraction interprets: a Flate-compressed content stream, a
    font with an encoding, widths, a descriptor and a ToUnicode map, an outline, an annotation."""
    content = zlib.compress(b"BT /F1 12 Tf 72 720 Td (Compressed streams hold the text here.) Tj "
                            b"0 -14 Td [(Kerned) -250 (words)] TJ ET")
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def "
            b"1 begincodespacerange <00> <FF> endcodespacerange 2 beginbfchar <41> <0041> <42> <0042> endbfchar "
            b"1 beginbfrange <61> <7A> <0061> endbfrange endcmap CMapName currentdict /CMap defineresource pop end end")
    return assemble([
        b"<< /Type /Catalog /Pages 2 0 R /Outlines 6 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Rotate 0 /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /ProcSet [/PDF /Text] >> "
        b"/Annots [<< /Type /Annot /Subtype /Text /Rect [0 0 9 9] >>] >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 /LastChar 126 "
        b"/Widths [278 278 355 556 556 889 667 191] /FontDescriptor 9 0 R /ToUnicode 7 0 R "
        b"/Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [32 /space 65 /A /B] >> >>",
        b"<< /Type /Outlines /First 10 0 R /Last 10 0 R /Count 1 >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
        b"<< /Title (Rich) /Author (Fuzz) >>",
        b"<< /Type /FontDescriptor /FontName /Helvetica /Flags 32 /FontBBox [0 0 1000 1000] /ItalicAngle 0 "
        b"/Ascent 718 /Descent -207 /CapHeight 718 /StemV 88 >>",
        b"<< /Title (Chapter) /Parent 6 0 R /Dest [3 0 R /XYZ 0 792 0] >>",
    ], version=b"1.5", trailer=b" /Info 8 0 R")


def seed_files() -> dict[str, list[bytes]]:
    """Valid files of each supported kind, by suffix."""
    article = (ROOT / "seeds" / "000_a9a644aeed6d5ccb.txt").read_bytes()
    markdown = (b"# Tides\n\nThe moon pulls the sea.\n\n## Spring tides\n\nSun and moon align twice a month.\n\n"
                b"```\ncode # not a heading\n```\n\n- a list\n- of things\n\n" + article[:1500])
    html = (b"<!doctype html><html><head><title>Tides</title><style>p{color:red}</style>"
            b"<script>var x = '<h1>';</script></head><body><h1>Tides</h1><p>The moon pulls the sea.</p>"
            b"<h2>Spring <em>tides</em></h2><table><tr><td>Sun</td><td>moon</td></tr></table>"
            b"<p>" + article[:1500].replace(b"\n\n", b"</p><p>") + b"</p><!-- note --></body></html>")
    return {
        ".pdf": [pdf_bytes([["Page one talks about apples.", "A second line."], ["Page two, pears."]]),
                 pdf_bytes([[], ["Only the second page has text."]]), _rich_pdf()],
        ".html": [html],
        ".md": [markdown],
        ".txt": [article, "Ünïcödé text — with “quotes” and ∑ signs.\r\nWindows lines\r\n".encode()],
    }


def crashing_pdf() -> bytes:
    """A PDF whose page content makes pypdf 7 fail an internal assertion during text extraction
    (operands left before an inline image), as one of 3,000 mutated PDFs did."""
    return pdf_bytes([["The good page."]]).replace(b"72 720 Td", b"72 720 Td (x) BI /W 1 /H 1 /CS /G /BPC 8 ID x EI")


def mutate(data: bytes, suffix: str, rng: random.Random) -> bytes:
    """One to four random damages to `data`."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        n = len(out)
        # Half of a PDF's damages are to its objects or page content: byte damage alone mostly
        # breaks the xref table, which readers rebuild, and rarely reaches the code that reads objects.
        op = rng.choice((6, 7)) if suffix == ".pdf" and rng.random() < 0.5 else rng.randrange(6)
        at = rng.randrange(n) if n else 0
        if op == 0:  # flip bytes
            for _ in range(rng.randint(1, 8)):
                if out:
                    out[rng.randrange(len(out))] = rng.randrange(256)
        elif op == 1:  # insert random or structural bytes
            junk = rng.choice([bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))),
                               b"<<", b">>", b"<", b">", b"(", b")", b"[", b"]", b"\x00", b"\xff\xfe", b"\n",
                               b"&amp;", b"<h1>", b"</div>", b"# ", b"```", b"\r"])
            out[at:at] = junk
        elif op == 2:  # delete a span
            del out[at : at + rng.randint(1, 64)]
        elif op == 3:  # repeat a span
            out[at:at] = out[at : at + rng.randint(1, 256)] * rng.randint(1, 8)
        elif op == 4:  # truncate
            del out[rng.randrange(n + 1) :]
        elif op == 5:  # swap two spans
            b = rng.randrange(n) if n else 0
            a, b = sorted((at, b))
            out[a:b] = out[a:b][::-1] if rng.random() < 0.5 else bytes(out[b:b + (b - a)]).ljust(b - a, b" ")
        elif op == 7:  # operators inserted into a page's (uncompressed) content stream
            start, end = out.find(b"stream\n"), out.find(b"endstream")
            for _ in range(rng.randint(1, 4) if 0 <= start < end else 0):
                at = rng.randrange(start + 7, end + 1)
                out[at:at] = rng.choice(PDF_OPERATORS)
        else:  # a PDF dictionary value of the wrong type or a dangling reference
            spots = list(PDF_KEY.finditer(out))
            if spots:
                start = rng.choice(spots).end()
                out[start : _value_end(out, start)] = rng.choice(PDF_VALUES)
    return bytes(out)


def cases(count: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """`count` (suffix, bytes) pairs, the same for the same seed, spread evenly over the kinds."""
    rng = random.Random(seed)
    seeds = seed_files()
    kinds = sorted(seeds)
    for i in range(count):
        suffix = kinds[i % len(kinds)]
        yield suffix, mutate(rng.choice(seeds[suffix]), suffix, rng)
