"""Real-browser tests: headless Debian Chromium driven by Playwright against the real server."""

import csv
import io

import pytest
from playwright.sync_api import expect, sync_playwright

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def page(chromium, server_url):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 1000})
        yield context.new_page()
        browser.close()


@pytest.fixture(autouse=True)
def screenshot_on_failure(request, page, artifacts_dir):
    """What the page showed when a test failed, kept with the other test artifacts."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        page.screenshot(path=artifacts_dir / f"failed-{request.node.name}.png", full_page=True)


def open_page(page, url):
    page.goto(url)
    page.get_by_role("heading").first.wait_for(timeout=30_000)


def settled(page, timeout: float = 30_000):
    """Wait until the app's script run has finished. Until then the page still shows the last run's
    elements beside the new ones: a button there, clicked, belongs to a form that no longer exists
    on the server, so the click is ignored. A person acts on the finished page; so do the tests."""
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(timeout=timeout)


def open_expander(expander):
    """Open an expander, and wait for its opening animation to end (half a second, during which its
    height is clipped and still growing), as a visitor waits for the form before tapping in it."""
    expander.locator("summary").click()
    details = expander.locator("details")
    expect(details).to_have_attribute("open", "")
    details.page.wait_for_function("d => !d.getAnimations().length && !d.style.height",
                                   arg=details.element_handle(), timeout=10_000)


def upload_batch(page, server_url, path):
    """Open the Batch page, upload the file and press Classify all."""
    open_page(page, f"{server_url}/batch")
    page.locator("input[type=file]").set_input_files(path)
    page.get_by_text(path.name).wait_for(timeout=15_000)
    page.get_by_role("button", name="Classify all").click()


def download(page, button: str, to):
    """Click a download button and save what the browser receives; returns its text."""
    with page.expect_download() as event:
        page.get_by_role("button", name=button).click()
    event.value.save_as(to)
    return to.read_text(encoding="utf-8-sig")


def test_type_a_question_and_read_the_answer(page, server_url, artifacts_dir):
    open_page(page, server_url)
    page.get_by_label("Your question").fill("Where is the Eiffel Tower?")
    page.get_by_role("button", name="Classify").click()
    expect(page.get_by_test_id("stMetricValue")).to_have_text(["LOCATION", "other location"], timeout=30_000)
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.screenshot(path=artifacts_dir / "classify.png", full_page=True)


def test_script_tags_are_shown_as_text_not_run(page, server_url):
    open_page(page, server_url)
    page.evaluate("window.__xss = false")
    page.get_by_label("Your question").fill("<img src=x onerror='window.__xss=true'> Who is the king?")
    page.get_by_role("button", name="Classify").click()
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=30_000)
    assert page.evaluate("window.__xss") is False
    assert page.locator("img[src=x]").count() == 0


def test_a_mended_typo_is_shown_under_the_question_as_plain_text(page, server_url):
    open_page(page, server_url)
    page.get_by_label("Your question").fill("What is the *captial* of Peru?")
    page.get_by_role("button", name="Classify").click()
    expect(page.get_by_test_id("stMetricValue")).to_have_text(["LOCATION", "city"], timeout=30_000)
    expect(page.get_by_text("Read as (typos mended):")).to_be_visible()
    expect(page.get_by_test_id("stText")).to_have_text(["What is the *captial* of Peru?", "What is the *capital* of Peru?"])
    assert page.locator("[data-testid=stMain] em").count() == 0  # the stars are not Markdown


def test_a_subclass_name_wider_than_its_column_wraps_instead_of_being_cut(page, server_url):
    """Streamlit draws a metric's value on one line and cuts it ("description of a pers…")."""
    open_page(page, server_url)
    page.get_by_label("Your question").fill("Who was Galileo?")
    page.get_by_role("button", name="Classify").click()
    value = page.get_by_test_id("stMetricValue").nth(1)
    expect(value).to_have_text("description of a person", timeout=30_000)
    natural, width, height, font = value.evaluate("""e => {
        const name = e.querySelector('p'), probe = name.cloneNode(true);
        probe.style.cssText = 'position: absolute; visibility: hidden; white-space: nowrap';
        name.after(probe);
        const natural = probe.getBoundingClientRect().width;
        probe.remove();
        return [natural, e.clientWidth, e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).fontSize)];
    }""")
    assert natural > width  # on one line it would not fit: this page's column is narrower than the name
    assert height > 2 * font  # so it takes two lines


def test_upload_a_batch_and_download_the_results(page, server_url, artifacts_dir, tmp_path):
    upload = tmp_path / "questions.csv"
    upload.write_text("question\nWho wrote Hamlet?\nWhat is the captial of Peru?\nHow tall is Everest?\n")
    upload_batch(page, server_url, upload)
    page.get_by_text("Classified 3 questions").wait_for(timeout=30_000)
    rows = list(csv.DictReader(io.StringIO(download(page, "Download results (CSV)", tmp_path / "results.csv"))))
    assert [(r["question"], r["fine"], r["read_as"]) for r in rows] == [
        ("Who wrote Hamlet?", "HUM:ind", ""), ("What is the captial of Peru?", "LOC:city", "What is the capital of Peru?"),
        ("How tall is Everest?", "NUM:dist", "")]
    page.screenshot(path=artifacts_dir / "batch.png", full_page=True)


