"""Answer units follow the document's structure: a lead-in travels with its list, a question is never an answer."""

from retrieve.rerank import names_someone, proper_words
from sendbot.core.units import answer_units, answers_something


def _texts(text: str, kind: str) -> list[str]:
    return [text[u.start : u.end] for u in answer_units(text) if u.kind == kind]


def test_a_lead_in_carries_its_bulleted_items_and_stops_at_the_next_paragraph():
    text = "The priorities are:\n- Early help\n- Better plans\nThe board meets monthly to review them."
    assert _texts(text, "list") == ["The priorities are:\n- Early help\n- Better plans"]


def test_items_that_lost_their_bullets_in_pdf_text_still_follow_their_lead_in():
    text = ("Intro sentence about the strategy. It focuses on outcomes in four key areas:\n"
            "Independent living\nEmployment\nCommunity inclusion\nLiving healthily\n"
            "This long paragraph resumes the report's prose and runs on well past twenty words, so it is plainly not "
            "another item of the list above it.")
    assert _texts(text, "list") == [
        "It focuses on outcomes in four key areas:\nIndependent living\nEmployment\nCommunity inclusion\nLiving healthily"
    ]


def test_a_single_line_that_runs_the_items_together_is_the_list():
    text = "It covers four broad areas of support:\nCommunication and interaction, Cognition and learning, and Sensory needs."
    assert _texts(text, "list") == [text]


def test_a_list_unit_starts_at_the_lead_in_sentence_not_the_start_of_its_paragraph():
    text = "The panel met in May. It agreed the following:\n1. Publish the plan\n2. Report back in June"
    (listed,) = _texts(text, "list")
    assert listed.startswith("It agreed the following:") and listed.endswith("Report back in June")


def test_a_colon_with_nothing_after_it_makes_no_list():
    assert _texts("The priorities are:", "list") == []


def test_a_question_line_is_marked_and_the_response_after_it_responds_to_it():
    text = "What support is there for families?\nResponse: the forum runs monthly coffee mornings."
    units = answer_units(text)
    assert [u.kind for u in units] == ["question", "sentence"]
    assert units[1].responds_to == "What support is there for families?"


def test_a_persons_name_is_two_words_the_documents_only_ever_capitalise():
    corpus = ["The NEET Strategy is led by Judy Gibbs.", "Strategy Lead person", "a lead for each strategy",
              "Meetings in May and June", "Judy Gibbs chairs the board in Worcestershire."]
    proper = proper_words(corpus)
    assert {"Judy", "Gibbs", "Worcestershire"} <= proper
    assert not {"Strategy", "Lead", "May", "June", "The"} & proper  # written in lower case somewhere, or a month
    assert names_someone("NEET Strategy Judy Gibbs", proper)
    assert names_someone("Laura\nWestwood", {"Laura", "Westwood"})
    assert not names_someone("NEET Strategy Lead", proper)
    assert not names_someone("Meetings in May June", proper)


def test_a_heading_shaped_line_answers_when_it_names_someone():
    text = "Associated Strategy Lead person\nNEET Strategy Judy Gibbs\nNEXT STEPS"
    start = text.index("NEET")
    end = start + len("NEET Strategy Judy Gibbs")
    assert not answers_something(text, start, end)  # on its shape alone, a heading
    assert answers_something(text, start, end, named=True)  # a table row: the strategy and its lead
