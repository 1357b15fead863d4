"""`qa-bot chat`: a REPL with history and line editing that shows sources."""

from __future__ import annotations

from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory

from .format import render

HISTORY = Path.home() / ".cache" / "qa-bot" / "chat_history"


def run_chat(service, session: PromptSession | None = None, echo=print) -> None:
    """Ask until EOF (Ctrl-D) or `/quit`; a failing question prints an error and goes on."""
    if session is None:
        HISTORY.parent.mkdir(parents=True, exist_ok=True)
        session = PromptSession(history=FileHistory(str(HISTORY)))
    echo("Ask about your documents. Ctrl-D or /quit to leave.")
    while True:
        try:
            question = session.prompt("? ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return
        question = question.strip()
        if not question:
            continue
        if question in ("/quit", "/exit"):
            return
        try:
            echo(render(service.answer(question)) + "\n")
        except Exception as exc:  # one bad question must not end the session
            echo(f"error: {exc}")
