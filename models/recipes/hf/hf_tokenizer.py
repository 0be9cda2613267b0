"""Byte-level BPE tokenizers in the two Hugging Face layouts the fixtures imitate, trained with
models/recipes/text/bpe.py (same pre-tokenizer and merges; only the special tokens and ids differ):

  gpt2:  ids 0..255 the bytes, then the merges, then <|endoftext|> last (bos = eos = unk = it);
         no post-processor (GPT-2's tokenizer adds no BOS), tokenizer_class GPT2Tokenizer.
  llama: <unk> 0, <s> 1, </s> 2, then the bytes and merges; a TemplateProcessing post-processor
         puts <s> in front of every sequence (add_bos_token true), tokenizer_class LlamaTokenizer.
"""
from __future__ import annotations

import json
import os

import bpe

STYLES = {
    "gpt2": {"front": [], "back": ["<|endoftext|>"], "bos": "<|endoftext|>", "eos": "<|endoftext|>",
             "unk": "<|endoftext|>", "add_bos": False},
    "llama": {"front": ["<unk>", "<s>", "</s>"], "back": [], "bos": "<s>", "eos": "</s>", "unk": "<unk>",
              "add_bos": True},
}


class HFTokenizer:
    """Merges from bpe.py with a style's special tokens; encode() gives the ids the saved
    tokenizer.json gives (without the post-processor's BOS: see encode_with_bos)."""

    def __init__(self, merges, style: str):
        self.style = style
        self.s = STYLES[style]
        self.bpe = bpe.ByteBPE(merges)
        self.vocab: dict[str, int] = {}
        for t in self.s["front"]:
            self.vocab[t] = len(self.vocab)
        for b in range(256):
            self.vocab[bpe.BYTE_TO_CHAR[b]] = len(self.vocab)
        for a, b in self.bpe.merges:
            self.vocab.setdefault(a + b, len(self.vocab))
        for t in self.s["back"]:
            self.vocab[t] = len(self.vocab)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.specials = self.s["front"] + self.s["back"]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def token_id(self, name: str) -> int:
        return self.vocab[self.s[name]]

    @property
    def bos_id(self) -> int:
        return self.token_id("bos")

    @property
    def eos_id(self) -> int:
        return self.token_id("eos")

    def encode(self, text: str) -> list[int]:
        return [self.vocab[self.bpe.id_to_token[i]] for i in self.bpe.encode(text)]

    def encode_with_bos(self, text: str) -> list[int]:
        return [self.bos_id] + self.encode(text)

    def decode(self, ids) -> str:
        chars = "".join(self.id_to_token[i] for i in ids if self.id_to_token[i] not in self.specials)
        return bytes(bpe.CHAR_TO_BYTE[c] for c in chars).decode("utf-8", errors="replace")

    def tokenizer_json(self) -> dict:
        j = self.bpe.to_hf_json()
        j["added_tokens"] = [
            {"id": self.vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True} for t in self.specials]
        j["model"]["vocab"] = self.vocab
        if self.s["add_bos"]:
            bos = self.s["bos"]
            j["post_processor"] = {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {bos: {"id": bos, "ids": [self.vocab[bos]], "tokens": [bos]}},
            }
        return j

    def tokenizer_config(self, max_length: int) -> dict:
        s = self.s
        return {
            "add_bos_token": s["add_bos"],
            "add_eos_token": False,
            "add_prefix_space": False,
            "added_tokens_decoder": {
                str(self.vocab[t]): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                     "single_word": False, "special": True} for t in self.specials},
            "bos_token": s["bos"],
            "clean_up_tokenization_spaces": False,
            "eos_token": s["eos"],
            "model_max_length": max_length,
            "pad_token": None,
            "tokenizer_class": "GPT2Tokenizer" if self.style == "gpt2" else "LlamaTokenizer",
            "unk_token": s["unk"],
        }

    def save(self, folder: str, max_length: int) -> None:
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(self.tokenizer_json(), f, ensure_ascii=False)
        with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(self.tokenizer_config(max_length), f, indent=2, ensure_ascii=False)
            f.write("\n")


def train(texts, vocab_size: int, style: str) -> list:
    """Merges that bring the style's vocabulary (bytes + merged tokens + its special tokens) to
    vocab_size (bpe.train_bpe counts 3 special tokens of its own)."""
    n_special = len(STYLES[style]["front"]) + len(STYLES[style]["back"])
    return bpe.train_bpe(texts, vocab_size - n_special + bpe.N_SPECIAL)
