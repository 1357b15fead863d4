"""Plain-text rendering of answers, shared by the CLI and the REPL."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .explain import why_refused
from .sanitize import printable
from .schema import Answer, Citation

# A fenced code block as the answerer writes it (units.display): opening fence with an optional
# language, the code, the closing fence.
_FENCED = re.compile(r"^(```|~~~)([^\n`]*)\n(.*?)\n\1[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    code: bool = False
    lang: str = ""


def segments(text: str) -> list[Segment]:
    """Answer text as prose and fenced code blocks, in order (code without its fences)."""
    out, at = [], 0
    for m in _FENCED.finditer(text):
        if m.start() > at:
            out.append(Segment(text[at : m.start()]))
        out.append(Segment(m.group(3), True, m.group(2).strip()))
        at = m.end()
    if at < len(text):
        out.append(Segment(text[at:]))
    return out


def source_line(c: Citation, width: int = 160) -> str:
    where = f"{c.source}" + (f", {c.location()}" if c.location() else "")
    if c.heading:
        where += f" ({c.heading})"
    return f"[{c.n}] {where}: “{clip(c.quote, width)}”"


def clip(text: str, width: int) -> str:
    """`text` on one line in at most `width` characters, cut between words and marked by "…"."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    head = flat[: width - 1]  # room for the ellipsis
    if not flat[width - 1].isspace() and " " in head:
        head = head[: head.rindex(" ")]  # drop the word the cut would split
    return head.rstrip() + "…"


def render(answer: Answer) -> str:
    """The answer for a terminal; document text can reach it, so control characters go."""
    lines = [answer.text]
    if answer.citations:
        lines += ["", "Sources:"] + [source_line(c) for c in answer.citations]
    elif why := why_refused(answer):
        lines += ["", why]
    if answer.notice:
        lines += ["", f"note: {answer.notice}"]
    return printable("\n".join(lines))


def print_rich(answer: Answer, console) -> None:
    """`render` for a terminal: code blocks boxed and highlighted by rich, the rest as plain text."""
    from rich.panel import Panel
    from rich.syntax import Syntax
    from rich.text import Text

    for seg in segments(render(answer)):
        if seg.code:
            code = Syntax(seg.text, seg.lang or "text", theme="ansi_dark", word_wrap=True)
            console.print(Panel(code, title=seg.lang or None, title_align="left", expand=False))
        else:
            console.print(Text(seg.text.strip("\n")))
