"""Answer units follow the document's structure: a lead-in travels with its list, a question is never an answer."""

from retrieve.rerank import names_someone, proper_words
from sendbot.core.units import answer_units, answers_something, names_attachments, quoted_with_header


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


def test_a_label_with_item_lines_under_it_is_a_list_but_wrapped_table_cells_are_not():
    approach = "Approach\nQuality Assurance and Audit programme\nService User Feedback\nIntroduction of a new Case Management System"
    assert _texts("The poor quality of plans.\n" + approach, "list") == [approach]
    assert _texts("Fostering SW's\ncomplete 1 session of Direct Work every 12\nweeks with children in", "list") == []
    assert _texts("Budget Monitoring\n27 September 2023 Home to School Transport\nChairman agreed item be", "list") == []
    assert _texts("Approach\nQuality Assurance and Audit programme\nThe service improved a great deal last year.", "list") == []


def test_a_question_reported_in_minutes_is_marked_and_the_rest_of_its_paragraph_responds_to_it():
    text = ("· The Panel was asked to consider the update.\n"
            "· A Member queried who the key stakeholders were. The Director advised that the Forum had been consulted. "
            "Changes were made as a result.\n"
            "· The Chief Executive was asked how themes would be taken forward. A Complaints Officer would start in April.\n"
            "· The Director reported good progress.")
    units = answer_units(text)
    kinds = [(text[u.start : u.end], u.kind, u.responds_to) for u in units]
    assert kinds[0][1:] == ("sentence", "")  # "was asked to consider" is a request, not a question
    assert kinds[1][1] == "question"
    assert kinds[2] == ("The Director advised that the Forum had been consulted.", "sentence",
                        "· A Member queried who the key stakeholders were.")
    assert kinds[3][2] == "· A Member queried who the key stakeholders were."
    assert kinds[4][1] == "question" and kinds[5][2] == "· The Chief Executive was asked how themes would be taken forward."
    assert kinds[6][1:] == ("sentence", "")  # the next paragraph answers a question of its own


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


def _answers(text: str, sentence: str) -> bool:
    start = text.index(sentence)
    return answers_something(text, start, start + len(sentence))


def test_a_heading_that_shares_its_line_with_the_paragraph_before_it_is_still_a_heading():
    text = "It is due to be considered by Council on 18 May 2023. Dates of Future Meetings\n6 July 2023 at 2pm"
    assert not _answers(text, "Dates of Future Meetings")
    assert _answers(text, "It is due to be considered by Council on 18 May 2023.")


def test_a_piece_of_a_table_cell_answers_nothing_unless_it_holds_a_figure():
    text = ("Trauma informed practice across the Service) All Age Autism\ncapacity for special schools,\n"
            "school for children with autism\nfoster care placements.\nincreased from baseline (65%\n"
            "reducing waiting times for assessment and diagnosis.\nManager Membership: Foster Carer,\n"
            "Dear Tina and Simon,\nThe panel met 12 schools,")
    assert not _answers(text, "the Service) All Age Autism")  # a bracket it did not open
    assert not _answers(text, "capacity for special schools,")  # stops on a comma
    assert not _answers(text, "school for children with autism")  # a few words begun in lower case
    assert not _answers(text, "foster care placements.")  # a sentence's tail, full stop or not
    assert not _answers(text, "Manager Membership: Foster Carer,")  # a comma ends no sentence, however it starts
    assert not _answers(text, "Dear Tina and Simon,")
    assert _answers(text, "The panel met 12 schools,")  # the figure may answer "how many"
    assert _answers(text, "increased from baseline (65%")
    assert _answers(text, "reducing waiting times for assessment and diagnosis.")  # long enough to say something


def test_a_legal_reference_does_not_end_a_sentence():
    text = "Monitor the matters set out in Sch. 6, improving the quality of care, and complete the Reg. 35 Report. It is due."
    assert _texts(text, "sentence") == ["Monitor the matters set out in Sch. 6, improving the quality of care, and "
                                        "complete the Reg. 35 Report.", "It is due."]


