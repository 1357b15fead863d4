"""The docs benchmark's scoring rules (bench/docscore.py): answer matching and the quote-start rule."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from docscore import (  # noqa: E402
    QuoteStatus,
    ends_block,
    holds_gold,
    locate_quote,
    normalize_loose,
    quote_status,
    starts_block,
)

WRAPPED = """# Caching

uv stores its cache in a system directory. The cache is
stored in `$XDG_CACHE_HOME/uv` on Unix, and the location can be
changed with a flag:

```console
$ uv cache dir
```

- To clear the cache, run `uv cache clean`.
"""


def test_normalize_drops_markup_and_markers_but_keeps_flags():
    assert normalize_loose("Run  `uv add --dev`\n**now** [1][2, 3]") == "run uv add --dev now"


@pytest.mark.parametrize(
    ("answer", "gold", "held"),
    [
        ("Pin it with [`uv python pin`](../cli.md) [1].", "uv python pin", True),
        ("The default is 2500 requests [1].", "50", False),  # not inside a longer number
        ("The default is 50 [1].", "50", True),
        ("See the note [1].", "1", False),  # a citation marker is not an answer
        ("Set UV_NO_PROGRESS=1 in CI.", "UV_NO_PROGRESS", True),
    ],
)
def test_holds_gold(answer, gold, held):
    assert holds_gold(answer, (gold,)) is held


def test_quote_is_located_across_hard_wraps():
    quote = "The cache is stored in `$XDG_CACHE_HOME/uv` on Unix, and the location can be changed"
    [(start, end)] = locate_quote(quote, WRAPPED)
    assert WRAPPED[start:].startswith("The cache is\nstored")
    assert WRAPPED[:end].endswith("location can be\nchanged")


def test_quote_is_located_across_end_of_line_hyphens():
    text = "It will be easy to convert an OSCAL catalog into a human-\nreadable form. Then more."
    assert locate_quote("convert an OSCAL catalog into a humanreadable form.", text)
    assert not locate_quote("a form that is not there", text)


@pytest.mark.parametrize(
    ("quote", "ok"),
    [
        ("uv stores its cache in a system directory.", True),  # paragraph start after a blank line
        ("The cache is stored in `$XDG_CACHE_HOME/uv` on Unix", True),  # after ". "
        ("stored in `$XDG_CACHE_HOME/uv` on Unix", False),  # a wrapped line, mid-sentence
        ("changed with a flag:", False),
        ("$ uv cache dir", True),  # first line inside a fence
        ("- To clear the cache, run `uv cache clean`.", True),  # list item
        ("To clear the cache, run `uv cache clean`.", False),  # the item's text without its bullet
    ],
)
def test_starts_block_on_wrapped_markdown(quote, ok):
    [(at, _)] = locate_quote(quote, WRAPPED)
    assert starts_block(quote, WRAPPED, at) is ok


@pytest.mark.parametrize(
    ("quote", "ok"),
    [
        ("uv stores its cache in a system directory.", True),  # a full stop
        ("The cache is stored in `$XDG_CACHE_HOME/uv` on Unix, and the location can be", False),  # a wrapped line
        ("the location can be changed with a flag:", True),  # a colon that introduces the code
        ("$ uv cache dir", True),  # the fence closes on the next line
        ("To clear the cache, run `uv cache clean`", False),  # stops before its full stop
        ("To clear the cache, run", False),
    ],
)
def test_ends_block_on_wrapped_markdown(quote, ok):
    [(_, end)] = locate_quote(quote, WRAPPED)
    assert ends_block(quote, WRAPPED, end) is ok


def test_lower_case_after_a_full_stop_is_not_a_sentence_start():
    text = "Use the flag. uv then skips it."
    assert not starts_block("uv then skips it.", text, text.index("uv then"))


def test_quote_status_in_html_counts_element_boundaries_as_block_boundaries(tmp_path: Path):
    page = tmp_path / "ref.html"
    page.write_text("<html><body><nav>Home</nav><dl><dt><code>UV_OFFLINE</code></dt>"
                    "<dd><p>Equivalent to <code>--offline</code>. disables network</p></dd></dl></body></html>")
    assert quote_status("UV_OFFLINE", page, None, None) == QuoteStatus(True, True, True)
    assert quote_status("Equivalent to --offline.", page, None, None) == QuoteStatus(True, True, True)
    assert quote_status("disables network", page, None, None) == QuoteStatus(True, False, True)
    assert quote_status("Equivalent to", page, None, None) == QuoteStatus(True, True, False)
    assert quote_status("not on the page", page, None, None) == QuoteStatus(False, False, False)


def test_pdf_quote_may_run_on_to_the_next_page_but_must_start_on_the_cited_one(tmp_path: Path):
    from tests.pdfgen import write_pdf

    pdf = tmp_path / "notes.pdf"
    write_pdf(pdf, [["Assessing controls is slow. There is no shortage of", "4"],
                    ["requirements for such organizations.", "5"]])
    quote = "There is no shortage of requirements for such organizations."
    assert quote_status(quote, pdf, None, 1) == QuoteStatus(True, True, True)
    assert quote_status(quote, pdf, None, 2) == QuoteStatus(False, False, False)
    assert quote_status("requirements for such organizations.", pdf, None, 1) == QuoteStatus(False, False, False)
