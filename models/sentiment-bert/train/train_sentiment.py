#!/usr/bin/env python3
"""Train sentiment-bert version 3 (news, tweets and the team's labelled corpus) and export it for transformers.js.

Steps:
 1. Start from the English masked-LM checkpoint of pretrain_english.py (--encoder; committed under
    train/checkpoints/), which continued version 2's encoder on ../shared/data/corpus/ and every finance text.
    `--encoder ''` starts from --init's weights instead; `--from-scratch` builds a vocabulary and runs version 1's
    MLM pre-training first (hours on CPU). `--news-mlm-epochs N` adds version 2's domain masked-LM on news.
 2. Fine-tune on tweets + extra_sentiment (except its FiQA headlines) + SEntFiN training headlines + the team's
    corpus (models/sentiment-bert/data: written texts and labelled real texts, team_data.py). The epoch is chosen on
    the mean macro-F1 of three development splits, one per real source: SEntFiN dev (10 %), tweets dev (10 % of the
    tweet training file) and the team's labelled real dev (25 %); never on text the team wrote, never on one source.
    `--members N` fine-tunes N reseeded members; `--teacher FOLDER` adds self-training on unlabelled tweets.
 3. Temperature scaling fitted on the same development splits, folded into the classifier(s).
 4. ONNX export (fp32, one graph) -> int8 dynamic quantisation -> config/tokenizer files.
Evaluation sets, untouched until the end: tweets `sentiment/valid.csv`, the news test split (20 % of SEntFiN, indices
in news_split.json) and the FiQA headlines of extra_sentiment.csv (another source of news, never trained on). No
training text matches an evaluation or development text after URL removal and case folding (the team's texts: after
folding digits and punctuation too, or sharing 8 folded words). evaluate_sentiment.mjs then scores the shipped int8
file through transformers.js (npm run train:sentiment runs both).

The code is split by role: sentiment_data.py (sets, splits, batches), sentiment_model.py (masked-LM, fine-tuning,
temperature, run set-up), sentiment_export.py (ONNX export, shipped folders read back) and sentiment_metrics.py
(scores, tf-idf baseline); this file holds the command line and runs them in order.

Usage: /usr/bin/python3 models/sentiment-bert/train/train_sentiment.py [--data ../shared/data] [--device auto]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bert import BertConfig  # noqa: E402
from quantize import quantize_dynamic  # noqa: E402
import wordpiece as wp  # noqa: E402
from sentiment_data import LABELS, MODEL_DIR, REPO, SELECTION_SETS, batches, key, load_data, read  # noqa: E402
from sentiment_export import export_onnx, read_vocab, shipped_model  # noqa: E402
from sentiment_metrics import scores, tfidf_baseline  # noqa: E402
from sentiment_model import (MeanLogits, dev_scores, finetune, fit_temperature, glove_matrix, logits_of, masked_lm,  # noqa: E402
                             mlm_step, schedule, seed_everything, start_run)

sys.path.insert(0, os.path.join(HERE, "..", "data"))
from team_data import load_team_data  # noqa: E402

# Other scripts import these from here: pretrain_english.py, ../data/check_leakage.py and
# models/sentiment-entity/train/train_entity.py.
__all__ = ["LABELS", "MODEL_DIR", "REPO", "batches", "export_onnx", "finetune", "fit_temperature", "key", "load_data", "logits_of",
           "mlm_step", "read", "read_vocab", "schedule", "scores", "shipped_model", "start_run", "main"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    p.add_argument("--out", default=MODEL_DIR)
    p.add_argument("--init", default=os.path.join(MODEL_DIR, "versions", "1.0.0"),
                   help="model folder whose encoder and tokenizer version 2 continues from")
    p.add_argument("--from-scratch", action="store_true", help="build a vocabulary and MLM pre-train first")
    p.add_argument("--work", default=os.path.join(MODEL_DIR, "train", ".work"),
                   help="where the fp32 ONNX goes (not shipped)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--train-length", type=int, default=64, help="token cap while training (headlines are short)")
    p.add_argument("--news-mlm-epochs", type=int, default=0,
                   help="domain masked-LM epochs on the news texts before fine-tuning (version 2: 4; version 3's English "
                        "masked-LM already covers them)")
    p.add_argument("--scratch-mlm-epochs", type=int, default=40)
    p.add_argument("--ft-epochs", type=int, default=5)
    p.add_argument("--ft-lr", type=float, default=1e-4)
    p.add_argument("--glove", default=None,
                   help="a GloVe text file: whole-word tokens also get its vectors, through a projection learned in "
                        "fine-tuning (zero at the start) and folded into the embedding table for export")
    p.add_argument("--news-weight", type=float, default=1.0,
                   help="times each news headline is seen per fine-tuning epoch")
    p.add_argument("--teacher", default=None,
                   help="a shipped sentiment-bert folder (same vocabulary): its calibrated probabilities on the unlabelled "
                        "finance tweets become soft targets trained on beside the labelled rows (self-training)")
    p.add_argument("--encoder", default=os.path.join(MODEL_DIR, "train", "checkpoints", "english-mlm.pt"),
                   help="an encoder checkpoint of pretrain_english.py to start from instead of --init's weights ('' for --init's)")
    p.add_argument("--team-data", default=os.path.join(MODEL_DIR, "data"),
                   help="the team's labelled news corpus (written and labelled real texts; '' to train without it)")
    p.add_argument("--selection", default=",".join(SELECTION_SETS),
                   help="development sets whose mean macro-F1 chooses the epoch and fits the temperature")
    p.add_argument("--members", type=int, default=1,
                   help="encoders fine-tuned from the same masked-LM state, each reseeded (seed, seed + 1, ...) when "
                        "more than one; their averaged logits ship if that beats the first member on the development split")
    return p.parse_args()


def main():
    args = parse_args()
    args.selection_sets = tuple(s for s in args.selection.split(",") if s)
    device, started, log = start_run(args)
    rng, gen = random.Random(args.seed), torch.Generator().manual_seed(args.seed)
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    os.makedirs(args.work, exist_ok=True)

    data, news_mlm, scratch_mlm, unlabelled, split_file = load_data(args.data, args.seed)
    log(", ".join(f"{k} {len(v)}" for k, v in data.items()) + f"; news MLM texts {len(news_mlm)}; device {device}")
    if args.from_scratch:
        vocab = wp.build_vocab(scratch_mlm, 12000)
    else:
        vocab = read_vocab(args.init)
    tok = wp.WordPiece(vocab)
    cfg = BertConfig(vocab_size=len(vocab), max_position_embeddings=args.max_length)
    enc = lambda rows, n=args.train_length: [(tok.encode(t, n), l) for t, l in rows]  # noqa: E731
    stages = {}
    if args.from_scratch:
        state, loss = masked_lm(cfg, None, [tok.encode(t, args.train_length) for t in scratch_mlm],
                                args.scratch_mlm_epochs, 5e-4, device, rng, gen, log, "general")
        stages["general_mlm"] = {"texts": len(scratch_mlm), "epochs": args.scratch_mlm_epochs, "final_loss": loss}
    elif args.encoder:
        saved = torch.load(args.encoder, map_location="cpu")
        state = {k: v.float() for k, v in saved["encoder"].items()}
        stages["english_mlm"] = {"checkpoint": os.path.relpath(args.encoder, REPO), **saved["record"]}
    else:
        start, info = shipped_model(args.init, cfg)
        state = start.bert.state_dict()
        stages["init"] = {"from": os.path.relpath(args.init, REPO), "tensors": info["loaded"]}
    if args.news_mlm_epochs > 0:  # version 3's English masked-LM already covers these texts: it skips this stage
        state, loss = masked_lm(cfg, state, [tok.encode(t, args.train_length) for t in news_mlm],
                                args.news_mlm_epochs, 2e-4, device, rng, gen, log, "news")
        stages["news_mlm"] = {"texts": len(news_mlm), "epochs": args.news_mlm_epochs, "final_loss": loss}

    train = enc(data["tweets_train"] + data["extra"]) + enc(data["news_train"]) * max(1, round(args.news_weight))
    dev_sets = {"news_dev": enc(data["news_dev"]), "tweets_dev": enc(data["tweets_dev"])}
    if args.team_data:
        held_out = [t for name in ("tweets_valid", "news_test", "fiqa_headlines", "news_dev", "tweets_dev") for t, _ in data[name]]
        team = load_team_data(args.data, held_out)
        train += enc(team["written"]) + enc(team["real_train"])
        dev_sets["team_real_dev"] = enc(team["real_dev"])
        data.update({"team_written": team["written"], "team_real_train": team["real_train"], "team_real_dev": team["real_dev"]})
        stages["team_data"] = {"folder": os.path.relpath(args.team_data, REPO), **team["report"]}
        log(f"team data: written {len(team['written'])}, real train {len(team['real_train'])}, real dev {len(team['real_dev'])}; "
            f"{team['report']}")
    glove = None
    if args.glove:
        glove, hits = glove_matrix(args.glove, vocab)
        stages["glove"] = {"file": os.path.basename(args.glove), "tokens_with_a_vector": hits}
        log(f"GloVe vectors for {hits} of {len(vocab)} tokens")
    soft = None
    if args.teacher:
        teacher, _ = shipped_model(args.teacher, cfg)
        assert read_vocab(args.teacher) == vocab, "the teacher must share the student's vocabulary"
        soft_seqs = [tok.encode(t, args.train_length) for t in unlabelled]
        # The shipped classifier has its temperature folded in, so these are its calibrated probabilities.
        probs = logits_of(teacher, soft_seqs, "cpu").softmax(-1)
        soft = (soft_seqs, probs)
        stages["self_training"] = {"teacher": os.path.relpath(args.teacher, REPO), "unlabelled_texts": len(unlabelled),
                                   "teacher_label_shares": [round(float(x), 4) for x in probs.mean(0)]}
        log(f"self-training: {len(unlabelled)} unlabelled texts, teacher label shares {stages['self_training']['teacher_label_shares']}")
    members = []
    for k in range(max(1, args.members)):
        member_rng = rng
        if args.members > 1:  # each member from its own seed, the first included
            seed_everything(args.seed + k)
            member_rng = random.Random(args.seed + k)
        member, selected_epoch, member_history = finetune(cfg, state, train, dev_sets, args, device, member_rng, log, glove, soft)
        if glove is not None:  # the export is a plain BERT again
            member.bert.embeddings.word_embeddings = member.bert.embeddings.word_embeddings.folded()
        members.append((member, {"seed": args.seed + k, "selected_epoch": selected_epoch, "history": member_history,
                                 "dev_selection_score": member_history[selected_epoch - 1]["selection_score"]}))
    first = members[0][1]
    ensemble = None
    if len(members) > 1:
        ensemble_score = dev_scores(MeanLogits([m for m, _ in members]), dev_sets, "cpu", args.selection_sets)["selection_score"]
        ensemble = {"members_trained": len(members),
                    "members_shipped": len(members) if ensemble_score > first["dev_selection_score"] else 1,
                    "first_member_dev_selection_score": first["dev_selection_score"],
                    "ensemble_dev_selection_score": ensemble_score,
                    "rule": f"the averaged members ship if their mean macro-F1 on {', '.join(args.selection_sets)} "
                            "beats the first member's"}
        log(f"ensemble {ensemble}")
    shipped = members[:ensemble["members_shipped"] if ensemble else 1]
    model = MeanLogits([m for m, _ in shipped]) if len(shipped) > 1 else shipped[0][0]

    evaluations = {"tweets_valid": data["tweets_valid"], "news_test": data["news_test"], "fiqa_headlines": data["fiqa_headlines"]}
    full = {name: enc(rows, args.max_length) for name, rows in evaluations.items()}
    clean_dev = [row for name in args.selection_sets for row in dev_sets[name]]
    temperature = fit_temperature(logits_of(model, [s for s, _ in clean_dev], "cpu"), [l for _, l in clean_dev])
    pytorch = {}
    for name, rows in full.items():
        logits, y = logits_of(model, [s for s, _ in rows], "cpu"), [l for _, l in rows]
        pytorch[name] = {"uncalibrated": scores(y, logits.softmax(-1).numpy()),
                         "calibrated": scores(y, (logits / temperature).softmax(-1).numpy())}
    log(f"temperature {temperature:.3f}; pytorch fp32 {pytorch}")
    with torch.no_grad():  # serve calibrated probabilities: softmax(logits / T) = softmax(W/T x + b/T), per member
        for member, _ in shipped:
            member.classifier.weight /= temperature
            member.classifier.bias /= temperature
    base = tfidf_baseline(data["tweets_train"] + data["extra"] + data["news_train"]
                          + data.get("team_written", []) + data.get("team_real_train", []), evaluations)
    log(f"tf-idf baseline {base}")

    fp32_path = os.path.join(args.work, "model.onnx")
    export_onnx(model, fp32_path)
    # The fine-tuned encoder, for sentiment-entity to start from (train_entity.py --encoder); not shipped.
    torch.save({"encoder": {k: v.half() for k, v in shipped[0][0].bert.state_dict().items()},
                "record": {"from": "train_sentiment.py", "selected_epoch": first["selected_epoch"], "seed": args.seed}},
               os.path.join(args.work, "sentence-encoder.pt"))
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
    wp.write_json(os.path.join(args.out, "tokenizer.json"), wp.tokenizer_json(vocab))
    wp.write_json(os.path.join(args.out, "tokenizer_config.json"), wp.tokenizer_config(args.max_length))
    wp.write_json(os.path.join(args.out, "news_split.json"), split_file)
    metrics = {
        "task": "text-classification",
        "data": {k: len(v) for k, v in data.items()} | {"news_mlm_texts": len(news_mlm)},
        "architecture": {k: getattr(cfg, k) for k in ("vocab_size", "hidden_size", "num_hidden_layers",
                                                      "num_attention_heads", "intermediate_size", "max_position_embeddings")},
        "parameters": sum(p.numel() for p in model.parameters()),
        "training": {"seed": args.seed, "device": str(device), "threads": torch.get_num_threads(), "stages": stages,
                     "fine_tune_epochs": args.ft_epochs, "fine_tune_lr": args.ft_lr, "news_weight": args.news_weight,
                     "selected_epoch": first["selected_epoch"], "selection": f"mean macro-F1 on {', '.join(args.selection_sets)}",
                     "history": first["history"], **({"members": [info for _, info in members], "ensemble": ensemble} if ensemble else {}),
                     "seconds": round(time.time() - started, 1)},
        "calibration": {"method": f"temperature scaling fitted on {' + '.join(args.selection_sets)}, folded into the classifier",
                        "temperature": round(temperature, 4)},
        "pytorch_fp32": pytorch,
        "tfidf_logreg_baseline": base,
        "quantization": {"scheme": "dynamic int8, per-channel weights, uint8 activations", **q},
    }
    wp.write_json(os.path.join(args.out, "metrics.json"), metrics)
    log(f"wrote {args.out} (fp32 ONNX in {fp32_path})")


if __name__ == "__main__":
    main()
