"""Reading batch uploads and pastes, and writing results as CSV."""

import csv
import io

import pytest

from qclass import batch


def test_csv_question_column_any_case_and_position():
    data = "id,Question,source\n1,Who wrote Hamlet?,x\n2,,y\n3,\"Where is Lima, exactly?\",z\n".encode()
    assert batch.from_upload("q.csv", data) == ["Who wrote Hamlet?", "Where is Lima, exactly?"]


def test_text_file_one_question_a_line_with_bom_and_crlf():
    data = "\ufeffWho wrote Hamlet?\r\n\r\n  What is a fjord?  \r\n".encode("utf-8")
    assert batch.from_upload("q.txt", data) == ["Who wrote Hamlet?", "What is a fjord?"]


def test_utf16_text_with_bom_is_read():
    assert batch.from_upload("q.txt", "Wer ist das?\n".encode("utf-16")) == ["Wer ist das?"]


@pytest.mark.parametrize("name, data, message", [
    ("q.csv", b"id,text\n1,Who?\n", "no 'question' column"),
    ("q.csv", b"", "empty"),
    ("q.txt", b"\n \n\t\n", "No questions"),
    ("q.txt", "Qui a \xe9crit ?".encode("latin-1"), "not UTF-8"),
    ("q.bin", b"Who?", "upload a .csv"),
    ("q.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ("q.txt", b"x" * (batch.MAX_BYTES + 1), "limit is 5 MB"),
    ("q.txt", b"Who?\n" * (batch.MAX_QUESTIONS + 1), "limit is 10,000"),
])
def test_bad_uploads_get_a_clear_message(name, data, message):
    with pytest.raises(batch.BatchInputError, match=message):
        batch.from_upload(name, data)


def test_pasted_lines_skip_blank_and_nul_only_lines():
    assert batch.from_lines("Who?\n\x00\n\nWhy?") == ["Who?", "Why?"]


def test_results_csv_round_trips():
    rows = [{"question": 'He said "hi", =1+1', "coarse": "HUM", "class": "HUMAN", "fine": "HUM:ind",
             "subclass": "individual", "coarse_confidence": 0.91234, "fine_confidence": 0.5}]
    text = batch.to_csv(rows).decode("utf-8-sig")
    read = list(csv.DictReader(io.StringIO(text)))
    assert read[0]["question"] == rows[0]["question"] and read[0]["coarse_confidence"] == "0.9123"
    assert list(read[0]) == batch.RESULT_COLUMNS