def test_a_meeting_notice_with_a_clock_time_states_when_and_where_it_is():
    text = "Wednesday, 24 May 2023, 10.00 am Council Chamber, County Hall, Worcester\nAll County Councillors are invited"
    assert _answers(text, "Wednesday, 24 May 2023, 10.00 am Council Chamber, County Hall, Worcester")


def test_a_sentence_that_points_back_is_quoted_only_with_the_sentence_it_points_to():
    text = "The Steer Clear initiative has been launched. This initiative delivers workshops on knives. Inputs are planned."
    units = _texts(text, "sentence")
    assert "The Steer Clear initiative has been launched. This initiative delivers workshops on knives." in units
    assert "This initiative delivers workshops on knives." not in units  # "this initiative" alone says not which
    assert "The Steer Clear initiative has been launched." in units and "Inputs are planned." in units


def test_a_sentence_points_back_also_after_a_connective_or_a_preposition():
    text = ("NWCSP has identified Reducing Violence and Abuse as a priority. Further, within this priority the "
            "Partnership has a commitment to reduce nuisance. The Plan runs to 2024.")
    units = _texts(text, "sentence")
    assert ("NWCSP has identified Reducing Violence and Abuse as a priority. Further, within this priority the "
            "Partnership has a commitment to reduce nuisance.") in units
    assert "Further, within this priority the Partnership has a commitment to reduce nuisance." not in units
    assert "The Plan runs to 2024." in units  # "The" is not "They"


def test_a_sentence_that_points_back_stays_a_unit_alone_when_the_pair_would_be_too_long():
    before = "The Steer Clear initiative " + "has been launched across the county by the police " * 7 + "this year."
    text = f"{before} This initiative delivers workshops on knives."
    assert "This initiative delivers workshops on knives." in _texts(text, "sentence")


def test_a_sentence_ending_its_line_without_a_full_stop_is_not_taken_for_a_heading():
    text = ("It can also be emailed. Please contact Scrutiny on telephone number 01905 844965 or by emailing "
            "scrutiny@worcestershire.gov.uk\nAgenda")
    assert _answers(text, "Please contact Scrutiny on telephone number 01905 844965 or by emailing scrutiny@worcestershire.gov.uk")


def test_a_table_row_counts_its_header_and_is_quoted_with_it_when_close_under_it():
    text = "Training figures\nNumber of\tApril\tYear End\nDelegates\t429\t2,681\nSessions\t9\t106\nA\t1\t2\nB\t3\t4"
    rows = {text[u.start : u.end]: u for u in answer_units(text) if "\t" in text[u.start : u.end]}
    assert rows["Delegates\t429\t2,681"].responds_to == "Number of\tApril\tYear End"
    delegates = text.index("Delegates")
    assert text[quoted_with_header(text, delegates, text.index("\n", delegates)):text.index("\n", delegates)] == (
        "Number of\tApril\tYear End\nDelegates\t429\t2,681")
    last = text.index("B\t3")
    assert quoted_with_header(text, last, len(text)) == last  # four rows down: the row alone
    assert quoted_with_header(text, 0, len("Training figures")) == 0  # not a table row
    words = "Item\tLead\nNEET Strategy\tJudy Gibbs\nAttendance Strategy\tSarah Wilkins"
    row = words.index("NEET")
    assert quoted_with_header(words, row, words.index("\n", row)) == row  # a row of words reads well alone


def test_a_signature_with_an_initial_heads_no_list():
    text = "Yours sincerely,\nK. Moore\nKatie Moore Regional Lead\nWorking Together\nImproving the lives of children"
    assert not [u for u in answer_units(text) if u.kind == "list" and text[u.start:].startswith("K. Moore")]


def test_lines_naming_a_report_s_attachments_are_told_from_sentences_that_mention_one():
    assert names_attachments("Appendix 1 - WCF Accelerated Progress Plan – 12-month overview Appendix 2 - DfE letter")
    assert names_attachments("Supporting Information\nAppendix 1 – Inspection Report\nAppendix 2 - Level One Plan")
    assert not names_attachments("Supporting Information\nAppendix 1 – Work Programme\nContact Points\nAlyson Grice")
    assert not names_attachments("Details are included as Appendix 1.")
    assert not names_attachments("Supporting Information")
