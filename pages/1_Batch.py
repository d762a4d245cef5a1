"""Batch: classify a whole list of questions and download the results."""

import pandas as pd
import streamlit as st

from qclass import batch
from qclass.pages import load_or_explain
from streamlitinf import BATCH_SIZE, inf_batch

st.set_page_config(page_title="Batch · Question Classification", page_icon="❓")
st.title("Batch classification")
st.write(
    f"Upload a **.csv** file with a `question` column or a **.txt** file with one question a line, "
    f"or paste questions below. Up to {batch.MAX_QUESTIONS:,} questions and "
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
        if upload is not None:
            questions = batch.from_upload(upload.name, upload.getvalue())
        elif pasted.strip():
            questions = batch.from_lines(pasted)
        else:
            raise batch.BatchInputError("Nothing to classify: upload a file or paste some questions.")
    except batch.BatchInputError as problem:
        st.session_state.pop("batch_results", None)
        st.error(str(problem))
    else:
        progress = st.progress(0.0, text=f"Classifying {len(questions):,} questions…")
        results = []
        for start in range(0, len(questions), BATCH_SIZE):
            results += inf_batch(questions[start : start + BATCH_SIZE], model)
            progress.progress(len(results) / len(questions), text=f"{len(results):,} of {len(questions):,} classified")
        progress.empty()
        st.session_state.batch_results = results

results = st.session_state.get("batch_results")
if results:
    st.success(f"Classified {len(results):,} questions.")
    table = pd.DataFrame(results)[batch.RESULT_COLUMNS]
    st.dataframe(table, hide_index=True, column_config={
        "coarse_confidence": st.column_config.ProgressColumn("class confidence", min_value=0.0, max_value=1.0),
        "fine_confidence": st.column_config.ProgressColumn("subclass confidence", min_value=0.0, max_value=1.0),
    })
    st.download_button("Download results (CSV)", batch.to_csv(results), file_name="question_classes.csv",
                       mime="text/csv", on_click="ignore", type="primary")
