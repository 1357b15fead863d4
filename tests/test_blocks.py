"""The document model: blocks with their source places, answer units, and whole-unit answers
quoted verbatim from real-shaped Markdown, HTML and PDF pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_bot.chunking import chunk_document, make_splitter
from qa_bot.indexer import Index
from qa_bot.ingest import load
from qa_bot.service import QAService
from qa_bot.units import display
from tests.conftest import make_settings
from tests.pdfgen import write_pdf

# Hard-wrapped at ~60 columns, the way documentation repositories keep Markdown.
GUIDE_MD = """\
# Installing Fernwood

## Requirements

Fernwood runs on the following platforms, each tested in
continuous integration before every release:

- Linux with glibc 2.28 or later, on x86-64 and
  aarch64 machines
  - Alpine Linux is supported through the musl
    builds only
- macOS 13 (Ventura) or later

To install the command-line tool on Linux or macOS, run the
installer script:

```console
$ curl -LsSf https://fernwood.example/install.sh | sh
```

!!! warning

    The installer modifies your shell profile. Pass
    `--no-modify-path` to keep it unchanged.

## Cache settings

| Setting | Default | Meaning |
| ------- | ------- | ------- |
| `cache-dir` | `~/.cache/fernwood` | Where downloads are kept |
| `cache-ttl` | `7d` | How long an entry stays fresh |

