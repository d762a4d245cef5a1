"""What every page does first: load the model, or explain plainly why it can't."""

import streamlit as st

from qclass.artifacts import ArtifactError, Bundle
from streamlitinf import load_model


def load_or_explain() -> Bundle:
    """The cached model; on a missing or broken model file, a clear error and the page stops."""
    try:
        return load_model()
    except ArtifactError as problem:
        st.error(f"The classifier is unavailable. {problem}")
        st.stop()
