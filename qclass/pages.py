"""What every page does first: load the model, or explain plainly why it can't."""

import re

import streamlit as st
from streamlit.logger import get_logger

from qclass.artifacts import ArtifactError, Bundle
from qclass.feedback import FeedbackStore, database_url
from streamlitinf import load_model


# What decides how the server behaves for visitors, logged once per process (heroku logs shows it),
# so a deploy can be checked against .streamlit/config.toml and the Procfile.
SERVER_SETTINGS = ("server.port", "server.address", "server.headless", "server.fileWatcherType",
                   "server.maxUploadSize", "runner.postScriptGC", "client.showErrorDetails", "client.toolbarMode")


@st.cache_resource(show_spinner=False)
def log_server_settings() -> dict:
    settings = {name: st.get_option(name) for name in SERVER_SETTINGS}
    get_logger(__name__).info("Serving with %s", " ".join(f"{k}={v!r}" for k, v in settings.items()))
    return settings


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=])")
_AUTOLINK = re.compile(r"(?<=\\:)(?=//)|(?i:(?<=www))(?=\\\.)|(?=@)")  # places in _MARKDOWN's output


def plain(text: str) -> str:
    """text for st.error, st.warning, st.write and friends, which render Markdown: every character
    Markdown could act on is escaped, and an invisible word joiner (U+2060) breaks what would
    still become a link on its own (http://, www., name@host), so it shows exactly as typed."""
    escaped = _MARKDOWN.sub(r"\\\1", str(text))
    escaped = _AUTOLINK.sub("\u2060", escaped)
    return escaped.replace("\n", "  \n")


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
