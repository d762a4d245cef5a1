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

# One form: the file, the text and the click reach the script together, and Streamlit holds the
# button back while a file is still uploading, so a quick click is never lost to the upload's rerun.
with st.form("batch", border=False):
    # No type= filter: Streamlit raises on a disallowed type, and batch.from_upload explains it instead.
    upload = st.file_uploader("Questions file (.csv or .txt)")
    pasted = st.text_area("…or paste questions, one a line", height=150)
    go = st.form_submit_button("Classify all", type="primary")

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
        questions = [q for q in table.questions() if q is not None]
        progress = st.progress(0.0, text=f"Classifying {len(questions):,} questions…")
        answers = []
        for start in range(0, len(questions), BATCH_SIZE):
            answers += inf_batch(questions[start : start + BATCH_SIZE], model)
            progress.progress(len(answers) / len(questions), text=f"{len(answers):,} of {len(questions):,} classified")
        progress.empty()
        given = iter(answers)
        st.session_state.batch_results = (table, [None if q is None else next(given) for q in table.questions()])

if "batch_results" in st.session_state:
    table, results = st.session_state.batch_results
    answered = sum(r is not None for r in results)
    blank = len(results) - answered
    st.success(f"Classified {answered:,} question{'s' if answered != 1 else ''}"
               + (f"; {blank:,} row{'s' if blank != 1 else ''} without a question kept, with blank results." if blank else "."))
    columns, rows = table.with_results(results)
    st.dataframe(pd.DataFrame(rows, columns=columns), hide_index=True, column_config={
        "coarse_confidence": st.column_config.ProgressColumn("class confidence", min_value=0.0, max_value=1.0),
        "fine_confidence": st.column_config.ProgressColumn("subclass confidence", min_value=0.0, max_value=1.0),
    })
    st.download_button("Download results (CSV)", batch.to_csv(table, results), file_name="question_classes.csv",
                       mime="text/csv", on_click="ignore", type="primary")
