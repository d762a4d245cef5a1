"""The saved model run with NumPy alone: what the app uses, so it needs no PyTorch at run time.

`read_checkpoint` reads classification_model_best.pt (a zip that torch.save wrote) without torch,
allowing only the few globals a state_dict needs, as torch.load(weights_only=True) does.
`NumpyTransformer` computes exactly what TwoClassHeadClassificationTransformer computes in eval
mode (tests/test_numpy_model.py holds them to the same logits). For a question of a dozen tokens it
is also faster than PyTorch's eager forward: the work is a handful of small matrix products, and
NumPy calls cost less than PyTorch's dispatch. `Linear` says how those products are cut so that
OpenBLAS takes its fastest path for them.
"""

from __future__ import annotations

import ctypes
import pickle
import zipfile
from pathlib import Path

import numpy as np

_STORAGE_DTYPES = {"HalfStorage": np.float16, "FloatStorage": np.float32, "DoubleStorage": np.float64,
                   "LongStorage": np.int64, "IntStorage": np.int32, "BoolStorage": np.bool_}


# A weights file is read only after its sizes are checked, so a crafted one cannot make the app
# decompress or allocate gigabytes: the file, each member and all members together, and every
# tensor must lie inside its own storage with no more elements than that storage holds.
MAX_FILE_BYTES = 200_000_000
MAX_MEMBERS_BYTES = 400_000_000


def _whole_numbers(values, name: str, least: int) -> tuple[int, ...]:
    if not isinstance(values, (tuple, list)) or not all(type(v) is int and v >= least for v in values):
        raise ValueError(f"a tensor's {name} must be whole numbers of at least {least}, not {values!r}")
    return tuple(values)


def _rebuild_tensor(storage, offset, size, stride, *_):
    (offset,) = _whole_numbers([offset], "offset", 0)
    size, stride = _whole_numbers(size, "size", 0), _whole_numbers(stride, "stride", 1)
    if len(size) != len(stride):
        raise ValueError("a tensor's size and stride differ in length")
    elements = int(np.prod(size, dtype=np.int64)) if size else 1
    if elements and (elements > storage.size or offset + sum((n - 1) * s for n, s in zip(size, stride)) >= storage.size):
        raise ValueError(f"a tensor of size {size} and stride {stride} does not fit its storage")
    itemsize = storage.dtype.itemsize
    return np.ndarray(size, storage.dtype, storage, offset * itemsize, tuple(s * itemsize for s in stride)).copy()


class _CheckpointUnpickler(pickle.Unpickler):
    def __init__(self, file, archive: zipfile.ZipFile, prefix: str):
        super().__init__(file)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return dict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        raise pickle.UnpicklingError(f"a weights file holds tensors and plain data only, not {module}.{name}")

    def persistent_load(self, pid):
        kind, dtype, key, _location, _numel = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
        return np.frombuffer(self.archive.read(f"{self.prefix}/data/{key}"), dtype=dtype)


def read_checkpoint(path: str | Path) -> dict:
    """{"config": ..., "state_dict": {name: float32 or int array}} from a torch.save zip file."""
    if Path(path).stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"the file is over {MAX_FILE_BYTES // 10**6} MB")
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if any(m.file_size > MAX_MEMBERS_BYTES for m in members) or sum(m.file_size for m in members) > MAX_MEMBERS_BYTES:
            raise ValueError(f"its contents would unpack to over {MAX_MEMBERS_BYTES // 10**6} MB")
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise ValueError("not a PyTorch checkpoint (no data.pkl)")
        prefix = pickles[0][: -len("/data.pkl")]
        if archive.read(f"{prefix}/byteorder").decode().strip() != "little":
            raise ValueError("big-endian checkpoint")
        with archive.open(pickles[0]) as f:
            checkpoint = _CheckpointUnpickler(f, archive, prefix).load()
    if not (isinstance(checkpoint, dict) and isinstance(checkpoint.get("config"), dict)
            and isinstance(checkpoint.get("state_dict"), dict)
            and all(isinstance(v, np.ndarray) for v in checkpoint["state_dict"].values())):
        raise ValueError("a weights file is {'config': {...}, 'state_dict': {name: tensor}}")
    checkpoint["state_dict"] = {k: v.astype(np.float32) if v.dtype.kind == "f" else v
                                for k, v in checkpoint["state_dict"].items()}
    return checkpoint


