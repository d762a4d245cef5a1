"""Visitor feedback on answers: saved through SQLAlchemy 2, read back by the data team.

SQLite file by default (zero set-up; FEEDBACK_DB_PATH, default feedback.sqlite3 beside the app),
PostgreSQL when DATABASE_URL is set (Heroku Postgres sets it, with the old postgres:// scheme).
All queries are SQLAlchemy statements with bound parameters; text is stored exactly as given.
"""

from __future__ import annotations

import os
import threading
import time as clock
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Timeout
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import JSON, DateTime, Integer, String, Text, create_engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from qclass import trec

MAX_QUESTION_CHARS = 2_000
MAX_COMMENT_CHARS = 1_000
DEFAULT_SQLITE = Path(__file__).resolve().parent.parent / "feedback.sqlite3"
# Each web process holds at most this many PostgreSQL connections (DATABASE_POOL_SIZE). Heroku's
# essential-0 plan allows 20 in all, so dynos x pool size must stay under that (README, Scale).
DEFAULT_POOL_SIZE = 4
# Every wait on the database has an end: connecting, a statement on the server, a free pooled
# connection, and the whole call as the visitor waits for it (a frozen network or a stopped server
# answers nothing, and no driver timeout notices that). A store that could not be built is not
# tried again for COOL_DOWN_S, so a database that is down costs one visitor a few seconds, not each.
TIMEOUT_S = 5
COOL_DOWN_S = 30
SCHEMES = ("sqlite", "postgresql+psycopg")  # what database_url() gives for every URL it accepts


class FeedbackError(RuntimeError):
    """The store can't take or give feedback now; the message is for the visitor."""


class FeedbackRejected(ValueError):
    """This feedback can't be stored as given; the message says why."""


class Base(DeclarativeBase):
    pass


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    question: Mapped[str] = mapped_column(Text)
    model_coarse: Mapped[str] = mapped_column(String(8))
    model_fine: Mapped[str] = mapped_column(String(24))
    model_probabilities: Mapped[dict] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(64))
    correct: Mapped[bool] = mapped_column()
    right_fine: Mapped[str] = mapped_column(String(24))  # the model's answer when confirmed
    comment: Mapped[str] = mapped_column(Text, default="")


