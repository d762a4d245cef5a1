"""Every page through Streamlit's AppTest: answers, examples, batch files, bad input."""

import logging
import re

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ADMIN_PASSWORD
from qclass import artifacts, batch

TIMEOUT = 60
ROOT = artifacts.ROOT


def classify(text: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlitapp.py"), default_timeout=TIMEOUT).run()
    at.text_input(key="question").set_value(text)
    at.button(key="classify").click().run()
    assert not at.exception
    return at


def charts(at: AppTest) -> list:
    return [el for el in at.main.get("vega_lite_chart")]


def test_page_is_usable_before_anything_is_typed():
    at = AppTest.from_file(str(ROOT / "streamlitapp.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value.endswith("Question Classification")
    assert not at.metric and not at.warning
    assert at.toggle[0].value is False  # balloons are off by default


def test_question_gets_both_classes_confidences_and_top3_charts():
    at = classify("What is the capital of Peru?")
    assert [(m.label, m.value) for m in at.metric] == [("Class", "LOCATION"), ("Subclass", "city")]
    captions = " ".join(c.value for c in at.caption)
    assert "LOC ·" in captions and "LOC:city ·" in captions and "% confident" in captions
    assert len(charts(at)) == 2


def test_a_mended_typo_is_shown_as_plain_text_under_the_question():
    at = classify("What is the *captial* of Peru?")
    assert [t.value for t in at.main.get("text")] == ["What is the *captial* of Peru?", "What is the *capital* of Peru?"]
    assert "Read as (typos mended):" in [c.value for c in at.caption]
    assert [m.value for m in at.metric] == ["LOCATION", "city"]
    at = classify("Who wrote Hamlet?")
    assert [t.value for t in at.main.get("text")] == ["Who wrote Hamlet?"]
    assert not any("Read as" in c.value for c in at.caption)


def test_balloons_only_when_the_visitor_turns_them_on():
    def balloons(at):
        return [node for node in at.get("balloons")]

    assert not balloons(classify("Who wrote Hamlet?"))
    at = AppTest.from_file(str(ROOT / "streamlitapp.py"), default_timeout=TIMEOUT).run()
    at.toggle[0].set_value(True).run()
    at.text_input(key="question").set_value("Who wrote Hamlet?")
    at.button(key="classify").click().run()
    assert balloons(at)


def test_example_button_fills_the_question_and_answers():
    at = AppTest.from_file(str(ROOT / "streamlitapp.py"), default_timeout=TIMEOUT).run()
    label = at.button(key="example-3").label
    at.button(key="example-3").click().run()
    assert at.text_input(key="question").value == label
    assert at.metric[0].value == "ABBREVIATION"


@pytest.mark.parametrize("text", ["", "     "])
def test_empty_questions_get_a_clear_message(text):
    at = classify(text)
    assert "empty" in at.warning[0].value and not at.metric


@pytest.mark.parametrize("text, note", [
    ("What is the longest river " * 4000, "very long"),  # 100,000 characters
    ("🤔🙂🚀", "guess"),
    ("\x01\x02\x07 Who \x1b[31m invented \x0b the radio?", None),
])
def test_odd_questions_get_an_answer_and_a_note(text, note):
    at = classify(text)
    assert len(at.metric) == 2
    if note:
        assert any(note in i.value for i in [*at.info, *at.warning])


@pytest.mark.parametrize("text", ["<script>alert('x')</script> Who is <b>Bob</b>?",
                                  "**Who** is [the king](javascript:alert(1)) of `France`?"])
def test_user_text_is_never_rendered_as_html_or_markdown(text):
    at = classify(text)
    assert len(at.metric) == 2
    rendered = [el.value for el in at.main.get("markdown")] + [el.value for el in at.main.get("caption")]
    assert not any("<script>" in value or "javascript:" in value or "<b>" in value for value in rendered)


def shown(markdown: str) -> str:
    """What a Markdown message (escaped by qclass.pages.plain) reads as on the page."""
    return re.sub(r"\\(.)", r"\1", markdown.replace("\u2060", "")).replace("  \n", "\n")


def run_batch(upload=None, paste: str = "") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages/1_Batch.py"), default_timeout=TIMEOUT).run()
    if upload:
        at.file_uploader[0].upload(*upload)
    at.text_area[0].set_value(paste)
    at.button[0].click().run()
    assert not at.exception
    return at


def test_batch_csv_upload_shows_table_and_offers_csv():
    data = "question,id\nWho wrote Hamlet?,1\nWhat is the capital of Peru?,2\nHow tall is Everest?,3\n"
    at = run_batch(("questions.csv", data.encode(), "text/csv"))
    assert "Classified 3 questions" in at.success[0].value
    table = at.dataframe[0].value
    assert list(table["fine"]) == ["HUM:ind", "LOC:city", "NUM:dist"]
    # The file is made on the click (no address in the page until then); test_browser downloads it for real.
    download = at.download_button[0].proto
    assert download.label == "Download results (CSV)" and download.ignore_rerun
    assert download.deferred_file_id and not download.url


def test_batch_text_upload_and_paste():
    at = run_batch(("q.txt", b"Who wrote Hamlet?\n\nWhy is the sky blue?\n", "text/plain"))
    assert list(at.dataframe[0].value["coarse"]) == ["HUM", "DESC"]
    at = run_batch(paste="When did World War II end?\nWhat does NASA stand for?")
    assert list(at.dataframe[0].value["coarse"]) == ["NUM", "ABBR"]


@pytest.mark.parametrize("upload, message", [
    (("q.csv", b"id,text\n1,Who?\n", "text/csv"), "no 'question' column"),
    (("q.txt", "caf\xe9 ?".encode("latin-1"), "text/plain"), "not UTF-8"),
    (("q.txt", b"\x00\x01\x02binary", "text/plain"), "binary"),
    (("q.csv", ("question\n" + "Who?\n" * (batch.MAX_QUESTIONS + 1)).encode(), "text/csv"), "limit is 10,000"),
    (None, "Nothing to classify"),
])
def test_bad_batch_input_gets_a_clear_message_and_no_table(upload, message):
    at = run_batch(upload)
    assert message in shown(at.error[0].value)
    assert not at.dataframe


def test_model_card_page_shows_accuracy_references_and_confusion():
    at = AppTest.from_file(str(ROOT / "app_pages/2_Model_card.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    accuracy = at.dataframe[0].value
    assert list(accuracy["model"])[:3] == ["This model", 'This model, questions in lower case without "?"',
                                          "This model, one typo per 25 letters"] and len(accuracy) >= 5
    assert any("The app mends typos" in c.value for c in at.caption)  # the typo row is the model's alone
    assert len(at.main.get("vega_lite_chart")) >= 1  # the confusion heatmap
    assert any("parameters" in m.value and "24,000 WordPiece tokens of all-MiniLM-L6-v2's own" in m.value
               for m in at.markdown)


def test_confirm_and_correct_are_saved_and_acknowledged(isolated_feedback_db):
    from qclass.feedback import FeedbackStore

    at = classify("Who wrote Hamlet?")
    at.button(key="confirm-1").click().run()
    assert "saved" in at.success[0].value and len(at.metric) == 2  # the answer stays on the page
    at.text_input(key="question").set_value("Where is Lima?")
    at.button(key="classify").click().run()
    assert not at.success  # a new answer asks again
    at.text_area(key="comment-2").set_value("capital of Peru")
    at.button(key="FormSubmitter:correct-2-Send correction").click().run()  # no class chosen yet
    assert "Choose the right class" in at.warning[0].value and not at.success
    assert at.text_area(key="comment-2").value == "capital of Peru"  # nothing typed is lost
    assert "LOC:other" not in at.selectbox(key="right-2").options[0]  # the model's own answer is not offered
    at.selectbox(key="right-2").set_value("LOC:city")
    at.button(key="FormSubmitter:correct-2-Send correction").click().run()
    assert "saved" in at.success[0].value
    rows = FeedbackStore(f"sqlite:///{isolated_feedback_db}").rows()
    assert [(r.question, r.correct, r.right_fine, r.comment) for r in rows] == [
        ("Where is Lima?", False, "LOC:city", "capital of Peru"), ("Who wrote Hamlet?", True, "HUM:ind", "")]


def test_each_answer_starts_with_a_clean_correction_form():
    at = classify("Who wrote Hamlet?")
    at.selectbox(key="right-1").set_value("HUM:gr")
    at.text_area(key="comment-1").set_value("written for Hamlet")
    at.text_input(key="question").set_value("How far is the moon?")
    at.button(key="classify").click().run()
    assert at.selectbox(key="right-2").value is None and at.text_area(key="comment-2").value == ""
    assert [t.value for t in at.main.get("text")] == ["How far is the moon?"]  # which question it answers


def test_an_edited_question_hides_the_old_answers_buttons_until_it_is_asked():
    at = classify("Who wrote Hamlet?")
    at.text_input(key="question").set_value("Who painted the Mona Lisa?")
    at.button(key="classify").click().run()
    assert [t.value for t in at.main.get("text")] == ["Who painted the Mona Lisa?"]
    assert at.button(key="confirm-2") and not any(b.key == "confirm-1" for b in at.button)


def test_a_question_asked_while_a_click_stops_the_run_is_still_answered(monkeypatch):
    """Streamlit may stop a run at any st.session_state access, when a newer message (a click) is
    waiting. In the browser (tests/test_browser_seams.py, once in CI) an edit sent by leaving the box
    for a button went unanswered: the run that took the ask was stopped before it stored the answer.
    Here the run is stopped just before it stores the answer, by the rerun a click would bring."""
    from streamlit.proto.WidgetStates_pb2 import WidgetStates
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
    from streamlit.runtime.state.safe_session_state import SafeSessionState

    at = classify("Who wrote Hamlet?")
    store, stopped = SafeSessionState.__setitem__, []

    def stop_before_the_answer_is_stored(self, key, value):
        if key == "answer" and not stopped:
            stopped.append(key)
            raise RerunException(RerunData(widget_states=WidgetStates(widgets=self.get_widget_states())))
        store(self, key, value)

    monkeypatch.setattr(SafeSessionState, "__setitem__", stop_before_the_answer_is_stored)
    at.text_input(key="question").set_value("How far is the moon?").run()
    assert stopped and not at.exception
    assert [t.value for t in at.main.get("text")] == ["How far is the moon?"]
    assert [m.value for m in at.metric] == ["NUMERIC", "distance"]
    assert not at.info  # no "You changed the question" note: the new question has its answer


def test_classifying_works_when_the_database_is_down(monkeypatch):
    from qclass import feedback

    url = "postgresql://nobody@127.0.0.1:9/down-for-this-test"
    monkeypatch.setenv("DATABASE_URL", url)
    at = classify("Who wrote Hamlet?")
    assert len(at.metric) == 2 and not at.error
    assert feedback.database_url() not in feedback._failed  # showing an answer never tried the database
    at.button(key="confirm-1").click().run()
    assert "not saved" in at.error[0].value or "unreachable" in at.error[0].value
    tried_at = feedback._failed[feedback.database_url()][0]
    at.button(key="confirm-1").click().run()  # within the cool-down: no new attempt, the same message
    assert feedback._failed[feedback.database_url()][0] == tried_at and at.error


@pytest.mark.parametrize("url", ["mysql://user:secret@db.example/app", "no scheme at all"])
def test_an_unusable_database_url_is_named_and_classifying_goes_on(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    at = classify("Who wrote Hamlet?")
    assert len(at.metric) == 2 and not at.error and not at.exception
    at.button(key="confirm-1").click().run()
    message = shown(at.error[0].value)
    assert "DATABASE_URL must be a PostgreSQL URL" in message and "secret" not in message
    assert not at.exception


def feedback_page() -> AppTest:
    return AppTest.from_file(str(ROOT / "app_pages/3_Feedback.py"), default_timeout=TIMEOUT).run()


def test_feedback_page_is_locked_without_a_configured_password():
    at = feedback_page()
    assert "locked" in at.info[0].value and not at.dataframe and not at.text_input


def test_feedback_page_refuses_a_wrong_password_and_opens_with_the_right_one(monkeypatch, isolated_feedback_db):
    from qclass.feedback import FeedbackStore
    from tests.test_feedback import answer

    FeedbackStore(f"sqlite:///{isolated_feedback_db}").save(answer(), "v1", correct=False, right_fine="LOC:city")
    monkeypatch.setenv("FEEDBACK_ADMIN_PASSWORD", ADMIN_PASSWORD)
    at = feedback_page()
    at.text_input[0].set_value("guess")
    at.button[0].click().run()
    assert at.error[0].value == "Wrong password." and not at.dataframe and not at.download_button
    at.text_input[0].set_value(ADMIN_PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["1", "0", "1"]
    disputed, rows = at.dataframe[0].value, at.dataframe[1].value
    assert list(disputed.iloc[0]) == ["LOC:other", "LOC:city", 1]
    assert list(rows["question"]) == ["Where is Lima?"]
    table, export = (b.proto for b in at.download_button)
    assert table.label == "Download the table (CSV)" and not table.disabled
    assert export.label == "Export for training (TREC format)" and not export.disabled
    assert not table.url and not export.url  # each made on its click, over the signed-in connection


def test_glossary_explains_every_class_and_subclass_with_an_example():
    at = AppTest.from_file(str(ROOT / "app_pages/4_Glossary.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 56 and table["means"].str.len().min() > 3 and table["example"].str.endswith("?").all()


def test_the_answer_says_what_its_class_means():
    at = classify("What is the capital of Peru?")
    assert any("LOCATION" in c.value and "A city." in c.value for c in at.caption)


def test_model_card_leaves_classes_without_test_questions_blank():
    at = AppTest.from_file(str(ROOT / "app_pages/2_Model_card.py"), default_timeout=TIMEOUT).run()
    fine = at.dataframe[2].value
    empty = fine[fine["test questions"] == 0]
    assert len(empty) > 0 and empty["f1"].isna().all() and empty["precision"].isna().all()
    assert any("have no test questions" in c.value for c in at.caption)


@pytest.mark.parametrize("text, reason", [("Какая столица России?", "Russian"), ("asdf qwer zxcv", "few of its words"),
                                          ("???", "no words")])
def test_text_that_is_not_an_english_question_gets_the_note_in_place_of_an_answer(text, reason):
    at = classify(text)
    assert reason in at.warning[0].value and "guess" in at.warning[0].value
    assert at.expander[0].label == "Show the model's guess anyway" and len(at.expander[0].get("metric")) == 2


@pytest.mark.parametrize("question", ["wat is the capitol of france", "giraffe lifespan", "Capital of France."])
def test_english_questions_as_visitors_type_them_get_no_note(question):
    at = classify(question)
    assert not at.warning and at.metric[0].value


def feedback_page_with(monkeypatch, password=ADMIN_PASSWORD) -> AppTest:
    monkeypatch.setenv("FEEDBACK_ADMIN_PASSWORD", password)
    return feedback_page()


def open_with(at: AppTest, attempt: str) -> AppTest:
    at.text_input[0].set_value(attempt)
    return at.button[0].click().run()


@pytest.mark.parametrize("password, why", [(" ", "begins or ends with a space"), ("s3cret", "fewer than 12"),
                                           ("aaaaaaaaaaaaaaa", "too few different")])
def test_a_weak_admin_password_keeps_the_page_locked_and_says_why(monkeypatch, password, why):
    at = feedback_page_with(monkeypatch, password)
    assert why in at.error[0].value and "stays locked" in at.error[0].value and not at.text_input


def test_wrong_passwords_lock_out_and_are_logged_without_the_guess(monkeypatch):
    at = feedback_page_with(monkeypatch)
    # The page logs through streamlit.logger.get_logger(__name__), which does not propagate to the
    # root logger that caplog listens on, so the test listens on the page's logger itself.
    records = []
    listener = logging.Handler()
    listener.emit = records.append
    page_log = logging.getLogger("__main__")
    page_log.addHandler(listener)
    try:
        for guess in ["first-guess-1", "second-guess-2", "third-guess-3"]:
            assert open_with(at, guess).error[0].value == "Wrong password."
        assert "Too many wrong passwords" in open_with(at, ADMIN_PASSWORD).error[0].value  # even the right one, now
    finally:
        page_log.removeHandler(listener)
    assert not at.dataframe
    failures = [r.getMessage() for r in records if "wrong password" in r.getMessage()]
    assert len(failures) == 3 and not any("guess" in f for f in failures)
    assert "3 wrong in a row" in failures[-1]


def test_the_feedback_page_signs_out_on_request_and_after_idle_time(monkeypatch):
    from qclass import admin

    at = open_with(feedback_page_with(monkeypatch), ADMIN_PASSWORD)
    assert at.metric and not at.exception
    next(b for b in at.button if b.label == "Sign out").click().run()
    assert at.text_input and not at.metric  # the password form again
    open_with(at, ADMIN_PASSWORD)
    monkeypatch.setattr(admin, "IDLE_S", -1)
    at.run()
    assert "signed out: nothing happened" in at.info[0].value and not at.metric

