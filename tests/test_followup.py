"""Rule-based follow-up resolution."""

from __future__ import annotations

from qa_bot.followup import condense, salient

HISTORY = [("What did Joe Biden attend?", "President Joe Biden made a surprise trip ... [1]")]


def test_pronoun_follow_up_carries_the_previous_subject():
    assert condense("When was it?", HISTORY) == "When was it? (Joe Biden, attend)"


def test_every_reference_word_triggers_resolution():
    for word in ("it", "they", "them", "its", "their", "this", "that", "he", "she", "his", "her",
                 "those", "these"):
        assert "Joe Biden" in condense(f"What about {word}?", HISTORY), word


def test_standalone_question_is_unchanged():
    assert condense("How many countries co-sponsored the resolution?", HISTORY) == (
        "How many countries co-sponsored the resolution?"
    )


def test_no_history_means_no_change():
    assert condense("When was it?", []) == "When was it?"


def test_only_the_latest_turn_is_used():
    history = [("Who led the GGE?", "Washington [1]"), *HISTORY]
    assert condense("Where was it?", history) == "Where was it? (Joe Biden, attend)"


def test_words_already_in_the_question_are_not_repeated():
    assert condense("Did Joe Biden enjoy it?", HISTORY) == "Did Joe Biden enjoy it? (attend)"
    assert condense("What did Joe Biden attend with them?", HISTORY) == "What did Joe Biden attend with them?"


def test_salient_keeps_names_whole_and_drops_function_words():
    assert salient("What did the UN General Assembly adopt in 2021 about information security?") == [
        "UN General Assembly", "adopt", "2021", "information", "security",
    ]
    assert salient("How many countries co-sponsored the resolution?") == ["countries", "co-sponsored", "resolution"]
