"""The expanded text corpus: the shipped recipe's corpus (corpus.py, same documents, same
train/validation split) plus more free text from Debian packages, every document with its
source, category and package, and every source's licence recorded.

Added sources (Debian package → what is read → one document per …):
  dict-gcide            the rest of Webster's 1913 (the shipped corpus takes a 4M-character
                        prefix of a seeded shuffle; this takes a longer prefix of the same one)
  wordnet-base          /usr/share/wordnet/data.{noun,verb,adj,adv}: synset (words + gloss),
                        category = WordNet lexicographer file (noun.animal, verb.motion, …)
  dict-devil            The Devil's Dictionary (Bierce, 1911): entry, category = part of speech
  dict-foldoc           FOLDOC: entry, category = its first <subject> tag
  fortunes-bofh-excuses, fortunes-debian-hints   fortune, category = file name
  python3.11-doc        the Python 3.11 manuals (info): node, category = manual chapter
  coreutils, grep, sed, findutils, gzip, diffutils, bc, ed, time, wget, gnu-standards
                        GNU manuals (info): node, category = manual

Every document's split comes from the same rule as corpus.py (a hash of the seed and the
normalised text), so a shipped document keeps its split and the shipped validation split
("old val", `meta.old`) can be scored on its own.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re

import corpus
from corpus import Document, _b64num, _clean

WORDNET_DIR = "/usr/share/wordnet"
INFO_DIR = "/usr/share/info"
DICTD_DIR = "/usr/share/dictd"
EXTRA_FORTUNES = {"bofh-excuses": "fortunes-bofh-excuses", "debian-hints": "fortunes-debian-hints"}
# info manual (file stem) → Debian package that installs it
INFO_MANUALS = {
    "python3.11": "python3.11-doc", "coreutils": "coreutils", "grep": "grep", "sed": "sed", "find": "findutils",
    "gzip": "gzip", "diffutils": "diffutils", "bc": "bc", "ed": "ed", "time": "time", "wget": "wget",
    "standards": "gnu-standards", "maintain": "gnu-standards",
}
# what the Debian copyright files say (read there, summarised here)
LICENSES = {
    "fortunes": "fortunes, fortunes-min: BSD fortune(6) collections, under the BSD copyright (Debian main)",
    "bible": "bible-kjv-text: the King James Version, public domain",
    "dictionary": "dict-gcide: GCIDE (Webster's 1913 + additions), GPL-2.0-or-later",
    "jargon": "jargon-text: the Jargon File 4.4.7, public domain",
    "wordnet": "wordnet-base: WordNet 3.0 licence (Princeton, permissive, BSD-like)",
    "devil": "dict-devil: The Devil's Dictionary (1911), public domain",
    "foldoc": "dict-foldoc: FOLDOC, GFDL-1.1+ with no invariant sections",
    "fortunes-extra": "fortunes-bofh-excuses: public domain; fortunes-debian-hints: BSD-3-clause",
    "python-docs": "python3.11-doc: Python documentation, PSF License 2.0",
    "gnu-manuals": "GNU manuals from coreutils, grep, sed, findutils, gzip, diffutils, bc, ed, time, wget, "
                   "gnu-standards: GFDL-1.3+ (no invariant sections: Debian main)",
}
# largest share of Webster's 1913 taken (characters); the shipped corpus takes 4M
GCIDE_CHARS = 16_000_000

WORDNET_LEXNAMES = [
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
    "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
    "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant",
    "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state",
    "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition", "verb.communication",
    "verb.competition", "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
]
_POS_WORD = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"}


def read_wordnet(limit: int | None = None) -> list[Document]:
    docs = []
    for part in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(WORDNET_DIR, "data." + part), encoding="utf-8", errors="replace") as f:
            for line in f:
                if limit is not None and len(docs) >= limit * (1 + ("noun", "verb", "adj", "adv").index(part)):
                    break
                if line.startswith("  ") or " | " not in line:
                    continue
                head, gloss = line.rstrip().split(" | ", 1)
                f_ = head.split()
                lex, pos, n = int(f_[1]), f_[2], int(f_[3], 16)
                words = [re.sub(r"\(\w+\)$", "", w).replace("_", " ") for w in f_[4:4 + 2 * n:2]]
                text = f"{', '.join(words)} ({_POS_WORD[pos]}): {gloss.strip()}"
                docs.append(Document(text, {"source": "wordnet", "category": WORDNET_LEXNAMES[lex],
                                            "package": "wordnet-base"}))
    return docs


def _dictd_entries(name: str, limit: int | None = None):
    with gzip.open(os.path.join(DICTD_DIR, name + ".dict.dz")) as f:
        data = f.read()
    spans = set()
    with open(os.path.join(DICTD_DIR, name + ".index"), encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and not parts[0].startswith("00"):
                spans.add((_b64num(parts[1]), _b64num(parts[2])))
    for off, length in sorted(spans)[:limit]:
        yield data[off:off + length].decode("utf-8", errors="replace")


def read_devil(limit: int | None = None) -> list[Document]:
    docs = []
    for raw in _dictd_entries("devil", limit):
        text = _clean(raw)
        m = re.match(r"^[A-Z][A-Z' ,.-]*,\s+([a-z. ]+?)\.\s", text)
        if len(text) < 20:
            continue
        meta = {"source": "devil", "package": "dict-devil"}
        if m:
            pos = m.group(1).replace(" ", "").split(".")[0]
            meta["category"] = {"n": "noun", "v": "verb", "adj": "adjective", "adv": "adverb", "x": "other",
                                "pp": "participle", "prep": "preposition", "conj": "conjunction",
                                "interj": "interjection", "pron": "pronoun"}.get(pos, "other")
        docs.append(Document(text, meta))
    return docs


def read_foldoc(limit: int | None = None) -> list[Document]:
    docs = []
    for raw in _dictd_entries("foldoc", limit):
        paras = corpus.paragraphs(raw.split("\n"))
        if len(paras) < 2:
            continue
        body = "\n\n".join(paras[1:])
        body = re.sub(r"\{([^{}]*)\}", r"\1", body)  # {cross references} → their words
        body = re.sub(r"\n\n\(\d{4}-\d\d-\d\d\)$", "", body)  # the entry's last-edited date
        m = re.match(r"^<([^>]+)>\s*", body)
        meta = {"source": "foldoc", "package": "dict-foldoc"}
        if m:
            meta["category"] = m.group(1).split(",")[0].strip()
            body = body[m.end():]
        text = f"{paras[0]}\n\n{body}".strip()
        if len(text) >= 30:
            docs.append(Document(text, meta))
    return docs


def read_extra_fortunes() -> list[Document]:
    docs = []
    for name, package in sorted(EXTRA_FORTUNES.items()):
        with open(os.path.join(corpus.FORTUNE_DIR, name), "rb") as f:
            raw = f.read().decode("utf-8", errors="replace")
        for chunk in re.split(r"\n%\n", "\n" + raw + "\n"):
            text = _clean(chunk)
            if len(text) >= 8:
                docs.append(Document(text, {"source": "fortunes-extra", "category": name, "package": package}))
    return docs


def _info_text(stem: str) -> str:
    parts = sorted(p for p in os.listdir(INFO_DIR) if re.fullmatch(re.escape(stem) + r"\.info(-\d+)?\.gz", p))
    parts.sort(key=lambda p: int(re.search(r"-(\d+)\.gz$", p).group(1)) if "-" in p[len(stem):] else 0)
    out = []
    for p in parts:
        with gzip.open(os.path.join(INFO_DIR, p)) as f:
            out.append(f.read().decode("utf-8", errors="replace"))
    return "".join(out)


def _chapters(top: str) -> list[str]:
    """Names of the numbered chapters, from the Top node's first menu."""
    names = []
    for line in top.split("\n"):
        m = re.match(r"^\* ([^:]+)::", line)
        if m:
            names.append(m.group(1).strip())
        elif names and not line.strip():
            break
    return names


