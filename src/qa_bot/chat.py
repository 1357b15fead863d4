"""`qa-bot chat`: a REPL with history and line editing that shows sources."""

from __future__ import annotations

import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory

from .followup import remember
from .format import render
from .sanitize import printable

HISTORY = Path.home() / ".cache" / "qa-bot" / "chat_history"
COMMANDS = {
    "/help": "list these commands",
    "/quit": "leave (also /exit or Ctrl-D)",
}


class ChatHistory(FileHistory):
    """Line history on disk that keeps questions only, never blank or whitespace-only lines."""

    def append_string(self, string: str) -> None:
        if string.strip():
            super().append_string(string)


@dataclass
class PipedLines:
    """Questions from a pipe or file, one a line: no prompt, no line editing."""

    source: TextIO

    def prompt(self, message: str) -> str:
        line = self.source.readline()
        if not line:
            raise EOFError
        return line


@dataclass
class Draft:
    """A generative answer shown as the LLM writes it, then replaced by the checked answer:
    wiped on a terminal, left above it elsewhere (a pipe cannot un-print)."""

    out: TextIO
    text: str = ""

    def __call__(self, token: str) -> None:
        token = printable(token)
        self.text += token
        self.out.write(token)
        self.out.flush()

    def close(self) -> None:
        if not self.text:
            return
        if not self.out.isatty():
            self.out.write("\n\n")
            return
        cols = shutil.get_terminal_size().columns
        rows = sum(max(1, math.ceil(len(line) / cols)) for line in self.text.split("\n"))
        self.out.write("\r" + (f"\x1b[{rows - 1}A" if rows > 1 else "") + "\x1b[J")
        self.out.flush()


def run_chat(service, session: PromptSession | PipedLines | None = None, echo=print,
             out: TextIO | None = None) -> None:
    """Ask until EOF (Ctrl-D) or `/quit`; a failing question prints an error and goes on.

    Follow-ups are resolved against the earlier turns; generative answers stream to `out`.
    Questions piped in (a PipedLines session) get their answers and nothing else: no banner.
    """
    history: list[tuple[str, str]] = []
    if session is None:
        HISTORY.parent.mkdir(parents=True, exist_ok=True)
        session = PromptSession(history=ChatHistory(str(HISTORY)))
    if not isinstance(session, PipedLines):
        echo(printable(f"Asking the index at {service.storage.location}. /help lists commands; Ctrl-D leaves."))
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
        if question.startswith("/"):
            echo(help_text() if question == "/help" else f"unknown command {question.split()[0]}; /help lists commands")
            continue
        draft = Draft(out or sys.stdout)
        try:
            answer = service.answer(question, history=history, on_token=draft)
            draft.close()
            echo(render(answer) + "\n")
            history = remember(history, answer)
        except Exception as exc:  # one bad question must not end the session
            draft.close()
            echo(printable(f"error: {exc}"))


def help_text() -> str:
    width = max(map(len, COMMANDS))
    return "\n".join([f"{name:<{width}}  {what}" for name, what in COMMANDS.items()]
                     + ["Anything else is a question; a follow-up may refer to the one before."])
