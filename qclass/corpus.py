"""Training-only text: English from WordNet (Debian's wordnet-base) and question augmentation.

WordNet's ~117,000 glosses, example sentences and lemmas give the WordPiece vocabulary words
far beyond the 5,452 training questions, and its part-of-speech lists drive the augmentation
that produces new questions for the teacher to label (Tang et al. 2019, "Distilling
task-specific knowledge from BERT into simple neural networks").
"""

from __future__ import annotations

import random
from pathlib import Path

WORDNET_DIR = Path("/usr/share/wordnet")
POS_FILES = {"noun": "noun", "verb": "verb", "adj": "adj", "adv": "adv"}


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

    def variants(self, question: str, n: int, rng: random.Random) -> list[str]:
        """Up to n distinct variants, none equal to the question itself."""
        seen = {question}
        for _ in range(3 * n):
            if len(seen) > n:
                break
            seen.add(self.variant(question, rng))
        seen.discard(question)
        return sorted(seen)
