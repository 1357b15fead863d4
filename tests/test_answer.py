"""Answers: every [n] is a listed citation and every quote is verbatim at its stated place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa_bot.answer import REFUSAL_TEXT
from qa_bot.errors import InputError
from qa_bot.indexer import Index
from qa_bot.service import QAService
from qa_bot.lexical import LexicalIndex, sentence_evidence
from qa_bot.question_kind import definition_subject, expected_type, type_match
from qa_bot.schema import Chunk
from qa_bot.text import contradicts, dotted_names, numbered_mentions, sentence_spans, terms
from tests.conftest import PARAPHRASES, make_settings
from tests.pdfgen import write_pdf

QUESTIONS = [
    "How many countries co-sponsored the draft resolution?",
    "Who is the First Deputy Minister of Foreign Affairs?",
    "Since when has the Kremlin called for international regulation?",
    "Which ransomware groups did the US send materials about?",
    "What did Belousov say about the international community?",
]


def assert_verifiable(answer, cwd: Path = Path(".")):
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    listed = [c.n for c in answer.citations]
    assert markers == set(listed) and len(listed) == len(set(listed)) > 0
    for c in answer.citations:
        lines = Path(c.source).read_text(encoding="utf-8").splitlines(keepends=True)
        assert c.quote in " ".join("".join(lines[c.start_line - 1 : c.end_line]).split()), (c.source, c.location())
        assert c.quote in " ".join(next(p.chunk.text for p in answer.passages if p.chunk.id == c.chunk_id).split())


@pytest.mark.parametrize("question", QUESTIONS)
def test_citations_are_real_and_verbatim(seed_service, question):
    answer = seed_service.answer(question)
    assert not answer.refused
    assert_verifiable(answer)


def _docs(tmp_path: Path, files: dict[str, str]) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in files.items():
        (docs / name).write_text(text)
    return docs


def _service(tmp_path: Path, encoder, docs: Path) -> QAService:
    Index(make_settings(tmp_path / "ix"), encoder).sync([docs])
    return QAService(make_settings(tmp_path / "ix"), encoder=encoder)


def test_citations_in_markdown_and_pdf(tmp_path, encoder):
    docs = _docs(tmp_path, {"garden.md": (
        "# Garden\n\nNotes on the garden.\n\n## Tomatoes\n\nTomatoes need six hours of sun.\n"
        "Water them at the roots, never on the leaves.\n\n## Roses\n\nPrune roses in late winter.\n")})
    write_pdf(docs / "manual.pdf", [["The pump is model XR-7."], ["Replace the XR-7 filter every 90 days."]])
    svc = _service(tmp_path, encoder, docs)

    md = svc.answer("How many hours of sun do tomatoes need?")
    assert not md.refused and "six hours" in md.text
    assert_verifiable(md)
    assert md.citations[0].heading == "Garden > Tomatoes"

    pdf = svc.answer("How often should the XR-7 filter be replaced?")
    assert not pdf.refused and "90 days" in pdf.text
    cite = pdf.citations[0]
    assert cite.page == 2 and cite.start_line is None
    assert cite.quote in "Replace the XR-7 filter every 90 days."


def test_a_sentence_that_leans_back_is_quoted_with_the_one_before_it(tmp_path, encoder):
    svc = _service(tmp_path, encoder, _docs(tmp_path, {"oscal.md": (
        "# Plans\n\nWe are also working on a prose OSCAL specification.\nIt will define the catalog and "
        "profile models and explain how to convert them.\n\n## Tools\n\nIt ships a converter for "
        "catalog files.\n")}))

    answer = svc.answer("what will define the catalog and profile models?")
    assert_verifiable(answer)
    # The quote starts at the sentence "It" points back to, on the line before.
    assert answer.citations[0].quote == ("We are also working on a prose OSCAL specification. It will define the "
                                         "catalog and profile models and explain how to convert them.")
    assert (answer.citations[0].start_line, answer.citations[0].end_line) == (3, 4)
    # Not across a heading: there "It" has nothing before it to lean on.
    tools = svc.answer("what ships a converter for catalog files?")
    assert tools.citations[0].quote == "It ships a converter for catalog files."


@pytest.mark.parametrize(
    "question",
    ["What is the capital of Australia?", "How do I bake sourdough bread?", "Who won the 1998 World Cup?"],
)
def test_refuses_when_the_documents_do_not_answer(seed_service, question):
    answer = seed_service.answer(question)
    assert answer.refused and answer.text == REFUSAL_TEXT and answer.citations == []
    assert answer.confidence < seed_service.answerer.threshold


def test_a_question_naming_what_the_documents_never_mention_is_declined(seed_index, encoder):
    # The seed article is about Russia, the US and the UN; it never names Flatpak. Even a bot
    # set to answer everything (threshold 0) does not answer from passages about something else.
    always = QAService(make_settings(seed_index, refusal_threshold=0.0), encoder=encoder)
    answer = always.answer("Did Russia and the US discuss Flatpak at the UN?")
    assert answer.refused and answer.confidence == 0.0 and answer.unmatched[0] == "Flatpak"
    assert not always.answer("Did Russia and the US discuss security at the UN?").refused


def test_only_rare_words_the_documents_lack_even_misspelt_count_as_never_mentioned(seed_service):
    lexical = seed_service.answerer.lexical
    # "Antonv": one edit from the article's "Antonov"; "envoy": absent but common enough
    # (Zipf 3.4) to be a paraphrase of the article's "ambassador"; "flatpak": absent and rare.
    assert lexical.unknown_words("Is Antonv the envoy on Kubernetes and Flatpak?", 0.6) == ("kubernetes", "flatpak")
    assert lexical.unknown_words("Is Antonv the envoy?", 0.5) == ("envoy",)


def test_a_file_name_the_documents_never_hold_is_never_mentioned_though_its_words_are():
    texts = ["Declare dependencies in pyproject.toml; see docs.astral.sh for more.",
             "The environment is created on first run.", "Settings may also be written as yml."]
    lexical = LexicalIndex.build([Chunk(f"c{i}", "/d/setup.md", t, 0, len(t), 1, 1, None, None)
                                  for i, t in enumerate(texts)])
    assert dotted_names("Is U.S. e.g. 3.12 in Environment.yml or node.js?") == ["environment.yml", "node.js"]
    assert lexical.unknown_words("Can I list them in environment.yml?", 0.6) == ("environment.yml",)
    # Held whole or as the end of a longer name: mentioned.
    assert lexical.unknown_words("Can I list them in pyproject.toml, as astral.sh says?", 0.6) == ()


def test_a_question_about_a_file_the_documents_never_name_is_declined_and_says_so(tmp_path, encoder):
    docs = _docs(tmp_path, {"setup.md": (
        "# Setup\n\nDeclare the project's dependencies in pyproject.toml, under `[project]`.\n\n"
        "The environment is created on the first run. Lock files are written as TOML, never as yml.\n")})
    Index(make_settings(tmp_path / "ix"), encoder).sync([docs])
    always = QAService(make_settings(tmp_path / "ix", refusal_threshold=0.0), encoder=encoder)
    answer = always.answer("Can I declare the dependencies in an environment.yml?")
    assert answer.refused and answer.confidence == 0.0 and answer.unmatched[0] == "environment.yml"
    assert not always.answer("Can I declare the dependencies in pyproject.toml?").refused


def test_the_noun_that_names_the_answer_kind_is_no_term(seed_service):
    lexical = seed_service.answerer.lexical
    # The answer holds a date, not the word "date": counting it made the right sentence look like
    # it missed a third of the question (confidence 0.17, just above the threshold).
    weights = lexical.term_weights("On what date did Putin and Biden strike their agreement?")
    assert "date" not in weights and {"putin", "biden", "agreement"} <= weights.keys()
    assert "year" not in lexical.term_weights("In which year was the draft adopted?")
    # Where the noun is part of the subject, it stays.
    assert "date" in lexical.term_weights("Which date format does the report use?")
    assert "time" in lexical.term_weights("What time zone do the talks use?")


def test_a_how_to_questions_framing_is_no_term(seed_service):
    lexical = seed_service.answerer.lexical
    # Steps answer "the easiest way to install"; they rarely say "easiest", which outweighed the rest.
    weights = lexical.term_weights("whats the easiest way to install it on a mac")
    assert {"easiest", "way"}.isdisjoint(weights) and set(terms("install macOS")) == weights.keys()
    assert "way" not in lexical.term_weights("What is the best method of adopting a draft?")
    # Without "way to", the adjective is the subject ("the fastest resolver") and stays.
    assert "fastest" in lexical.term_weights("which is the fastest resolver?")


def test_contractions_typed_without_apostrophe_are_no_terms():
    # Rare in documentation, so corpus idf made "whats" the heaviest word of "whats a profile".
    assert terms("whats a profile, what's a catalog, dont and isnt") == ["profil", "catalog"]
    assert terms("the user ID") == ["user", "id"]  # a contraction's twin that is a word of its own


def test_a_word_ending_in_i_is_not_the_stem_of_one_ending_in_y():
    # Snowball stems "pypy" to "pypi": a question about PyPy was answered about PyPI.
    assert len(set(terms("pypy PyPI"))) == 2 and len(set(terms("wiki wiky"))) == 2
    assert len(set(terms("copy copies"))) == 1 and len(set(terms("API APIs PyPI's"))) == 2


def test_short_forms_typed_in_chat_meet_the_words_documentation_spells_out():
    assert terms("which env var sets the cache dir") == terms("which environment variable sets the cache directory")
    assert terms("clone the repo on a mac") == terms("clone the repository on macOS")
    assert set(terms("UV_PYTHON_INSTALL_DIR")) >= set(terms("directory"))
    # Forms that are names of their own elsewhere stay as typed: `--dev`, pip.conf.
    assert terms("dev conf") == ["dev", "conf"]


def test_a_what_is_question_prefers_the_sentence_that_says_what_it_is():
    assert [definition_subject(q) for q in ("what is a workspace", "whats a profile in oscal", "What are clades?")] \
        == ["workspace", "profile", "clades"]
    # A name, a value or an attribute is asked for, not a definition.
    assert [definition_subject(q) for q in ("What is the capital of Australia?", "what's the default http timeout",
                                            "What is terra preta called?", "what got done in sprint 2")] == [None] * 4
    q = "what is a workspace"
    assert expected_type(q) == "definition"
    layout = "The most common workspace layout can be thought of as a root project with libraries."
    cargo = "Inspired by the Cargo concept of the same name, a workspace is a collection of packages."
    assert type_match("definition", layout, q) == 0.0
    assert type_match("definition", cargo, q) == type_match("definition", "Workspaces are managed together.", q) == 1.0


def test_a_number_with_thousands_separators_is_one_term():
    assert terms("more than 10000 runs") == terms("more than 10,000 runs") == ["10000", "run"]
    # Commas between numbers that are no thousands groups still separate them.
    assert terms("in 2010,2011 and 1,2,3") == ["2010", "2011", "1", "2", "3"]


def test_a_unit_that_numbers_the_asked_thing_otherwise_ranks_after_the_others(tmp_path, encoder):
    asked = numbered_mentions("what got done in sprint 2, on Python 3.12, in 2010")
    assert asked == {("sprint", "2"), ("python", "3.12")}  # "in 2010" numbers nothing
    assert contradicts(asked, "During Sprint 3 we wrote the documentation.")
    assert not contradicts(asked, "In Sprint 2 we did the catalog work; Sprint 3 wrote the docs.")
    assert not contradicts(asked, "We finished the documentation.")
    docs = _docs(tmp_path, {"sprints.md": (
        "# Sprints\n\nWe got the documentation done in Sprint 3, and the documentation got reviewed in Sprint 4.\n\n"
        "In Sprint 2 we did the catalog work.\n")})
    answer = _service(tmp_path, encoder, docs).answer("what got done in sprint 2")
    assert not answer.refused and answer.citations[0].quote == "In Sprint 2 we did the catalog work."


def test_a_name_typed_without_its_accents_is_the_same_term():
    assert terms("Who played Théoden? Schrödinger's émigrés") == terms("Who played Theoden? Schrodinger's emigres")
    # Marks that make another script's letter a different letter stay: ガ (ga) is not カ (ka).
    assert terms("ガス") != terms("カス")


def test_lexical_search_finds_the_spelled_out_words_for_a_short_form():
    texts = ["The CACHE_ROOT environment variable sets where downloads are stored.",
             "A var keyword declares a name in old JavaScript.",
             "Set NO_COLOR to turn off coloured output in terminals."]
    chunks = [Chunk(f"c{i}", "/d/env.md", t, 0, len(t), 1, 1, None, None) for i, t in enumerate(texts)]
    hits = LexicalIndex.build(chunks).search("env var?", 3)
    assert hits[0][0].text == texts[0]


def test_terms_a_document_is_about_count_as_present_in_each_of_its_units():
    def chunk(n: int, path: str, text: str, context: str = "") -> Chunk:
        return Chunk(f"{path}{n}", path, text, 0, len(text), 1, 1, None, None, context)

    about = [chunk(i, "/d/oscal.md", f"OSCAL work item {i} covers catalogs.") for i in range(8)]
    profile = chunk(8, "/d/oscal.md", "A profile is a selection of controls from catalogs.")
    other = chunk(0, "/d/notes.md", "A profile picture is shown.", context="Accounts > Profile")
    lexical = LexicalIndex.build([*about, profile, other])
    weights = lexical.term_weights("whats a profile in oscal")
    assert lexical.topic_terms(profile, weights) == {"oscal"}  # in 8 of the file's 9 chunks
    assert lexical.topic_terms(other, weights) == {"profil"}  # its heading path, not its file
    literal = sentence_evidence(profile.text, weights)[0].coverage
    topical = sentence_evidence(profile.text, weights, given=lexical.topic_terms(profile, weights))[0]
    assert literal < topical.coverage == topical.context_coverage == 1.0


def test_a_misspelt_question_is_still_answered(seed_service):
    lexical = seed_service.answerer.lexical
    # Searched (BM25) as the indexed term it misspells, the most frequent of the nearest.
    assert ("sponsered", "sponsor") in lexical.question_terms("Who co-sponsered it?")
    answer = seed_service.answer("How many countries co-sponsered the draft resolution?")
    assert not answer.refused and "107" in answer.text


@pytest.mark.parametrize("question", PARAPHRASES)
def test_paraphrases_of_the_seed_article_are_answered(seed_service, question):
    answer = seed_service.answer(question)
    assert not answer.refused, (question, answer.confidence)
    assert PARAPHRASES[question] in answer.text.split("[1]")[0]  # the first answer sentence


def test_every_retrieved_passage_has_its_best_unit_embedded(seed_service):
    # In a file all about one topic every unit holds the question's words; the lexical shortlist
    # alone gave dense features only to units of the top passage or two.
    question = "what did Russia and the US agree on?"
    passages = seed_service.retriever.retrieve(question)
    cands = seed_service.answerer.candidates(question, passages)
    assert len(passages) > 2
    assert {c.passage_rank for c in cands if c.features.sentence_dense != 0.0} == {c.passage_rank for c in cands}


def test_refusal_threshold_is_a_setting(seed_index, encoder):
    question = "How many countries co-sponsored the draft resolution?"
    never = QAService(make_settings(seed_index, refusal_threshold=1.0), encoder=encoder)
    always = QAService(make_settings(seed_index, refusal_threshold=0.0), encoder=encoder)
    assert never.answer(question).refused
    assert not always.answer(question).refused


def test_a_calibration_given_to_the_service_replaces_the_shipped_one(seed_index, encoder):
    from qa_bot.calibration import Calibration

    question = "How many countries co-sponsored the draft resolution?"
    strict = QAService(make_settings(seed_index), encoder=encoder, calibration=Calibration(threshold=1.0))
    assert strict.answerer.threshold == 1.0 and strict.answer(question).refused


def test_empty_question_is_rejected(seed_service):
    with pytest.raises(InputError, match="empty"):
        seed_service.answer("   ")


def test_sentence_spans_are_verbatim_and_respect_abbreviations():
    text = 'Dr. Smith met Mr. Jones in the U.S. on Jan. 5. He said "Yes." Then they left!\nNew line here'
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Dr. Smith met Mr. Jones in the U.S. on Jan. 5.",
        'He said "Yes."',
        "Then they left!",
        "New line here",
    ]


def _blas_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_answering_runs_blas_on_one_thread_and_gives_the_others_back(seed_service):
    from qa_bot.service import _one_blas_thread

    before = _blas_threads()
    if not before:
        pytest.skip("numpy reports no BLAS library")
    with _one_blas_thread():
        assert _blas_threads() == {1}
    assert _blas_threads() == before
    seed_service.answer("How many countries co-sponsored the draft resolution?")
    assert _blas_threads() == before
