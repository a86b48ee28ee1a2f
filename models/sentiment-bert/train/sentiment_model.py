"""Sentiment model: masked-LM pre-training, fine-tuning (GloVe-augmented embeddings, self-training, members),
temperature scaling, and the set-up of a training run."""
from __future__ import annotations

import random
import time

import numpy as np
import torch
from torch import nn

import wordpiece as wp
from bert import BertForMaskedLM, BertForSequenceClassification
from sentiment_data import LABELS, SELECTION_SETS, batches
from sentiment_metrics import scores


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def start_run(args):
    """Seeds, threads and device of a training run, and a log that prints the seconds since it started."""
    seed_everything(args.seed)
    torch.set_num_threads(max(1, args.threads))
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    started = time.time()
    return device, started, lambda msg: print(f"[{time.time() - started:7.1f}s] {msg}", flush=True)


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


def mlm_step(model, opt, ids, mask, vocab_size, gen, device) -> float:
    """One masked-LM optimisation step on a batch of token ids; its loss."""
    inp, labels = mask_tokens(ids, vocab_size, gen)
    selected = labels != -100
    logits = model(inp.to(device), mask.to(device), torch.zeros_like(inp).to(device), selected.to(device))
    loss = torch.nn.functional.cross_entropy(logits, labels[selected].to(device))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


def masked_lm(cfg, encoder_state, seqs, epochs, lr, device, rng, gen, log, stage):
    model = BertForMaskedLM(cfg).to(device)
    if encoder_state is not None:
        model.bert.load_state_dict(encoder_state)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(seqs) + 127) // 128)
    sched = schedule(opt, steps, max(1, steps // 20))
    model.train()
    total, n = 0.0, 1
    for epoch in range(epochs):
        total, n = 0.0, 0
        for ids, mask, _ in batches(seqs, None, 128, True, rng):
            loss = mlm_step(model, opt, ids, mask, cfg.vocab_size, gen, device)
            sched.step()
            total, n = total + loss, n + 1
        log(f"{stage} mlm epoch {epoch + 1}/{epochs} loss {total / n:.3f}")
    return {k: v.detach().cpu() for k, v in model.bert.state_dict().items()}, round(total / max(n, 1), 4)


@torch.no_grad()
def logits_of(model, seqs, device):
    model.eval()
    out = []
    order = sorted(range(len(seqs)), key=lambda j: len(seqs[j]))
    for ids, mask, _ in batches([seqs[j] for j in order], None, 256, False, None):
        out.append(model(ids.to(device), mask.to(device), torch.zeros_like(ids).to(device)).float().cpu())
    logits = torch.cat(out)
    result = torch.empty_like(logits)
    result[torch.tensor(order)] = logits
    return result


def fit_temperature(logits, labels):
    log_t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)
    y = torch.tensor(labels)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), y)
        loss.backward()
        return loss
    opt.step(closure)
    return float(log_t.exp())


def glove_matrix(path, vocab):
    """Row i: the GloVe vector of token i when it is a whole word GloVe has, else zeros; and how many rows are set."""
    vectors = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, *values = line.rstrip("\n").split(" ")
            vectors[word] = [float(v) for v in values]
    g = torch.zeros(len(vocab), len(next(iter(vectors.values()))))
    hits = 0
    for i, token in enumerate(vocab):
        if token in vectors and not token.startswith("##") and not (token.startswith("[") and token.endswith("]")):
            g[i] = torch.tensor(vectors[token])
            hits += 1
    return g, hits


class GloveAugmentedEmbedding(nn.Module):
    """embedding(ids) + P g(ids): P starts at zero, so training starts from the encoder as it was."""

    def __init__(self, embedding: nn.Embedding, g: torch.Tensor):
        super().__init__()
        self.embedding = embedding
        self.register_buffer("g", g)
        # Made as zeros, drawing nothing from the random generator: the rest of the run draws as without GloVe.
        self.proj = nn.Parameter(torch.zeros(embedding.embedding_dim, g.shape[1], device=g.device))

    def forward(self, ids):
        return self.embedding(ids) + self.g[ids] @ self.proj.T

    def folded(self) -> nn.Embedding:
        with torch.no_grad():
            self.embedding.weight += self.g @ self.proj.T
        return self.embedding


def dev_scores(model, dev_sets, device, selection=SELECTION_SETS):
    """Accuracy and macro-F1 on each development set, and the selection score: the mean macro-F1 of `selection`."""
    row = {}
    for name, rows in dev_sets.items():
        s = scores([l for _, l in rows], logits_of(model, [s for s, _ in rows], device).softmax(-1).numpy())
        row[name] = {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}
    row["selection_score"] = round(float(np.mean([row[name]["macro_f1"] for name in selection])), 4)
    return row


def finetune(cfg, encoder_state, train, dev_sets, args, device, rng, log, glove=None, soft=None):
    """soft: (token sequences, teacher probabilities [n, 3]) trained on by soft cross-entropy beside the labelled rows."""
    model = BertForSequenceClassification(cfg, len(LABELS)).to(device)
    model.bert.load_state_dict(encoder_state)
    if glove is not None:
        model.bert.embeddings.word_embeddings = GloveAugmentedEmbedding(model.bert.embeddings.word_embeddings, glove.to(device))
    seqs, labels = [s for s, _ in train], [l for _, l in train]
    counts = np.bincount(labels, minlength=len(LABELS))
    soft_targets = None
    if soft is not None:  # a soft row's label is len(LABELS) + its row in soft_targets
        seqs, labels = seqs + soft[0], labels + [len(LABELS) + k for k in range(len(soft[0]))]
        soft_targets = soft[1].to(device)
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
            y = y.to(device)
            gold = y < len(LABELS)
            loss = torch.nn.functional.cross_entropy(logits[gold], y[gold], weight=weights, label_smoothing=0.05) \
                if gold.any() else logits.sum() * 0
            if soft_targets is not None and not gold.all():
                soft_loss = torch.nn.functional.cross_entropy(logits[~gold], soft_targets[y[~gold] - len(LABELS)])
                loss = (loss * gold.sum() + soft_loss * (~gold).sum()) / len(y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        row = {"epoch": epoch + 1, **dev_scores(model, dev_sets, device, args.selection_sets)}
        history.append(row)
        log(f"fine-tune epoch {epoch + 1}/{args.ft_epochs} {row}")
        if row["selection_score"] > best[0]:
            best = (row["selection_score"], {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, epoch + 1)
    model.load_state_dict(best[1])
    return model.cpu(), best[2], history


class MeanLogits(nn.Module):
    """Several fine-tuned encoders as one model: the mean of their logits (exported as one ONNX graph)."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, input_ids, attention_mask, token_type_ids):
        return torch.stack([m(input_ids, attention_mask, token_type_ids) for m in self.members]).mean(0)
