"""What every page does first: load the model, or explain plainly why it can't."""

import streamlit as st

from qclass.artifacts import ArtifactError, Bundle
from qclass.feedback import FeedbackStore, database_url
from streamlitinf import load_model


def load_or_explain() -> Bundle:
    """The cached model (from $MODEL_DIR if set); on a missing or broken file, a clear error and the page stops."""
    try:
        return load_model()
    except ArtifactError as problem:
        st.error(f"The classifier is unavailable. {problem}")
        st.stop()


def feedback_store() -> FeedbackStore:
    """One store (and connection pool) per process and database; FeedbackError if the database is
    unreachable, which is not cached, so the next page run tries again."""
    return _store_for(database_url())


@st.cache_resource(show_spinner=False)
def _store_for(url: str) -> FeedbackStore:
    return FeedbackStore(url)
