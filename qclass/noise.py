"""Questions as visitors type them: lower case without the "?", and seeded character typos.

    casual("What is the capital of Peru?")       # 'what is the capital of peru'
    typos("What is the capital of Peru?", random.Random(13))   # e.g. 'What is the capitla of Peru?'

benchmark.py --robustness measures the shipped model on TREC_10 rewritten both ways, with a fixed
seed, so every run reads the same noisy questions.
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