The cache is pruned weekly. Entries older than the time to live are removed even when
the disk is not full.
"""

REFERENCE_HTML = """\
<!doctype html>
<html><head><title>Settings reference</title><script>var tracking = 1;</script></head>
<body>
<header class="site-header"><a href="/">Fernwood docs</a> <a href="/blog">Blog</a></header>
<div class="container">
<nav class="sidebar"><ul><li><a href="/install">Installing Fernwood quickly</a></li>
<li><a href="/faq">Frequently asked questions page</a></li></ul></nav>
<main>
<h1>Settings reference</h1>
<p>Fernwood reads these settings from
<code>fernwood.toml</code> in the project root.</p>
<dl>
<dt><code>timeout</code></dt>
<dd>Seconds to wait for a mirror before trying the next one. Default: <code>30</code>.</dd>
<dt><code>retries</code></dt>
<dd>How many times a failed download is retried. Default: <code>3</code>.</dd>
</dl>
<table>
<tr><th>Mirror</th><th>Region</th></tr>
<tr><td>eu.fernwood.example</td><td>Frankfurt</td></tr>
<tr><td>us.fernwood.example</td><td>Virginia</td></tr>
</table>
<a class="edit-this-page" href="/edit">Edit this page</a>
</main>
</div>
<footer>Copyright 2026 Fernwood contributors. Privacy Policy.</footer>
</body></html>
"""

# A text layer the way PDF producers write it: lines broken mid-sentence and mid-word.
PDF_PAGES = [
    [
        "Pump maintenance",
        "The circulation pump must be serviced by a qualified",
        "technician every twelve months. Before servicing, discon-",
        "nect the pump from mains power.",
        "The pressure gauge should read between 1.2 and 1.8 bar",
        "when the system is cold.",
    ],
    [
        "Troubleshooting",
        "If the pump makes a grinding noise, air is trapped in the",
        "rotor housing. Open the bleed screw until water appears.",
    ],
]


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    (folder / "guide.md").write_text(GUIDE_MD)
    (folder / "settings.html").write_text(REFERENCE_HTML)
    write_pdf(folder / "pump.pdf", PDF_PAGES)
    return folder


@pytest.fixture(scope="module")
def service(docs, tmp_path_factory, encoder) -> QAService:
    index = tmp_path_factory.mktemp("ix")
    Index(make_settings(index), encoder).sync([docs])
    return QAService(make_settings(index), encoder=encoder)


def _units(doc, encoder):
    chunks = chunk_document(doc, make_splitter(encoder.count_tokens, 256))
    return [(u, c.text[u.start : u.end]) for c in chunks for u in c.units]


def test_markdown_blocks_keep_lines_paths_and_structure(docs, encoder):
    doc = load(docs / "guide.md")
    kinds = [(b.kind, b.start_line, b.end_line, b.depth) for b in doc.blocks]
    assert kinds[:8] == [
        ("heading", 1, 1, 0), ("heading", 3, 3, 0), ("paragraph", 5, 6, 0),
        ("item", 8, 9, 1), ("item", 10, 11, 2), ("item", 12, 12, 1),
        ("paragraph", 14, 15, 0), ("code", 17, 19, 0),
    ]
    para = doc.blocks[2]
    assert para.text == ("Fernwood runs on the following platforms, each tested in continuous integration "
                         "before every release:")
    assert para.heading_path == "Installing Fernwood > Requirements"
    quote = next(b for b in doc.blocks if b.kind == "quote")  # the admonition, not a code block
    assert (quote.start_line, quote.end_line) == (23, 24) and quote.text.startswith("The installer modifies")
    rows = [b for b in doc.blocks if b.kind == "row"]
    assert [r.start_line for r in rows] == [30, 31]
    assert rows[0].text == "Setting: `cache-dir`; Default: `~/.cache/fernwood`; Meaning: Where downloads are kept"
    assert doc.blocks[-1].text.endswith("even when the disk is not full.")  # wrap joined


def test_markdown_answer_units(docs, encoder):
    units = _units(load(docs / "guide.md"), encoder)
    by_kind = {}
    for u, text in units:
        by_kind.setdefault(u.kind, []).append((u, text))
    (lst, lst_text), = by_kind["list"]
    assert (lst.start_line, lst.end_line) == (5, 12)  # the introduction and the whole list, nested item too
    assert display(lst_text, lst.kind, lst.body) == (
        "Fernwood runs on the following platforms, each tested in continuous integration before every release:\n"
        "- Linux with glibc 2.28 or later, on x86-64 and aarch64 machines\n"
        "  - Alpine Linux is supported through the musl builds only\n"
        "- macOS 13 (Ventura) or later")
    (code, code_text), = by_kind["code"]
    assert (code.start_line, code.end_line) == (14, 19)
    assert display(code_text, code.kind, code.body).endswith(
        "run the installer script:\n```console\n$ curl -LsSf https://fernwood.example/install.sh | sh\n```")
    # Neither a heading nor a bare code line is ever an answer; sentences never cross blocks.
    assert not any(text.lstrip().startswith("#") for _, text in units)
    assert all("```" not in text or u.kind == "code" for u, text in units)
    sentences = [_flat(text) for u, text in units if u.kind == "sentence"]
    assert "The cache is pruned weekly." in sentences
    assert "Entries older than the time to live are removed even when the disk is not full." in sentences
    assert [u.kind for u, _ in units].count("row") == 2


def test_a_code_block_right_under_a_heading_is_a_unit_with_that_heading(tmp_path, encoder):
    page = ("# Exporting\n\nFernwood can export its lockfile.\n\n### Basic usage\n\n"
            "```console\n$ fern export --format requirements.txt\n```\n\nThe file installs with pip.\n")
    units = _units(load(tmp_path / "export.md", page.encode()), encoder)
    (code, text), = [(u, t) for u, t in units if u.kind == "code"]
    assert (code.start_line, code.end_line) == (5, 9)
    assert display(text, code.kind, code.body) == (
        "Basic usage\n```console\n$ fern export --format requirements.txt\n```")
    # The heading still never answers alone.
    assert [_flat(t) for u, t in units if u.kind == "sentence"] == [
        "Fernwood can export its lockfile.", "The file installs with pip."]


def test_html_main_content_entries_and_rows(docs, encoder):
    doc = load(docs / "settings.html")
    for clutter in ("Installing Fernwood quickly", "Blog", "Edit this page", "Privacy Policy", "tracking"):
        assert clutter not in doc.text
    kinds = [b.kind for b in doc.blocks]
    assert kinds == ["heading", "paragraph", "entry", "entry", "row", "row"]
    timeout = doc.blocks[2]
    # The name, its description and its default together, at the line of its <dt>.
    assert timeout.text == "timeout: Seconds to wait for a mirror before trying the next one. Default: 30."
    assert timeout.start_line == REFERENCE_HTML.split("\n").index("<dt><code>timeout</code></dt>") + 1
    assert doc.blocks[1].text == "Fernwood reads these settings from fernwood.toml in the project root."
    assert doc.blocks[4].text == "Mirror: eu.fernwood.example; Region: Frankfurt"
    assert doc.blocks[4].heading_path == "Settings reference"
    entries = [text for u, text in _units(doc, encoder) if u.kind == "entry"]
    assert entries[1].startswith("retries: How many times") and entries[1].endswith("Default: 3.")


# A built settings page (mkdocs-material): the entry's example sits in tabs whose labels are buttons.
TABBED_ENTRY_HTML = """\
<html><body><main>
<h3 id="timeout"><a href="#timeout"><code>timeout</code></a></h3>
<p>Seconds to wait for a mirror.</p>
<p><strong>Default value</strong>: <code>30</code></p>
<p><strong>Example usage</strong>:</p>
<div class="tabbed-set"><div class="tabbed-labels"><label>pyproject.toml</label><label>fernwood.toml</label></div>
<div class="tabbed-content"><div class="tabbed-block"><pre><code>[tool.fernwood]
timeout = 10
</code></pre></div></div></div>
</main></body></html>
"""


def test_tab_labels_are_not_part_of_a_reference_entry(tmp_path, encoder):
    (tmp_path / "ref.html").write_text(TABBED_ENTRY_HTML)
    doc = load(tmp_path / "ref.html")
    assert "pyproject.toml" not in doc.text
    assert [b.kind for b in doc.blocks] == ["entry", "code"]
    assert doc.blocks[0].text == "timeout: Seconds to wait for a mirror. Default value: 30 Example usage:"
    assert doc.blocks[1].text == "[tool.fernwood]\ntimeout = 10"
    # Its answer ends before the label, whose example (behind the tabs) it does not hold.
    (unit, quote), = [(u, q) for u, q in _units(doc, encoder) if u.kind == "entry"]
    assert _flat(quote) == "timeout Seconds to wait for a mirror. Default value: 30"


# A deprecated setting on a built reference page: the admonition's title sits inside the entry.
DEPRECATED_ENTRY_HTML = """\
<html><body><main>
<h3 id="native-tls"><a href="#native-tls"><code>native-tls</code></a></h3>
<div class="admonition warning">
<p class="admonition-title">Deprecated</p>
<p>This option has been deprecated. use <code>system-certs</code> instead</p>
</div>
<p>Whether to load TLS certificates from the platform's native certificate store.</p>
<p><strong>Default value</strong>: <code>false</code></p>
<div class="highlight"><span class="filename">uv.toml</span><pre><code>native-tls = true
</code></pre></div>
</main></body></html>
"""


def test_admonition_and_code_titles_are_quoted_inside_their_entry_but_are_no_answer(tmp_path, encoder):
    (tmp_path / "ref.html").write_text(DEPRECATED_ENTRY_HTML)
    doc = load(tmp_path / "ref.html")
    entry, code = doc.blocks
    assert code.kind == "code" and code.text == "native-tls = true" and "uv.toml" in doc.text
    assert entry.kind == "entry" and entry.text == (
        "native-tls: This option has been deprecated. use system-certs instead Whether to load TLS "
        "certificates from the platform's native certificate store. Default value: false")
    # Quotes are cut from the page's text: it must hold the title where the page does.
    assert _flat(doc.text[entry.start : entry.end]) == (
        "native-tls Deprecated This option has been deprecated. use system-certs instead Whether to load TLS "
        "certificates from the platform's native certificate store. Default value: false")
    assert not {"Deprecated", "uv.toml"} & {text.strip() for _, text in _units(doc, encoder)}


def test_a_code_block_longer_than_a_chunk_is_answered_with_its_introduction(tmp_path, encoder):
    """The introduction and the opening of the code share a chunk and one unit, shown with its fence
    closed; the rest of the code is in later chunks that hold no answer unit (no bare code line)."""
    log = "\n".join(f"  step {i}: compiling module number {i} of the fernwood extension" for i in range(60))
    (tmp_path / "build.md").write_text(
        "# Build failures\n\nAn example failure is produced by building an old release on a new,\n"
        f"unsupported Python:\n\n```console\n$ fernwood build --release 1.0\n{log}\n```\n\nThat is not a fernwood bug.\n")
    doc = load(tmp_path / "build.md")
    chunks = chunk_document(doc, make_splitter(encoder.count_tokens, 256))
    first = next(c for c in chunks if "An example failure" in c.text)
    (unit,) = first.units
    assert unit.kind == "code" and first.text[unit.start :].startswith("An example failure")
    shown = display(first.text[unit.start : unit.end], unit.kind, unit.body)
    assert shown.startswith("An example failure is produced by building an old release on a new, unsupported Python:\n"
                            "```console\n$ fernwood build --release 1.0\n")
    assert shown.endswith("\n```") and shown.count("```") == 2
    rest = [c for c in chunks if c is not first and "That is not" not in c.text]
    assert rest and all(c.units == () for c in rest)


def test_an_admonition_inside_a_list_item_is_a_quote_of_that_item(tmp_path):
    (tmp_path / "remove.md").write_text(
        "# Uninstall\n\n1.  Remove the binaries:\n\n    ```console\n    $ rm ~/.local/bin/fernwood\n    ```\n\n"
        "    !!! note\n\n        Before 0.5, fernwood was installed into `~/.cargo/bin`; remove it from\n"
        "        there too.\n\n2.  Remove the cache.\n")
    blocks = [(b.kind, b.start_line, b.depth, b.text) for b in load(tmp_path / "remove.md").blocks]
    assert blocks[1:] == [
        ("item", 3, 1, "Remove the binaries:"),
        ("code", 5, 1, "$ rm ~/.local/bin/fernwood"),
        ("quote", 11, 1, "Before 0.5, fernwood was installed into `~/.cargo/bin`; remove it from there too."),
        ("item", 14, 1, "Remove the cache."),
    ]


def test_pdf_reflow_joins_lines_and_hyphenation_per_page(docs):
    doc = load(docs / "pump.pdf")
    texts = [(b.page, b.text) for b in doc.blocks]
    assert texts[:3] == [
        (1, "Pump maintenance"),
        (1, "The circulation pump must be serviced by a qualified technician every twelve months. "
            "Before servicing, disconnect the pump from mains power."),
        (1, "The pressure gauge should read between 1.2 and 1.8 bar when the system is cold."),
    ]
    assert [b.kind for b in doc.blocks] == ["heading", "paragraph", "paragraph", "heading", "paragraph"]
    assert doc.blocks[-1].heading_path == "Troubleshooting"
    assert texts[-1] == (2, "If the pump makes a grinding noise, air is trapped in the rotor housing. "
                            "Open the bleed screw until water appears.")


def test_pdf_paragraph_cut_by_a_page_break_is_one_block(tmp_path, encoder):
    """Speaker notes run on to the next page mid-sentence, and mid-word, past the slide number."""
    write_pdf(tmp_path / "notes.pdf", [
        ["Many agencies must satisfy several regulatory frameworks at once, and there",
         "is no shortage of", "4"],
        ["requirements for such organizations. Assessing them by hand is slow and labo-",
         "rious, and the results are hard to compare across agencies and frameworks and",
         "across the years of work that the assessors have put into these assess-", "5"],
        ["ments. Catalogs come next. They list the controls."],
        ["Profiles select controls from one or more catalogs."],
    ])
    doc = load(tmp_path / "notes.pdf")
    assert [(b.kind, b.page, b.text) for b in doc.blocks] == [
        ("paragraph", 1, "Many agencies must satisfy several regulatory frameworks at once, and there is no "
                         "shortage of requirements for such organizations. Assessing them by hand is slow and "
                         "laborious, and the results are hard to compare across agencies and frameworks and "
                         "across the years of work that the assessors have put into these assessments. "
                         "Catalogs come next. They list the controls."),
        ("paragraph", 4, "Profiles select controls from one or more catalogs."),
    ]
    assert [doc.page_at(doc.text.index(w)) for w in ("Many", "requirements", "ments.", "Profiles")] == [1, 2, 3, 4]
    (sentence,) = [text for _, text in _units(doc, encoder) if "shortage" in text]
    assert sentence == ("Many agencies must satisfy several regulatory frameworks at once, and there is no "
                        "shortage of requirements for such organizations.")


def test_a_sentence_that_only_points_elsewhere_is_no_answer_unit(tmp_path, encoder):
    (tmp_path / "sync.md").write_text(
        "# Locking\n\nThe lockfile is not updated when new versions are released. See the documentation on\n"
        "[upgrading locked package versions](#upgrading) for details.\n\n"
        "## Upgrading\n\nTo upgrade one package, run `uv lock --upgrade-package <name>`. For more details,\n"
        "see [the resolver](resolution.md). For more details on lockfiles and how they're created, see the\n"
        "[project layout](./layout.md) documentation.\n")
    (tmp_path / "index.md").write_text(  # a table of contents: neither its items nor the list
        "# Concepts\n\nRead about:\n\n- [Projects](./projects.md)\n- [Tools](./tools.md)\n")
    (tmp_path / "book.txt").write_text(
        "For other uses, see The Book of Life. The Book of Life is a book in which God records the names of "
        "every person who is destined for Heaven.\n")
    units = [text for name in ("sync.md", "index.md", "book.txt") for _, text in _units(load(tmp_path / name), encoder)]
    assert [" ".join(u.split()) for u in units] == [
        "The lockfile is not updated when new versions are released.",
        "To upgrade one package, run `uv lock --upgrade-package <name>`.",
        "The Book of Life is a book in which God records the names of every person who is destined for Heaven.",
    ]
    chunks = chunk_document(load(tmp_path / "sync.md"), make_splitter(encoder.count_tokens, 256))
    assert any("See the documentation on" in c.text for c in chunks)  # still searched


def test_a_sentence_about_the_talk_or_page_itself_is_no_answer_unit(tmp_path, encoder):
    (tmp_path / "talk.txt").write_text(
        "Today I will address who will benefit from the work. This slide and the following few slides "
        "provide a quick view of the catalog format. Agencies benefit from machine-readable controls. "
        "This method builds the catalog from source.\n")
    units = [" ".join(text.split()) for _, text in _units(load(tmp_path / "talk.txt"), encoder)]
    assert units == ["Agencies benefit from machine-readable controls.", "This method builds the catalog from source."]


def test_a_list_whose_items_hold_code_is_shown_with_the_code_fenced(tmp_path, encoder):
    (tmp_path / "remove.md").write_text(
        "# Uninstalling\n\nIf you need to remove fernwood from your system, follow these steps:\n\n"
        "1.  Clean up stored data:\n\n    ```console\n    $ fernwood cache clean\n    $ rm -r ~/.fernwood\n    ```\n\n"
        "    This step is optional and\n    can be skipped.\n\n    !!! tip\n\n        Keep a backup first.\n\n"
        "2.  Remove the binary:\n\n    ```console\n"
        "    $ rm ~/.local/bin/fernwood\n    ```\n")
    units = _units(load(tmp_path / "remove.md"), encoder)
    ((unit, text),) = [(u, t) for u, t in units if u.kind == "list"]
    assert [t for _, t in units if t.strip() in ("1.", "2.")] == []  # an item's marker is no sentence
    assert display(text, unit.kind, unit.body) == (
        "If you need to remove fernwood from your system, follow these steps:\n"
        "1.  Clean up stored data:\n```console\n$ fernwood cache clean\n$ rm -r ~/.fernwood\n```\n"
        "  This step is optional and can be skipped.\n  Tip: Keep a backup first.\n"
        "2.  Remove the binary:\n```console\n$ rm ~/.local/bin/fernwood\n```")


def test_a_bare_name_in_a_list_is_answered_by_its_list_not_alone(tmp_path, encoder):
    (tmp_path / "keys.md").write_text(
        "# Keys\n\nFernwood accepts these key types:\n\n- Ed25519\n- `rsa-sha2-512`\n- RSA keys of 4096 bits or more\n")
    units = [(u.kind, " ".join(t.split())) for u, t in _units(load(tmp_path / "keys.md"), encoder)]
    assert units == [
        ("list", "Fernwood accepts these key types: - Ed25519 - `rsa-sha2-512` - RSA keys of 4096 bits or more"),
        ("sentence", "- RSA keys of 4096 bits or more"),
    ]


def test_urls_and_file_names_hold_no_sentence_end(tmp_path, encoder):
    # Built HTML has no backticks around ".toml"; a URL's "?" is no question mark.
    (tmp_path / "app.html").write_text(
        "<html><body><main><p>Open http://127.0.0.1:8000/?token=jessica in a web browser. To invalidate the "
        "cache whenever a <code>.toml</code> file is modified, list it in cache-keys. Settings live in .env.</p>"
        "</main></body></html>")
    assert [text for _, text in _units(load(tmp_path / "app.html"), encoder)] == [
        "Open http://127.0.0.1:8000/?token=jessica in a web browser.",
        "To invalidate the cache whenever a .toml file is modified, list it in cache-keys.",
        "Settings live in .env.",
    ]


def test_answers_are_whole_units_with_verbatim_quotes(service, docs):
    md = service.answer("which platforms does fernwood support?")
    assert not md.refused
    cite = md.citations[0]
    assert cite.source.endswith("guide.md") and (cite.start_line, cite.end_line) == (5, 12)
    assert cite.heading == "Installing Fernwood > Requirements"
    source = GUIDE_MD.split("\n")
    assert cite.quote == _flat("\n".join(source[4:12]))  # the cited lines, whitespace collapsed
    assert "- macOS 13 (Ventura) or later" in md.text  # the list is shown as a list

    code = service.answer("how do I install the fernwood command line tool?")
    assert "```console\n$ curl -LsSf https://fernwood.example/install.sh | sh\n```" in code.text
    assert code.citations[0].quote.startswith("To install the command-line tool")

    html = service.answer("what is the default timeout for a mirror?")
    assert not html.refused and "Default: 30." in html.text and "retries" not in html.text
    assert html.citations[0].heading == "Settings reference"

    pdf = service.answer("what should the pressure gauge read when cold?")
    assert not pdf.refused
    cite = pdf.citations[0]
    assert cite.page == 1 and cite.quote.startswith("The pressure gauge should read")
    assert cite.quote in _flat(" ".join(load(docs / "pump.pdf").text.split("\n")))
    assert service.answer("how often must the pump be serviced?").citations[0].quote.endswith(
        "technician every twelve months.")


def _indexed_text_page(page: str, encoder, kept: tuple[str, ...] = (), dropped: tuple[str, ...] = ()):
    """A plain-text page through the document model and chunking: its blocks, its chunks and the
    text they index, which must hold every string of `kept` and none of `dropped`."""
    from qa_bot.blocks import text_blocks
    from qa_bot.ingest import Document, file_hash

    doc = Document("/docs/page.txt", page, file_hash(page.encode()), text_blocks(page))
    chunks = chunk_document(doc, make_splitter(encoder.count_tokens, 256))
    assert all(page[c.start : c.end] == c.text for c in chunks)
    indexed = " ".join(c.indexed_text for c in chunks)
    assert [k for k in kept if k not in indexed] == [] and [d for d in dropped if d in indexed] == []
    return doc.blocks, chunks, indexed


def test_page_furniture_is_not_indexed(encoder):
    # A web page flattened to one line, as the NQ pages are.
    page = ("Tide - wikipedia Tide Jump to: navigation, search Tides are the rise and fall of sea levels. "
            "They are caused by the Moon's gravity. Contents (hide) 1 History 2 See also "
            "History(edit) Tide tables were first kept in China. "
            "Jump up ^ Smith, J. (2001). Tides. Retrieved 23 April 2017. Jump up ^ Ocean facts. Range(edit) "
            "The tidal range varies by place. Retrieved from ``https://en.wikipedia.org/w/index.php?title=Tide'' "
            "This page was last edited on 8 April 2018, at 01:07.")
    # The contents run on into the first section's first sentence, which is kept.
    _, chunks, _ = _indexed_text_page(
        page, encoder,
        kept=("They are caused by the Moon's gravity.", "The tidal range varies by place.",
              "Tide tables were first kept in China."),
        dropped=("Jump", "Retrieved", "last edited", "Contents (hide)"))
    assert chunks[0].text.startswith("Tides are the rise and fall of sea levels.")


def test_furniture_inside_a_sentence_takes_only_itself_and_what_follows(encoder):
    # Flattened pages have no full stop before a table of contents or a reference list.
    page = ("The Originals (season 2) The second season premiered on October 6, 2014 Contents (hide) 1 Cast "
            "2 Episodes Cast(edit) Joseph Morgan as Niklaus Mikaelson Daniel Gillies as Elijah Mikaelson "
            "Jump up ^ ``Casting news''. Retrieved 2 May 2014. Episodes(edit) The season has 22 episodes. "
            "Notes(edit) Jump up ^ Ratings were lower.")
    _indexed_text_page(
        page, encoder,
        kept=("The second season premiered on October 6, 2014",
              "Joseph Morgan as Niklaus Mikaelson Daniel Gillies as Elijah Mikaelson",
              "Episodes(edit) The season has 22 episodes."),
        dropped=("Contents", "1 Cast 2 Episodes", "Jump", "Casting news", "Retrieved", "Notes", "Ratings"))


def test_a_reference_list_ends_its_sections_content(encoder):
    # A page saved without edit links: its reference list runs on to the end of the one block,
    # and the titles it cites are sentences of their own.
    war = "The war lasted from 28 July 1914 to 11 November 1918. It ended with armistices."
    page = (f"World War I - wikipedia World War I Jump to: navigation, search {war} Footnotes Jump up ^ Kitchen, "
            "Martin. ``The Ending of World War One, and the Legacy of Peace''. BBC. Jump up ^ ``First World War "
            "officially ends''. The Guardian. Retrieved 12 November 2009.")
    dropped = ("Ending of World War One", "BBC", "officially ends", "Guardian")
    _, chunks, _ = _indexed_text_page(page, encoder, kept=(war,), dropped=dropped)
    assert [chunk.text[u.start : u.end] for chunk in chunks for u in chunk.units][-1] == "It ended with armistices."


def test_a_wiki_pages_appendix_sections_are_not_indexed(encoder):
    page = ("Pudding pop Pudding Pops were first launched in the 1970s. Notes(edit) Jump up ^ A note on the cast. "
            "Sales(edit) Despite strong sales into the 90s, they were discontinued. See also(edit) List of frozen "
            "dessert brands References(edit) Jump up ^ ``What Happened To Pudding Pops?''. Culinary Lore. "
            "Sources(edit) http://www.example.com/jello-pudding-pops/ This article is a stub.")
    # "Notes" may sit mid-page, so content after it stays; from "See also" on, nothing does.
    blocks, _, _ = _indexed_text_page(
        page, encoder, kept=("Despite strong sales into the 90s, they were discontinued.",),
        dropped=("List of frozen", "Culinary Lore", "example.com", "stub"))
    assert blocks[-1].end == page.index(" See also(edit)")


def test_a_wiki_pages_section_headings_are_headings_above_their_text(encoder):
    page = ("Disneyland Paris - wikipedia Disneyland Paris Jump to: navigation, search Disneyland Paris is a "
            "resort in France. Contents (hide) 1 History 2 Reception History(edit) Plans emerged in 1972. "
            "It cost ``more than planned.'' The park opened in 1992. Awards and reception(edit) Critics "
            "praised the castle.")
    blocks, chunks, _ = _indexed_text_page(page, encoder)
    headings = [b for b in blocks if b.kind == "heading"]
    assert [h.text for h in headings] == ["History", "Awards and reception"]
    assert page[headings[1].start : headings[1].end] == "Awards and reception(edit)"
    body = [b for b in blocks if b.kind == "paragraph"]
    # The sentence before a heading keeps its words; the text after it sits under it.
    assert body[1].text == "Plans emerged in 1972. It cost ``more than planned.'' The park opened in 1992."
    assert body[1].path == ("History",) and body[2].path == ("Awards and reception",)
    critics = next(c for c in chunks if "Critics" in c.text)
    assert critics.context == "Awards and reception" and critics.text.endswith("(edit) Critics praised the castle.")
    units = [c.text[u.start : u.end] for c in chunks for u in c.units]
    # A quotation closed TeX-style ends its sentence; it does not open the next one.
    assert "It cost ``more than planned.''" in units and "The park opened in 1992." in units
    assert not any("(edit)" in u for u in units)


def test_a_wiki_pages_lead_is_a_sentence_apart_from_the_infobox_run_into_it(encoder):
    cells = " ".join(f"Treaty {n} Signed 24 July 19{n} ({n} years, 8 months)" for n in range(10, 20))
    lead = ("World War I (often abbreviated to WWI), also known as the Great War, was a global war that "
            "lasted from 28 July 1914 to 11 November 1918.")
    page = (f"World War I - wikipedia World War I Jump to: navigation, search Events leading to World War I "
            f"{cells} July Crisis 1914 {lead} It ended with armistices.")
    _, chunks, _ = _indexed_text_page(page, encoder, kept=(lead,))
    units = [c.text[u.start : u.end] for c in chunks for u in c.units]
    assert lead in units and "It ended with armistices." in units
    # The infobox cells stay a unit of their own, up to the lead; the title inside them cuts nothing.
    assert any(u.startswith("Events leading to World War I Treaty 10") and u.endswith("July Crisis 1914")
               for u in units)
    # Only a page's title opens a lead: a long sentence on any other page is not cut.
    other = page.replace("World War I - wikipedia ", "")
    _, chunks, _ = _indexed_text_page(other, encoder)
    assert lead not in [c.text[u.start : u.end] for c in chunks for u in c.units]


def test_a_long_page_is_not_cut_into_sentences_inside_parentheses(encoder):
    # Pages longer than pysbd's window are cut at likely sentence ends first; "a.k.a. Azrael" is none.
    filler = [f"Issue {n} of the story was printed in {n + 1900}." for n in range(60)]
    sentence = ("Wayne is replaced as Batman by an apprentice named Jean-Paul Valley (a.k.a. Azrael), who "
                "becomes increasingly violent.")
    for at in range(40, 50):  # wherever the window would end
        page = " ".join([*filler[:at], sentence, *filler[at:]])
        _, chunks, _ = _indexed_text_page(page, encoder)
        assert sentence in [c.text[u.start : u.end] for c in chunks for u in c.units], at


@pytest.mark.parametrize("end", ["\r\n", "\r"])
def test_windows_and_old_mac_line_ends_give_the_lines_an_editor_shows(tmp_path, end):
    data = end.join(["# Setup", "", "Run the installer.", "Then restart the shell."]).encode()
    doc = load(tmp_path / "setup.md", data)
    para = next(b for b in doc.blocks if b.kind == "paragraph")
    assert (para.start_line, para.end_line, para.text) == (3, 4, "Run the installer. Then restart the shell.")
