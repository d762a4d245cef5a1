"""The inference contract of streamlitinf: load_model, inf, inf_batch."""

import math

import pytest

import streamlitinf
from qclass import trec
from qclass.inference import MAX_CHARS


def test_load_model_is_cached_once_per_process(model):
    assert streamlitinf.load_model() is model


def test_inf_returns_the_contract(model):
    result = streamlitinf.inf("What is the capital of Peru?", model)
    assert result["coarse"] == "LOC" and result["class"] == "LOCATION"
    assert result["fine"] == "LOC:city" and result["subclass"] == "city"
    assert set(result["coarse_probs"]) == set(trec.COARSE_CLASSES)
    assert set(result["fine_probs"]) == set(trec.FINE_CLASSES)
    assert math.isclose(sum(result["coarse_probs"].values()), 1.0, abs_tol=1e-5)
    assert math.isclose(sum(result["fine_probs"].values()), 1.0, abs_tol=1e-5)
    assert result["coarse_confidence"] == result["coarse_probs"]["LOC"]
    assert result["guess"] is None and not result["truncated"]


@pytest.mark.parametrize("question, fine", [
    ("Who wrote Hamlet?", "HUM:ind"),
    ("How many people live in Tokyo?", "NUM:count"),
    ("When was the telephone invented?", "NUM:date"),
    ("What does CPU stand for?", "ABBR:exp"),
])
def test_inf_answers_new_questions(model, question, fine):
    assert streamlitinf.inf(question, model)["fine"] == fine


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\x00\x00"])
def test_empty_text_is_a_clear_value_error(model, text):
    with pytest.raises(ValueError, match="empty"):
        streamlitinf.inf(text, model)


def test_non_text_is_a_value_error(model):
    with pytest.raises(ValueError, match="text"):
        streamlitinf.inf(None, model)


def test_very_long_text_is_truncated_not_an_error(model):
    result = streamlitinf.inf("What is the tallest mountain " * 4000, model)
    assert result["truncated"] and result["coarse"] == result["fine"].split(":")[0]


def test_truncated_only_when_text_was_cut(model):
    base = "Why is the sky blue?"
    exactly = base[:4] + " " * (MAX_CHARS - len(base)) + base[4:]
    assert len(exactly) == MAX_CHARS and not streamlitinf.inf(exactly, model)["truncated"]
    assert streamlitinf.inf(" " + exactly[:4] + " " + exactly[4:] + "  ", model)["truncated"]


def test_emoji_only_is_answered_and_flagged_as_a_guess(model):
    result = streamlitinf.inf("🤔🤔🤔", model)
    assert result["guess"] == "it has no words"


def test_batch_equals_one_by_one_and_always_agrees(model, trec_dir):
    questions = [q for _, q in trec.read_questions(trec_dir / trec.TEST_FILE)[:150]]
    batch = streamlitinf.inf_batch(questions, model, batch_size=32)
    assert [r["question"] for r in batch] == questions  # the input order, whatever the batching
    for question, result in zip(questions, batch):
        single = streamlitinf.inf(question, model)
        assert (single["coarse"], single["fine"]) == (result["coarse"], result["fine"])
        assert math.isclose(single["fine_confidence"], result["fine_confidence"], abs_tol=1e-4)
    assert all(r["fine"].split(":")[0] == r["coarse"] for r in batch)


def test_a_batch_of_long_questions_stays_small_in_memory(model):
    """inf_batch caps the tokens of one model call (BATCH_TOKENS): 64 questions of 64 tokens at once
    took 111 MB for a moment (measured with tracemalloc), which three Batch visitors on a 512 MB
    dyno cannot afford. Long and short questions mixed still come back in order."""
    import tracemalloc

    from streamlitinf import inf_batch

    long = ("What is the name of the longest river that flows through the country described here " * 6)[:479] + "?"
    texts = [long, "Who wrote Hamlet?"] * 32
    inf_batch(texts[:2], model)
    tracemalloc.start()
    try:
        results = inf_batch(texts, model)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6, f"{peak / 1e6:.1f} MB"
    alone = [inf_batch([t], model)[0]["fine"] for t in texts[:2]]
    assert [r["fine"] for r in results] == alone * 32 and alone[1] == "HUM:ind"
