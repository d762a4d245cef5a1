"""The feedback store on SQLite and on a real PostgreSQL server, with faults and hostile text."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from qclass import trec
from qclass.feedback import FeedbackError, FeedbackRejected, FeedbackStore, database_url


def answer(question="Where is Lima?", fine="LOC:other"):
    """A result as inf returns it (the parts the store reads)."""
    probs = {code: 0.0 for code in trec.FINE_CLASSES}
    probs[fine] = 1.0
    coarse = fine.split(":")[0]
    return {"question": question, "coarse": coarse, "fine": fine,
            "coarse_probs": {c: float(c == coarse) for c in trec.COARSE_CLASSES}, "fine_probs": probs}


def test_confirm_and_correct_are_stored_with_everything(store):
    store.save(answer("Who wrote Hamlet?", "HUM:ind"), "v1", correct=True)
    store.save(answer(), "v1", correct=False, right_fine="LOC:city", comment="Lima is a city")
    newest, oldest = store.rows()
    assert (oldest.question, oldest.correct, oldest.right_fine) == ("Who wrote Hamlet?", True, "HUM:ind")
    assert (newest.model_fine, newest.right_fine, newest.comment) == ("LOC:other", "LOC:city", "Lima is a city")
    assert newest.model_version == "v1" and newest.model_probabilities["fine"]["LOC:other"] == 1.0
    assert newest.created_at is not None
    assert store.counts() == {"total": 2, "confirmed": 1, "corrected": 1}
    assert store.disputed() == [("LOC:other", "LOC:city", 1)]


def test_export_round_trips_into_the_training_reader(store, tmp_path):
    store.save(answer("Qui a écrit « Hamlet » ? 🤔", "HUM:ind"), "v1", correct=True)
    store.save(answer("Where is\nLima ?"), "v1", correct=False, right_fine="LOC:city")
    path = tmp_path / "feedback.label"
    path.write_text(store.export_trec()[0], encoding="utf-8")
    assert trec.read_questions(path, encoding="utf-8") == [
        ("HUM:ind", "Qui a écrit « Hamlet » ? 🤔"), ("LOC:city", "Where is Lima ?")]


@pytest.mark.parametrize("text", [
    "Robert'); DROP TABLE feedback; --",
    "' OR '1'='1",
    "🤔🚀 émoji, RTL \u202eabc, combining e\u0301",
    "<script>alert(1)</script>",
    "x" * 2_000,
])
def test_hostile_text_is_stored_unchanged(store, text):
    store.save(answer(text), "v1", correct=False, right_fine="LOC:city", comment=text[:1000])
    row = store.rows()[0]
    assert row.question == text and row.comment == text[:1000]
    assert store.counts()["total"] == 1  # the table is still there


@pytest.mark.parametrize("question, comment, message", [
    ("Who?\x00", "", "NUL"),
    ("Who?", "a\x00b", "NUL"),
    ("x" * 10_000, "", "at most 2,000"),
    ("Who?", "y" * 1_001, "at most 1,000"),
])
def test_text_that_cannot_be_stored_is_refused_clearly(store, question, comment, message):
    with pytest.raises(FeedbackRejected, match=message):
        store.save(answer(question), "v1", correct=True, comment=comment)
    assert store.counts()["total"] == 0


def test_a_correction_must_name_a_real_class(store):
    with pytest.raises(FeedbackRejected, match="Choose the right subclass"):
        store.save(answer(), "v1", correct=False, right_fine="LOC:moon")


def test_a_correction_to_the_models_own_answer_is_refused(store):
    with pytest.raises(FeedbackRejected, match="the model's own answer"):
        store.save(answer(fine="LOC:city"), "v1", correct=False, right_fine="LOC:city")
    assert store.counts()["total"] == 0


def test_fifty_concurrent_saves_all_land_exactly_once(store):
    def save(i):
        return store.save(answer(f"Question {i}?"), "v1", correct=False, right_fine="LOC:city", comment=str(i))

    with ThreadPoolExecutor(max_workers=50) as pool:
        ids = list(pool.map(save, range(50)))
    assert len(set(ids)) == 50
    assert sorted(int(r.comment) for r in store.rows()) == list(range(50))


def test_unreachable_database_at_start_is_a_clear_error():
    with pytest.raises(FeedbackError, match="unreachable"):
        FeedbackStore("postgresql+psycopg://nobody@127.0.0.1:9/none")


def test_database_lost_mid_session_then_back(postgres):
    store = FeedbackStore(postgres.url)
    store.save(answer(), "v1", correct=True)
    postgres.stop()
    try:
        with pytest.raises(FeedbackError, match="not saved"):
            store.save(answer(), "v1", correct=True)
        with pytest.raises(FeedbackError):
            store.counts()
    finally:
        postgres.start()
    store.save(answer(), "v1", correct=True)  # the pool reconnects by itself
    assert store.counts()["total"] >= 2
    store.engine.dispose()


def test_database_url_accepts_heroku_scheme_and_defaults_to_sqlite(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@host:5432/db")
    assert database_url() == "postgresql+psycopg://u:p@host:5432/db"
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("FEEDBACK_DB_PATH", str(tmp_path / "f.sqlite3"))
    assert database_url() == f"sqlite:///{tmp_path / 'f.sqlite3'}"


def test_one_process_never_holds_more_connections_than_its_pool_size(postgres, monkeypatch):
    """dynos x DATABASE_POOL_SIZE is what the plan's connection limit must allow (README)."""
    from sqlalchemy import text

    monkeypatch.setenv("DATABASE_POOL_SIZE", "2")
    store = FeedbackStore(postgres.url)
    try:
        def ours():
            with store.engine.connect() as connection:  # this one is from the pool too
                return connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE usename = 'feedback' "
                                               "AND backend_type = 'client backend'")).scalar()

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda i: store.save(answer(f"Question {i}?"), "v1", correct=True), range(40)))
        assert len(set(ids)) == 40
        assert store.engine.pool.size() == 2 and store.engine.pool.checkedout() == 0
        assert ours() <= 2
    finally:
        store.engine.dispose()


