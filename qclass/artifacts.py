"""The files training writes and the app loads: weights, vocabulary, label maps, model card, and the
word list that mends typos (qclass/spelling.py).

The weights file is a plain dict {"config": model keyword arguments, "state_dict": tensors}
(float16 to halve the download; float32 once loaded) so it loads with weights_only=True and
rebuilds its own model. Training writes it with PyTorch; the app reads it without PyTorch, into
the NumPy twin of the model (qclass/numpy_model.py). Label maps are plain dicts of str/int,
pickled as the article had them.
"""

from __future__ import annotations

import io
import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qclass import spelling, trec
from qclass.inference import fine_parents, load_tokenizer
from qclass.numpy_model import NumpyTransformer, read_checkpoint

ROOT = Path(__file__).resolve().parent.parent
MODEL_FILE = "classification_model_best.pt"
VOCAB_PREFIX = "bert-word-piece-custom-wikitext-vocab-10k"
VOCAB_FILE = f"{VOCAB_PREFIX}-vocab.txt"
CARD_FILE = "model_card.json"
LABEL_MAP_FILES = ("idx2class.pkl", "idx2subclass.pkl", "class2names.pkl", "subclass2names.pkl")


class ArtifactError(RuntimeError):
    """A model file is missing or unreadable; the message names the file and what to do."""


def label_maps() -> dict[str, dict]:
    return {
        "idx2class": dict(enumerate(trec.COARSE_CLASSES)),
        "idx2subclass": dict(enumerate(trec.FINE_CLASSES)),
        "class2names": dict(trec.COARSE_NAMES),
        "subclass2names": dict(trec.FINE_NAMES),
    }


def save(folder: Path, model, config: dict) -> Path:
    """Write a trained TwoClassHeadClassificationTransformer's weights and the four label maps
    into folder; returns the weights path."""
    import torch  # training only

    folder.mkdir(parents=True, exist_ok=True)
    for name, mapping in label_maps().items():
        (folder / f"{name}.pkl").write_bytes(pickle.dumps(mapping, protocol=4))
    state = {k: v.detach().to(torch.float16) if v.is_floating_point() else v
             for k, v in model.state_dict().items()}
    path = folder / MODEL_FILE
    torch.save({"config": config, "state_dict": state}, path)
    return path


@dataclass
class Bundle:
    """Everything inference needs, loaded once per process."""

    model: NumpyTransformer
    tokenizer: object
    idx2class: dict
    idx2subclass: dict
    class2names: dict
    subclass2names: dict
    parents: np.ndarray
    card: dict
    vocab: dict = field(default_factory=dict)  # word piece -> id, added tokens left out (qclass.guess)
    speller: spelling.Speller = field(default_factory=lambda: spelling.Speller({}))  # corrects nothing

    @property
    def version(self) -> str:
        """The model card's model_version (what feedback and the API record with each answer)."""
        return self.card.get("model_version", "unknown")


def _read(folder: Path, name: str, reader):
    path = folder / name
    if not path.is_file():
        raise ArtifactError(f"Model file missing: {name} (looked in {folder}). "
                            "Restore it from the repository or retrain with `python train.py`.")
    try:
        return reader(path)
    except Exception as error:  # any decoding failure means the same thing to the user
        reason = f": {str(error)[:200]}" if isinstance(error, ValueError) and str(error) else ""
        raise ArtifactError(f"Model file unreadable: {name} ({type(error).__name__}{reason}). It is truncated, "
                            "corrupt or not ours: restore it from the repository or retrain.") from error


class _PlainUnpickler(pickle.Unpickler):
    """Dicts, ints and strings need no globals; refusing every global means a label-map file
    can never run code when it is loaded."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"label maps hold plain data only, not {module}.{name}")


def _load_pickle_dict(path: Path) -> dict:
    value = _PlainUnpickler(io.BytesIO(path.read_bytes())).load()
    if not isinstance(value, dict):
        raise TypeError("not a dict")
    return value


def _load_model(path: Path) -> NumpyTransformer:
    checkpoint = read_checkpoint(path)
    return NumpyTransformer(checkpoint["config"], checkpoint["state_dict"])


def _check_label_maps(maps: dict, counts) -> None:
    """Each index map numbers the head's outputs 0..n-1 with codes the name maps know, and every
    subclass's class is one of the classes; ArtifactError names the first file that disagrees."""
    def fail(name, why):
        raise ArtifactError(f"Model file mismatch: {name}.pkl {why}. Restore the model files together, or retrain.")

    for index, names, count in (("idx2class", "class2names", counts[0]), ("idx2subclass", "subclass2names", counts[1])):
        if sorted(maps[index]) != list(range(count)):
            fail(index, f"must number {count} outputs 0 to {count - 1}, as {MODEL_FILE} has them")
        unknown = [code for code in maps[index].values() if not isinstance(code, str) or code not in maps[names]]
        if unknown:
            fail(index, f"has {unknown[0]!r}, which {names}.pkl does not name")
        if not all(isinstance(v, str) for v in maps[names].values()):
            fail(names, "must map codes to names (text)")
    classes = set(maps["idx2class"].values())
    orphans = [code for code in maps["idx2subclass"].values() if code.split(":")[0] not in classes]
    if orphans:
        fail("idx2subclass", f"has {orphans[0]!r}, whose class is not in idx2class")


def load(folder: Path = ROOT) -> Bundle:
    """Build the model on CPU from the saved files; ArtifactError names any bad file."""
    folder = Path(folder)
    maps = {name[:-4]: _read(folder, name, _load_pickle_dict) for name in LABEL_MAP_FILES}
    model = _read(folder, MODEL_FILE, _load_model)
    tokenizer = _read(folder, VOCAB_FILE, lambda p: load_tokenizer(p, model.num_pos, model.special_tokens))
    if tokenizer.get_vocab_size() != model.vocab_size:
        raise ArtifactError(f"Model file mismatch: {VOCAB_FILE} has {tokenizer.get_vocab_size()} tokens, "
                            f"{MODEL_FILE} expects {model.vocab_size}. Retrain both together.")
    _check_label_maps(maps, model.config["lst_num_cat_in_classes"])
    card_path = folder / CARD_FILE
    card = _read(folder, CARD_FILE, lambda p: json.loads(p.read_text())) if card_path.exists() else {}
    # Optional: a model folder from before the word list reads every question as typed.
    words = _read(folder, spelling.WORDS_FILE, spelling.read) if (folder / spelling.WORDS_FILE).exists() else {}
    vocab = tokenizer.get_vocab(with_added_tokens=False)
    # The model knows its vocabulary's whole words, so no typo is mended out of them.
    return Bundle(model=model, tokenizer=tokenizer, parents=fine_parents(maps["idx2class"], maps["idx2subclass"]),
                  card=card, vocab=vocab, speller=spelling.Speller(words, spelling.whole_words(vocab)), **maps)
