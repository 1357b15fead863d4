"""Ingest: every supported format keeps what a citation needs; bad files are skipped, not fatal."""

from __future__ import annotations

import pytest

from qa_bot.ingest import IngestError, discover, load
from tests.pdfgen import write_pdf


def test_text_lines_and_offsets(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("first line\nsecond line\n\nfourth line\n")
    doc = load(f)
    at = doc.text.index("fourth")
    assert doc.line_at(at) == 4
    assert doc.page_at(at) is None
    assert doc.heading_at(at) is None


def test_markdown_nearest_heading(tmp_path):
    f = tmp_path / "guide.md"
    f.write_text("# Guide\n\nIntro text.\n\n## Install\n\nRun the installer.\n\n## Use\n\nAsk things.\n")
    doc = load(f)
    assert doc.heading_at(doc.text.index("Intro")) == "Guide"
    assert doc.heading_at(doc.text.index("Run the")) == "Guide > Install"
    assert doc.heading_at(doc.text.index("Ask")) == "Guide > Use"


def test_html_text_and_headings_without_scripts(tmp_path):
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><style>p{color:red}</style><script>var secret=1;</script></head><body>"
        "<h1>Tides</h1><p>The moon pulls the sea.</p><h2>Spring tides</h2><p>Sun and moon align.</p>"
        "</body></html>"
    )
    doc = load(f)
    assert "var secret" not in doc.text and "color:red" not in doc.text
    assert doc.heading_at(doc.text.index("Sun and moon")) == "Tides > Spring tides"
    assert doc.heading_at(doc.text.index("The moon pulls")) == "Tides"


def test_pdf_pages(tmp_path):
    f = tmp_path / "report.pdf"
    write_pdf(f, [["Page one talks about apples."], ["Page two talks about pears."]])
    doc = load(f)
    assert doc.page_at(doc.text.index("apples")) == 1
    assert doc.page_at(doc.text.index("pears")) == 2
    assert doc.line_at(0) is None
    assert [b.page for b in doc.blocks] == [1, 2]  # chunks never straddle pages


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n\t\n", "empty"),
        ("binary.txt", b"\x00\x01\x02abc", "binary"),
        ("latin1.txt", "café au lait".encode("latin-1"), "not UTF-8"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
    ],
)
def test_bad_files_raise_a_clear_reason(tmp_path, name, content, reason):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(IngestError, match=reason):
        load(f)


def test_image_only_pdf_is_refused(tmp_path):
    f = tmp_path / "scan.pdf"
    write_pdf(f, [[], []])
    with pytest.raises(IngestError, match="no text layer"):
        load(f)


def test_discover_recurses_and_reports_unsupported(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub" / "b.md").write_text("b")
    (tmp_path / "sub" / "deeper" / "c.html").write_text("<p>c</p>")
    (tmp_path / "sub" / "photo.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "secret.txt").write_text("no")
    files, skipped = discover([tmp_path])
    assert sorted(p.name for p in files) == ["a.txt", "b.md", "c.html"]
    assert [s.path.endswith("photo.png") for s in skipped] == [True]
    assert "unsupported" in skipped[0].reason


def test_discover_missing_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        discover([tmp_path / "nope"])


def test_line_numbers_are_those_of_the_file(tmp_path):
    text = "".join(f"line {i}\n" + ("\n" if i % 7 == 0 else "") for i in range(2000))
    doc = load(tmp_path / "many.txt", text.encode())
    for offset in range(0, len(doc.text), 37):
        assert doc.line_at(offset) == doc.text.count("\n", 0, offset) + 1
