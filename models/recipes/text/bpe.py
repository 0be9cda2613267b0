"""Byte-level BPE: trainer, encoder and a Hugging Face `tokenizer.json` writer.

The pre-tokenizer reproduces the ByteLevel pre-tokenizer of Hugging Face tokenizers (GPT-2's
split pattern  's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
with JavaScript's definition of \\s), written as a scanner because Python's `re` has no \\p{..}.
Encoding applies merges by rank, lowest first, leftmost on ties: the result equals that of
@huggingface/tokenizers on the saved tokenizer.json (tests/unit/packs/tokenizer.test.ts).
"""
from __future__ import annotations

import collections
import heapq
import json
import unicodedata

SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|eos|>"]  # ids 0, 1, 2
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
N_SPECIAL = len(SPECIAL_TOKENS)

# JavaScript's \s (ECMAScript WhiteSpace + LineTerminator)
_JS_SPACE = set("\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | {
    chr(c) for c in range(0x2000, 0x200B)}


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte → printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def _kind(ch: str) -> str:
    if ch in _JS_SPACE:
        return "s"
    cat = unicodedata.category(ch)
    if cat[0] == "L":
        return "L"
    if cat[0] == "N":
        return "N"
    return "o"


_CONTRACTIONS = ("s", "t", "re", "ve", "m", "ll", "d")


def pretokenize(text: str) -> list[str]:
    out = []
    i, n = 0, len(text)
    kinds = [_kind(c) for c in text]
    while i < n:
        c = text[i]
        if c == "'":
            hit = next((t for t in _CONTRACTIONS if text.startswith(t, i + 1)), None)
            if hit is not None:
                out.append("'" + hit)
                i += 1 + len(hit)
                continue
        k = kinds[i]
        start = i
        if c == " " and i + 1 < n and kinds[i + 1] != "s":
            i += 1
            k = kinds[i]
        if k in ("L", "N", "o"):
            j = i + 1
            while j < n and kinds[j] == k:
                j += 1
            out.append(text[start:j])
            i = j
            continue
        # whitespace: \s+(?!\S) — leave the last space to prefix the next word — else \s+
        j = i + 1
        while j < n and kinds[j] == "s":
            j += 1
        if j < n and j - i > 1:
            j -= 1
        out.append(text[i:j])
        i = j
    return out


def to_byte_chars(word: str) -> str:
    return "".join(BYTE_TO_CHAR[b] for b in word.encode("utf-8"))


def train_bpe(texts, vocab_size: int, min_freq: int = 2) -> list[tuple[str, str]]:
    """Learn merges (in byte-char space) until the vocabulary reaches vocab_size."""
    counts: collections.Counter = collections.Counter()
    for t in texts:
        counts.update(pretokenize(t))
    words = [list(to_byte_chars(w)) for w in counts]
    freqs = list(counts.values())
    pair_count: collections.Counter = collections.Counter()
    where: dict = collections.defaultdict(set)
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += f
            where[(a, b)].add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    produced: set = set()  # two merges can spell the same token; count distinct tokens
    n_new = vocab_size - N_SPECIAL - 256
    while len(produced) < n_new and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc:
            continue  # stale heap entry
        if -negc < min_freq:
            break
        merges.append(pair)
        a, b = pair
        new = a + b
        produced.add(new)
        changed = collections.Counter()
        for wi in list(where.pop(pair, ())):
            w, f = words[wi], freqs[wi]
            for x, y in zip(w, w[1:]):
                changed[(x, y)] -= f
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[wi] = out
            for x, y in zip(out, out[1:]):
                changed[(x, y)] += f
                where[(x, y)].add(wi)
        for p, d in changed.items():
            if d == 0:
                continue
            pair_count[p] += d
            if pair_count[p] <= 0:
                del pair_count[p]
            else:
                heapq.heappush(heap, (-pair_count[p], p))
        pair_count.pop(pair, None)
    return merges


class ByteBPE:
    def __init__(self, merges: list[tuple[str, str]]):
        self.merges = [tuple(m) for m in merges]
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
        for b in range(256):
            self.vocab[BYTE_TO_CHAR[b]] = len(self.vocab)
        for a, b in self.merges:
            self.vocab.setdefault(a + b, len(self.vocab))
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def _bpe(self, word: str) -> list[int]:
        hit = self.cache.get(word)
        if hit is not None:
            return hit
        parts = list(to_byte_chars(word))
        while len(parts) > 1:
            best, best_i = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, best_i = r, i
            if best is None:
                break
            a, b = self.merges[best]
            out, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and parts[i] == a and parts[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        ids = [self.vocab[p] for p in parts]
        if len(self.cache) < 200_000:
            self.cache[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for w in pretokenize(text):
            ids.extend(self._bpe(w))
        return ids

    def decode(self, ids) -> str:
        chars = "".join(self.id_to_token[i] for i in ids if i >= N_SPECIAL)
        return bytes(CHAR_TO_BYTE[c] for c in chars).decode("utf-8", errors="replace")

    def token_str(self, i: int) -> str:
        """Readable form of one token (for reports)."""
        if i < N_SPECIAL:
            return SPECIAL_TOKENS[i]
        return bytes(CHAR_TO_BYTE[c] for c in self.id_to_token[i]).decode("utf-8", errors="replace")

    def to_hf_json(self) -> dict:
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True}
                for i, t in enumerate(SPECIAL_TOKENS)
            ],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                              "use_regex": True},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                        "use_regex": True},
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": self.vocab,
                "merges": [[a, b] for a, b in self.merges],
            },
        }

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_hf_json(), f, ensure_ascii=False)

    @classmethod
    def load(cls, path: str) -> "ByteBPE":
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in j["model"]["merges"]]
        tok = cls(merges)
        if tok.vocab != j["model"]["vocab"]:
            raise ValueError(f"{path}: vocab does not follow from the merges")
        return tok


# strings for the tokenizer check: every pre-tokenizer branch, unicode, odd whitespace
CHECK_STRINGS = [
    "In the beginning God created the heaven and the earth.",
    "Q: How many hackers does it take to change a light bulb?\nA: None; it's a hardware problem.",
    "Tearful \\Tear\"ful\\, a. Abounding with tears; weeping; -- {Tear\"ful*ly}, adv.",
    ":cruft: /kruhft/, n. Excess; superfluous junk. They've said I'll, we're, you'd, she'll.",
    "  leading spaces,\ttabs\t\tand   runs of   spaces   \n\n\nnewlines  ",
    "Numbers 3.14159, 1913, 255.255.255.255 and x86-64 v2.0",
    "Unicode: café, naïve, Æsop, “quotes”, — dashes, 日本語, emoji 🪐✨, ß, Ωμέγα",
    "ALL CAPS SHOUTING!!! ...and (parentheses) [brackets] {braces} <angles> @#$%^&*",
    "don't DON'T 'tis ''quoted'' o'clock rock'n'roll",
    "",
    " ",
    "a",
]
