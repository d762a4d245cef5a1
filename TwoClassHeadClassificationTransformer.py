"""The question classifier: a small transformer encoder with one classification head per label level.

Input: WordPiece ids, padded with pad_id; with special_tokens, each question's ids start with [CLS]
and end with [SEP] (the tokenizer that qclass.inference.load_tokenizer builds for this model adds them
or not). Output: one logits tensor per head (here coarse: 6 classes, fine: 50). Training, evaluation
and the app import it.
"""

import torch
from torch import nn


class TwoClassHeadClassificationTransformer(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        pad_id: int,
        CLS_label_id: int,
        num_class_heads: int = 2,
        lst_num_cat_in_classes: list[int] = (6, 50),
        emb_dim: int = 384,
        dim_model: int = 256,
        dim_inner: int = 512,
        layers: int = 3,
        heads: int = 4,
        dropout: float = 0.1,
        num_pos: int = 64,
        special_tokens: bool = True,
    ):
        super().__init__()
        if len(lst_num_cat_in_classes) != num_class_heads:
            raise ValueError("lst_num_cat_in_classes needs one class count per head")
        self.pad_id = pad_id
        self.CLS_label_id = CLS_label_id
        self.num_pos = num_pos
        self.special_tokens = special_tokens
        # Token embeddings may be wider than the encoder (e.g. initialised from a bigger model's
        # space) and are projected down once, which costs far less than a wider encoder.
        self.tok_emb = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.emb_proj = nn.Linear(emb_dim, dim_model) if emb_dim != dim_model else nn.Identity()
        self.pos_emb = nn.Embedding(num_pos, dim_model)
        self.emb_norm = nn.LayerNorm(dim_model)
        self.emb_drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            dim_model, heads, dim_inner, dropout, activation="gelu", batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.heads = nn.ModuleList(nn.Linear(dim_model, n) for n in lst_num_cat_in_classes)

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        """(batch, seq) ids -> (batch, dim_model) question vectors: the mean over real tokens."""
        ids = ids[:, : self.num_pos]  # longer inputs are truncated, never an index error
        pad = ids == self.pad_id
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.emb_proj(self.tok_emb(ids)) + self.pos_emb(positions)
        x = self.encoder(self.emb_drop(self.emb_norm(x)), src_key_padding_mask=pad if pad.any() else None)
        keep = (~pad).unsqueeze(-1).to(x.dtype)
        return (x * keep).sum(1) / keep.sum(1).clamp(min=1.0)

    def forward(self, ids: torch.Tensor) -> list[torch.Tensor]:
        pooled = self.encode(ids)
        return [head(pooled) for head in self.heads]