def database_url() -> str:
    """$DATABASE_URL (postgres:// accepted) or a SQLite file at $FEEDBACK_DB_PATH."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{os.environ.get('FEEDBACK_DB_PATH') or DEFAULT_SQLITE}"
    for old in ("postgres://", "postgresql://"):
        if url.startswith(old):
            return "postgresql+psycopg://" + url[len(old):]
    return url


def check_url(url: str) -> str:
    """url, if it names a database this app can use; FeedbackError naming the scheme otherwise
    (the password in a URL is never repeated)."""
    scheme = url.split(":", 1)[0] if ":" in url else ""
    if scheme not in SCHEMES:
        raise FeedbackError(f"DATABASE_URL must be a PostgreSQL URL (postgres://user:password@host/name), "
                            f"not {f'{scheme}://...' if scheme else 'text without a scheme'}; feedback is off until it is fixed.")
    return url


def pool_size() -> int:
    """$DATABASE_POOL_SIZE, a whole number from 1 to 100 (default DEFAULT_POOL_SIZE)."""
    value = os.environ.get("DATABASE_POOL_SIZE", "").strip() or str(DEFAULT_POOL_SIZE)
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise FeedbackError(f"DATABASE_POOL_SIZE must be a whole number from 1 to 100, not {value!r}.")
    return int(value)


def _check_text(name: str, text: str, limit: int) -> str:
    if not isinstance(text, str):
        raise FeedbackRejected(f"The {name} must be text.")
    if "\x00" in text:
        raise FeedbackRejected(f"The {name} contains a NUL character, which can't be stored. Remove it and try again.")
    if len(text) > limit:
        raise FeedbackRejected(f"The {name} is {len(text):,} characters; at most {limit:,} can be stored.")
    return text


class FeedbackStore:
    """One engine per process; the schema is created on start-up if it is missing."""

    def __init__(self, url: str | None = None):
        self.url = check_url(url or database_url())
        if self.url.startswith("sqlite"):
            # One file, many Streamlit threads: serialised writes, waiting up to TIMEOUT_S for the lock.
            self.engine = create_engine(self.url, connect_args={"check_same_thread": False, "timeout": TIMEOUT_S})
            size = 4
        else:
            # A dyno runs one process, which never opens more than pool_size() connections.
            size = pool_size()
            self.engine = create_engine(
                self.url, pool_size=size, max_overflow=0, pool_timeout=TIMEOUT_S, pool_pre_ping=True,
                pool_recycle=1800, connect_args={"connect_timeout": TIMEOUT_S, "tcp_user_timeout": TIMEOUT_S * 1000,
                                                 "options": f"-c statement_timeout={TIMEOUT_S * 1000}"})
        # Calls run here, so that the visitor's wait can end even when the database never answers.
        self._calls = ThreadPoolExecutor(size, thread_name_prefix="feedback-db")
        try:
            self._within(lambda: Base.metadata.create_all(self.engine), "is unreachable")
        except FeedbackError:
            self.close()
            raise

    def close(self):
        """Give back every connection (a store that is replaced or failed must not keep any)."""
        self._calls.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()

    def _within(self, call, failure: str):
        """call()'s value, or FeedbackError after at most TIMEOUT_S + 1 seconds, whatever the database does."""
        try:
            return self._calls.submit(call).result(timeout=TIMEOUT_S + 1)
        except Timeout as problem:
            raise FeedbackError(f"The feedback database {failure} (no answer within {TIMEOUT_S + 1} s).") from problem
        except (SQLAlchemyError, OSError) as problem:
            raise FeedbackError(f"The feedback database {failure} ({type(problem).__name__}).") from problem

    def save(self, result: dict, model_version: str, correct: bool, right_fine: str | None = None,
             comment: str = "") -> int:
        """Store one verdict on one answer (inf's result dict); returns its id once committed."""
        question = _check_text("question", result["question"], MAX_QUESTION_CHARS)
        comment = _check_text("comment", comment or "", MAX_COMMENT_CHARS)
        right_fine = result["fine"] if correct else right_fine
        if right_fine not in trec.FINE_NAMES:
            raise FeedbackRejected(f"Choose the right subclass from the list (got {right_fine!r}).")
        if not correct and right_fine == result["fine"]:
            # Stored, it would read as a dispute of the model's answer with itself.
            raise FeedbackRejected("That is the model's own answer: to correct it, choose another subclass; "
                                   "to confirm it, press “Yes, it's right”.")
        row = Feedback(created_at=datetime.now(timezone.utc), question=question,
                       model_coarse=result["coarse"], model_fine=result["fine"],
                       # "guess": not an English question the model can read (see qclass.guess)
                       model_probabilities={"coarse": result["coarse_probs"], "fine": result["fine_probs"],
                                            "guess": result.get("guess") is not None},
                       model_version=model_version, correct=correct, right_fine=right_fine, comment=comment)

        def insert():
            with Session(self.engine) as session, session.begin():
                session.add(row)
                session.flush()
                return row.id

        try:
            return self._within(insert, "did not answer")
        except FeedbackError as problem:
            raise FeedbackError(f"Your feedback was not saved: {problem} Please try again later.") from problem

    def _query(self, statement):
        def query():
            with Session(self.engine) as session:
                return session.execute(statement).all()

        return self._within(query, "did not answer")

    def rows(self, chosen: Filter | None = None, limit: int | None = 10_000) -> list[Feedback]:
        """The newest feedback first, as chosen (all but guesses by default); limit=None for all."""
        chosen = chosen or Filter()
        statement = chosen.apply(select(Feedback)).order_by(Feedback.id.desc())
        rows = [r[0] for r in self._query(statement if limit is None else statement.limit(limit))]
        if chosen.exclude_guesses:
            rows = [r for r in rows if not r.model_probabilities.get("guess")]
        return rows

    def versions(self) -> list[str]:
        """Every model version with feedback, newest first."""
        return [v for (v,) in self._query(select(Feedback.model_version).group_by(Feedback.model_version)
                                          .order_by(func.max(Feedback.id).desc()))]

    def counts(self) -> dict[str, int]:
        total, corrected = self._query(select(func.count(), func.count().filter(~Feedback.correct)))[0]
        return {"total": total, "confirmed": total - corrected, "corrected": corrected}

    def disputed(self) -> list[tuple[str, str, int]]:
        """(model's fine class, the visitors' fine class, times) for corrections, most frequent first."""
        pairs = self._query(select(Feedback.model_fine, Feedback.right_fine).where(~Feedback.correct))
        return [(model, right, n) for (model, right), n in Counter(pairs).most_common()]

    def export_trec(self, chosen: Filter | None = None) -> tuple[str, int]:
        """(every chosen verdict as a TREC training line `COARSE:fine question`, oldest first, for
        --extra-train; how many repeated lines were left out). No cap: all chosen rows."""
        lines = [trec.format_line(row.right_fine, row.question) for row in reversed(self.rows(chosen, limit=None))
                 if row.question.split()]
        unique = list(dict.fromkeys(lines))
        return "".join(line + "\n" for line in unique), len(lines) - len(unique)


