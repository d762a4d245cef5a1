"""Feedback: what visitors said about the answers, for the data team (password required)."""

import hmac
import os

import pandas as pd
import streamlit as st

from streamlit.logger import get_logger
from streamlit.runtime.scriptrunner import get_script_run_ctx

from qclass.admin import MIN_PASSWORD_CHARS, THROTTLE, SignIn, client_address, fingerprint, weakness
from qclass.batch import csv_bytes
from qclass.feedback import FeedbackError, Filter, as_records
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


def this_browser() -> tuple[str, str]:
    """(the visitor's address, the fingerprint a sign-in is bound to) for this connection."""
    headers = st.context.headers
    address = client_address(headers, st.context.ip_address)
    return address, fingerprint(st.context.cookies.get("_streamlit_xsrf"), headers.get("User-Agent"), address)


def sign_in(attempt: str, password: str, address: str, browser: str):
    """Wrong guesses are throttled per session and per address, and logged without the guess."""
    ctx = get_script_run_ctx()
    keys = (f"session:{ctx.session_id if ctx else 'none'}", f"address:{address}")
    wait = THROTTLE.wait_s(*keys)
    if wait > 0:
        st.error(f"Too many wrong passwords: try again in {wait:.0f} s.")
        return
    if hmac.compare_digest(attempt.encode(), password.encode()):
        THROTTLE.succeeded(*keys)
        st.session_state.feedback_admin = SignIn.now(browser)
        st.rerun()
    failures = THROTTLE.failed(*keys)
    log.warning("Feedback page: wrong password from %s (%d wrong in a row)", address, failures)
    st.error("Wrong password.")


log = get_logger(__name__)
password = admin_password()
if not password:
    st.info("This page is locked: set FEEDBACK_ADMIN_PASSWORD (environment or .streamlit/secrets.toml) to open it.")
    st.stop()
if weak := weakness(password):
    st.error(f"This page stays locked: FEEDBACK_ADMIN_PASSWORD is too weak ({weak}). Set one of at least "
             f"{MIN_PASSWORD_CHARS} characters, e.g. four random words, and restart the app.")
    st.stop()
address, browser = this_browser()
signed_in = st.session_state.get("feedback_admin")
if signed_in and (ended := signed_in.why_ended(browser)):
    del st.session_state["feedback_admin"]
    signed_in = None
    st.info(f"You were signed out: {ended}.")
if not signed_in:
    with st.form("login"):
        attempt = st.text_input("Password", type="password", max_chars=1_000)
        if st.form_submit_button("Open"):
            sign_in(attempt, password, address, browser)
    st.stop()
if st.button("Sign out", icon=":material/logout:"):
    del st.session_state["feedback_admin"]
    st.rerun()

SHOWN_ROWS = 10_000  # the table shows the newest this many; downloads hold every chosen row

try:
    store = feedback_store()
    counts, disputed, versions = store.counts(), store.disputed(), store.versions()
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

st.subheader("Feedback, newest first")
verdict_column, version_column = st.columns(2)
verdict = verdict_column.selectbox("Verdict", ["all", "confirmed", "corrected"])
chosen_versions = version_column.multiselect("Model version", versions, placeholder="all versions")
days_column, guesses_column = st.columns(2)
days = days_column.date_input("Days (UTC)", value=(), format="YYYY-MM-DD")
exclude_guesses = guesses_column.checkbox("Leave out answers that were guesses", value=True,
                                          help="Text that did not look like an English question: another language, "
                                               "gibberish, a statement, no words.")
chosen = Filter(verdict=None if verdict == "all" else verdict, versions=tuple(chosen_versions),
                first_day=days[0] if len(days) > 0 else None, last_day=days[-1] if len(days) > 0 else None,
                exclude_guesses=exclude_guesses)
try:
    every = store.rows(chosen, limit=None)
    export, repeated = store.export_trec(chosen)
except FeedbackError as problem:
    st.error(f"{problem} Try again later.")
    st.stop()

records = as_records(every)
if len(records) > SHOWN_ROWS:
    st.caption(f"Showing the newest {SHOWN_ROWS:,} of {len(records):,} chosen rows; the downloads hold all of them.")
st.dataframe(pd.DataFrame(records[:SHOWN_ROWS]), hide_index=True,
             column_config={"confidence": st.column_config.NumberColumn(format="percent")})
# Callables: each file is made on the click, over the signed-in connection, so its /media/ address
# exists only after that click and is sent only to that browser.
st.download_button("Download the table (CSV)", lambda: csv_bytes(records, list(records[0]) if records else []),
                   file_name="feedback.csv", mime="text/csv", on_click="ignore", disabled=not records)
st.download_button("Export for training (TREC format)", lambda: export.encode("utf-8"),
                   file_name="feedback.label", mime="text/plain", on_click="ignore", type="primary",
                   disabled=not export)
st.caption(f"{export.count(chr(10)):,} lines"
           + (f" ({repeated:,} repeated lines left out)" if repeated else "")
           + ". Add the export to the next training run: `python train.py --extra-train feedback.label`.")
