"""Question -> tokens -> model -> probabilities -> labels, without Streamlit.

The coarse and fine heads are combined into one distribution over the 50 fine classes,
q(f) ~ p_coarse(parent(f)) * p_fine(f). The coarse probabilities shown are its marginals,
the coarse answer is the most likely coarse class, and the fine answer is the most likely
fine class inside it, so the two answers always agree (never LOC with HUM:ind).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from tokenizers import BertWordPieceTokenizer

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# Far more than any question; the model reads at most its first num_pos tokens anyway, and the
# cut keeps the tokenizer's work bounded for a pasted book.
MAX_CHARS = 2_000
# Half of a UTF-16 pair on its own: JSON ("\ud800") can carry one, UTF-8 and the tokenizer cannot.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def normalise(text) -> str:
    """The question without NULs and surrounding space, whole; ValueError for what is not a question."""
    if not isinstance(text, str):
        raise ValueError(f"A question must be text, not {type(text).__name__}.")
    text = _LONE_SURROGATE.sub("\ufffd", text.replace("\x00", " ")).strip()
    if not text:
        raise ValueError("The question is empty: type a question, e.g. 'Who wrote Hamlet?'.")
    return text


def clean(text) -> str:
    """The question as the model will read it: normalised, then cut to MAX_CHARS."""
    return normalise(text)[:MAX_CHARS]


def load_tokenizer(vocab_file: str | Path, max_tokens: int, special_tokens: bool = True) -> BertWordPieceTokenizer:
    """Lowercasing, accent-stripping WordPiece tokenizer that truncates to max_tokens and, with
    special_tokens, wraps each question in [CLS] ... [SEP] (as the model it serves was trained)."""
    tokenizer = BertWordPieceTokenizer(str(vocab_file), lowercase=True, strip_accents=True)
    if not special_tokens:
        tokenizer.post_processor = None
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def pad(encodings, pad_id: int) -> np.ndarray:
    """Tokenizer encodings -> (batch, longest) id array, padded with pad_id."""
    width = max(len(e.ids) for e in encodings)
    ids = np.full((len(encodings), width), pad_id, dtype=np.int64)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = e.ids
    return ids


def encode(tokenizer: BertWordPieceTokenizer, texts: list[str]) -> np.ndarray:
    """Texts -> (batch, longest) id array, padded with the [PAD] id."""
    return pad(tokenizer.encode_batch(texts), tokenizer.token_to_id("[PAD]"))


def fine_parents(idx2class: dict[int, str], idx2subclass: dict[int, str]) -> np.ndarray:
    """For each fine index, the index of its coarse class."""
    class2idx = {code: i for i, code in idx2class.items()}
    return np.array([class2idx[idx2subclass[i].split(":")[0]] for i in range(len(idx2subclass))])


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def joint_probabilities(coarse_logits, fine_logits, parents: np.ndarray):
    """(coarse probs, fine probs) of one consistent distribution; see the module docstring."""
    log_q = _log_softmax(np.asarray(coarse_logits, np.float64))[:, parents] + _log_softmax(np.asarray(fine_logits, np.float64))
    fine_probs = np.exp(_log_softmax(log_q))
    coarse_probs = fine_probs @ np.eye(int(parents.max()) + 1)[parents]  # sum over each class's subclasses
    return coarse_probs, fine_probs


def decide(coarse_probs: np.ndarray, fine_probs: np.ndarray, parents: np.ndarray):
    """(coarse index, fine index) per row: the best coarse class, then its best fine class."""
    coarse = coarse_probs.argmax(-1)
    inside = parents[None, :] == coarse[:, None]
    fine = np.where(inside, fine_probs, -1.0).argmax(-1)
    return coarse, fine


def predict(model, ids: np.ndarray, parents: np.ndarray):
    """Padded ids -> (coarse probs, fine probs, coarse index, fine index), one row per question.
    model: ids -> [coarse logits, fine logits] as arrays (a NumpyTransformer)."""
    coarse_logits, fine_logits = model(ids)
    coarse_probs, fine_probs = joint_probabilities(coarse_logits, fine_logits, parents)
    coarse, fine = decide(coarse_probs, fine_probs, parents)
    return coarse_probs, fine_probs, coarse, fine
