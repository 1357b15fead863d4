"""The shipped interaction head: the file its card describes, loaded with numpy alone, scoring
with the word-piece states the encoder hands out, and one clear line when it is damaged."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from qa_bot.interaction import HEAD_PATH, InteractionError, InteractionHead, shared_head
from tests.conftest import torch_modules_after


def test_head_file_matches_its_card():
    card = (HEAD_PATH.parent / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"sha256 `([0-9a-f]{64})`", card)
    assert stated, "the card must state head.npz's sha256"
    assert hashlib.sha256(HEAD_PATH.read_bytes()).hexdigest() == stated.group(1)
    assert "train/train_interaction.py" in card and "Apache-2.0" in card


def test_states_pool_to_the_vectors(encoder):
    texts = ["uv export writes a requirements.txt", "short", "Apart from Russia and the US, 107 countries co-sponsored it."]
    vecs, states = encoder.encode_with_states(texts)
    assert np.allclose(vecs, encoder.encode(texts), atol=1e-6)
    # one state per word-piece, [CLS] and [SEP] left out
    assert [len(s) for s in states] == [encoder.count_tokens(t) - 2 for t in texts]
    # int8 activations are quantized per call, so a text's states depend on its batch: compare alike
    _, (alone,) = encoder.encode_with_states(texts[:1])
    assert np.array_equal(encoder.query_states(texts[0]), alone)


@pytest.mark.parametrize(("question", "answer", "distractor"), [
    ("Who is the Russian envoy to the United States?",
     "Anatoly Antonov, Russia's ambassador to the United States, welcomed the vote.",
     "The United States and Russia submitted the draft to the First Committee."),
    ("what's the default http timeout",
     "UV_HTTP_TIMEOUT: Timeout (in seconds) for HTTP reads. (default: 30 s)",
     "UV_HTTP_RETRIES: The number of retries for an HTTP request. (default: 3)"),
    ("can I turn off the progress spinners",
     "UV_NO_PROGRESS: Avoid showing any progress bars or spinners.",
     "UV_NO_CACHE: Avoid reading from or writing to the cache."),
    # The distractor shares more of the question's words ("requirements.txt", "project") than the
    # answer, which says "export" where the question says "get ... out": still beyond the head.
    pytest.param("how do I get a requirements.txt out of my project",
                 "To export the lockfile to requirements.txt format, run uv export --format requirements-txt.",
                 "Dependencies declared in a requirements.txt file can be added to the project with the -r option.",
                 marks=pytest.mark.xfail(strict=True, reason="a paraphrase the shipped head misses")),
    ("When was the resolution adopted?",
     "The resolution was adopted on 6 November 2018 by consensus.",
     "The resolution calls on states to cooperate on information security."),
])
def test_the_unit_that_answers_scores_higher(encoder, question, answer, distractor):
    _, states = encoder.encode_with_states([answer, distractor])
    good, bad = shared_head().score(encoder.query_states(question), states)
    assert good > bad and -1.0 <= bad and good <= 1.0


def test_runtime_path_imports_no_torch():
    assert torch_modules_after(
        "import numpy as np\n"
        "from qa_bot.interaction import shared_head\n"
        "s = shared_head().score(np.ones((3, 384), np.float32), [np.ones((5, 384), np.float32), np.zeros((0, 384))])\n"
        "assert s.shape == (2,) and s[1] == 0.0\n"
    ) == []


@pytest.mark.parametrize("damage", ["truncate", "delete", "wrong-shape"])
def test_damaged_or_missing_head_is_one_clear_line(tmp_path, damage):
    path = tmp_path / "head.npz"
    if damage == "truncate":
        path.write_bytes(HEAD_PATH.read_bytes()[:300])
    elif damage == "wrong-shape":
        np.savez(path, proj=np.zeros((128, 100)), gate=np.zeros(384), gate_bias=np.float32(0))
    with pytest.raises(InteractionError) as err:
        InteractionHead.load(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and "reinstall" in message