@pytest.mark.parametrize("value", ["0", "-1", "lots", "1000"])
def test_a_bad_pool_size_is_named(value, postgres, monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", value)
    with pytest.raises(FeedbackError, match="DATABASE_POOL_SIZE must be a whole number from 1 to 100"):
        FeedbackStore(postgres.url)


def test_export_filters_removes_repeats_and_has_no_cap(store):
    from datetime import date, timedelta

    from qclass.feedback import Filter

    store.save(answer("Who wrote Hamlet?", "HUM:ind"), "v1", correct=True)
    store.save(answer("Who wrote Hamlet?", "HUM:ind"), "v1", correct=True)  # the same line again
    store.save(answer(), "v2", correct=False, right_fine="LOC:city")
    store.save({**answer("🤔🤔", "DESC:def"), "guess": "it has no words"}, "v2", correct=True)  # a guess
    export, repeated = store.export_trec()  # guesses left out by default
    assert export.splitlines() == ["HUM:ind Who wrote Hamlet?", "LOC:city Where is Lima?"]
    assert repeated == 1
    assert store.export_trec(Filter(exclude_guesses=False))[0].splitlines()[-1] == "DESC:def 🤔🤔"
    assert store.export_trec(Filter(verdict="corrected"))[0] == "LOC:city Where is Lima?\n"
    assert store.export_trec(Filter(versions=("v1",)))[0] == "HUM:ind Who wrote Hamlet?\n"
    today = date.today()
    assert store.export_trec(Filter(first_day=today - timedelta(days=1), last_day=today + timedelta(days=1)))[0] == export
    assert store.export_trec(Filter(first_day=today + timedelta(days=2)))[0] == ""
    assert store.versions() == ["v2", "v1"]


def test_export_holds_every_row_beyond_the_tables_ten_thousand(store):
    from sqlalchemy import insert

    from qclass.feedback import Feedback

    now = datetime.now(timezone.utc)
    with store.engine.begin() as connection:
        connection.execute(insert(Feedback), [
            {"created_at": now, "question": f"Question {i}?", "model_coarse": "HUM", "model_fine": "HUM:ind",
             "model_probabilities": {"fine": {"HUM:ind": 1.0}}, "model_version": "v1", "correct": True,
             "right_fine": "HUM:ind", "comment": ""} for i in range(10_050)])
    assert len(store.rows()) == 10_000
    assert len(store.export_trec()[0].splitlines()) == 10_050
