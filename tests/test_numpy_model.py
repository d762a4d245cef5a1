"""The app's NumPy model against the PyTorch model it was trained as: same weights, same answers."""

import ctypes
import pickle
import zipfile

import numpy as np
import pytest
import torch

from qclass import artifacts, trec
from qclass.inference import encode
from qclass.numpy_model import (DIRECT_SGEMM_CORES, SLICE_COLUMNS, Linear, NumpyTransformer, blas_core, blas_threads,
                                 product_columns, read_checkpoint)
from TwoClassHeadClassificationTransformer import TwoClassHeadClassificationTransformer

QUESTIONS = ["What is the capital of Peru?", "Why?", "How many bones are in the human body?",
             "Who wrote the Canterbury Tales and when did he die?", "🤔", "why " * 300]


@pytest.fixture(scope="module")
def torch_model():
    checkpoint = torch.load(artifacts.ROOT / artifacts.MODEL_FILE, map_location="cpu", weights_only=True)
    model = TwoClassHeadClassificationTransformer(**checkpoint["config"])
    model.load_state_dict({k: v.float() for k, v in checkpoint["state_dict"].items()})
    return model.eval()


def test_reader_matches_torch_load():
    ours = read_checkpoint(artifacts.ROOT / artifacts.MODEL_FILE)
    theirs = torch.load(artifacts.ROOT / artifacts.MODEL_FILE, map_location="cpu", weights_only=True)
    assert ours["config"] == theirs["config"]
    assert ours["state_dict"].keys() == theirs["state_dict"].keys()
    for name, tensor in theirs["state_dict"].items():
        assert np.array_equal(ours["state_dict"][name], tensor.float().numpy()), name


def test_reader_reads_strided_and_integer_tensors(tmp_path):
    wide = torch.arange(12, dtype=torch.float16).reshape(3, 4)
    state = {"t": wide.t(), "slice": wide[1:, 2:], "ids": torch.tensor([[1, 2], [3, 4]])}
    torch.save({"config": {}, "state_dict": state}, tmp_path / "m.pt")
    read = read_checkpoint(tmp_path / "m.pt")["state_dict"]
    for name, tensor in state.items():
        assert np.array_equal(read[name], tensor.numpy()) and read[name].shape == tuple(tensor.shape), name


def test_reader_refuses_a_checkpoint_that_would_run_code(tmp_path):
    torch.save({"config": {}, "state_dict": {}, "hook": print}, tmp_path / "evil.pt")
    with pytest.raises(pickle.UnpicklingError, match="not .*print"):
        read_checkpoint(tmp_path / "evil.pt")


