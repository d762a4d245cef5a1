"""Reading batch uploads and pastes, and writing results as CSV."""

import csv
import io

import pytest

from qclass import batch


def test_csv_question_column_any_case_and_position():
    data = "id,Question,source\n1,Who wrote Hamlet?,x\n2,,y\n3,\"Where is Lima, exactly?\",z\n".encode()
    table = batch.from_upload("q.csv", data)
    assert table.questions() == ["Who wrote Hamlet?", None, "Where is Lima, exactly?"]
    assert table.columns == ["id", "Question", "source"] and [row[0] for row in table.rows] == ["1", "2", "3"]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_csv_is_read(delimiter):
    data = f"id{delimiter}question\n7{delimiter}Who wrote Hamlet?, the play\n".encode()
    table = batch.from_upload("q.csv", data)
    assert table.questions() == ["Who wrote Hamlet?, the play"] and table.rows[0][0] == "7"


def test_results_keep_the_inputs_columns_order_and_blank_rows(model):
    from streamlitinf import inf

    table = batch.from_upload("q.csv", b"id,class,question\n1,x,Who wrote Hamlet?\n2,y,\n3,z,=1+2\n")
    results = [None if q is None else inf(q, model) for q in table.questions()]
    read = list(csv.DictReader(io.StringIO(batch.to_csv(table, results).decode("utf-8-sig"))))
    assert [(r["id"], r["class"], r["question"]) for r in read] == [("1", "x", "Who wrote Hamlet?"), ("2", "y", ""),
                                                                    ("3", "z", "'=1+2")]
    assert read[0]["class (model)"] == "HUMAN" and read[0]["fine"] == "HUM:ind" and read[0]["guess"] == "False"
    assert read[1]["fine"] == "" and read[1]["class (model)"] == ""
    assert list(read[0])[-3:] == ["guess", "cut", "read_as"] and read[0]["read_as"] == ""


def test_text_file_one_question_a_line_with_bom_and_crlf():
    data = "\ufeffWho wrote Hamlet?\r\n\r\n  What is a fjord?  \r\n".encode("utf-8")
    assert batch.from_upload("q.txt", data).questions() == ["Who wrote Hamlet?", "What is a fjord?"]


def test_utf16_text_with_bom_is_read():
    assert batch.from_upload("q.txt", "Wer ist das?\n".encode("utf-16")).questions() == ["Wer ist das?"]


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
    assert batch.from_lines("Who?\n\x00\n\nWhy?").questions() == ["Who?", "Why?"]


@pytest.mark.parametrize("cell", ["=1+2", "+SUM(1,2)", "-2+3", "@SUM(1)", "\tTab", "\rReturn",
                                  '=HYPERLINK("http://evil.example","x")'])
def test_every_csv_cell_that_a_spreadsheet_would_run_is_made_text(cell):
    text = batch.csv_bytes([{cell: cell, "safe": "Who?"}], [cell, "safe"]).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text, newline="")))
    assert header == ["'" + cell, "safe"] and row == ["'" + cell, "Who?"]
