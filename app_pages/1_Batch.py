"""Batch: classify a whole list of questions and download the results."""

import pandas as pd
import streamlit as st

from qclass import batch
from qclass.pages import load_or_explain, plain
from streamlitinf import BATCH_SIZE, inf_batch

st.set_page_config(page_title="Batch · Question Classification", page_icon="❓")
st.title("Batch classification")
st.write(
    f"Upload a **.csv** file with a `question` column (its other columns and row order are kept) or a "
    f"**.txt** file with one question a line, or paste questions below. Up to {batch.MAX_QUESTIONS:,} questions and "
    f"{batch.MAX_BYTES // (1024 * 1024)} MB at a time, UTF-8 text."
)
model = load_or_explain()
SHOWN_ROWS = 1_000

# One form: the file, the text and the click reach the script together, and Streamlit holds the
# button back while a file is still uploading, so a quick click is never lost to the upload's rerun.
with st.form("batch", border=False):
    # No type= filter: Streamlit raises on a disallowed type, and batch.from_upload explains it instead.
    upload = st.file_uploader("Questions file (.csv or .txt)")
    pasted = st.text_area("…or paste questions, one a line", height=150, max_chars=batch.MAX_BYTES)
    go = st.form_submit_button("Classify all", type="primary")

def classify_in_turn(questions: list[str]) -> list[dict]:
    """Wait for a turn in the process's batch queue (showing the place in line), then classify.
    Cancel, a new click or leaving the page stops the script at its next Streamlit call, and the
    turn or the place in line is given back."""
    ticket, running = batch.QUEUE.join(), False
    try:
        status, cancel = st.empty(), st.empty()
        ahead = batch.QUEUE.wait_turn(ticket, 0.5)
        if ahead:
            cancel.button("Cancel", key="cancel-batch")  # its click reruns the page, which ends this wait
        while ahead:
            status.info(f"Waiting for the server: {ahead} batch{'es' if ahead != 1 else ''} ahead of yours.",
                        icon=":material/hourglass_top:")
            ahead = batch.QUEUE.wait_turn(ticket, 0.5)
        running = True
        cancel.empty()
        status.empty()
        progress = st.progress(0.0, text=f"Classifying {len(questions):,} questions…")
        answers = []
        for start in range(0, len(questions), BATCH_SIZE):
            answers += map(batch.slim, inf_batch(questions[start : start + BATCH_SIZE], model))
            progress.progress(len(answers) / len(questions), text=f"{len(answers):,} of {len(questions):,} classified")
        progress.empty()
        return answers
    finally:
        batch.QUEUE.done() if running else batch.QUEUE.leave(ticket)


if go:
    try:
        if upload is not None and pasted.strip():
            raise batch.BatchInputError("There is both a file and pasted text: remove one of them "
                                        "(clear the text box, or the file with its ×) and press Classify all again.")
        if upload is not None:
            table = batch.from_upload(upload.name, upload.getvalue())
        elif pasted.strip():
            table = batch.from_lines(pasted)
        else:
            raise batch.BatchInputError(
                f"Nothing to classify: upload a file or paste some questions. A file over "
                f"{batch.MAX_BYTES // (1024 * 1024)} MB is refused by the uploader (it turns red): split it.")
    except batch.BatchInputError as problem:
        st.session_state.pop("batch_results", None)
        st.error(plain(str(problem)))
    else:
        st.session_state.pop("batch_results", None)
        questions = [q for q in table.questions() if q is not None]
        answers = classify_in_turn(questions)
        given = iter(answers)
        st.session_state.batch_results = (table, [None if q is None else next(given) for q in table.questions()])

if "batch_results" in st.session_state:
    table, results = st.session_state.batch_results
    answered = sum(r is not None for r in results)
    blank = len(results) - answered
    st.success(f"Classified {answered:,} question{'s' if answered != 1 else ''}"
               + (f"; {blank:,} row{'s' if blank != 1 else ''} without a question kept, with blank results." if blank else "."))
    columns, rows = table.with_results(results)
    if len(rows) > SHOWN_ROWS:  # the page's copy of a table costs server memory per visitor
        st.caption(f"Showing the first {SHOWN_ROWS:,} of {len(rows):,} rows; the download holds all of them.")
    st.dataframe(pd.DataFrame(rows[:SHOWN_ROWS], columns=columns), hide_index=True, column_config={
        "coarse_confidence": st.column_config.ProgressColumn("class confidence", min_value=0.0, max_value=1.0),
        "fine_confidence": st.column_config.ProgressColumn("subclass confidence", min_value=0.0, max_value=1.0),
    })
    # A callable: the CSV is made on the click, over this visitor's own connection, and held by the
    # server only from then on (not for every visitor who merely looks at the table).
    st.download_button("Download results (CSV)", lambda: batch.to_csv(table, results), file_name="question_classes.csv",
                       mime="text/csv", on_click="ignore", type="primary")
