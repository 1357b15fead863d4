"""The vote log and the eval cases made from thumbs-down votes."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from qa_bot.feedback import record_vote, thumbs_down_cases
from qa_bot.schema import Answer, Citation

CITE = Citation(1, "seeds/a.txt", 3, 3, None, "107 countries co-sponsored it.", "c1", 0.9)
ANSWER = Answer("How many countries co-sponsored it?", "107 countries co-sponsored it. [1]", [CITE], False)
WHEN = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def test_a_vote_is_one_json_line_without_who_voted(tmp_path):
    log = tmp_path / "sub" / "feedback.jsonl"
    record_vote(log, ANSWER, "up", 1001, now=WHEN)
    record_vote(log, ANSWER, "down", None, now=WHEN)
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {
        "ts": "2024-05-01T12:00:00+00:00", "vote": "up", "channel_id": 1001,
        "question": ANSWER.question, "answer": ANSWER.text, "refused": False,
        "citations": [CITE.to_dict()],
    }
    assert lines[1]["vote"] == "down" and lines[1]["channel_id"] is None


def test_unknown_vote_is_rejected(tmp_path):
    with pytest.raises(ValueError):
        record_vote(tmp_path / "f.jsonl", ANSWER, "meh", 1)  # type: ignore[arg-type]
    assert not (tmp_path / "f.jsonl").exists()


def test_thumbs_down_votes_become_cases_once_per_question(tmp_path):
    log = tmp_path / "feedback.jsonl"
    other = Answer("Who led the GGE?", "Washington. [1]", [CITE], False)
    record_vote(log, ANSWER, "down", 1, now=WHEN)
    record_vote(log, other, "up", 1, now=WHEN)
    record_vote(log, ANSWER, "down", 1, now=WHEN + dt.timedelta(days=1))
    with log.open("a", encoding="utf-8") as f:
        f.write('{"vote": "down", "question": "cut off mid-wri')  # a crashed write
    assert thumbs_down_cases(log) == [{
        "question": ANSWER.question,
        "note": f"thumbs-down on 2024-05-01T12:00:00+00:00: {ANSWER.text}",
    }]


def test_no_log_yet_means_no_cases(tmp_path):
    assert thumbs_down_cases(tmp_path / "missing.jsonl") == []
