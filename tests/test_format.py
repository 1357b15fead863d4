"""Plain and terminal rendering of answers that hold code blocks."""

from __future__ import annotations

import io

from rich.console import Console

from qa_bot.format import Segment, print_rich, segments
from qa_bot.schema import Answer, Citation

TEXT = "Run the installer script:\n```console\n$ curl -LsSf https://x.example/install.sh | sh\n```\n[1]"


def test_segments_separate_prose_and_fenced_code():
    assert segments(TEXT) == [
        Segment("Run the installer script:\n"),
        Segment("$ curl -LsSf https://x.example/install.sh | sh", True, "console"),
        Segment("\n[1]"),
    ]
    assert segments("No code here. [1]") == [Segment("No code here. [1]")]


def test_terminal_shows_code_boxed_with_its_language():
    out = io.StringIO()
    cite = Citation(1, "docs/guide.md", 14, 19, None, "Run the installer script:", "c1", 1.0, "Guide > Install")
    print_rich(Answer("q", TEXT, [cite], False), Console(file=out, force_terminal=True, width=80, color_system=None))
    lines = out.getvalue().splitlines()
    assert lines[0] == "Run the installer script:"
    assert lines[1].startswith("╭─ console") and lines[2] == "│ $ curl -LsSf https://x.example/install.sh | sh │"
    assert "```" not in out.getvalue()
    assert lines[-1] == "[1] docs/guide.md, lines 14-19 (Guide > Install): “Run the installer script:”"
