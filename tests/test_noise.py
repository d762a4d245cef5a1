"""qclass/noise.py: the visitor-style rewrites benchmark.py --robustness reads TREC_10 through."""

import random

from qclass.noise import KINDS, NEIGHBOURS, casual, typos


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
