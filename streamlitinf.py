"""Inference for the app and for anyone else: load the model once, classify one or many questions.

    model = load_model()
    inf("What is the capital of Peru?", model)
    # {'coarse': 'LOC', 'class': 'LOCATION', 'fine': 'LOC:city', 'subclass': 'city', ...}
"""

from __future__ import annotations

import logging
import os
import threading

from qclass import artifacts
from qclass.guess import why_a_guess
from qclass.numpy_model import blas_threads
from qclass.inference import MAX_CHARS, normalise, pad, predict

BATCH_SIZE = 64
BATCH_TOKENS = 1024


def model_folder(folder: str | None = None) -> str:
    """Where load_model reads the model files: folder, else $MODEL_DIR, else the app's own folder."""
    return str(folder or os.environ.get("MODEL_DIR") or artifacts.ROOT)


def load_model(folder: str | None = None) -> artifacts.Bundle:
    """The model, tokenizer, label maps and model card, built on CPU once per process and folder
    (model_folder). ArtifactError names a missing or bad file.
    Kept outside Streamlit's caches: a client's "clear cache" message must not load a second copy."""
    folder = model_folder(folder)
    with _loading:
        if folder not in _bundles:
            # Streamlit answers each visitor in a thread of its own, and a short question gains nothing
            # from splitting its small matrix products across cores, so one BLAS thread per answer keeps
            # concurrent visitors from fighting over a shared dyno's cores (loadtest.py measures it).
            # OPENBLAS_NUM_THREADS, when set, is left to OpenBLAS.
            if "OPENBLAS_NUM_THREADS" not in os.environ:
                blas_threads(1)
            _bundles[folder] = artifacts.load(folder)
            log.info("Model %s loaded from %s", _bundles[folder].version, folder)
        return _bundles[folder]


log = logging.getLogger(__name__)
_bundles: dict[str, artifacts.Bundle] = {}
_loading = threading.Lock()


def _result(bundle: artifacts.Bundle, text: str, read: str, guess: str | None, cut: bool, encoding, coarse_probs,
            fine_probs, coarse, fine) -> dict:
    coarse_code, fine_code = bundle.idx2class[coarse], bundle.idx2subclass[fine]
    unk = bundle.tokenizer.token_to_id("[UNK]")
    return {
        "question": text,
        # The question as the model read it, typos mended (qclass/spelling.py), or None where it read
        # the text as typed: nothing was mended, or mending left the answer as it was (inf_batch).
        "read_as": read if read != text else None,
        "coarse": coarse_code,
        "class": bundle.class2names[coarse_code],
        "fine": fine_code,
        "subclass": bundle.subclass2names[fine_code],
        "coarse_confidence": coarse_probs[coarse],
        "fine_confidence": fine_probs[fine],
        "coarse_probs": {bundle.idx2class[i]: p for i, p in enumerate(coarse_probs)},
        "fine_probs": {bundle.idx2subclass[i]: p for i, p in enumerate(fine_probs)},
        # Why the text is not an English question the model can read (then the answer is only a
        # guess), or None. No word the vocabulary knows at all (emoji only) is a guess too.
        "guess": guess or (
            None if any(i != unk for i, special in zip(encoding.ids, encoding.special_tokens_mask) if not special)
            else "it has no words the model knows"),
        "truncated": cut or bool(encoding.overflowing),
    }


def top(probs: dict, n: int = 3) -> list[tuple[str, float]]:
    """The n likeliest (code, probability) pairs of a result's coarse_probs or fine_probs, likeliest first."""
    return sorted(probs.items(), key=lambda kv: kv[1], reverse=True)[:n]


def inf_batch(texts: list[str], model: artifacts.Bundle, batch_size: int = BATCH_SIZE) -> list[dict]:
    """One result (as inf returns) per text, in the texts' order. A text with a typo mended
    (qclass/spelling.py) is read both ways, and as mended only where that changes the answer: a name
    the word list lacks ("what is covid", "bovid" one slip away) is then read as typed."""
    whole = [normalise(t) for t in texts]
    cut = [text[:MAX_CHARS] for text in whole]
    # Judged as typed: mended, Italian or keyboard mashing can pass for English. Not mended where it
    # is not English ("Quanto costa" is not a typo of "Quanta costa").
    guesses = [why_a_guess(text, model.vocab) for text in cut]
    mended = {i: m for i, (text, guess) in enumerate(zip(cut, guesses))
              if not guess and (m := model.speller.correct(text)) != text}
    answers = _answers(cut + list(mended.values()), model, batch_size)
    read = {}
    for k, (i, text) in enumerate(mended.items(), len(cut)):
        if answers[k][3:] != answers[i][3:]:  # mending changed the class or the subclass
            answers[i], read[i] = answers[k], text
    return [_result(model, text, read.get(i, text), guesses[i], len(whole[i]) > MAX_CHARS, *answers[i])
            for i, text in enumerate(cut)]


def _answers(texts: list[str], model: artifacts.Bundle, batch_size: int) -> list[tuple]:
    """(encoding, coarse_probs, fine_probs, coarse, fine) per text. Questions of similar length are
    batched together, so little work goes into padding: batch_size at a time, and fewer where they
    are long, at most BATCH_TOKENS tokens a model call (its memory grows with them: 64 questions of
    64 tokens took 111 MB for a moment, where 64 of TREC_10's take about 16; tracemalloc)."""
    encodings = model.tokenizer.encode_batch(texts)
    pad_id = model.tokenizer.token_to_id("[PAD]")
    by_length = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    answers = [None] * len(texts)
    start = 0
    while start < len(by_length):
        rows = by_length[start : start + batch_size]
        longest = len(encodings[rows[-1]].ids)
        rows = rows[: max(1, BATCH_TOKENS // longest)]
        start += len(rows)
        coarse_probs, fine_probs, coarse, fine = predict(model.model, pad([encodings[i] for i in rows], pad_id),
                                                         model.parents)
        for j, i in enumerate(rows):
            answers[i] = (encodings[i], coarse_probs[j].tolist(), fine_probs[j].tolist(), int(coarse[j]), int(fine[j]))
    return answers


def inf(text: str, model: artifacts.Bundle) -> dict:
    """Classify one question: coarse and fine codes, human names, confidences, both heads' probabilities,
    and the question as read where mending a typo changed the answer.

    Raises ValueError for empty or whitespace-only text; very long text is cut, never an error.
    """
    return inf_batch([text], model)[0]
