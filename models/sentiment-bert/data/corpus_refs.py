"""References into ../shared/data: how the team's labels point at real texts without copying them.

A reference is `file:row` (0-based data row of a CSV, header excluded) or `file:line:start:end` (a character span
of one line of a corpus text file). `resolve` reads the text back and checks it against the SHA-1 stored with the label.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re

_FOLD_RE = re.compile(r"https?://\S+|www\.\S+|[0-9]+|[^\w\s]|_", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def fold(text: str) -> str:
    """The near-duplicate key: lower case, URLs, digits and punctuation removed, spaces folded."""
    return " ".join(_FOLD_RE.sub(" ", text.lower()).split())


def shingles(text: str, n: int = 8) -> set[tuple[str, ...]]:
    """Runs of n folded words: two texts sharing one are near-duplicates for the leakage checks."""
    words = fold(text).split()
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def read_csv_rows(path: str) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def sentence_spans(line: str):
    """(start, end) of each sentence of a line of prose, split after . ! ? before a capital."""
    start = 0
    for m in _SENTENCE_END.finditer(line):
        yield start, m.start()
        start = m.end()
    end = len(line.rstrip("\n"))
    if start < end:
        yield start, end


class Resolver:
    """Reads referenced texts, caching each file once."""

    def __init__(self, data: str):
        self.data = data
        self._csv: dict[str, list[dict]] = {}
        self._lines: dict[str, list[str]] = {}

    def text(self, ref: str) -> str:
        parts = ref.split(":")
        path = parts[0]
        if len(parts) == 2:
            if path not in self._csv:
                self._csv[path] = read_csv_rows(os.path.join(self.data, path))
            return self._csv[path][int(parts[1])]["text"]
        if path not in self._lines:
            with open(os.path.join(self.data, path), encoding="utf-8") as f:
                self._lines[path] = f.readlines()
        line, start, end = (int(x) for x in parts[1:])
        return self._lines[path][line][start:end]

    def resolve(self, ref: str, sha1: str) -> str:
        text = self.text(ref)
        if hashlib.sha1(text.encode()).hexdigest() != sha1:
            raise ValueError(f"{ref}: the text in ../shared/data no longer matches the labelled one")
        return text
