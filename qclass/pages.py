"""What every page does first: load the model, or explain plainly why it can't."""

import re
import threading

import streamlit as st
from streamlit.logger import get_logger

from qclass.artifacts import ArtifactError, Bundle
from qclass.feedback import FeedbackError, FeedbackStore, check_url, database_url, shared_store
from streamlitinf import load_model


# What decides how the server behaves for visitors, logged once per process (heroku logs shows it),
# so a deploy can be checked against .streamlit/config.toml and the Procfile.
SERVER_SETTINGS = ("server.port", "server.address", "server.headless", "server.fileWatcherType",
                   "server.maxUploadSize", "runner.postScriptGC", "client.showErrorDetails", "client.toolbarMode")


_logged = False
_log_lock = threading.Lock()


def log_server_settings() -> dict:
    """Once per process: the effective settings, and a refused DATABASE_URL, in the log."""
    global _logged
    settings = {name: st.get_option(name) for name in SERVER_SETTINGS}
    with _log_lock:
        if _logged:
            return settings
        _logged = True
        log = get_logger(__name__)
        log.info("Serving with %s", " ".join(f"{k}={v!r}" for k, v in settings.items()))
        try:
            check_url(database_url())
        except FeedbackError as problem:
            log.error("%s Classifying works; saving feedback does not.", problem)
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
    """The process's one store (and connection pool); FeedbackError if the database is unreachable
    or DATABASE_URL is unusable (see qclass.feedback.shared_store)."""
    return shared_store()
