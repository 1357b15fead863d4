"""Plain-text rendering of answers, shared by the CLI and the REPL."""

from __future__ import annotations

from .schema import Answer, Citation


def source_line(c: Citation, width: int = 160) -> str:
    where = f"{c.source}" + (f", {c.location()}" if c.location() else "")
    if c.heading:
        where += f" ({c.heading})"
    quote = " ".join(c.quote.split())
    if len(quote) > width:
        quote = quote[: width - 1].rstrip() + "…"
    return f"[{c.n}] {where}: “{quote}”"


def render(answer: Answer) -> str:
    lines = [answer.text]
    if answer.citations:
        lines += ["", "Sources:"] + [source_line(c) for c in answer.citations]
    elif answer.refused and answer.passages:
        best = answer.passages[0]
        lines += ["", f"(closest passage: {best.source}, score {best.score:.3f})"]
    if answer.notice:
        lines += ["", f"note: {answer.notice}"]
    return "\n".join(lines)
