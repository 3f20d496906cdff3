"""The direct answer: the few words of a quoted sentence that answer a number, date or "what does X stand for"
question, located exactly in the cited passage (answer/direct.py), and how the command line and the web app show it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from answer.direct import direct_answer
from retrieve.query import asks_for_date
from app_server import answer_with, citation
from sendbot.cli import format_answer
from sendbot.core.models import AnswerSentence, Citation
from sendbot.core.prompts import prompts
from sendbot.web import render

PASSAGE = ("Intro line.\nOn 29 March 2022, the review was published. 45 schools were given SEND reviews, 17% of all "
           "schools. There is currently a delay of up to 8 weeks in the allocation of assessments.\n"
           "The next review meeting will take place in September 2023. CARM stands for “Complex Adult Risk Management”.\n"
           "The Special Educational Needs and Disabilities (SEND) team meets monthly.\n"
           "66% of compliments came from parent carers and 26% came from schools.\n"
           "Good progress was made. The 2021 inspection judgement was 'Requires Improvement'; in 2023 it was \"Good\".\n"
           "Appendix 1 - Improvement Plan 2021- 22, Tel 01905 846009: 130 further places are planned.\n"
           "The carers' duties are set out in Sch. 6 and Reg. 35.\n"
           "Cabinet approved the 2017-21 strategy on 8 February 2018.\n"
           "% of EHCP decisions made in 16 weeks; % of EHCPs issued within 20 weeks.\n"
           "Feb 22 - Completed: training tracker for 45 Foster Carers.")


def _direct(question: str, *sentences: str):
    cited = Citation(n=2, source="a.txt", title="A", date="", page=None, section="", text=PASSAGE,
                     quote=sentences[0], score=0.9)
    found = direct_answer(question, [AnswerSentence(s, (2,)) for s in sentences], [cited])
    if found:
        assert PASSAGE[found.start : found.end] == found.text and found.citation == 2  # an exact slice, cited
    return found and found.text


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    ("How many schools were given SEND reviews?", "45 schools were given SEND reviews, 17% of all schools.", "45"),
    ("What percentage of schools had a SEND review?", "45 schools were given SEND reviews, 17% of all schools.", "17%"),
    ("How long is the delay for assessments?",
     "There is currently a delay of up to 8 weeks in the allocation of assessments.", "up to 8 weeks"),
    ("When is the next review meeting?", "The next review meeting will take place in September 2023.", "in September 2023"),
    ("What does CARM stand for?", "CARM stands for “Complex Adult Risk Management”.", "Complex Adult Risk Management"),
    ("How many compliments came from parents?",  # the count before what it counts, not the one before "came"
     "66% of compliments came from parent carers and 26% came from schools.", "66%"),
    ("What does SEND mean?", "The Special Educational Needs and Disabilities (SEND) team meets monthly.",
     "Special Educational Needs and Disabilities"),
    # an inspection's grade, without its quotation marks; "Good" opening a sentence is no grade
    ("What judgement did the 2021 inspection give?",
     "Good progress was made. The 2021 inspection judgement was 'Requires Improvement'; in 2023 it was \"Good\".",
     "Requires Improvement"),
])
def test_the_direct_answer_is_the_span_that_answers_what_was_asked(question, sentence, expected):
    assert _direct(question, sentence) == expected


def test_a_day_of_the_month_is_not_a_count_and_the_next_sentence_with_one_answers():
    assert _direct("How many schools were given SEND reviews?", "On 29 March 2022, the review was published.") is None
    assert _direct("How many schools were given SEND reviews?", "On 29 March 2022, the review was published.",
                   "45 schools were given SEND reviews, 17% of all schools.") == "45"


def test_a_month_and_year_is_not_a_count():
    assert _direct("How many foster carers are there?", "Feb 22 - Completed: training tracker for 45 Foster Carers.") == "45"
    assert _direct("How many foster carers are there?", "Feb 22 - Completed: training tracker for 45 Foster Carers."[:20]) is None


def test_a_label_s_number_a_legal_reference_a_span_of_years_and_a_phone_number_are_not_counts():
    assert _direct("How many places are planned?", "Appendix 1 - Improvement Plan 2021- 22, Tel 01905 846009: 130 "
                   "further places are planned.") == "130"
    assert _direct("How many places are planned?", "Appendix 1 - Improvement Plan 2021- 22, Tel 01905 846009:") is None
    assert _direct("How many carers are there?", "The carers' duties are set out in Sch. 6 and Reg. 35.") is None


def test_a_tentative_answer_says_so_first_and_states_no_direct_answer_in_the_page_the_copy_and_the_terminal():
    answer = replace(answer_with(citation()), tentative=True)
    note = prompts().tentative.text
    assert f'<p class="sb-tentative">{note}</p>' in render.render_answer(answer, 1)
    assert render.plain_text(answer).splitlines()[2] == note
    assert format_answer(answer).splitlines()[0] == note
    assert answer.to_json()["tentative"] is True and replace(answer, tentative=False).to_json()["tentative"] is False
    assert note not in render.render_answer(replace(answer, tentative=False), 1)


def test_questions_that_ask_for_no_number_date_or_definition_get_no_direct_answer():
    assert _direct("What happens if my assessment is late?",
                   "There is currently a delay of up to 8 weeks in the allocation of assessments.") is None
    assert _direct("What does CARM stand for?", "The next review meeting will take place in September 2023.") is None


def test_the_direct_answer_is_stated_first_in_the_page_the_copy_and_the_card():
    cited = citation()
    start = cited.text.index("159")
    answer = replace(answer_with(cited), direct=direct_answer("How many Mental Health Leaders were trained?",
                                                              answer_with(cited).sentences, [cited]))
    assert (answer.direct.text, answer.direct.start) == ("159", start)
    html = render.render_answer(answer, 1)
    assert '<p class="sb-direct">In short: <strong>159</strong>' in html
    assert "<mark>• <strong>159</strong> Mental Health Leaders trained (59%)</mark>" in html  # bold in the card
    assert render.plain_text(answer).splitlines()[2:4] == ["In short: 159 [1]", "• 159 Mental Health Leaders trained (59%) [1]"]
    assert answer.to_json()["direct"] == {"text": "159", "citation": 1, "start": start, "end": start + 3}


def test_a_figure_the_question_gives_is_no_answer_and_the_next_one_is_taken():
    assert _direct("When did Cabinet approve the 2017-21 strategy?",
                   "Cabinet approved the 2017-21 strategy on 8 February 2018.") == "on 8 February 2018"
    assert _direct("In what year was the 2017-21 strategy approved?", "The 2017-21 strategy.") is None


def test_a_duration_answers_how_long_but_not_a_count_of_something_else():
    header = "% of EHCP decisions made in 16 weeks; % of EHCPs issued within 20 weeks."
    assert _direct("How many EHCPs were issued within 20 weeks?", header) is None
    assert _direct("How many weeks does an EHCP decision take?", header) == "16 weeks"
    assert _direct("How long is the delay for assessments?",
                   "There is currently a delay of up to 8 weeks in the allocation of assessments.") == "up to 8 weeks"


@pytest.mark.parametrize(("question", "asks"), [
    ("When is the next review meeting?", True),
    ("What is the target for internships, and by when?", True),
    ("At the AGM, when was the panel said to meet?", True),
    ("What was agreed, and when will it happen?", True),
    ("My son is 16, when can he leave school?", True),
    ("Do you know when the survey opens?", True),  # a verb of knowing: an indirect question
    ("What is the deadline for responses?", True),
    ("What happens when my EP assessment is late?", False),  # a time clause, not a question of its own
    ("What do disabled children like to do when they are out and about?", False),
    ("Is there any help when my child turns 18?", False),
    ("Did they ask parents when they wrote the strategy?", False),
])
def test_a_when_asks_for_a_date_only_as_a_question_of_its_own(question, asks):
    assert asks_for_date(question) is asks