CONFIG_LIMITS = {"vocab_size": (1, 1_000_000), "pad_id": (0, 999_999), "emb_dim": (1, 8192), "dim_model": (1, 8192),
                 "dim_inner": (1, 32768), "layers": (1, 64), "heads": (1, 128), "num_pos": (1, 8192),
                 "num_class_heads": (1, 8)}


def expected_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """Every tensor the model needs, with its shape, from a checked config; ValueError names what is wrong."""
    for key, (low, high) in CONFIG_LIMITS.items():
        value = config.get(key)
        if type(value) is not int or not low <= value <= high:
            raise ValueError(f"config {key} must be a whole number from {low} to {high}, not {value!r}")
    c = config
    classes = c.get("lst_num_cat_in_classes")
    if (not isinstance(classes, (list, tuple)) or len(classes) != c["num_class_heads"]
            or not all(type(n) is int and 1 <= n <= 10_000 for n in classes)):
        raise ValueError(f"config lst_num_cat_in_classes must give one class count per head, not {classes!r}")
    if type(c.get("special_tokens", True)) is not bool:
        raise ValueError(f"config special_tokens must be true or false, not {c['special_tokens']!r}")
    if c["pad_id"] >= c["vocab_size"]:
        raise ValueError("config pad_id must be a token of the vocabulary")
    d, inner = c["dim_model"], c["dim_inner"]
    if d % c["heads"]:
        raise ValueError(f"config dim_model ({d}) must divide into heads ({c['heads']})")
    shapes = {"tok_emb.weight": (c["vocab_size"], c["emb_dim"]), "pos_emb.weight": (c["num_pos"], d),
              "emb_norm.weight": (d,), "emb_norm.bias": (d,)}
    if c["emb_dim"] != d:
        shapes.update({"emb_proj.weight": (d, c["emb_dim"]), "emb_proj.bias": (d,)})
    for i in range(c["layers"]):
        p = f"encoder.layers.{i}."
        shapes.update({p + "self_attn.in_proj_weight": (3 * d, d), p + "self_attn.in_proj_bias": (3 * d,),
                       p + "self_attn.out_proj.weight": (d, d), p + "self_attn.out_proj.bias": (d,),
                       p + "linear1.weight": (inner, d), p + "linear1.bias": (inner,),
                       p + "linear2.weight": (d, inner), p + "linear2.bias": (d,),
                       p + "norm1.weight": (d,), p + "norm1.bias": (d,), p + "norm2.weight": (d,), p + "norm2.bias": (d,)})
    for i, n in enumerate(classes):
        shapes.update({f"heads.{i}.weight": (n, d), f"heads.{i}.bias": (n,)})
    return shapes


def check(config: dict, state_dict: dict) -> None:
    """ValueError unless every tensor the config calls for is there, floating point, of its shape, and finite."""
    for name, shape in expected_shapes(config).items():
        tensor = state_dict.get(name)
        if tensor is None:
            raise ValueError(f"tensor {name} is missing")
        if tensor.dtype.kind != "f" or tensor.shape != shape:
            raise ValueError(f"tensor {name} is {tensor.dtype} {tensor.shape}; the config calls for float {shape}")
        if not np.isfinite(tensor).all():
            raise ValueError(f"tensor {name} holds values that are not finite")


# OpenBLAS computes a product of at most 10**6 multiply-adds (rows x inner x columns) directly,
# without first copying both matrices into its packed layout, where it has kernels for that: its
# AVX-512 cores (DIRECT_SGEMM_CORES). One question's dozen tokens times a 384 x 1152 weight is past
# that limit; times a 384 x 64 slice of it, it is not. So on those cores each weight is kept as
# contiguous 64-column slices, and inputs go through them a few rows at a time, every call under
# the limit. Elsewhere (AVX2 cores such as Haswell and Zen) every product is packed anyway, and
# slicing only adds calls, so each weight is one product there. benchmark.py measures both.
DIRECT_SGEMM_CORES = {"skylakex", "cooperlake", "sapphirerapids"}
SLICE_COLUMNS = 64
SMALL_PRODUCT = 1_000_000


