"""The gateway's sentiment weights in the project's PyTorch BERT, for the Python peers (both load them alike).

Read from the model folder's ONNX file (Debian has no onnxruntime for Python), with the training WordPiece, which
mirrors tokenizer.json.
"""
from __future__ import annotations

import json
import os
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "models", "sentiment-bert", "train"))
from bert import BertConfig, BertForSequenceClassification  # noqa: E402
from onnx_weights import load_onnx_weights  # noqa: E402
import wordpiece as wp  # noqa: E402


def load(model_dir: str):
    """(model in eval mode, tokenizer, label names, longest sequence)."""
    config = json.load(open(os.path.join(model_dir, "config.json")))
    vocab_map = json.load(open(os.path.join(model_dir, "tokenizer.json")))["model"]["vocab"]
    vocab = [""] * len(vocab_map)
    for token, index in vocab_map.items():
        vocab[index] = token
    cfg = BertConfig(vocab_size=config["vocab_size"], hidden_size=config["hidden_size"],
                     num_hidden_layers=config["num_hidden_layers"], num_attention_heads=config["num_attention_heads"],
                     intermediate_size=config["intermediate_size"], max_position_embeddings=config["max_position_embeddings"])
    model = BertForSequenceClassification(cfg, len(config["id2label"]))
    info = load_onnx_weights(os.path.join(model_dir, "onnx", "model_quantized.onnx"), model)
    assert not info["missing"], info
    model.eval()
    labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    return model, wp.WordPiece(vocab), labels, cfg.max_position_embeddings


# The padding id the peers mask.
PAD = wp.PAD
