"""BERT-style text normalisation, pre-tokenisation, WordPiece vocabulary building and encoding.

Mirrors what the emitted tokenizer.json tells the production tokenizer (transformers.js) to do:
Replace(URL -> " httpurl ") -> BertNormalizer(lowercase, strip accents) -> BertPreTokenizer -> WordPiece.
The shipped model is evaluated through transformers.js itself, so any drift here shows in metrics.json.
"""
from __future__ import annotations

import collections
import json
import re
import unicodedata

URL_RE = re.compile(r"https?://\S+")
URL_TOKEN = " httpurl "
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PAD, UNK, CLS, SEP, MASK = range(5)
PREFIX = "##"
MAX_CHARS_PER_WORD = 100


def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def normalize(text: str) -> str:
    text = URL_RE.sub(URL_TOKEN, text)
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if ch in "\t\n\r" or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif _is_cjk(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    text = "".join(out).lower()
    text = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")


def pre_tokenize(text: str) -> list[str]:
    words: list[str] = []
    for chunk in text.split():
        current = []
        for ch in chunk:
            if _is_punct(ch):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
    return words


def words_of(text: str) -> list[str]:
    return pre_tokenize(normalize(text))


def build_vocab(texts: list[str], size: int, min_word_freq: int = 3) -> list[str]:
    """Specials, every frequent character (word-initial and ##continuation), frequent whole words,
    then the most frequent prefixes/suffix pieces of the remaining words, up to `size` entries."""
    counts = collections.Counter(w for t in texts for w in words_of(t))
    chars: collections.Counter = collections.Counter()
    for w, c in counts.items():
        chars[w[0]] += c
        for ch in w[1:]:
            chars[PREFIX + ch] += c
    vocab = list(SPECIALS)
    seen = set(vocab)

    def add(tok: str) -> None:
        if tok not in seen and len(vocab) < size:
            seen.add(tok)
            vocab.append(tok)

    for tok, c in sorted(chars.items(), key=lambda kv: (-kv[1], kv[0])):
        if c >= 2:
            add(tok)
    word_budget = int(size * 0.7)
    for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if c < min_word_freq or len(vocab) >= word_budget:
            break
        add(w)
    pieces: collections.Counter = collections.Counter()
    for w, c in counts.items():
        if w in seen or len(w) < 3:
            continue
        for n in range(2, min(len(w), 8)):
            pieces[w[:n]] += c
            pieces[PREFIX + w[n:]] += c if len(w) - n <= 8 else 0
    for tok, c in sorted(pieces.items(), key=lambda kv: (-kv[1], kv[0])):
        if c < min_word_freq:
            break
        add(tok)
    return vocab


class WordPiece:
    def __init__(self, vocab: list[str]):
        self.vocab = vocab
        self.ids = {t: i for i, t in enumerate(vocab)}

    def _word(self, word: str) -> list[int]:
        if len(word) > MAX_CHARS_PER_WORD:
            return [UNK]
        out, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else PREFIX + word[start:end]
                if piece in self.ids:
                    found = self.ids[piece]
                    break
                end -= 1
            if found is None:
                return [UNK]
            out.append(found)
            start = end
        return out

    def encode(self, text: str, max_length: int) -> list[int]:
        ids = [i for w in words_of(text) for i in self._word(w)]
        return [CLS] + ids[: max_length - 2] + [SEP]


def tokenizer_json(vocab: list[str]) -> dict:
    ids = {t: i for i, t in enumerate(vocab)}
    special = lambda tok: {"SpecialToken": {"id": tok, "type_id": 0}}  # noqa: E731
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": ids[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for t in SPECIALS
        ],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Replace", "pattern": {"Regex": URL_RE.pattern}, "content": URL_TOKEN},
            {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
             "strip_accents": None, "lowercase": True},
        ]},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special("[CLS]"), {"Sequence": {"id": "A", "type_id": 0}}, special("[SEP]")],
            "pair": [special("[CLS]"), {"Sequence": {"id": "A", "type_id": 0}}, special("[SEP]"),
                     {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [ids[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": PREFIX, "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": PREFIX,
                  "max_input_chars_per_word": MAX_CHARS_PER_WORD, "vocab": ids},
    }


def tokenizer_config(max_length: int) -> dict:
    return {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": max_length,
        "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
        "mask_token": "[MASK]", "clean_up_tokenization_spaces": True,
    }


def write_json(path: str, obj: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")
