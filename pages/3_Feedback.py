"""Feedback: what visitors said about the answers, for the data team (password required)."""

import hmac
import os

import pandas as pd
import streamlit as st

from qclass.feedback import FeedbackError, as_records
from qclass.pages import feedback_store

st.set_page_config(page_title="Feedback · Question Classification", page_icon="❓")
st.title("Feedback")


def admin_password() -> str | None:
    """FEEDBACK_ADMIN_PASSWORD from st.secrets, else from the environment."""
    try:
        if "FEEDBACK_ADMIN_PASSWORD" in st.secrets:
            return str(st.secrets["FEEDBACK_ADMIN_PASSWORD"])
    except Exception:  # no secrets.toml at all: Streamlit raises rather than returning nothing
        pass
    return os.environ.get("FEEDBACK_ADMIN_PASSWORD") or None


password = admin_password()
if not password:
    st.info("This page is locked: set FEEDBACK_ADMIN_PASSWORD (environment or .streamlit/secrets.toml) to open it.")
    st.stop()
if not st.session_state.get("feedback_admin"):
    with st.form("login"):
        attempt = st.text_input("Password", type="password")
        if st.form_submit_button("Open"):
            if hmac.compare_digest(attempt.encode(), password.encode()):
                st.session_state.feedback_admin = True
                st.rerun()
            st.error("Wrong password.")
    st.stop()

try:
    store = feedback_store()
    counts, disputed, rows = store.counts(), store.disputed(), store.rows()
except FeedbackError as problem:
    st.error(f"{problem} Try again later.")
    st.stop()

total, confirmed, corrected = st.columns(3)
total.metric("Feedback", counts["total"])
confirmed.metric("Confirmed", counts["confirmed"])
corrected.metric("Corrected", counts["corrected"])

st.subheader("Most disputed classes")
if disputed:
    st.dataframe(pd.DataFrame(disputed, columns=["model said", "visitors said", "times"]), hide_index=True)
else:
    st.write("No corrections yet.")

st.subheader("All feedback, newest first")
st.dataframe(pd.DataFrame(as_records(rows)), hide_index=True,
             column_config={"confidence": st.column_config.NumberColumn(format="percent")})
st.download_button("Export for training (TREC format)", store.export_trec().encode("utf-8"),
                   file_name="feedback.label", mime="text/plain", on_click="ignore", type="primary",
                   disabled=not rows)
st.caption("Add the export to the next training run: `python train.py --extra-train feedback.label`.")
