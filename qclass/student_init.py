"""Training-only: the student cut from MiniLM (as published, or a fine-tuned MiniLM teacher), so that
it starts from what MiniLM knows rather than from random weights. Apart from qclass/teacher.py, whose
text keys the teacher cache: changing how the student starts does not retrain the teachers.
"""

from __future__ import annotations

import torch
from tokenizers import Tokenizer

from qclass.teacher import model_dir


def _minilm_token_rows(bert, minilm_tokenizer: Tokenizer, tokens: list[str]) -> torch.Tensor:
    """MiniLM's input embedding for each student token: its own row when MiniLM has the token,
    else the mean of the rows of the pieces MiniLM splits it into."""
    table = bert.embeddings.word_embeddings.weight
    known = minilm_tokenizer.get_vocab()
    rows = []
    for token in tokens:
        if token in known:
            rows.append(table[known[token]])
            continue
        piece = token[2:] if token.startswith("##") else token
        ids = minilm_tokenizer.encode(piece, add_special_tokens=False).ids or [known["[UNK]"]]
        rows.append(table[ids].mean(0))
    return torch.stack(rows)


@torch.no_grad()
def _ffn_importance(bert, texts: list[str], tokenizer: Tokenizer, layers: int) -> list[torch.Tensor]:
    """Per layer, how much each feed-forward unit contributes on these texts:
    mean |activation| times the norm of its output weights."""
    totals = [torch.zeros(bert.config.intermediate_size) for _ in range(layers)]
    hooks = [bert.encoder.layer[i].intermediate.register_forward_hook(
        lambda _m, _in, out, i=i: totals[i].add_(out.abs().sum((0, 1)))) for i in range(layers)]
    try:
        bert.eval()
        for start in range(0, len(texts), 128):
            batch = tokenizer.encode_batch(texts[start : start + 128])
            bert(input_ids=torch.tensor([e.ids for e in batch]),
                 attention_mask=torch.tensor([e.attention_mask for e in batch]))
    finally:
        for hook in hooks:
            hook.remove()
    return [totals[i] * bert.encoder.layer[i].output.dense.weight.norm(dim=0) for i in range(layers)]


@torch.no_grad()
def init_student_from_minilm(student, tokens: list[str], texts: list[str], encoder: dict | None = None) -> None:
    """Make the student MiniLM's bottom `layers` layers over the student's own vocabulary.

    The student must be 384 wide with 12 heads (MiniLM's shape); its feed-forward layers keep the
    dim_inner units of MiniLM's 1,536 that contribute most on `texts` (the training questions).
    encoder: a fine-tuned MiniLM's weights (a teacher's, Teacher.bert.state_dict()) to cut from
    instead of MiniLM as published.
    """
    from transformers import BertModel

    path = model_dir()
    bert = BertModel.from_pretrained(str(path), dtype=torch.float32)
    if encoder is not None:
        bert.load_state_dict(encoder)
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=student.num_pos)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    layers = student.encoder.layers
    if student.pos_emb.weight.shape[1] != bert.config.hidden_size or \
            layers[0].self_attn.num_heads != bert.config.num_attention_heads:
        raise ValueError("initialising from MiniLM needs dim_model 384 and 12 heads")
    emb = bert.embeddings
    student.tok_emb.weight.copy_(_minilm_token_rows(bert, tokenizer, tokens))
    student.tok_emb.weight[student.pad_id].zero_()
    # BERT adds a token-type embedding (always type 0 here) to every position.
    student.pos_emb.weight.copy_(emb.position_embeddings.weight[: student.num_pos] + emb.token_type_embeddings.weight[0])
    student.emb_norm.load_state_dict(emb.LayerNorm.state_dict())
    importance = _ffn_importance(bert, texts, tokenizer, len(layers))
    for layer, source, score in zip(layers, bert.encoder.layer, importance):
        attn = source.attention
        layer.self_attn.in_proj_weight.copy_(torch.cat([attn.self.query.weight, attn.self.key.weight, attn.self.value.weight]))
        layer.self_attn.in_proj_bias.copy_(torch.cat([attn.self.query.bias, attn.self.key.bias, attn.self.value.bias]))
        layer.self_attn.out_proj.load_state_dict(attn.output.dense.state_dict())
        layer.norm1.load_state_dict(attn.output.LayerNorm.state_dict())
        keep = score.topk(layer.linear1.out_features).indices.sort().values
        layer.linear1.weight.copy_(source.intermediate.dense.weight[keep])
        layer.linear1.bias.copy_(source.intermediate.dense.bias[keep])
        layer.linear2.weight.copy_(source.output.dense.weight[:, keep])
        layer.linear2.bias.copy_(source.output.dense.bias)
        layer.norm2.load_state_dict(source.output.LayerNorm.state_dict())
