"""Questions as visitors type them: lower case without the "?", seeded character typos, fragments
and commands.

    casual("What is the capital of Peru?")       # 'what is the capital of peru'
    typos("What is the capital of Peru?", random.Random(13))   # e.g. 'What is the capitla of Peru?'
    rephrase("What is the capital of Peru?", rng)   # e.g. 'capital of Peru', 'name the capital of Peru'
    visitor("Who wrote Hamlet?", rng)            # any of these, or two together

benchmark.py --robustness measures a model on TREC_10 rewritten by casual() and typos() with a fixed
seed, so every run reads the same noisy questions. train.py shows the student training questions
rewritten by visitor(), each keeping its source's labels and teacher targets: none of these
rewrites changes what kind of answer the question asks for.
"""

from __future__ import annotations

import random
import re

# Neighbours on a QWERTY keyboard: the key a finger slips to.
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
NEIGHBOURS = {}
for r, row in enumerate(_ROWS):
    for c, key in enumerate(row):
        near = {row[c + d] for d in (-1, 1) if 0 <= c + d < len(row)}
        # Each row sits about half a key right of the one above it.
        near |= {_ROWS[r + d][c + s] for d, shifts in ((-1, (0, 1)), (1, (-1, 0))) if 0 <= r + d < len(_ROWS)
                 for s in shifts if 0 <= c + s < len(_ROWS[r + d])}
        NEIGHBOURS[key] = "".join(sorted(near))

KINDS = ("swap", "drop", "double", "neighbour")
SEED = 13  # of the typos in the test set readings below
LETTERS_PER_TYPO = 25


def casual(text: str) -> str:
    """Lower case, trailing "?" (and the space before it) left out."""
    return text.lower().rstrip().rstrip("?").rstrip()


def typos(text: str, rng: random.Random, letters_per_typo: int = LETTERS_PER_TYPO) -> str:
    """One typo for every letters_per_typo letters (at least one), each inside a word of 3+ letters:
    two neighbouring letters swapped, a letter dropped or doubled, or a QWERTY neighbour typed."""
    chars = list(text)
    for _ in range(max(1, sum(ch.isalpha() for ch in text) // letters_per_typo)):
        places = [m.start() + i for m in re.finditer(r"[A-Za-z]{3,}", "".join(chars)) for i in range(len(m.group()) - 1)]
        if not places:
            break
        at, kind = rng.choice(places), rng.choice(KINDS)
        if kind == "swap":
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        elif kind == "drop":
            del chars[at]
        elif kind == "double":
            chars.insert(at, chars[at])
        else:
            key = chars[at].lower()
            slip = rng.choice(NEIGHBOURS[key]) if NEIGHBOURS.get(key) else key
            chars[at] = slip.upper() if chars[at].isupper() else slip
    return "".join(chars)


def readings(rows: list[tuple[str, str]], seed: int = SEED) -> dict[str, list[tuple[str, str]]]:
    """(label, question) rows as written, in lower case without "?", and with seeded typos: the
    readings of TREC_10 that benchmark.py --robustness and the model card report."""
    rng = random.Random(seed)
    return {"as_written": rows, "lower_case_no_question_mark": [(f, casual(q)) for f, q in rows],
            "character_typos": [(f, typos(q, rng)) for f, q in rows]}


# "What is the capital of Peru?": a definite noun phrase, which can stand alone or follow a command.
_WHAT_THE = re.compile(r"^(?:what|which)(?: is|'s| are| was| were) the (?P<rest>.+?)\s*\??\s*$", re.IGNORECASE)
_WH_WORD = re.compile(r"^(?:what|which|who|whom|whose|where|when|why|how)\b", re.IGNORECASE)
ASKING = ("tell me", "can you tell me", "i want to know", "do you know", "please tell me", "i wonder")
NAMING = ("name the", "give me the", "tell me the", "find the", "what's the", "the")


def rephrase(text: str, rng: random.Random) -> str:
    """A fragment or a command asking the same thing: "What is the capital of Peru?" may become
    "capital of Peru", "name the capital of Peru" or "tell me what is the capital of Peru";
    "Who wrote Hamlet?" may become "can you tell me who wrote Hamlet". Other texts come back as
    they are."""
    text = text.strip()
    what_the = _WHAT_THE.match(text)
    if what_the and rng.random() < 0.6:
        rest = what_the["rest"]
        return rest if rng.random() < 0.3 else f"{rng.choice(NAMING)} {rest}"
    if _WH_WORD.match(text):
        return f"{rng.choice(ASKING)} {text[0].lower()}{text[1:]}".rstrip("?").rstrip()
    return text


REWRITES = {
    "casual": lambda text, rng: casual(text),
    "typos": typos,
    "casual typos": lambda text, rng: casual(typos(text, rng)),
    "rephrase": lambda text, rng: casual(rephrase(text, rng)) if rng.random() < 0.5 else rephrase(text, rng),
    "rephrase typos": lambda text, rng: typos(casual(rephrase(text, rng)), rng),
}


def visitor(text: str, rng: random.Random) -> str:
    """The text as a visitor might type it: one of REWRITES, chosen at random."""
    return REWRITES[rng.choice(list(REWRITES))](text, rng)
