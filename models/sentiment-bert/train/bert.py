"""A plain BERT encoder (Devlin et al. 2019) with MLM and sequence-classification heads.

Written out in PyTorch rather than imported so that training needs nothing beyond torch; the layer
layout and names follow the reference implementation, and the ONNX export has the interface that
transformers.js expects of BertForSequenceClassification (input_ids, attention_mask, token_type_ids -> logits).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class BertConfig:
    vocab_size: int
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    max_position_embeddings: int = 128
    type_vocab_size: int = 2
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    layer_norm_eps: float = 1e-12


class Embeddings(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions) \
            + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class Layer(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.heads = c.num_attention_heads
        self.head_dim = c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.attn_out = nn.Linear(c.hidden_size, c.hidden_size)
        self.attn_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.intermediate = nn.Linear(c.hidden_size, c.intermediate_size)
        self.output = nn.Linear(c.intermediate_size, c.hidden_size)
        self.out_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.attn_dropout = nn.Dropout(c.attention_probs_dropout_prob)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def _split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, mask_bias):
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask_bias
        ctx = self.attn_dropout(scores.softmax(-1)) @ v
        ctx = ctx.transpose(1, 2).reshape(x.shape)
        x = self.attn_norm(x + self.dropout(self.attn_out(ctx)))
        h = self.output(nn.functional.gelu(self.intermediate(x)))
        return self.out_norm(x + self.dropout(h))


class Encoder(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.layers = nn.ModuleList(Layer(c) for _ in range(c.num_hidden_layers))

    def forward(self, input_ids, attention_mask, token_type_ids):
        # Padding keys get a large negative bias so that softmax ignores them.
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        x = self.embeddings(input_ids, token_type_ids)
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x


def init_weights(module: nn.Module) -> None:
    """BERT's initialisation: N(0, 0.02) weights, zero biases, unit LayerNorm."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)
        if isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class BertForMaskedLM(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.bert = Encoder(c)
        self.transform = nn.Sequential(nn.Linear(c.hidden_size, c.hidden_size), nn.GELU(),
                                       nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps))
        self.decoder_bias = nn.Parameter(torch.zeros(c.vocab_size))
        init_weights(self)

    def forward(self, input_ids, attention_mask, token_type_ids, positions):
        """Logits at the selected (masked) positions only: projecting every position onto the
        vocabulary would cost batch x length x vocab floats for nothing."""
        h = self.bert(input_ids, attention_mask, token_type_ids)[positions]
        # Output projection tied to the input embeddings, as in BERT.
        return self.transform(h) @ self.bert.embeddings.word_embeddings.weight.T + self.decoder_bias


class BertForSequenceClassification(nn.Module):
    def __init__(self, c: BertConfig, num_labels: int):
        super().__init__()
        self.bert = Encoder(c)
        self.pooler = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)
        self.classifier = nn.Linear(c.hidden_size, num_labels)
        init_weights(self)

    def forward(self, input_ids, attention_mask, token_type_ids):
        h = self.bert(input_ids, attention_mask, token_type_ids)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        return self.classifier(self.dropout(pooled))
