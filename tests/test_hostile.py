"""The hostile corpus through the inference function, every page, and the browser upload:
0 tracebacks, each gets an answer or a clear message."""

import pytest
from streamlit.testing.v1 import AppTest

import streamlitinf
from conftest import ADMIN_PASSWORD
from hostile import QUESTIONS
from qclass import artifacts, batch
from test_app import shown

ROOT = artifacts.ROOT
TIMEOUT = 60

UPLOADS = {
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    "latin1.txt": ("Qui a \xe9crit Les Mis\xe9rables ?".encode("latin-1"), "not UTF-8"),
    "cp1252.csv": ("question\n\u201cWho\u201d wrote it?\n".encode("cp1252"), "not UTF-8"),
    "rows100k.csv": (("question\n" + "Who wrote Hamlet?\n" * 100_000).encode(), "limit is 10,000"),
    "no_column.csv": (b"text,id\nWho?,1\n", "no 'question' column"),
    "empty.csv": (b"", "empty"),
    "blank.txt": (b"\n\n   \n", "No questions"),
    "program.exe": (b"MZ\x90\x00", "upload a .csv"),
    "too_big.txt": (b"Who?\n" * (batch.MAX_BYTES // 5 + 1), "limit is 5 MB"),
}


@pytest.mark.parametrize("name", QUESTIONS)
def test_inference_answers_or_says_empty(model, name):
    text = QUESTIONS[name]
    try:
        result = streamlitinf.inf(text, model)
    except ValueError as problem:
        assert "empty" in str(problem) and not text.replace("\x00", " ").strip()
    else:
        assert result["fine"].split(":")[0] == result["coarse"]


@pytest.mark.parametrize("name", QUESTIONS)
def test_classify_page_answers_or_warns(name):
    at = AppTest.from_file(str(ROOT / "streamlitapp.py"), default_timeout=TIMEOUT).run()
    at.text_input(key="question").set_value(QUESTIONS[name])
    at.button(key="classify").click().run()
    assert not at.exception
    assert len(at.metric) == 2 or "empty" in at.warning[0].value


def test_batch_page_takes_the_whole_corpus_pasted():
    at = AppTest.from_file(str(ROOT / "app_pages/1_Batch.py"), default_timeout=TIMEOUT).run()
    at.text_area[0].set_value("\n".join(QUESTIONS.values()))
    at.button[0].click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) > 40 and all(f.split(":")[0] == c for c, f in zip(table["coarse"], table["fine"]))


@pytest.mark.parametrize("name", UPLOADS)
def test_batch_page_explains_each_bad_upload(name):
    data, message = UPLOADS[name]
    at = AppTest.from_file(str(ROOT / "app_pages/1_Batch.py"), default_timeout=TIMEOUT).run()
    at.file_uploader[0].upload(name, data)
    at.button[0].click().run()
    assert not at.exception
    assert message in shown(at.error[0].value) and not at.dataframe


@pytest.mark.parametrize("name", ["sql drop", "html script", "nul inside", "one megabyte"])
def test_feedback_page_password_field_takes_hostile_text(monkeypatch, name):
    monkeypatch.setenv("FEEDBACK_ADMIN_PASSWORD", ADMIN_PASSWORD)
    at = AppTest.from_file(str(ROOT / "app_pages/3_Feedback.py"), default_timeout=TIMEOUT).run()
    at.text_input[0].set_value(QUESTIONS[name])
    at.button[0].click().run()
    assert not at.exception and at.error[0].value == "Wrong password." and not at.dataframe
