"""Typos mended before the model reads a question: "What is the capitla of Peru?" is read as
"What is the capital of Peru?".

A word of three to twenty letters is mended when it is unknown: not in the word list, nor a regular
inflection of a listed word (pesos, visited), nor a whole word of the model's vocabulary (nyc), nor
a contraction typed without its apostrophe (dont). It is read as the most frequent listed word of
three letters or more that one slip could have turned into it (_slips: two neighbouring letters
swapped, a letter dropped, doubled or hit with its keyboard neighbour, a neighbouring key or another
vowel typed; Norvig's corrector, kept to the edits people make), if there are any. Words in capitals
(acronyms) or mixed case (DiMaggio), and words joined to digits, underscores or accents, are left as
typed. The list holds every word of WordNet's glosses, examples and lemmas, counted, each word of the
training questions counted ten times more, so that the words questions are made of win ties ("hwo"
-> "who"), and all-MiniLM-L6-v2's other whole words (names and words newer than WordNet: obama,
iphone) at 0. train.py writes it (WORDS_FILE) beside the model; a model folder without it reads
every question as typed. streamlitinf mends only text the language check (qclass/guess.py) takes for
English, judges it as typed, and reads it as mended only where that changes the model's answer.

On the validation split, the questions with seeded typos got 12 to 30 more subclasses right of 546,
and the questions as written one more, none fewer (docs/model.md, twenty-first and twenty-second
sessions).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from .noise import NEIGHBOURS

WORDS_FILE = "spelling-words.txt"
QUESTION_WEIGHT = 10  # a training question's word counts this many times a WordNet one
MIN_LETTERS = 3
# Bounds on the work one text can cause: longer words are left as typed, words past the first
# MAX_WORDS are not looked at (the model reads at most 64 word pieces anyway), and at most MAX_TRIES
# unknown words are looked up (a question rarely has more than two or three typos).
MAX_LETTERS = 20
MAX_WORDS = 64
MAX_TRIES = 8
# Contractions typed without the apostrophe are words, not typos: "why dont cats purr" must not be
# read as "why don cats purr", nor "wasnt" as "want".
CONTRACTIONS = frozenset("""dont doesnt didnt isnt arent wasnt werent cant couldnt wouldnt shouldnt wont
    hasnt havent hadnt mustnt neednt aint ive youre youve youd youll theyre theyve theyd theyll weve
    whats whos wheres whens whys hows thats theres heres""".split())
_WORD = re.compile(r"\b[A-Za-z]+\b")  # \b: not inside a word with digits, _ or accents
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def whole_words(tokens) -> list[str]:
    """The WordPiece tokens that are whole ASCII words (hamlet, nyc), not pieces (##let) or symbols."""
    return sorted(token for token in tokens if token.isascii() and token.isalpha())


def word_counts(sentences: list[str], questions: list[str], known=()) -> Counter:
    """Lower-case word -> how often it occurs in sentences, plus QUESTION_WEIGHT per occurrence in
    questions; and 0 for each word of `known` (all-MiniLM-L6-v2's whole words: obama, iphone) that
    neither has, so that it is never mended and is a typo's last choice."""
    counts = Counter(w for s in sentences for w in _WORD.findall(s.lower()))
    for question in questions:
        for word in _WORD.findall(question.lower()):
            counts[word] += QUESTION_WEIGHT
    for word in known:
        counts.setdefault(word, 0)
    return counts


def write(path: Path, counts: Counter) -> None:
    """One 'word count' line each, most frequent first (ties in alphabetical order): the same counts
    give the same file."""
    lines = (f"{w} {c}\n" for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])))
    Path(path).write_text("".join(lines), encoding="ascii")


def read(path: Path) -> dict[str, int]:
    """The counts write() wrote; ValueError for a line that is not 'word count'."""
    counts = {}
    for number, line in enumerate(Path(path).read_text(encoding="ascii").splitlines(), 1):
        word, _, count = line.partition(" ")
        if not (word.isalpha() and count.isdigit()):
            raise ValueError(f"line {number} is not 'word count'")
        counts[word] = int(count)
    return counts


def _slips(word: str) -> set[str]:
    """The words `word` may have been meant as, one slip of the fingers or of spelling away: two
    neighbouring letters swapped; a letter dropped anywhere but first (first letters are seldom
    dropped: "elon" is not "melon"); a letter typed twice, or a key's neighbour hit with it, or a vowel
    added beside a vowel ("arguement"); a key's neighbour typed for it, or one vowel for another
    ("seperate"). Other one-letter changes are seldom typos, and read names and new words as old
    words: covid as bovid, kamala as kabala, crispr as crisp."""
    vowels = "aeiou"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    dropped = {a + c + b for a, b in splits[1:] for c in _LETTERS}
    added = set()
    for i, letter in enumerate(word):
        beside = word[max(i - 1, 0):i] + word[i + 1:i + 2]
        if (letter in beside or any(letter in NEIGHBOURS.get(n, "") for n in beside)
                or letter in vowels and any(n in vowels for n in beside)):
            added.add(word[:i] + word[i + 1:])
    slipped = {a + c + b[1:] for a, b in splits if b
               for c in NEIGHBOURS.get(b[0], "") + (vowels if b[0] in vowels else "")}
    return swapped | dropped | added | slipped


def _stems(word: str) -> list[str]:
    """What word could be an inflection of, by English's regular endings (as WordNet's morphy reads them)."""
    stems = []
    for ending, replacements in (("ies", ("y",)), ("ied", ("y",)), ("es", ("", "e")), ("s", ("",)),
                                 ("ed", ("", "e")), ("ing", ("", "e"))):
        if word.endswith(ending) and len(word) > len(ending) + 1:
            base = word[: -len(ending)]
            stems += [base + r for r in replacements]
            if ending in ("ed", "ing") and len(base) > 2 and base[-1] == base[-2]:
                stems.append(base[:-1])  # mapped -> map
    return stems


class Speller:
    """correct(text): the text with each unknown word replaced by the likeliest word one slip away."""

    def __init__(self, counts: dict[str, int], also_known=frozenset()):
        """counts: the word list; also_known: more words never changed (the model's whole-word tokens)."""
        self.counts = counts
        self.also_known = CONTRACTIONS | frozenset(also_known)
        self.mend = lru_cache(maxsize=4096)(self._mend)  # visitors and batches repeat their typos

    def unknown(self, word: str) -> bool:
        """A plain word (lower case or capitalised, MIN_LETTERS to MAX_LETTERS letters) not in the list."""
        lower = word.lower()
        return (bool(self.counts) and MIN_LETTERS <= len(word) <= MAX_LETTERS
                and word in (lower, lower.capitalize()) and not self.known(lower))

    def known(self, word: str) -> bool:
        """Listed, also known, or a regular inflection of a listed word (pesos, ferries, visited, mapped)."""
        return word in self.counts or word in self.also_known or any(stem in self.counts for stem in _stems(word))

    def _mend(self, word: str) -> str:
        """The commonest listed word one slip from an unknown word, cased as typed; or the word."""
        listed = [(self.counts[w], w) for w in _slips(word.lower()) if w in self.counts and len(w) >= MIN_LETTERS]
        if not listed:
            return word
        best = max(listed)[1]
        return best.capitalize() if word[0].isupper() else best

    def correct(self, text: str) -> str:
        tries = 0

        def mend(match) -> str:
            nonlocal tries
            word = match.group()
            if tries == MAX_TRIES or not self.unknown(word):
                return word
            tries += 1
            return self.mend(word)

        return _WORD.sub(mend, text, count=MAX_WORDS)