class Linear:
    """x @ weight.T + bias (weight as PyTorch stores it, out x in), in column slices of the weight
    and row chunks of x that keep each product under SMALL_PRODUCT; columns=None: one product.

    The slices are kept stacked, (slices, in, columns), the last one padded with zero columns, so
    that one np.matmul call multiplies a row chunk by all of them: NumPy loops over the slices in C,
    which took in_proj's 18 products from 0.125 to 0.102 ms against a Python loop (docs/performance.md)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray, columns: int | None = SLICE_COLUMNS):
        inputs, outputs = weight.shape[1], weight.shape[0]
        self.columns = columns or outputs
        pieces = -(-outputs // self.columns)
        padded = np.zeros((inputs, pieces * self.columns), np.float32)
        padded[:, :outputs] = weight.T
        self.stack = np.ascontiguousarray(padded.reshape(inputs, pieces, self.columns).transpose(1, 0, 2))
        self.bias = bias
        self.rows = max(1, SMALL_PRODUCT // (inputs * self.columns)) if columns else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x)
        outputs = self.bias.shape[0]
        out = np.empty((x.shape[0], outputs), np.float32)
        rows = self.rows or max(1, x.shape[0])
        for i in range(0, x.shape[0], rows):
            part = np.matmul(x[i : i + rows], self.stack)  # (slices, rows, columns)
            out[i : i + rows] = part.transpose(1, 0, 2).reshape(part.shape[1], -1)[:, :outputs]
        out += self.bias
        return out


# The element-wise steps below work in place on arrays of their own: each NumPy call on a dozen
# tokens' activations costs about as much in allocation and dispatch as in arithmetic.

def _layer_norm(x, weight, bias, eps=np.float32(1e-5)):
    share = np.float32(1 / x.shape[-1])
    x = x - np.add.reduce(x, axis=-1, keepdims=True) * share
    scale = np.add.reduce(np.square(x), axis=-1, keepdims=True)
    scale *= share
    scale += eps
    np.sqrt(scale, out=scale)
    x /= scale
    x *= weight
    x += bias
    return x


# Abramowitz & Stegun 7.1.26: erf(z) = 1 - poly(t) exp(-z^2), t = 1 / (1 + P |z|), |error| < 1.5e-7,
# below float32's own rounding here.
_ERF_P = np.float32(0.3275911)
_ERF_POLY = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def _erf(z):
    a = np.abs(z)
    t = a * _ERF_P
    t += 1
    np.reciprocal(t, out=t)
    poly = t * _ERF_POLY[0]
    for coefficient in _ERF_POLY[1:]:
        poly += coefficient
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    np.subtract(1, poly, out=poly)
    poly *= np.sign(z)
    return poly


def _attention(q, k, v, key_mask=None):
    """softmax(q k^T + key_mask) v over (batch, heads, seq, head width) arrays; q comes scaled."""
    scores = q @ k.transpose(0, 1, 3, 2)
    if key_mask is not None:
        scores += key_mask
    scores -= scores.max(-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= np.add.reduce(scores, axis=-1, keepdims=True)
    return scores @ v


def _gelu(x):
    """x * Phi(x), PyTorch's exact GELU: x (1 + erf(x / sqrt 2)) / 2."""
    cdf = _erf(x * np.float32(0.7071067811865476))
    cdf *= np.float32(0.5)
    cdf += np.float32(0.5)
    cdf *= x
    return cdf


