"""Corpus for the text pack: public-domain prose from Debian packages, one document per
fortune, Bible chapter, dictionary entry or Jargon File entry, each with its metadata.

Sources (Debian package → files read):
  fortunes, fortunes-min  /usr/share/games/fortunes/<category>   (one fortune = one document)
  bible-kjv-text          /usr/lib/bible.data via the `bible` program (one chapter = one doc)
  dict-gcide              /usr/share/dictd/gcide.{index,dict.dz}  (one entry = one document)
  jargon-text             /usr/share/doc/jargon-text/jargon.txt.gz (one entry = one document)
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import os
import random
import re
import subprocess
from dataclasses import dataclass, field

FORTUNE_DIR = "/usr/share/games/fortunes"
FORTUNES_MIN_FILES = {"fortunes", "literature", "riddles"}
# the categories that the fortunes and fortunes-min packages install: other fortune packages
# (fortunes-bofh-excuses, fortunes-debian-hints, …) put files in the same folder, and the corpus
# must not change with what else is installed (corpus_plus.py reads those by name)
FORTUNES_FILES = {
    "art", "ascii-art", "computers", "cookie", "debian", "definitions", "disclaimer", "drugs", "education",
    "ethnic", "food", "fortunes", "goedel", "humorists", "kids", "knghtbrd", "law", "linux", "linuxcookie",
    "literature", "love", "magic", "medicine", "men-women", "miscellaneous", "news", "paradoxum", "people",
    "perl", "pets", "platitudes", "politics", "pratchett", "riddles", "science", "songs-poems", "sports",
    "startrek", "tao", "translate-me", "wisdom", "work", "zippy",
}
GCIDE_INDEX = "/usr/share/dictd/gcide.index"
GCIDE_DICT = "/usr/share/dictd/gcide.dict.dz"
JARGON_TXT = "/usr/share/doc/jargon-text/jargon.txt.gz"

OLD_TESTAMENT_LAST_BOOK = "Malachi"


@dataclass
class Document:
    text: str
    meta: dict = field(default_factory=dict)
    split: str = "train"

    def key(self) -> str:
        norm = re.sub(r"\s+", " ", self.text.strip().lower())
        return hashlib.sha1(norm.encode("utf-8")).hexdigest()


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip("\n")


def read_fortunes() -> list[Document]:
    docs = []
    names = sorted(
        n for n in os.listdir(FORTUNE_DIR)
        if n in FORTUNES_FILES and os.path.isfile(os.path.join(FORTUNE_DIR, n))
    )
    for name in names:
        with open(os.path.join(FORTUNE_DIR, name), "rb") as f:
            raw = f.read().decode("utf-8", errors="replace")
        package = "fortunes-min" if name in FORTUNES_MIN_FILES else "fortunes"
        for chunk in re.split(r"\n%\n", "\n" + raw + "\n"):
            text = _clean(chunk)
            if len(text) >= 8:
                docs.append(Document(text, {"source": "fortunes", "category": name, "package": package}))
    return docs


def read_bible() -> list[Document]:
    out = subprocess.run(["bible", "gen1:1-rev22:21"], capture_output=True, check=True).stdout
    raw = out.decode("utf-8", errors="replace")
    docs: list[Document] = []
    testament = "old testament"
    book, chapter, verses = None, None, []
    cur = None

    def flush():
        if book is not None and verses:
            text = f"{book} {chapter}\n\n" + "\n".join(verses)
            docs.append(Document(text, {"source": "bible", "category": testament, "book": book,
                                        "chapter": int(chapter), "package": "bible-kjv-text"}))

    for line in raw.split("\n"):
        m_head = re.match(r"^([1-3]?\s?[A-Z][A-Za-z ]+?) (\d+)$", line)
        m_verse = re.match(r"^\s+(\d+) (.*)$", line)
        if m_head:
            flush()
            if book == OLD_TESTAMENT_LAST_BOOK and m_head.group(1) != OLD_TESTAMENT_LAST_BOOK:
                testament = "new testament"
            book, chapter, verses = m_head.group(1), m_head.group(2), []
        elif m_verse:
            verses.append(f"{m_verse.group(1)} {m_verse.group(2).strip()}")
        elif line.strip() and verses:
            verses[-1] += " " + line.strip()
    flush()
    return docs


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64num(s: str) -> int:
    n = 0
    for ch in s:
        n = n * 64 + _B64.index(ch)
    return n


_POS = [  # part-of-speech markers in Webster's 1913 headword lines, most specific first
    ("v. t.", "verb"), ("v. i.", "verb"), ("v.", "verb"), ("n.", "noun"), ("a.", "adjective"),
    ("adv.", "adverb"), ("prep.", "preposition"), ("conj.", "conjunction"),
    ("interj.", "interjection"), ("pron.", "pronoun"), ("p. p.", "participle"),
    ("p. pr.", "participle"), ("imp.", "verb"), ("pl.", "noun"),
]


def _gcide_category(entry: str) -> str | None:
    head = entry.split("\n", 1)[0]
    m = re.search(r"\\[^\\]*\\,?\s*(.*)$", head)
    tail = m.group(1) if m else head
    for marker, cat in _POS:
        if re.search(r"(^|[\s,;])" + re.escape(marker), tail):
            return cat
    return None


def read_gcide(max_chars: int, seed: int) -> list[Document]:
    with gzip.open(GCIDE_DICT) as f:
        data = f.read()
    spans = set()
    with open(GCIDE_INDEX, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0].startswith("00-"):
                continue
            spans.add((_b64num(parts[1]), _b64num(parts[2])))
    spans = sorted(spans)
    rng = random.Random(seed)
    rng.shuffle(spans)
    docs, total = [], 0
    for off, length in spans:
        raw = data[off:off + length].decode("utf-8", errors="replace")
        lines = [l.strip() for l in raw.split("\n")]
        lines = [l for l in lines if not re.fullmatch(r"\[(1913 Webster|PJC|WordNet 1\.5|Webster 1913 Suppl\.)[^\]]*\]", l)]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
        # the first line of a dictd entry repeats the headword alone; the entry proper follows
        first, _, rest = text.partition("\n")
        if rest and "\\" not in first:
            text = rest.strip()
        if len(text) < 20 or "\\" not in text.split("\n", 1)[0]:
            continue
        meta = {"source": "dictionary", "package": "dict-gcide"}
        cat = _gcide_category(text)
        if cat:
            meta["category"] = cat
        docs.append(Document(text, meta))
        total += len(text)
        if total >= max_chars:
            break
    return docs


def paragraphs(lines: list[str]) -> list[str]:
    """Paragraphs of a block of lines: runs of non-blank lines, each joined by spaces."""
    paras, cur = [], []
    for l in (l.strip() for l in lines):
        if l:
            cur.append(l)
        elif cur:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return paras


def read_jargon() -> list[Document]:
    with gzip.open(JARGON_TXT) as f:
        raw = f.read().decode("utf-8", errors="replace")
    lines = raw.split("\n")
    starts = [i for i, l in enumerate(lines) if re.match(r"^   :[^:]+:", l)]
    docs = []
    for a, b in zip(starts, starts[1:] + [len(lines)]):
        paras = paragraphs(lines[a:b])
        # stop at the appendices that follow the last glossary entry
        if paras and re.match(r"^(Appendix|Bibliography)", paras[-1]):
            paras = paras[:-1]
        text = "\n\n".join(paras).strip()
        if len(text) < 20:
            continue
        m = re.match(r"^:[^:]+:\s*(?:/[^/]*/,?\s*)?([a-z. ]+?)\.?$", paras[0])
        meta = {"source": "jargon", "package": "jargon-text"}
        if m:
            pos = m.group(1).strip()
            meta["category"] = {"n": "noun", "v": "verb", "vt": "verb", "vi": "verb", "adj": "adjective",
                                "interj": "interjection", "adv": "adverb", "prov": "proverb"}.get(
                pos.replace(".", "").replace(" ", "").split(",")[0], "other")
        docs.append(Document(text, meta))
    return docs


REQUIRED = {  # path or program → Debian package that provides it
    FORTUNE_DIR + "/computers": "fortunes", FORTUNE_DIR + "/fortunes": "fortunes-min",
    "/usr/lib/bible.data": "bible-kjv-text", "bible": "bible-kjv",
    GCIDE_DICT: "dict-gcide", JARGON_TXT: "jargon-text",
}


def check_sources() -> None:
    import shutil
    missing = sorted({pkg for p, pkg in REQUIRED.items()
                      if not (os.path.exists(p) if p.startswith("/") else shutil.which(p))})
    if missing:
        raise SystemExit("corpus: missing Debian packages: " + " ".join(missing) +
                         " (apt-get install -y " + " ".join(missing) + ")")


def build_corpus(seed: int, gcide_chars: int = 4_000_000, val_fraction: float = 0.05,
                 smoke: bool = False) -> list[Document]:
    """All documents, deduplicated, each with split 'train' or 'val' (by document)."""
    check_sources()
    docs = read_fortunes() + read_bible() + read_jargon() + read_gcide(gcide_chars, seed)
    seen, unique = set(), []
    for d in docs:
        k = d.key()
        if k not in seen:
            seen.add(k)
            unique.append(d)
    for d in unique:
        h = int(hashlib.sha1(f"{seed}:{d.key()}".encode()).hexdigest()[:8], 16)
        d.split = "val" if h < val_fraction * 2**32 else "train"
    if smoke:
        rng = random.Random(seed)
        by_source: dict[str, list[Document]] = {}
        for d in unique:
            by_source.setdefault(d.meta["source"], []).append(d)
        unique = []
        for src in sorted(by_source):
            pool = by_source[src]
            rng.shuffle(pool)
            unique += [d for d in pool if d.split == "train"][:60] + [d for d in pool if d.split == "val"][:15]
    return unique


def corpus_stats(docs: list[Document]) -> dict:
    stats: dict = {}
    for d in docs:
        s = stats.setdefault(d.meta["source"], {"documents": 0, "characters": 0, "val_documents": 0})
        s["documents"] += 1
        s["characters"] += len(d.text)
        s["val_documents"] += d.split == "val"
    return stats


if __name__ == "__main__":
    import json
    import time
    t = time.time()
    docs = build_corpus(seed=0)
    print(json.dumps(corpus_stats(docs), indent=1), f"{time.time()-t:.1f}s")
    rng = random.Random(1)
    for d in rng.sample(docs, 6):
        print("----", d.meta, d.split)
        print(d.text[:400])
