"""bench/calibrate.py's fit sees what the answerer would compute under the weights it tries, and each
generated question once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from calibrate import generated_questions, shortlisted  # noqa: E402

from qa_bot.answer import DENSE_CANDIDATES  # noqa: E402
from qa_bot.calibration import Calibration  # noqa: E402
from qa_bot.features import RankFeatures  # noqa: E402


def test_only_the_answerers_shortlist_keeps_its_embedding_features():
    n = DENSE_CANDIDATES + 2
    # Lexical evidence falls with the index; the last candidate matches best by embedding alone.
    f = np.array([RankFeatures(coverage=1 - i / n, context_coverage=0, passage_rr=1, type_match=0, novelty=1,
                               sentence_dense=0.3, passage_dense=0.5, interaction=0.3 + (i == n - 1))
                  for i in range(n)])
    w = np.array(Calibration().rank_weights)
    scores, feats = shortlisted(f, w)
    assert np.argmax(f @ w) == n - 1 and np.argmax(scores) == 0  # the answerer never embeds it
    assert np.allclose(scores[:DENSE_CANDIDATES], f[:DENSE_CANDIDATES] @ w)
    rest = feats[DENSE_CANDIDATES:]
    embedded = [RankFeatures._fields.index(name) for name in ("sentence_dense", "interaction")]
    assert (rest[:, embedded] == 0).all() and np.allclose(scores[DENSE_CANDIDATES:], rest @ w)


def test_each_passages_best_candidate_keeps_its_embedding_features_too():
    n = DENSE_CANDIDATES + 3
    # The top passage's units match best lexically; the last two are the second passage's.
    f = np.array([RankFeatures(coverage=1 - i / n, context_coverage=0, passage_rr=1 if i < n - 2 else 0.5,
                               type_match=0, novelty=1, sentence_dense=0.3, passage_dense=0.5, interaction=0.3)
                  for i in range(n)])
    _, feats = shortlisted(f, np.array(Calibration().rank_weights))
    embedded = [RankFeatures._fields.index(name) for name in ("sentence_dense", "interaction")]
    assert [bool(row[embedded].any()) for row in feats] == [True] * DENSE_CANDIDATES + [False, True, False]


def test_generated_questions_come_once_across_files_and_skip_the_excluded(tmp_path):
    def write(name, questions):
        path = tmp_path / name
        path.write_text("".join(json.dumps({"question": q, "answer": "a", "file": "f.md", "fold": 0}) + "\n"
                                for q in questions))
        return path

    a = write("a.jsonl", ["how do I lock?", "How do I lock?", "where is the cache"])
    b = write("b.jsonl", ["where is the cache", "what is a workspace", "can uv publish"])
    got = generated_questions([a, b], exclude={"can uv publish"})
    assert [q["question"] for q in got] == ["how do I lock?", "where is the cache", "what is a workspace"]
    assert all(q["answers"] == [] and q["is_impossible"] is False for q in got)
