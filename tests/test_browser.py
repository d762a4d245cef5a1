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


def open_page(page, url):
    page.goto(url)
    page.get_by_role("heading").first.wait_for(timeout=30_000)


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


def test_upload_a_batch_and_download_the_results(page, server_url, artifacts_dir, tmp_path):
    upload = tmp_path / "questions.csv"
    upload.write_text("question\nWho wrote Hamlet?\nWhat is the capital of Peru?\nHow tall is Everest?\n")
    open_page(page, f"{server_url}/batch")
    page.locator("input[type=file]").set_input_files(upload)
    page.get_by_text("questions.csv").wait_for(timeout=15_000)
    page.get_by_role("button", name="Classify all").click()
    page.get_by_text("Classified 3 questions").wait_for(timeout=30_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download results (CSV)").click()
    saved = tmp_path / "results.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [(r["question"], r["fine"]) for r in rows] == [
        ("Who wrote Hamlet?", "HUM:ind"), ("What is the capital of Peru?", "LOC:city"),
        ("How tall is Everest?", "NUM:dist")]
    page.screenshot(path=artifacts_dir / "batch.png", full_page=True)


def test_model_card_page_renders(page, server_url, artifacts_dir):
    open_page(page, f"{server_url}/model-card")
    page.get_by_text("Accuracy on the TREC_10 test set").wait_for(timeout=30_000)
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.screenshot(path=artifacts_dir / "model_card.png", full_page=True)


def test_confirm_an_answer_then_read_it_on_the_feedback_page(page, server_url, artifacts_dir, tmp_path):
    from conftest import ADMIN_PASSWORD

    open_page(page, server_url)
    page.get_by_label("Your question").fill("What is the capital of Peru?")
    page.get_by_role("button", name="Classify").click()
    page.get_by_role("button", name="Yes, it's right").click()
    page.get_by_text("your feedback was saved").wait_for(timeout=30_000)

    open_page(page, f"{server_url}/feedback")
    page.locator("input[type=password]").fill("wrong")
    page.get_by_role("button", name="Open").click()
    page.get_by_text("Wrong password.").wait_for(timeout=15_000)
    page.locator("input[type=password]").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Open").click()
    page.get_by_text("All feedback, newest first").wait_for(timeout=15_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export for training (TREC format)").click()
    saved = tmp_path / "feedback.label"
    download.value.save_as(saved)
    assert "LOC:city What is the capital of Peru?" in saved.read_text(encoding="utf-8").splitlines()
    page.screenshot(path=artifacts_dir / "feedback.png", full_page=True)


@pytest.mark.parametrize("name", ["binary.txt", "latin1.txt", "rows100k.csv", "no_column.csv"])
def test_bad_uploads_get_a_message_in_the_browser(page, server_url, tmp_path, name):
    from test_hostile import UPLOADS

    data, message = UPLOADS[name]
    upload = tmp_path / name
    upload.write_bytes(data)
    open_page(page, f"{server_url}/batch")
    page.locator("input[type=file]").set_input_files(upload)
    page.get_by_text(name).wait_for(timeout=15_000)
    page.get_by_role("button", name="Classify all").click()
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text(message, timeout=30_000)
    assert page.get_by_test_id("stException").count() == 0
