"""Follow-up questions read against the conversation (retrieve/conversation.py), and what the web app offers to ask
next or instead (sendbot/core/topics.py, sendbot/web/suggest.py): pure functions, checked on the corpus's own phrasing and section titles."""

from __future__ import annotations

import pytest

from retrieve.conversation import Resolved, leans_on_previous, resolve, topic_of
from sendbot.core.models import Passage
from sendbot.core.topics import clean_title, passage_topics
from sendbot.web.suggest import missing_words
from support import make_chunk

EP = "my son's EP assessment is late"


@pytest.mark.parametrize(("question", "topic"), [
    (EP, "EP assessment"),
    ("How many Mental Health Leaders have been trained?", "Mental Health Leaders"),
    ("What does CARM stand for?", "CARM"),
    ("What did Ofsted and the CQC find at the revisit?", "Ofsted"),
    ("why?", ""),
])
def test_a_questions_topic_is_its_longest_run_of_subject_words(question, topic):
    assert topic_of(question) == topic


@pytest.mark.parametrize(("question", "searched"), [
    ("can I complain about the delay?", "can I complain about the EP assessment delay?"),
    ("who runs it?", "who runs EP assessment?"),
    ("What are their rights?", "What are EP assessment's rights?"),
    ("and what about next year?", "and what about next year? (EP assessment)"),
])
def test_a_follow_up_is_searched_with_the_previous_topic_put_where_it_referred_back(question, searched):
    assert resolve(question, EP) == Resolved(searched, "EP assessment", True)


@pytest.mark.parametrize("question", [
    "What does CARM stand for?",  # names its own subject
    "What is the capital of France?",  # "the capital of ..." says what it means
    "What did Ofsted and the CQC find at the revisit?",
    "How many schools have signed up to the relaunched SENCo network?",
])
def test_a_question_that_names_its_subject_stands_alone(question):
    assert not leans_on_previous(question)
    read = resolve(question, EP)
    assert read.question == question and not read.follow_up and read.topic == topic_of(question)


def test_a_follow_up_keeps_the_conversations_topic_and_a_first_question_has_nothing_to_lean_on():
    assert resolve("who runs it?", "can I complain about the EP assessment delay?", "EP assessment").topic == "EP assessment"
    assert resolve("who runs it?") == Resolved("who runs it?", "", False)
    assert resolve("can I complain about the EP assessment delay?", EP).follow_up is False  # it already says


@pytest.mark.parametrize(("section", "shown"), [
    ("Reinspection of SEND services", "Reinspection of SEND services"),
    ("SEND Service - Staffing update", "SEND Service - Staffing update"),
    ("Areas for improvement", "Areas for improvement"),
    ("You can find additional resources on gov.uk to help understand the green", ""),  # a cut-off sentence
    ("Continued focus on obtaining the voice of children and young people Continued Local Offer content development", ""),
    ("Broker and deliver training • 56 schools engaged in SEND in mainstream classroom training (21%)", ""),
    ("The response to the 2020 and 2021 surveys can be found here: SEND Local Offer - Your feedback so far", ""),
    ("FOREWORD..... 4", ""), ("DEVELOPM ENT", ""), ("Recruitme nt training module to Team", ""), ("15 - 72", ""),
    ("Local Offer that describes how", ""), ("Logic to enable", ""), ("Page 62", ""), ("Summary", ""),
    ("Number of Schools actively involved in the EEF (Education endowment", ""),
    ("Item No Subject Page No", ""), ("Version Who Date Amendments", ""),  # a table's header row
    ("Purpose of the Meeting", ""), ("Supporting Information", ""), ("Background Papers", ""),  # a report's parts
    ("Next steps", ""), ("Legal, Financial and HR Implications", ""),
    ("Worcestershire Safeguarding Adults Board", "Worcestershire Safeguarding Adults Board"),
])
def test_only_clean_section_titles_are_offered_as_topics(section, shown):
    assert clean_title(section) == shown


def test_passage_topics_come_best_first_without_repeats_or_excluded_titles():
    sections = ["Reinspection of SEND services", "DISCLOSING INTERESTS", "Reinspection of SEND services",
                "Update on reinspection of SEND services", "Attendance Strategy", "Impact evaluation"]
    passages = [Passage(make_chunk("Text.", section=s), 0.5, 0.5) for s in sections]
    assert passage_topics(passages, exclude=["Attendance strategy"], limit=3) == [
        "Reinspection of SEND services", "Update on reinspection of SEND services", "Impact evaluation"]


def test_missing_words_are_the_questions_words_no_document_uses():
    vocabulary = frozenset({"capital", "funding", "leader", "schools", "complaints", "franchise"})
    assert missing_words("What is the capital of France?", vocabulary) == ["france"]
    assert missing_words("How many leaders and school nurses?", vocabulary) == ["nurses"]
    assert missing_words("Can I complain about the funded places?", vocabulary) == ["places"]