class NumpyTransformer:
    """TwoClassHeadClassificationTransformer's eval-mode forward pass over a saved state_dict."""

    def __init__(self, config: dict, state_dict: dict[str, np.ndarray], columns: int | None | str = "auto"):
        """columns: the width of the weights' slices, None for whole products, "auto" for what
        this machine's OpenBLAS core computes fastest (see product_columns)."""
        check(config, state_dict)
        if columns == "auto":
            columns = product_columns()
        self.columns = columns
        s = {k: np.asarray(v, dtype=np.float32) for k, v in state_dict.items()}
        linear = lambda name: Linear(s[name + "weight"], s[name + "bias"], columns)
        self.config = dict(config)
        self.num_pos, self.pad_id, self.heads = config["num_pos"], config["pad_id"], config["heads"]
        self.special_tokens = config.get("special_tokens", True)  # models saved before the option had them
        self.vocab_size = s["tok_emb.weight"].shape[0]
        self.tok_emb, self.pos_emb = s["tok_emb.weight"], s["pos_emb.weight"]
        # The token table is most of the weights (24,000 x 384) and is only looked up: kept in
        # float16, as the file stores it, where that loses nothing, it holds half the memory.
        half = self.tok_emb.astype(np.float16)
        if np.array_equal(half, self.tok_emb):
            self.tok_emb = half
        self.emb_proj = linear("emb_proj.") if "emb_proj.weight" in s else None
        self.emb_norm = (s["emb_norm.weight"], s["emb_norm.bias"])
        self.layers = []
        for i in range(config["layers"]):
            p = f"encoder.layers.{i}."
            self.layers.append((
                linear(p + "self_attn.in_proj_"), linear(p + "self_attn.out_proj."),
                s[p + "norm1.weight"], s[p + "norm1.bias"],
                linear(p + "linear1."), linear(p + "linear2."),
                s[p + "norm2.weight"], s[p + "norm2.bias"]))
        self.class_heads = [linear(f"heads.{i}.") for i in range(config["num_class_heads"])]

    def encode(self, ids: np.ndarray) -> np.ndarray:
        """(batch, seq) ids -> (batch, dim_model) question vectors: the mean over real tokens."""
        ids = np.asarray(ids)[:, : self.num_pos]
        pad = ids == self.pad_id
        batch, seq = ids.shape
        # Tokens of all questions as one (batch * seq, width) matrix: each linear layer then takes
        # them all at once (in Linear's row chunks), not one question at a time.
        x = self.tok_emb[ids.reshape(-1)].astype(np.float32)
        if self.emb_proj is not None:
            x = self.emb_proj(x)
        x = _layer_norm(x + np.tile(self.pos_emb[:seq], (batch, 1)), *self.emb_norm)
        width = x.shape[1]
        h, d = self.heads, width // self.heads
        scale = np.float32(1 / np.sqrt(d))
        key_mask = np.where(pad, np.float32(-np.inf), np.float32(0))[:, None, None, :] if pad.any() else None
        for in_proj, out_proj, g1, b1, linear1, linear2, g2, b2 in self.layers:
            q, k, v = in_proj(x).reshape(batch, seq, 3, h, d).transpose(2, 0, 3, 1, 4)
            attended = _attention(q * scale, k, v, key_mask).transpose(0, 2, 1, 3).reshape(batch * seq, width)
            x = _layer_norm(x + out_proj(attended), g1, b1)
            x = _layer_norm(x + linear2(_gelu(linear1(x))), g2, b2)
        keep = (~pad).reshape(batch, seq, 1).astype(np.float32)
        return (x.reshape(batch, seq, width) * keep).sum(1) / np.maximum(keep.sum(1), 1)

    def __call__(self, ids: np.ndarray) -> list[np.ndarray]:
        pooled = self.encode(ids)
        return [head(pooled) for head in self.class_heads]


def _openblas():
    """The OpenBLAS libraries loaded in this process (NumPy's own), by path; none off Linux."""
    try:
        with open("/proc/self/maps") as maps:  # Linux (Heroku); elsewhere OpenBLAS keeps its defaults
            paths = {fields[-1] for fields in map(str.split, maps) if len(fields) >= 6}
    except OSError:
        return []
    return [ctypes.CDLL(p) for p in sorted(paths) if "openblas" in Path(p).name.lower()]


def _function(names: tuple[str, ...], restype=None):
    """The first of these OpenBLAS functions found, returning restype; None if there is none."""
    for library in _openblas():
        for name in names:
            if hasattr(library, name):
                function = getattr(library, name)
                function.restype = restype
                return function
    return None


def blas_core() -> str | None:
    """OpenBLAS's name for the kernels it chose for this processor ("Haswell", "SkylakeX"), or None."""
    corename = _function(("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                          "openblas_get_corename64_", "openblas_get_corename"), ctypes.c_char_p)
    return corename().decode() if corename else None


def product_columns(core: str | None = None) -> int | None:
    """SLICE_COLUMNS where the OpenBLAS core has direct small products, else None (whole products)."""
    core = blas_core() if core is None else core
    return SLICE_COLUMNS if (core or "").lower() in DIRECT_SGEMM_CORES else None


def blas_threads(n: int) -> bool:
    """Let NumPy's OpenBLAS use n threads from now on; False where no OpenBLAS is loaded.

    OpenBLAS reads OPENBLAS_NUM_THREADS only when it is loaded, which inside `streamlit run` is
    before any of our code runs, so the app sets the count through OpenBLAS's own call.
    """
    set_threads = _function(("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                             "openblas_set_num_threads64_", "openblas_set_num_threads"))
    if set_threads:
        set_threads(ctypes.c_int(n))
    return set_threads is not None
