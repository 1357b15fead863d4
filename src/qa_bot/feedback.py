"""👍/👎 votes on answers, one JSON line each; thumbs-down votes become candidate eval cases.

A line holds what is needed to reproduce the answer (question, answer text, citations, the
channel whose documents answered) and never who voted.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any, Literal

from .schema import Answer

Vote = Literal["up", "down"]

_write_lock = threading.Lock()  # votes may be appended from several threads


def record_vote(path: Path, answer: Answer, vote: Vote, channel_id: int | None,
                now: dt.datetime | None = None) -> dict[str, Any]:
    """Append one vote to the log at `path` and return the line written."""
    if vote not in ("up", "down"):
        raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
    line = {
        "ts": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "vote": vote,
        "channel_id": channel_id,
        "question": answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "citations": [c.to_dict() for c in answer.citations],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock, path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return line


def thumbs_down_cases(path: Path) -> list[dict[str, str]]:
    """One candidate regression case per question voted down, oldest first.

    Lines that do not parse (say, the last line of a crashed write) are skipped: feedback
    is advisory and must not stop an eval run.
    """
    if not path.exists():
        return []
    cases: dict[str, dict[str, str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(item, dict) or item.get("vote") != "down" or not item.get("question"):
            continue
        cases.setdefault(item["question"], {
            "question": item["question"],
            "note": f"thumbs-down on {item.get('ts', '?')}: {item.get('answer', '')}",
        })
    return list(cases.values())