def test_model_card_page_renders(page, server_url, artifacts_dir):
    open_page(page, f"{server_url}/model-card")
    page.get_by_text("Accuracy on the TREC_10 test set").wait_for(timeout=30_000)
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.screenshot(path=artifacts_dir / "model_card.png", full_page=True)


def log_in_to_feedback(page):
    from conftest import ADMIN_PASSWORD

    page.locator("input[type=password]").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Open").click()
    page.get_by_text("Feedback, newest first").wait_for(timeout=15_000)


def test_a_made_download_answers_only_the_browser_that_made_it(page, server_url, tmp_path):
    """Anyone who learns a download's /media/ address (a log, a proxy, a shoulder) gets a 404: only
    the browser holding the cookie of the session that made it gets the file."""
    import urllib.error
    import urllib.request

    upload = tmp_path / "questions.txt"
    upload.write_text("Who wrote Hamlet?\n")
    upload_batch(page, server_url, upload)
    page.get_by_text("Classified 1 question").wait_for(timeout=30_000)
    with page.expect_download() as event:
        page.get_by_role("button", name="Download results (CSV)").click()
    url = event.value.url
    assert "/media/" in url
    assert "Who wrote Hamlet?" in page.request.get(url).text()  # the browser's own cookies
    with pytest.raises(urllib.error.HTTPError) as stranger:
        urllib.request.urlopen(url, timeout=10)
    assert stranger.value.code == 404
    request = urllib.request.Request(url, headers={"Cookie": "_streamlit_xsrf=2|00000000|11111111|1"})
    with pytest.raises(urllib.error.HTTPError) as forged:
        urllib.request.urlopen(request, timeout=10)
    assert forged.value.code == 404


def test_confirm_an_answer_then_read_it_on_the_feedback_page(page, server_url, artifacts_dir, tmp_path):
    open_page(page, server_url)
    page.get_by_label("Your question").fill("What is the capital of Peru?")
    page.get_by_role("button", name="Classify").click()
    page.get_by_role("button", name="Yes, it's right").click()
    page.get_by_text("your feedback was saved").wait_for(timeout=30_000)

    open_page(page, f"{server_url}/feedback")
    page.locator("input[type=password]").fill("wrong")
    page.get_by_role("button", name="Open").click()
    page.get_by_text("Wrong password.").wait_for(timeout=15_000)
    log_in_to_feedback(page)
    exported = download(page, "Export for training (TREC format)", tmp_path / "feedback.label")
    assert "LOC:city What is the capital of Peru?" in exported.splitlines()
    page.screenshot(path=artifacts_dir / "feedback.png", full_page=True)


@pytest.mark.parametrize("name", ["binary.txt", "latin1.txt", "rows100k.csv", "no_column.csv"])
def test_bad_uploads_get_a_message_in_the_browser(page, server_url, tmp_path, name):
    from test_hostile import UPLOADS

    data, message = UPLOADS[name]
    upload = tmp_path / name
    upload.write_bytes(data)
    upload_batch(page, server_url, upload)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text(message, timeout=30_000)
    assert page.get_by_test_id("stException").count() == 0


def choose(page, label: str, option: str, tries: int = 3):
    """Pick an option of a selectbox by typing it and pressing Enter, as a user would. Now and then
    Chromium delivers the Enter while the list is still filtering and nothing is picked; a user
    would just press it again, and so does this, until the box shows the option."""
    box = page.get_by_label(label)
    for _ in range(tries):
        box.click()
        box.press("ControlOrMeta+a")
        page.keyboard.type(option[: len(option) // 2])  # not all of it: the box must show the picked option
        try:
            expect(page.get_by_role("option", name=option)).to_be_visible(timeout=5_000)
            page.keyboard.press("Enter")
            expect(box).to_have_value(option, timeout=2_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")
    raise AssertionError(f"{option!r} could not be picked in {label!r}")


def test_correct_an_answer_in_the_browser(page, server_url, artifacts_dir, tmp_path):
    open_page(page, server_url)
    page.get_by_label("Your question").fill("Which city hosts the Louvre?")
    page.get_by_role("button", name="Classify").click()
    open_expander(page.locator("[class*=st-key-correct-open-]"))
    choose(page, "The right class", "ENTITY › animal (ENTY:animal)")
    page.get_by_label("Comment (optional)").fill("testing a correction <b>bold?</b>")
    page.get_by_role("button", name="Send correction").click()
    page.get_by_text("your feedback was saved").wait_for(timeout=30_000)
    page.screenshot(path=artifacts_dir / "correction.png", full_page=True)
    open_page(page, f"{server_url}/feedback")
    log_in_to_feedback(page)
    exported = download(page, "Export for training (TREC format)", tmp_path / "feedback.label")
    assert "ENTY:animal Which city hosts the Louvre?" in exported.splitlines()