def read_info(stem: str, package: str, limit: int | None = None) -> list[Document]:
    raw = _info_text(stem)
    source = "python-docs" if stem.startswith("python") else "gnu-manuals"
    nodes = raw.split("\x1f\n")
    chapters: list[str] = []
    docs = []
    for node in nodes[:None if limit is None else limit + 2]:
        header, _, body = node.partition("\n")
        m = re.search(r"Node: ([^,\n]+)", header)
        if not m or header.startswith("Tag Table") or "Indirect:" in header[:20]:
            continue
        if m.group(1).strip() == "Top":
            chapters = _chapters(body)
            continue
        body = re.sub(r"\* Menu:.*", "", body, flags=re.S)  # the menu and what follows it
        body = re.sub(r"\*[Nn]ote ([^:]+?): [^.,;)\n]*[.,;)]", r"\1", body)  # *note X: node. → X
        body = re.sub(r"\*[Nn]ote ([^:]+?)::", r"\1", body)
        body = re.sub(r"\n[=*.-]{3,}\n", "\n", body)  # heading underlines
        body = re.sub(r"\n\s*---------- Footnotes ----------.*", "", body, flags=re.S)
        text = _clean(re.sub(r"\n{3,}", "\n\n", body))
        if len(text) < 80:
            continue
        if source == "python-docs" and len(re.findall(r"\b(bpo|gh)-\d+", text)) > 3:
            continue  # changelog entries: issue numbers, not prose
        meta = {"source": source, "package": package, "category": stem}
        num = re.match(r"^(\d+)\.", text)
        if source == "python-docs" and num and 0 < int(num.group(1)) <= len(chapters):
            meta["category"] = chapters[int(num.group(1)) - 1]
        docs.append(Document(text, meta))
    return docs


