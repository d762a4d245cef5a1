"""qclass/noise.py: the visitor-style rewrites benchmark.py --robustness reads TREC_10 through, and
train.py shows the student."""

import random
import re

from qclass.noise import ASKING, KINDS, NAMING, NEIGHBOURS, casual, readings, rephrase, typos, visitor


def test_casual_is_lower_case_without_the_question_mark():
    assert casual("What is the capital of Peru ?") == "what is the capital of peru"
    assert casual("Who wrote Hamlet?  ") == "who wrote hamlet"
    assert casual("name a river") == "name a river"


def test_typos_are_seeded_and_bounded():
    question = "What is the boiling point of water in Fahrenheit at sea level?"
    first = [typos(question, random.Random(13)) for _ in range(3)]
    assert len(set(first)) == 1 and first[0] != question  # the same seed, the same noisy question
    for seed in range(200):
        noisy = typos(question, random.Random(seed))
        letters = sum(c.isalpha() for c in question)
        edits = max(1, letters // 25)
        assert abs(len(noisy) - len(question)) <= edits
        assert noisy.split()[1] == "is" and noisy.split()[-3] == "at"  # words under 3 letters untouched


def test_every_kind_of_typo_happens():
    seen = set()
    for seed in range(300):
        noisy = typos("Paris", random.Random(seed))
        if len(noisy) == 4:
            seen.add("drop")
        elif len(noisy) == 6:
            seen.add("double")
        elif sorted(noisy) == sorted("Paris"):
            seen.add("swap")
        else:
            seen.add("neighbour")
    assert seen == set(KINDS)


def test_keyboard_neighbours_are_next_to_each_other():
    assert set(NEIGHBOURS["g"]) == set("fhtybv")
    assert all(key in NEIGHBOURS[n] for key, near in NEIGHBOURS.items() for n in near)
    assert typos("a b ?", random.Random(1)) == "a b ?"  # nothing long enough to touch


def test_rephrase_makes_fragments_and_commands_that_keep_the_question():
    seen = {rephrase("What is the capital of Peru ?", random.Random(seed)) for seed in range(200)}
    assert "capital of Peru" in seen  # a fragment
    assert {f"{start} capital of Peru" for start in NAMING} <= seen  # "name the capital of Peru", ...
    assert {f"{start} what is the capital of Peru" for start in ASKING} <= seen  # "tell me what is ..."
    asked = {rephrase("Who wrote Hamlet?", random.Random(seed)) for seed in range(100)}
    assert asked == {f"{start} who wrote Hamlet" for start in ASKING}
    assert rephrase("Name a river in Africa .", random.Random(1)) == "Name a river in Africa ."


def test_visitor_is_seeded_and_uses_every_rewrite():
    question = "What is the capital of Peru ?"
    assert len({visitor(question, random.Random(5)) for _ in range(3)}) == 1
    seen = {visitor(question, random.Random(seed)) for seed in range(300)}
    assert "what is the capital of peru" in seen  # casual
    assert any(s.endswith("?") and s != question for s in seen)  # typos, case kept
    assert any(s.startswith(("tell me", "can you", "i want", "do you", "please", "i wonder", "name the")) for s in seen)
    assert any("peru" in s and not s.startswith("what") and s != s.capitalize() for s in seen)


def test_readings_keep_the_labels_and_the_same_typos_every_time():
    rows = [("LOC:city", "What is the capital of Peru ?"), ("HUM:ind", "Who wrote Hamlet ?")]
    first, again = readings(rows), readings(rows)
    assert first == again and list(first) == ["as_written", "lower_case_no_question_mark", "character_typos"]
    assert first["lower_case_no_question_mark"] == [("LOC:city", "what is the capital of peru"),
                                                   ("HUM:ind", "who wrote hamlet")]
    assert [f for f, _ in first["character_typos"]] == ["LOC:city", "HUM:ind"]
    assert all(noisy != q for (_, noisy), (_, q) in zip(first["character_typos"], rows))


def test_the_visitor_set_is_labelled_and_holds_no_trec_question(trec_dir):
    from benchmark import visitor_set
    from qclass import trec

    rows = visitor_set()
    assert len(rows) >= 150
    assert all(label in trec.FINE_CLASSES for label, _ in rows)
    assert {label.split(":")[0] for label, _ in rows} == set(trec.COARSE_CLASSES)
    words = lambda text: " ".join(re.sub(r"[^a-z0-9 ]", "", text.lower()).split())
    asked = {words(q) for _, q in rows}
    assert len(asked) == len(rows)  # no question twice
    for name in (trec.TRAIN_FILE, trec.TEST_FILE):
        assert not asked & {words(q) for _, q in trec.read_questions(trec_dir / name)}
