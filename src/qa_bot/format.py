"""Plain-text rendering of answers, shared by the CLI and the REPL."""

from __future__ import annotations

from .sanitize import printable
from .schema import Answer, Citation


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
    elif answer.refused and answer.passages:
        best = answer.passages[0]
        lines += ["", f"(closest passage: {best.source}, retrieval score {best.score:.3f})"]
    if answer.notice:
        lines += ["", f"note: {answer.notice}"]
    return printable("\n".join(lines))