REQUIRED = {
    os.path.join(WORDNET_DIR, "data.noun"): "wordnet-base",
    os.path.join(DICTD_DIR, "devil.dict.dz"): "dict-devil",
    os.path.join(DICTD_DIR, "foldoc.dict.dz"): "dict-foldoc",
    os.path.join(corpus.FORTUNE_DIR, "bofh-excuses"): "fortunes-bofh-excuses",
    os.path.join(corpus.FORTUNE_DIR, "debian-hints"): "fortunes-debian-hints",
    **{os.path.join(INFO_DIR, stem + ".info.gz"): pkg for stem, pkg in INFO_MANUALS.items()},
}
PACKAGES = sorted(set(REQUIRED.values()))


def check_sources() -> None:
    corpus.check_sources()
    missing = sorted({pkg for p, pkg in REQUIRED.items() if not os.path.exists(p)})
    if missing:
        raise SystemExit("corpus_plus: missing Debian packages: " + " ".join(missing) +
                         " (apt-get install -y --no-install-recommends " + " ".join(missing) + ")")


def _split(seed: int, d: Document, val_fraction: float = 0.05) -> str:
    h = int(hashlib.sha1(f"{seed}:{d.key()}".encode()).hexdigest()[:8], 16)
    return "val" if h < val_fraction * 2**32 else "train"


def build(seed: int = 1913, gcide_chars: int = GCIDE_CHARS, smoke: bool = False, log=print) -> list[Document]:
    """The shipped corpus (meta.old = True, its split unchanged) followed by the added documents,
    deduplicated against it and each other, split by the same rule."""
    check_sources()
    old = corpus.build_corpus(seed, smoke=smoke)
    for d in old:
        d.meta["old"] = True
    seen = {d.key() for d in old}
    # the shipped corpus's seeded shuffle of Webster's 1913, read further
    more = corpus.read_gcide(gcide_chars if not smoke else 400_000, seed)
    limit = 200 if smoke else None  # smoke: the first entries of each source only
    added = more + read_wordnet(limit) + read_devil(limit) + read_foldoc(limit) + read_extra_fortunes()
    for stem, pkg in INFO_MANUALS.items():
        added += read_info(stem, pkg, limit)
    out = list(old)
    per_source: dict[str, list[Document]] = {}
    for d in added:
        k = d.key()
        if k in seen:
            continue
        seen.add(k)
        d.split = _split(seed, d)
        per_source.setdefault(d.meta["source"], []).append(d)
    for src in sorted(per_source):
        pool = per_source[src]
        if smoke:  # a few of each, both splits, chosen by hash (no order dependence)
            pool = sorted(pool, key=lambda d: d.key())
            pool = [d for d in pool if d.split == "train"][:40] + [d for d in pool if d.split == "val"][:10]
        out += pool
        log(f"corpus_plus: {src}: {len(pool)} documents added")
    return out


def stats(docs: list[Document], token_counts: dict | None = None) -> dict:
    s = corpus.corpus_stats(docs)
    for src, row in s.items():
        row["license"] = LICENSES.get(src, "")
        if token_counts and src in token_counts:
            row["tokens"] = token_counts[src]
    return s


if __name__ == "__main__":
    import json
    import random
    import time
    t = time.time()
    docs = build(smoke=False)
    print(json.dumps(stats(docs), indent=1), f"{time.time() - t:.1f}s")
    rng = random.Random(1)
    for d in rng.sample(docs, 10):
        print("----", d.meta, d.split)
        print(d.text[:300])