def test_reader_refuses_a_file_that_is_no_checkpoint(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.pt", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="not a PyTorch checkpoint"):
        read_checkpoint(tmp_path / "other.pt")


def assert_same_as_pytorch(model, torch_model, questions):
    for start in range(0, len(questions), 64):  # padded batches, as inf_batch sends them
        ids = encode(model.tokenizer, questions[start : start + 64])
        with torch.inference_mode():
            expected = [t.numpy() for t in torch_model(torch.from_numpy(ids))]
        for e, g in zip(expected, model.model(ids)):
            assert np.abs(e - g).max() < 1e-4
            assert (e.argmax(-1) == g.argmax(-1)).all()


def test_same_logits_as_pytorch_on_odd_questions(model, torch_model):
    assert_same_as_pytorch(model, torch_model, QUESTIONS)


def test_same_logits_as_pytorch_on_trec_10(model, torch_model, trec_dir):
    assert_same_as_pytorch(model, torch_model, [q for _, q in trec.read_questions(trec_dir / trec.TEST_FILE)])


@pytest.mark.parametrize("columns", [SLICE_COLUMNS, None, "auto"])
def test_same_logits_for_a_random_model_of_another_shape(columns):
    config = dict(vocab_size=50, pad_id=0, CLS_label_id=2, num_class_heads=2, lst_num_cat_in_classes=[3, 7],
                  emb_dim=24, dim_model=16, dim_inner=40, layers=2, heads=4, dropout=0.0, num_pos=8)
    torch.manual_seed(0)
    model = TwoClassHeadClassificationTransformer(**config).eval()
    ids = torch.randint(3, 50, (5, 12))
    ids[:, 0], ids[3, 4:], ids[4, 1:] = 2, 0, 0  # [CLS] first; two rows padded
    with torch.inference_mode():
        expected = model(ids)
    got = NumpyTransformer(config, {k: v.numpy() for k, v in model.state_dict().items()}, columns)(ids.numpy())
    for e, g in zip(expected, got):
        assert np.abs(e.numpy() - g).max() < 1e-5


@pytest.mark.parametrize("stored", ["float16", "float32"])
def test_the_token_table_is_kept_in_float16_only_where_that_loses_nothing(stored):
    """Saved weights are float16: their token table stays float16 in memory (half the bytes) and
    the logits are PyTorch's all the same; a float32 table that float16 would round stays float32."""
    config = dict(vocab_size=300, pad_id=0, CLS_label_id=2, num_class_heads=2, lst_num_cat_in_classes=[3, 7],
                  emb_dim=24, dim_model=24, dim_inner=40, layers=1, heads=4, dropout=0.0, num_pos=8)
    torch.manual_seed(1)
    model = TwoClassHeadClassificationTransformer(**config).eval()
    if stored == "float16":
        model = model.half().float()
    ids = torch.randint(3, 300, (4, 8))
    with torch.inference_mode():
        expected = model(ids)
    numpy_model = NumpyTransformer(config, {k: v.numpy() for k, v in model.state_dict().items()})
    assert numpy_model.tok_emb.dtype == np.dtype(stored)
    for e, g in zip(expected, numpy_model(ids.numpy())):
        assert g.dtype == np.float32 and np.abs(e.numpy() - g).max() < 1e-5


@pytest.mark.parametrize("rows", [1, 11, 41, 700])  # 41 and 700 rows take several row chunks
@pytest.mark.parametrize("inputs,outputs", [(384, 1152), (768, 384), (384, 6), (40, 65)])
@pytest.mark.parametrize("columns", [64, None])
def test_linear_in_slices_is_the_whole_product(rows, inputs, outputs, columns):
    rng = np.random.default_rng(rows + outputs)
    weight, bias = rng.standard_normal((outputs, inputs), np.float32), rng.standard_normal(outputs, np.float32)
    x = rng.standard_normal((rows, inputs), np.float32)
    assert np.allclose(Linear(weight, bias, columns)(x), x @ weight.T + bias, rtol=1e-4, atol=1e-4)


def test_slices_only_where_openblas_multiplies_small_products_directly():
    core = blas_core()
    assert core  # NumPy's wheels bring OpenBLAS; its core name says which kernels it runs
    assert product_columns(core) == (SLICE_COLUMNS if core.lower() in DIRECT_SGEMM_CORES else None)
    assert product_columns("SkylakeX") == product_columns("SapphireRapids") == SLICE_COLUMNS
    assert product_columns("Haswell") is None and product_columns("Zen") is None


def test_blas_threads_sets_openblas_thread_count():
    assert blas_threads(1)
    library = next(ctypes.CDLL(line.split()[-1]) for line in open("/proc/self/maps") if "openblas" in line)
    get = library.scipy_openblas_get_num_threads64_
    try:
        assert get() == 1
        blas_threads(2)
        assert get() == 2
    finally:
        blas_threads(1)


def test_breakdown_times_each_part_of_a_layer_and_counts_every_encoder_weight(model):
    from benchmark import breakdown

    figures = breakdown(model.model, tokens=5)
    parts = ["in_proj", "out_proj", "linear1", "linear2", "attention", "two_layer_norms", "gelu"]
    assert all(figures[f"{part}_hot_ms"] > 0 for part in parts) and figures["forward_ms"] > 0
    config = model.model.config
    d, inner = config["dim_model"], config["dim_inner"]
    encoder_floats = config["layers"] * (3 * d * d + d * d + 2 * d * inner)
    assert figures["encoder_weights_mb"] == round(4 * encoder_floats / 2**20, 1)
