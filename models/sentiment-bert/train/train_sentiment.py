#!/usr/bin/env python3
"""Train the project's financial sentiment BERT and export it for transformers.js.

Steps: build a WordPiece vocabulary from the training text -> masked-language-model pre-training on
unlabelled in-domain finance text -> fine-tuning on labelled sentiment (model selected on valid.csv by
macro-F1) -> ONNX export (fp32) -> int8 dynamic quantisation -> config/tokenizer files. A TF-IDF +
logistic-regression baseline is trained on the same split in the same run. The shipped quantised model is
then scored through transformers.js by evaluate_sentiment.mjs (npm run train:sentiment runs both).

Usage: /usr/bin/python3 models/sentiment-bert/train/train_sentiment.py [--data ../shared/data] [--device auto]
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import sys
import time

import numpy as np
import pandas as pd
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bert import BertConfig, BertForMaskedLM, BertForSequenceClassification  # noqa: E402
from quantize import quantize_dynamic  # noqa: E402
import wordpiece as wp  # noqa: E402

LABELS = ["negative", "neutral", "positive"]
SOURCE_LABEL = {"bearish": 0, "neutral": 1, "bullish": 2}
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    p.add_argument("--out", default=os.path.join(REPO, "models", "sentiment-bert"))
    p.add_argument("--work", default=os.path.join(REPO, "models", "sentiment-bert", "train", ".work"),
                   help="where the fp32 ONNX and checkpoints go (not shipped)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--vocab-size", type=int, default=12000)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--mlm-epochs", type=int, default=40)
    p.add_argument("--ft-epochs", type=int, default=6)
    p.add_argument("--ft-lr", type=float, default=1e-4)
    return p.parse_args()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def read(path: str) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype=str)


def load_data(root: str):
    sent = os.path.join(root, "sentiment")
    extra_dir = os.path.join(root, "finance_text")
    train, valid = read(os.path.join(sent, "train.csv")), read(os.path.join(sent, "valid.csv"))
    labelled = [(t, SOURCE_LABEL[l]) for t, l in zip(train.text, train.label)]
    extra_path = os.path.join(extra_dir, "extra_sentiment.csv")
    extra = read(extra_path) if os.path.exists(extra_path) else pd.DataFrame(columns=["text", "label"])
    labelled += [(t, SOURCE_LABEL[l]) for t, l in zip(extra.text, extra.label)]
    unlabelled = [t for t, _ in labelled]
    for name in ("topic_train.csv", "topic_valid.csv", "unlabelled_tweets.csv"):
        path = os.path.join(extra_dir, name)
        if os.path.exists(path):
            unlabelled += list(read(path).text)
    # The valid tweets must not leak into pre-training either.
    valid_keys = {wp.normalize(t).strip() for t in valid.text}
    unlabelled = sorted({t for t in unlabelled if t.strip() and wp.normalize(t).strip() not in valid_keys})
    valid_set = [(t, SOURCE_LABEL[l]) for t, l in zip(valid.text, valid.label)]
    return labelled, valid_set, unlabelled, {"train_sentiment": len(train), "extra_sentiment": len(extra)}


def batches(seqs, labels, batch_size, shuffle, rng):
    order = list(range(len(seqs)))
    if shuffle:
        rng.shuffle(order)
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        width = max(len(seqs[j]) for j in idx)
        ids = torch.zeros((len(idx), width), dtype=torch.long)
        for r, j in enumerate(idx):
            ids[r, :len(seqs[j])] = torch.tensor(seqs[j])
        yield ids, (ids != wp.PAD).long(), None if labels is None else torch.tensor([labels[j] for j in idx])


def schedule(optimizer, total_steps, warmup):
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total_steps - s) / max(1, total_steps - warmup)))


def mask_tokens(ids, vocab_size, gen):
    labels = ids.clone()
    special = ids < len(wp.SPECIALS)
    chosen = (torch.rand(ids.shape, generator=gen) < 0.15) & ~special
    labels[~chosen] = -100
    replace = chosen & (torch.rand(ids.shape, generator=gen) < 0.8)
    randomise = chosen & ~replace & (torch.rand(ids.shape, generator=gen) < 0.5)
    ids = ids.clone()
    ids[replace] = wp.MASK
    ids[randomise] = torch.randint(len(wp.SPECIALS), vocab_size, ids.shape, generator=gen)[randomise]
    return ids, labels


def pretrain(cfg, seqs, epochs, device, rng, gen, log):
    model = BertForMaskedLM(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
    steps = epochs * ((len(seqs) + 127) // 128)
    sched = schedule(opt, steps, max(1, steps // 20))
    model.train()
    for epoch in range(epochs):
        total, n = 0.0, 0
        for ids, mask, _ in batches(seqs, None, 128, True, rng):
            inp, labels = mask_tokens(ids, cfg.vocab_size, gen)
            selected = labels != -100
            logits = model(inp.to(device), mask.to(device), torch.zeros_like(inp).to(device), selected.to(device))
            loss = torch.nn.functional.cross_entropy(logits, labels[selected].to(device))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total, n = total + loss.item(), n + 1
        log(f"mlm epoch {epoch + 1}/{epochs} loss {total / n:.3f}")
    return model.bert.state_dict(), total / n


@torch.no_grad()
def predict(model, seqs, device):
    model.eval()
    out = []
    for ids, mask, _ in batches(seqs, None, 256, False, None):
        out.append(model(ids.to(device), mask.to(device), torch.zeros_like(ids).to(device)).softmax(-1).cpu())
    return torch.cat(out).numpy()


def scores(y_true, probs):
    pred = probs.argmax(1)
    return {"accuracy": round(float(accuracy_score(y_true, pred)), 4),
            "macro_f1": round(float(f1_score(y_true, pred, average="macro")), 4)}


def finetune(cfg, encoder_state, train, valid, args, device, rng, log):
    model = BertForSequenceClassification(cfg, len(LABELS)).to(device)
    model.bert.load_state_dict(encoder_state)
    seqs, labels = [s for s, _ in train], [l for _, l in train]
    vseqs, vlabels = [s for s, _ in valid], np.array([l for _, l in valid])
    counts = np.bincount(labels, minlength=len(LABELS))
    # Mild re-weighting (square root of inverse frequency) for the macro-F1 objective.
    weights = torch.tensor((counts.sum() / counts) ** 0.5, dtype=torch.float32)
    weights = (weights / weights.mean()).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.ft_lr, weight_decay=0.01)
    steps = args.ft_epochs * ((len(seqs) + 31) // 32)
    sched = schedule(opt, steps, max(1, steps // 10))
    best = (-1.0, None, None)
    history = []
    for epoch in range(args.ft_epochs):
        model.train()
        for ids, mask, y in batches(seqs, labels, 32, True, rng):
            logits = model(ids.to(device), mask.to(device), torch.zeros_like(ids).to(device))
            loss = torch.nn.functional.cross_entropy(logits, y.to(device), weight=weights, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        s = scores(vlabels, predict(model, vseqs, device))
        history.append({"epoch": epoch + 1, **s})
        log(f"fine-tune epoch {epoch + 1}/{args.ft_epochs} valid {s}")
        if s["macro_f1"] > best[0]:
            best = (s["macro_f1"], {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, epoch + 1)
    model.load_state_dict(best[1])
    return model.cpu(), best[2], history


def baseline(train, valid):
    vec = TfidfVectorizer(preprocessor=wp.normalize, ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x = vec.fit_transform([t for t, _ in train])
    clf = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced")
    clf.fit(x, [l for _, l in train])
    probs = clf.predict_proba(vec.transform([t for t, _ in valid]))
    return scores(np.array([l for _, l in valid]), probs)


def export_onnx(model, cfg, path):
    model.eval()
    dummy = torch.tensor([[wp.CLS, 10, 11, 12, wp.SEP]])
    kwargs = dict(
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
        dynamic_axes={n: {0: "batch_size", 1: "sequence_length"} for n in ("input_ids", "attention_mask", "token_type_ids")}
        | {"logits": {0: "batch_size"}},
        opset_version=14, do_constant_folding=True)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter keeps dynamic axes as declared
    torch.onnx.export(model, (dummy, torch.ones_like(dummy), torch.zeros_like(dummy)), path, **kwargs)


def main():
    args = parse_args()
    seed_everything(args.seed)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    started = time.time()
    log = lambda msg: print(f"[{time.time() - started:7.1f}s] {msg}", flush=True)  # noqa: E731
    rng, gen = random.Random(args.seed), torch.Generator().manual_seed(args.seed)
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    os.makedirs(args.work, exist_ok=True)

    labelled, valid, unlabelled, sizes = load_data(args.data)
    log(f"labelled {len(labelled)}, valid {len(valid)}, pre-training texts {len(unlabelled)}, device {device}")
    vocab = wp.build_vocab(unlabelled, args.vocab_size)
    tok = wp.WordPiece(vocab)
    log(f"vocabulary {len(vocab)}")
    wp.write_json(os.path.join(args.out, "tokenizer.json"), wp.tokenizer_json(vocab))
    wp.write_json(os.path.join(args.out, "tokenizer_config.json"), wp.tokenizer_config(args.max_length))

    cfg = BertConfig(vocab_size=len(vocab), hidden_size=args.hidden, num_hidden_layers=args.layers,
                     num_attention_heads=args.heads, intermediate_size=4 * args.hidden,
                     max_position_embeddings=args.max_length)
    enc = lambda rows: [(tok.encode(t, args.max_length), l) for t, l in rows]  # noqa: E731
    train_enc, valid_enc = enc(labelled), enc(valid)
    mlm_seqs = [tok.encode(t, args.max_length) for t in unlabelled]
    unk_rate = sum(s.count(wp.UNK) for s, _ in valid_enc) / sum(len(s) for s, _ in valid_enc)

    encoder_state, mlm_loss = pretrain(cfg, mlm_seqs, args.mlm_epochs, device, rng, gen, log)
    model, best_epoch, history = finetune(cfg, encoder_state, train_enc, valid_enc, args, device, rng, log)
    torch_scores = scores(np.array([l for _, l in valid]), predict(model, [s for s, _ in valid_enc], "cpu"))
    base = baseline(labelled, valid)
    log(f"pytorch fp32 valid {torch_scores}; tf-idf baseline {base}")

    fp32_path = os.path.join(args.work, "model.onnx")
    export_onnx(model, cfg, fp32_path)
    q = quantize_dynamic(fp32_path, os.path.join(args.out, "onnx", "model_quantized.onnx"))
    config = {
        "model_type": "bert", "architectures": ["BertForSequenceClassification"],
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size, "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads, "intermediate_size": cfg.intermediate_size,
        "hidden_act": "gelu", "max_position_embeddings": cfg.max_position_embeddings,
        "type_vocab_size": cfg.type_vocab_size, "layer_norm_eps": cfg.layer_norm_eps, "pad_token_id": wp.PAD,
        "id2label": {str(i): l for i, l in enumerate(LABELS)}, "label2id": {l: i for i, l in enumerate(LABELS)},
        "problem_type": "single_label_classification",
    }
    wp.write_json(os.path.join(args.out, "config.json"), config)
    metrics = {
        "task": "text-classification",
        "data": {"labelled_train": len(labelled), **sizes, "valid": len(valid), "pretraining_texts": len(unlabelled)},
        "architecture": {k: getattr(cfg, k) for k in ("vocab_size", "hidden_size", "num_hidden_layers",
                                                     "num_attention_heads", "intermediate_size", "max_position_embeddings")},
        "parameters": sum(p.numel() for p in model.parameters()),
        "training": {"seed": args.seed, "device": str(device), "mlm_epochs": args.mlm_epochs, "mlm_final_loss": round(mlm_loss, 4),
                     "fine_tune_epochs": args.ft_epochs, "fine_tune_lr": args.ft_lr, "selected_epoch": best_epoch,
                     "history": history, "seconds": round(time.time() - started, 1)},
        "valid_unk_token_rate": round(unk_rate, 5),
        "valid": {"pytorch_fp32": torch_scores, "tfidf_logreg_baseline": base},
        "quantization": {"scheme": "dynamic int8, per-channel weights, uint8 activations", **q},
    }
    wp.write_json(os.path.join(args.out, "metrics.json"), metrics)
    log(f"wrote {args.out} (fp32 ONNX in {fp32_path})")


if __name__ == "__main__":
    main()
