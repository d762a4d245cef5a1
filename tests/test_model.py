"""The committed model files, the model on odd inputs, and the coarse/fine agreement rule."""

import json
import pickle

import numpy as np
import pytest
import torch

from qclass import artifacts, noise, trec
from qclass.inference import decide, encode, fine_parents, joint_probabilities
from TwoClassHeadClassificationTransformer import TwoClassHeadClassificationTransformer

ODD_INPUTS = {
    "one token": "?",
    "10,000 characters": "why " * 2500,
    "emoji": "🤔🤔 🚀?",
    "non-Latin script": "Кто написал «Войну и мир»? 谁写了红楼梦？",
    "accents": "Qui a écrit Les Misérables ?",
}


def test_label_maps_are_plain_dicts_of_the_taxonomy():
    maps = {name: pickle.loads((artifacts.ROOT / name).read_bytes()) for name in artifacts.LABEL_MAP_FILES}
    assert maps["idx2class.pkl"] == dict(enumerate(["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]))
    assert len(maps["idx2subclass.pkl"]) == 50
    assert {"LOC:other", "NUM:other", "ENTY:other", "DESC:desc", "HUM:desc"} <= set(maps["idx2subclass.pkl"].values())
    assert maps["class2names.pkl"]["LOC"] == "LOCATION"
    assert maps["subclass2names.pkl"]["LOC:city"] == "city"
    for mapping in maps.values():
        assert type(mapping) is dict
        assert all(type(k) in (int, str) and type(v) is str for k, v in mapping.items())


def test_vocabulary_is_minilms_lowercase_wordpiece_cut_to_24k(model):
    tokenizer = model.tokenizer
    assert tokenizer.get_vocab_size() == 24_000 == model.card["hyperparameters"]["vocab_size"]
    assert model.card["hyperparameters"]["vocab_source"] == "minilm"
    # Words MiniLM reads whole stay whole (the 10,000-token vocabulary had split them: habit ##at).
    assert tokenizer.encode("habitat salary rating", add_special_tokens=False).tokens == ["habitat", "salary", "rating"]
    assert tokenizer.encode("WHAT is the Capitál").tokens == tokenizer.encode("what is the capital").tokens
    ids = tokenizer.encode("Who is the pharmacologist?").ids
    wrapped = ids[0] == tokenizer.token_to_id("[CLS]") and ids[-1] == tokenizer.token_to_id("[SEP]")
    assert wrapped == model.model.special_tokens == model.card["hyperparameters"].get("special_tokens", True)
    # An unseen long word splits into known pieces instead of one [UNK].
    assert tokenizer.token_to_id("[UNK]") not in tokenizer.encode("electroencephalographically").ids


def test_weights_file_is_small_and_loads_without_code():
    path = artifacts.ROOT / artifacts.MODEL_FILE
    assert path.stat().st_size <= 25 * 1024 * 1024
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = TwoClassHeadClassificationTransformer(**checkpoint["config"])
    missing = model.load_state_dict({k: v.float() for k, v in checkpoint["state_dict"].items()})
    assert not missing.missing_keys and not missing.unexpected_keys


@pytest.mark.parametrize("name", ODD_INPUTS)
def test_model_shapes_on_odd_inputs(model, name):
    ids = encode(model.tokenizer, [ODD_INPUTS[name]])
    assert ids.shape[1] <= model.model.num_pos
    coarse, fine = model.model(ids)
    assert coarse.shape == (1, 6) and fine.shape == (1, 50)
    assert np.isfinite(coarse).all() and np.isfinite(fine).all()


def test_model_truncates_ids_longer_than_its_positions(model):
    ids = np.full((2, 500), model.tokenizer.token_to_id("why"))
    ids[:, 0] = model.tokenizer.token_to_id("[CLS]")
    coarse, fine = model.model(ids)
    assert coarse.shape == (2, 6) and fine.shape == (2, 50)
    assert np.allclose(fine, model.model(ids[:, : model.model.num_pos])[1])


def test_padding_does_not_change_the_answer(model):
    short, long = "Who wrote Hamlet?", "What is the average temperature of the surface of the planet Venus in summer?"
    alone = model.model(encode(model.tokenizer, [short]))[1]
    padded = model.model(encode(model.tokenizer, [short, long]))[1][:1]
    assert np.allclose(alone, padded, atol=1e-4)


def test_agreement_rule_keeps_fine_inside_coarse_when_heads_disagree():
    parents = fine_parents(dict(enumerate(trec.COARSE_CLASSES)), dict(enumerate(trec.FINE_CLASSES)))
    coarse_logits = np.full((1, 6), -5.0)
    coarse_logits[0, trec.COARSE_CLASSES.index("LOC")] = 5.0
    fine_logits = np.full((1, 50), -5.0)
    fine_logits[0, trec.FINE_CLASSES.index("HUM:ind")] = 4.0  # the fine head alone says HUM:ind
    fine_logits[0, trec.FINE_CLASSES.index("LOC:city")] = 2.0
    coarse_probs, fine_probs = joint_probabilities(coarse_logits, fine_logits, parents)
    coarse, fine = decide(coarse_probs, fine_probs, parents)
    assert trec.COARSE_CLASSES[coarse.item()] == "LOC"
    assert trec.FINE_CLASSES[fine.item()] == "LOC:city"
    assert np.allclose(coarse_probs.sum(-1), 1) and np.allclose(fine_probs.sum(-1), 1)


def test_committed_model_test_accuracy_matches_its_model_card(model, trec_dir):
    from train import evaluate

    card = json.loads((artifacts.ROOT / artifacts.CARD_FILE).read_text())
    assert card["data"]["test_sha256"] == trec.sha256(trec_dir / trec.TEST_FILE)
    result = evaluate(model.model, model.tokenizer, trec.read_questions(trec_dir / trec.TEST_FILE))
    assert round(result["coarse_accuracy"], 4) == card["test"]["coarse_accuracy"]
    assert round(result["fine_accuracy"], 4) == card["test"]["fine_accuracy"]
    assert all(trec.coarse_of(f) == c for c, f in zip(result["pred_coarse"], result["pred_fine"]))


def test_committed_model_accuracy_on_questions_typed_casually_and_with_typos_matches_its_card(model, trec_dir):
    from train import evaluate

    card = json.loads((artifacts.ROOT / artifacts.CARD_FILE).read_text())["test_as_visitors_type"]
    readings = noise.readings(trec.read_questions(trec_dir / trec.TEST_FILE), card["typos_seed"])
    for name in ("lower_case_no_question_mark", "character_typos"):
        result = evaluate(model.model, model.tokenizer, readings[name])
        assert round(result["coarse_accuracy"], 4) == card[name]["coarse_accuracy"], name
        assert round(result["fine_accuracy"], 4) == card[name]["fine_accuracy"], name


def test_the_committed_robustness_figures_are_the_committed_models(model, trec_dir):
    from benchmark import robustness

    recorded = json.loads((artifacts.ROOT / "results" / "robustness.json").read_text())
    assert robustness(model) == recorded  # rerun: python benchmark.py --robustness --json results/robustness.json


def test_benchmark_times_every_model_on_the_same_questions_in_turns(model):
    """benchmark.py's speed-up is a ratio of two models' p50: both must answer the same questions,
    BLOCK at a time, each turn after untimed questions that bring its weights into the caches."""
    import benchmark
    from dataclasses import replace

    calls = []

    def recording(name):
        def run(ids):
            calls.append((name, tuple(ids[0])))
            return model.model(ids)
        return replace(model, model=run)

    texts = ["Who?", "What is the capital of Peru?", "How many bones are in the human body?", "Why is the sky blue?",
             "Name a dog.", "When did the Berlin Wall fall?", "Where is Rome?"]
    figures = benchmark.latencies_ms([recording("ours"), recording("seed")], texts, benchmark.BLOCK + 3)
    assert len(figures) == 2 and all(0 < p50 <= p95 for p50, p95 in figures)
    turns = []
    for name, ids in calls:
        if not turns or turns[-1][0] != name:
            turns.append((name, []))
        turns[-1][1].append(ids)
    assert [name for name, _ in turns] == ["ours", "seed", "ours", "seed"]
    ids = lambda i: tuple(encode(model.tokenizer, [texts[i % len(texts)]])[0])
    warm = [ids(i) for i in range(5)]
    first, second = [ids(i) for i in range(benchmark.BLOCK)], [ids(i) for i in range(benchmark.BLOCK, benchmark.BLOCK + 3)]
    assert [asked for _, asked in turns] == [warm + first, warm + first, warm + second, warm + second]
