"""Where visitors act on what the app gives them, in a real browser against the Procfile's server:
the answer and its feedback belong together, downloads are safe in a spreadsheet, user text stays
text, bookmarked links open on a fresh server, and an answer can be shared as a link."""

import csv
import io
import time
import urllib.parse
import warnings

import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import ADMIN_PASSWORD, start_dyno
from test_browser import FLAGS, choose, download, open_expander, open_page, settled, upload_batch


@pytest.fixture(scope="module")
def browser(chromium):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(params=[{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def page(request, browser, artifacts_dir):
    context = browser.new_context(accept_downloads=True, viewport=request.param)
    context.tracing.start(screenshots=True, snapshots=True)  # kept when the test fails
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        page.screenshot(path=artifacts_dir / f"failed-{request.node.name}.png", full_page=True)
        context.tracing.stop(path=artifacts_dir / f"failed-{request.node.name}.trace.zip")
    context.close()


def ask(page, question: str, klass: str | None = None):
    """Type the question and press Enter, as most visitors do; wait for its answer and for the page
    to finish."""
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    expect(page.get_by_test_id("stText").first).to_have_text(question, timeout=30_000)
    if klass:
        # As long: Streamlit's browser code for metrics loads with the first answer a page shows, and
        # in CI, with the machine busy, the answer's text once stood 5 s without them.
        expect(page.get_by_test_id("stMetricValue").first).to_have_text(klass, timeout=30_000)
    settled(page)


def sent_messages(page) -> list:
    """Every message the page sends the app over its websocket, from the next page load on."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda message: sent.append(message)))
    return sent


def tap(button, sent: list, wait_ms: int = 3_000):
    """Click a button that sends the app a message. If none was sent, the click fell where the button
    no longer was (not seen since the tests wait for runs and animations to end, but CI's lost click
    before that is not fully explained): tap again, once, as a visitor would, and say so in the report. A tap that reached the app is never repeated, so an app
    that ignores it still fails the test."""
    before = len(sent)
    button.click()
    deadline = time.monotonic() + wait_ms / 1000
    while len(sent) == before and time.monotonic() < deadline:
        button.page.wait_for_timeout(50)
    if len(sent) == before:
        warnings.warn("a click on a button sent the app nothing; clicked it again")
        button.click()


def saved_rows(dyno_app):
    from qclass.feedback import FeedbackStore

    store = FeedbackStore(f"sqlite:///{dyno_app / 'feedback.sqlite3'}")
    try:
        return [(r.question, r.correct, r.right_fine, r.comment) for r in store.rows()]
    finally:
        store.engine.dispose()


def test_each_answer_gets_a_clean_correction_form(page, server_url, dyno_app):
    sent = sent_messages(page)
    open_page(page, server_url)
    ask(page, "Who wrote Hamlet?", "HUMAN")
    open_expander(page.locator(".st-key-correct-open-1"))
    choose(page, "The right class", "HUMAN › group or organization (HUM:gr)")
    page.get_by_label("Comment (optional)").fill("written for Hamlet")
    ask(page, "Who painted the Mona Lisa?", "HUMAN")
    open_expander(page.locator(".st-key-correct-open-2"))  # the new answer's form
    expect(page.get_by_label("Comment (optional)")).to_have_value("")
    expect(page.get_by_label("The right class")).to_have_value("")
    tap(page.get_by_role("button", name="Send correction"), sent)
    page.get_by_text("Choose the right class from the list first").wait_for(timeout=15_000)
    assert not [row for row in saved_rows(dyno_app) if row[3] == "written for Hamlet"]


def test_an_edited_question_never_gets_the_old_answers_verdict(page, server_url, dyno_app):
    question = f"Who wrote the play Hamlet ({page.viewport_size['width']})?"
    open_page(page, server_url)
    ask(page, question, "HUMAN")
    page.get_by_label("Your question").fill("How far away is the moon?")  # edited, not yet sent
    page.get_by_role("button", name="Yes, it's right").click()  # leaving the box sends the edit first
    expect(page.get_by_test_id("stText").first).to_have_text("How far away is the moon?", timeout=30_000)
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("NUMERIC")
    page.wait_for_timeout(1_000)
    assert page.get_by_text("your feedback was saved").count() == 0
    assert not [row for row in saved_rows(dyno_app) if row[0] == question]


def test_downloads_keep_formulas_as_text(page, server_url, tmp_path):
    questions = ["=1+2", "+SUM(1,2)", "-2+3", "@SUM(1)", '=HYPERLINK("http://evil.example","click")',
                 "Who wrote Hamlet?"]
    upload = tmp_path / "formulas.csv"
    with upload.open("w", newline="") as f:
        csv.writer(f).writerows([["question"]] + [[q] for q in questions])
    upload_batch(page, server_url, upload)
    page.get_by_text("Classified 6 questions").wait_for(timeout=30_000)
    rows = list(csv.DictReader(io.StringIO(download(page, "Download results (CSV)", tmp_path / "out.csv"))))
    assert [r["question"] for r in rows] == ["'" + q for q in questions[:5]] + ["Who wrote Hamlet?"]
    page.get_by_test_id("stDataFrame").hover()  # the table's own toolbar would offer a raw CSV here
    page.wait_for_timeout(500)
    assert page.get_by_role("button", name="Download as CSV").count() == 0


def test_file_names_and_headers_are_shown_as_text(page, server_url, tmp_path):
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if "pixel" in r.url else None)
    header = "**bold** [link](http://evil.example) ![p](http://127.0.0.1:9/pixel.png) www.evil.example"
    upload = tmp_path / "**name** [x](y).csv"
    upload.write_text(header + "\nWho?\n")
    upload_batch(page, server_url, upload)
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_contain_text("has no 'question' column", timeout=30_000)
    assert "**name** [x](y).csv" in alert.inner_text().replace("\u2060", "")
    assert header in alert.inner_text().replace("\u2060", "")
    assert alert.locator("a, img, strong, em").count() == 0 and not fetched


@pytest.mark.parametrize("path", ["/batch", "/feedback", "/model-card"])
def test_a_bookmarked_page_opens_on_a_freshly_started_server(browser, dyno_app, artifacts_dir, path):
    server = start_dyno(dyno_app, artifacts_dir / "fresh-server.log", FEEDBACK_ADMIN_PASSWORD=ADMIN_PASSWORD)
    try:
        page = browser.new_page()
        page.goto(server.url + path)
        page.get_by_role("heading").first.wait_for(timeout=30_000)
        page.wait_for_timeout(2_000)  # the dialog came a moment after the page
        assert page.get_by_text("Page not found").count() == 0
        page.close()
    finally:
        server.stop()


def test_a_result_link_answers_and_follows_the_question(page, server_url):
    page.goto(f"{server_url}/?q={urllib.parse.quote('Who wrote Hamlet?')}")
    expect(page.get_by_test_id("stMetricValue")).to_have_text(["HUMAN", "individual"], timeout=30_000)
    expect(page.get_by_label("Your question")).to_have_value("Who wrote Hamlet?")
    ask(page, "What is the capital of Peru?", "LOCATION")
    expect(page).to_have_url(f"{server_url}/?q={urllib.parse.quote_plus('What is the capital of Peru?')}")


def test_the_answer_is_in_view_after_asking(page, server_url):
    open_page(page, server_url)
    ask(page, "When did the Berlin Wall fall?", "NUMERIC")
    box = page.get_by_test_id("stMetricValue").first.bounding_box()
    assert box["y"] + box["height"] <= page.viewport_size["height"], box


def test_batch_keeps_the_uploaders_rows_and_columns(page, server_url, tmp_path):
    upload = tmp_path / "excel.csv"
    upload.write_text("id;question;source\n17;Who wrote Hamlet?;a\n18;;b\n19;What is the capital of Peru?;c\n")
    upload_batch(page, server_url, upload)
    page.get_by_text("Classified 2 questions; 1 row without a question kept").wait_for(timeout=30_000)
    rows = list(csv.DictReader(io.StringIO(download(page, "Download results (CSV)", tmp_path / "out.csv"))))
    assert [(r["id"], r["source"], r["fine"]) for r in rows] == [("17", "a", "HUM:ind"), ("18", "b", ""),
                                                                  ("19", "c", "LOC:city")]
    assert rows[0]["guess"] == "False" and rows[0]["cut"] == "False"


def test_batch_says_when_a_file_and_pasted_text_are_both_given(page, server_url, tmp_path):
    upload = tmp_path / "one.txt"
    upload.write_text("Who wrote Hamlet?\n")
    open_page(page, f"{server_url}/batch")
    page.locator("input[type=file]").set_input_files(upload)
    page.get_by_text(upload.name).wait_for(timeout=15_000)
    page.get_by_label("…or paste questions, one a line").fill("Why is the sky blue?")
    page.get_by_role("button", name="Classify all").click()
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("both a file and pasted text", timeout=30_000)
    page.get_by_label("…or paste questions, one a line").fill("")
    page.get_by_role("button", name="Classify all").click()
    page.get_by_text("Classified 1 question.").wait_for(timeout=30_000)


def test_the_glossary_is_one_click_from_the_answer(page, server_url):
    open_page(page, server_url)
    ask(page, "How much does an elephant weigh?", "NUMERIC")
    page.get_by_role("link", name="What every class and subclass means").click()
    page.get_by_role("heading", name="What the classes mean").wait_for(timeout=30_000)
    expect(page).to_have_url(f"{server_url}/glossary")


@pytest.mark.parametrize("text, why", [("Какая столица России?", "Russian"), ("asdf qwer zxcv", "few of its words"),
                                       ("The weather is nice today.", "statement")])
def test_text_that_is_not_an_english_question_gets_a_note_in_place_of_the_answer(page, server_url, text, why):
    open_page(page, server_url)
    box = page.get_by_label("Your question")
    box.fill(text)
    box.press("Enter")
    note = page.get_by_test_id("stAlertContentWarning")
    expect(note).to_contain_text(why, timeout=30_000)
    expect(note).to_contain_text("its answer would be a guess")
    expect(page.get_by_test_id("stMetricValue").first).to_be_hidden()  # no confident answer beside the note
    page.get_by_text("Show the model's guess anyway").click()
    expect(page.get_by_test_id("stMetricValue").first).to_be_visible(timeout=30_000)  # the page's first metric


def test_the_feedback_page_is_not_listed_but_opens_by_its_link(browser, server_url):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(server_url)
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav).to_contain_text("Batch", timeout=30_000)
        expect(nav).not_to_contain_text("Feedback")
        page.goto(f"{server_url}/feedback")
        expect(page.locator("input[type=password]")).to_be_visible(timeout=30_000)
    finally:
        page.close()
