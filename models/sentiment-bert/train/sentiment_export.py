"""Sentiment export: the fp32 ONNX graph, and a shipped folder's int8 weights and vocabulary read back."""
from __future__ import annotations

import json
import os

import torch

import wordpiece as wp
from bert import BertForSequenceClassification
from onnx_weights import load_onnx_weights
from sentiment_data import LABELS


def export_onnx(model, path):
    model.eval()
    dummy = torch.tensor([[wp.CLS, 10, 11, 12, wp.SEP]])
    kwargs = dict(
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
        dynamic_axes={n: {0: "batch_size", 1: "sequence_length"} for n in ("input_ids", "attention_mask", "token_type_ids")}
        | {"logits": {0: "batch_size"}},
        opset_version=14, do_constant_folding=True)
    torch.onnx.export(model, (dummy, torch.ones_like(dummy), torch.zeros_like(dummy)), path, **kwargs)


def shipped_model(folder, cfg):
    """A shipped sentiment-bert folder's int8 weights, read back into PyTorch (every tensor must be found)."""
    model = BertForSequenceClassification(cfg, len(LABELS))
    info = load_onnx_weights(os.path.join(folder, "onnx", "model_quantized.onnx"), model)
    assert not info["missing"], info
    return model, info


def read_vocab(folder):
    vocab_map = json.load(open(os.path.join(folder, "tokenizer.json")))["model"]["vocab"]
    vocab = [""] * len(vocab_map)
    for token, index in vocab_map.items():
        vocab[index] = token
    return vocab