@dataclass
class Filter:
    """Which feedback to show and export: a verdict ("confirmed" or "corrected"; None for both),
    model versions (empty for all), a range of UTC days, and whether to leave out answers that
    were guesses."""

    verdict: str | None = None
    versions: tuple[str, ...] = ()
    first_day: date | None = None
    last_day: date | None = None
    exclude_guesses: bool = True  # a guess's verdict teaches the model nothing about English questions

    def apply(self, statement):
        if self.verdict is not None:
            statement = statement.where(Feedback.correct == (self.verdict == "confirmed"))
        if self.versions:
            statement = statement.where(Feedback.model_version.in_(self.versions))
        if self.first_day:
            statement = statement.where(Feedback.created_at >= datetime.combine(self.first_day, time(), timezone.utc))
        if self.last_day:
            statement = statement.where(Feedback.created_at < datetime.combine(self.last_day + timedelta(days=1), time(),
                                                                               timezone.utc))
        return statement


_stores: dict[str, FeedbackStore] = {}
_failed: dict[str, tuple[float, FeedbackError]] = {}
_stores_lock = threading.Lock()


def shared_store(url: str | None = None) -> FeedbackStore:
    """The process's one store for url (default database_url()), built on first use. Kept outside
    Streamlit's caches, so a visitor's "clear cache" neither rebuilds it nor leaves a second
    connection pool behind. A failure is remembered for COOL_DOWN_S: meanwhile it is raised again
    at once, with no new connection attempt."""
    url = url or database_url()
    with _stores_lock:
        if url in _stores:
            return _stores[url]
        failed_at, problem = _failed.get(url, (None, None))
        if failed_at is not None and clock.monotonic() - failed_at < COOL_DOWN_S:
            raise problem
        try:
            _stores[url] = FeedbackStore(url)
        except FeedbackError as error:
            _failed[url] = (clock.monotonic(), error)
            raise
        _failed.pop(url, None)
        return _stores[url]


def as_records(rows: list[Feedback]) -> list[dict]:
    """Plain dicts for a table (probabilities summarised as the model's confidence)."""
    return [{"id": r.id, "when": r.created_at, "question": r.question, "model": r.model_fine,
             "verdict": "confirmed" if r.correct else "corrected", "right": r.right_fine,
             "confidence": r.model_probabilities["fine"][r.model_fine], "model_version": r.model_version,
             "comment": r.comment} for r in rows]

