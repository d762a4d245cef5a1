"""Training-only text: English from WordNet (Debian's wordnet-base) and question augmentation.

WordNet's ~117,000 glosses, example sentences and lemmas give the WordPiece vocabulary words
far beyond the 5,452 training questions, and its part-of-speech lists drive the augmentation
that produces new questions for the teacher to label (Tang et al. 2019, "Distilling
task-specific knowledge from BERT into simple neural networks"); its noun hierarchy gives the
sibling swaps, variants that stay questions (the capital of Peru -> the capital of Ghana).
"""

from __future__ import annotations

import random
from pathlib import Path

WORDNET_DIR = Path("/usr/share/wordnet")
POS_FILES = {"noun": "noun", "verb": "verb", "adj": "adj", "adv": "adv"}
# Words that WordNet also lists as nouns (WHO, a can, the month May, beryllium) but that a
# question uses as its frame: never swapped for a sibling.
FRAME_WORDS = frozenset("who what which when where why how are can will may have does did was were the and for "
                        "one first most many much that this there these those his her its their you your our not "
                        "all any some name called".split())


def _check(wordnet_dir: Path) -> Path:
    if not (wordnet_dir / "data.noun").is_file():
        raise FileNotFoundError(
            f"WordNet not found in {wordnet_dir}: install Debian's wordnet-base "
            "(apt-get install wordnet-base) or pass --wordnet-dir"
        )
    return wordnet_dir


def wordnet_sentences(wordnet_dir: Path = WORDNET_DIR) -> list[str]:
    """Every gloss and example sentence, and every lemma, as plain text lines."""
    lines = []
    for pos in POS_FILES.values():
        for line in (_check(wordnet_dir) / f"data.{pos}").read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):  # the licence header
                continue
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            lemmas = fields[4 : 4 + 2 * int(fields[3], 16) : 2]
            lines.append(" ".join(lemma.replace("_", " ") for lemma in lemmas))
            lines += [part.strip().strip('"') for part in gloss.split(";") if part.strip()]
    return lines


def wordnet_lexicon(wordnet_dir: Path = WORDNET_DIR) -> dict[str, list[str]]:
    """Part of speech -> its single-word, alphabetic lemmas."""
    lexicon = {}
    for pos, suffix in POS_FILES.items():
        text = (_check(wordnet_dir) / f"index.{suffix}").read_text(encoding="latin-1")
        lexicon[pos] = [w for w in (line.split(" ", 1)[0] for line in text.splitlines()
                                    if not line.startswith(" ")) if w.isalpha()]
    return lexicon


def noun_siblings(wordnet_dir: Path = WORDNET_DIR) -> dict[str, list[str]]:
    """Noun (words joined by "_", cased as WordNet writes its most common sense: Peru, city, Born
    the physicist) -> the nouns under the same hypernym as that sense, itself among them
    (Peru -> Chile, Ghana, ...; city -> town, metropolis, ...). Nouns with one parent share one list."""
    folder = _check(wordnet_dir)
    lemmas, parent = {}, {}
    for line in (folder / "data.noun").read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue
        fields = line.partition(" | ")[0].split()
        count = int(fields[3], 16)
        lemmas[fields[0]] = fields[4 : 4 + 2 * count : 2]
        at = 4 + 2 * count + 1
        pointers = [fields[at + 4 * k : at + 4 * k + 2] for k in range(int(fields[at - 1]))]
        parents = [offset for symbol, offset in pointers if symbol in ("@", "@i")]
        if parents:
            parent[fields[0]] = parents[0]
    family = {}
    for offset, up in parent.items():
        family.setdefault(up, []).extend(lemma.replace("_", " ") for lemma in lemmas[offset])
    siblings = {}
    for line in (folder / "index.noun").read_text(encoding="latin-1").splitlines():
        if not line.startswith(" "):
            fields = line.split()
            first_sense = fields[-int(fields[2])]
            cased = [lemma for lemma in lemmas[first_sense] if lemma.lower() == fields[0]]
            if first_sense in parent and cased:
                siblings[cased[0]] = family[parent[first_sense]]
    return siblings


class Augmenter:
    """Makes variants of a question by masking, replacing words with same-POS words, deleting."""

    def __init__(self, lexicon: dict[str, list[str]], p_mask=0.1, p_replace=0.15, p_delete=0.05):
        self.lexicon = lexicon
        self.pos_of = {}
        for pos, words in lexicon.items():
            for word in words:
                self.pos_of.setdefault(word, pos)
        self.p_mask, self.p_replace, self.p_delete = p_mask, p_replace, p_delete

    def variant(self, question: str, rng: random.Random) -> str:
        out = []
        for word in question.split():
            r = rng.random()
            pos = self.pos_of.get(word.lower())
            if r < self.p_mask:
                out.append("[MASK]")
            elif r < self.p_mask + self.p_replace and pos:
                out.append(rng.choice(self.lexicon[pos]))
            elif r < self.p_mask + self.p_replace + self.p_delete:
                continue
            else:
                out.append(word)
        return " ".join(out) or question


def variants(make, question: str, n: int, rng: random.Random) -> list[str]:
    """Up to n distinct variants from make(question, rng) (an Augmenter's or a SiblingSwapper's
    variant), none equal to the question itself."""
    seen = {question}
    for _ in range(3 * n):
        if len(seen) > n:
            break
        seen.add(make(question, rng))
    seen.discard(question)
    return sorted(seen)


class SiblingSwapper:
    """Makes variants of a question that stay questions: nouns (one word or two) after its first
    word swapped for WordNet siblings (the capital of Peru -> the capital of Ghana; which city ->
    which village). The teachers label each variant; most keep their kind of answer, some do not."""

    def __init__(self, siblings: dict[str, list[str]], p_swap=0.3):
        self.siblings, self.p_swap = siblings, p_swap

    def _noun(self, span: list[str]) -> str | None:
        """The siblings' key for these words, if they are a noun: as written, or a common noun
        capitalised in a title (The Old West). A lower-case word is never a proper noun (born)."""
        key = "_".join(span)
        if not all(w.isalpha() for w in span) or len(key) < 3 or key.lower() in FRAME_WORDS:
            return None
        return key if key in self.siblings else key.lower() if key.lower() in self.siblings else None

    def _nouns(self, words: list[str]) -> list[tuple[int, int, str]]:
        """(start, length, key) of each noun that may be swapped, left to right, two-word nouns first."""
        spots, i = [], 1
        while i < len(words):
            for n in (2, 1):
                key = self._noun(words[i : i + n]) if i + n <= len(words) else None
                if key:
                    spots.append((i, n, key))
                    i += n
                    break
            else:
                i += 1
        return spots

    def variant(self, question: str, rng: random.Random) -> str:
        words = question.split()
        spots = self._nouns(words)
        if not spots:
            return question
        chosen = [s for s in spots if rng.random() < self.p_swap] or [rng.choice(spots)]
        for i, n, key in reversed(chosen):
            new = rng.choice(self.siblings[key])
            if words[i][0].isupper() and new.islower():
                new = new[0].upper() + new[1:]
            words[i : i + n] = [new]
        return " ".join(words)
